"""Blended prices and the Decimal -> float boundary."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from costcurve.analytics.blend import BlendRatio, price_expr
from costcurve.analytics.money import to_float, to_float_prices


def _prices() -> pl.DataFrame:
    return to_float_prices(
        pl.DataFrame(
            {
                "input_usd_per_mtok": [Decimal("0.23"), Decimal("3"), None],
                "output_usd_per_mtok": [Decimal("0.40"), Decimal("15"), Decimal("1")],
            }
        )
    )


def test_blended_price_defaults_to_three_input_one_output() -> None:
    out = _prices().select(price_expr("blended"))["usd_per_mtok"].to_list()
    # (3 * 0.23 + 0.40) / 4 = 0.2725; (3 * 3 + 15) / 4 = 6
    assert out[0] == pytest.approx(0.2725)
    assert out[1] == pytest.approx(6.0)
    assert out[2] is None  # a missing side makes the blend unknown


def test_blend_ratio_is_configurable() -> None:
    even = BlendRatio(input_weight=Decimal(1), output_weight=Decimal(1))
    out = _prices().select(price_expr("blended", even))["usd_per_mtok"].to_list()
    assert out[:2] == pytest.approx([0.315, 9.0])
    output_only = BlendRatio(input_weight=Decimal(0), output_weight=Decimal(1))
    # A zero weight ignores that side entirely, even when it is missing.
    assert _prices().select(price_expr("blended", output_only))["usd_per_mtok"].to_list() == [
        pytest.approx(0.40),
        pytest.approx(15.0),
        pytest.approx(1.0),
    ]


def test_input_and_output_metrics_pick_one_side() -> None:
    frame = _prices()
    assert frame.select(price_expr("input"))["usd_per_mtok"].to_list()[:2] == [0.23, 3.0]
    assert frame.select(price_expr("output"))["usd_per_mtok"].to_list() == [0.40, 15.0, 1.0]


def test_bad_metric_and_ratio_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        price_expr("cached")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        BlendRatio(input_weight=Decimal(-1))
    with pytest.raises(ValueError, match="positive"):
        BlendRatio(input_weight=Decimal(0), output_weight=Decimal(0))


def test_to_float_prices_converts_decimal_columns_only() -> None:
    frame = pl.DataFrame({"usd": [Decimal("0.30")], "name": ["x"], "count": [3]})
    out = to_float_prices(frame)
    assert out.schema == pl.Schema({"usd": pl.Float64, "name": pl.String, "count": pl.Int64})
    assert out["usd"][0] == 0.30


def test_to_float_prices_casts_named_columns_and_rejects_text() -> None:
    frame = pl.DataFrame({"usd": ["0.30", "2"], "note": ["a", "b"]})
    assert to_float_prices(frame, ["usd"])["usd"].to_list() == [0.30, 2.0]
    with pytest.raises(ValueError, match="'note'"):
        to_float_prices(frame, ["note"])
    with pytest.raises(ValueError, match="missing"):
        to_float_prices(frame, ["absent"])


def test_to_float_scalar_boundary() -> None:
    assert to_float(Decimal("2.49")) == 2.49
    assert to_float(None) is None
    with pytest.raises(ValueError, match="is not a number"):
        to_float("cheap")


def test_the_exact_blend_matches_the_polars_expression_and_parses_its_label() -> None:
    ratio = BlendRatio.parse("3:1")
    assert ratio.blend(Decimal("0.23"), Decimal("0.40")) == Decimal("0.2725")
    assert ratio.label == "3:1"
    assert BlendRatio.parse("1:1").blend(Decimal("3"), Decimal("15")) == Decimal("9")
    with pytest.raises(ValueError, match="3:1"):
        BlendRatio.parse("three")
