"""The single Decimal -> float boundary of the analytics package.

Storage and scrapers keep money as Decimal so that prices round-trip exactly.
Analytics takes logarithms, quantiles and least-squares fits, which are float
operations, so every public analytics function converts its money inputs here
first and works in Float64 afterwards. A float keeps ~15 significant digits,
far more than any price has, so the conversion loses nothing that matters.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import polars as pl


def to_float_prices(df: pl.DataFrame, columns: Iterable[str] | None = None) -> pl.DataFrame:
    """Return ``df`` with its money columns as Float64.

    Without ``columns`` every Decimal-typed column is converted (by contract a
    Decimal column in an analytics input is money). With ``columns`` exactly
    those are cast to Float64, whatever their dtype (Decimal, integer, or text
    such as ``"0.30"`` read from a CSV); a value that is not a number raises
    ``ValueError`` naming the column.
    """
    if columns is None:
        targets = [name for name, dtype in df.schema.items() if isinstance(dtype, pl.Decimal)]
    else:
        targets = list(columns)
        missing = [c for c in targets if c not in df.columns]
        if missing:
            raise ValueError(f"missing money column(s): {', '.join(missing)}")
    for name in targets:
        if df.schema[name] == pl.Float64:
            continue
        try:
            df = df.with_columns(pl.col(name).cast(pl.Float64, strict=True))
        except pl.exceptions.InvalidOperationError as exc:
            raise ValueError(f"column {name!r} holds a value that is not a number") from exc
    return df


def to_float(value: Decimal | float | int | str | None) -> float | None:
    """The scalar side of the same boundary (``None`` stays ``None``)."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
