"""The SQL form of the blend gives the same exact number as the Decimal form, in PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from costcurve.core.formulas import BlendRatio


@pytest.mark.parametrize("label", ["3:1", "1:1", "0:1"])
def test_sql_blend_equals_the_decimal_blend(engine: Engine, label: str) -> None:
    ratio = BlendRatio.parse(label)
    inp, out = Decimal("0.23"), Decimal("0.40")
    sql = ratio.sql("CAST(:i AS numeric)", "CAST(:o AS numeric)")
    with engine.connect() as conn:
        got = conn.execute(text(f"SELECT {sql}"), {"i": inp, "o": out}).scalar_one()
    assert got == ratio.blend(inp, out)
