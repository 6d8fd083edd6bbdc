"""Tier cost curves on hand-built version frames."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from costcurve.analytics.curves import CURVE_COLUMNS, OFFERINGS_SCHEMA, tier_cost_curve
from costcurve.analytics.deflation import exponential_fit


def _t(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def _version(
    offering_id: int,
    provider: str,
    price: str,
    valid_from: datetime,
    valid_to: datetime | None = None,
    *,
    tier: str = "good",
    output: str | None = None,
    free: bool = False,
    change_kind: str = "observed",
    self_hosted: bool = False,
) -> dict[str, Any]:
    return {
        "offering_id": offering_id,
        "provider": provider,
        "model": f"m-{provider}",
        "tier": tier,
        "input_usd_per_mtok": Decimal(price),
        "output_usd_per_mtok": Decimal(output or price),
        "valid_from": valid_from,
        "valid_to": valid_to,
        "free": free,
        "change_kind": change_kind,
        "self_hosted": self_hosted,
    }


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema_overrides={
            "input_usd_per_mtok": pl.Decimal(18, 6),
            "output_usd_per_mtok": pl.Decimal(18, 6),
            "valid_from": pl.Datetime("us", "UTC"),
            "valid_to": pl.Datetime("us", "UTC"),
        },
    )


def _market() -> pl.DataFrame:
    return _frame(
        [
            # alpha: 4.00, a ten-day promotion at 1.00 inside January, a cut to 2.00 on Feb 28.
            _version(1, "alpha", "4", _t(2025, 12, 1), _t(2026, 1, 10)),
            _version(1, "alpha", "1", _t(2026, 1, 10), _t(2026, 1, 20)),
            _version(1, "alpha", "4", _t(2026, 1, 20), _t(2026, 2, 28)),
            _version(1, "alpha", "2", _t(2026, 2, 28)),
            # beta ends exactly at the end of January; gamma starts exactly at February.
            _version(2, "beta", "3", _t(2025, 11, 1), _t(2026, 2, 1)),
            _version(3, "gamma", "5", _t(2026, 2, 1)),
            _version(4, "delta", "0.2", _t(2026, 1, 1), free=True),
            _version(5, "epsilon", "0.5", _t(2025, 6, 1), self_hosted=True),
            _version(6, "zeta", "0.1", _t(2025, 1, 1), tier="fast"),
        ]
    )


def _monthly(frame: pl.DataFrame, **kwargs: Any) -> pl.DataFrame:
    options: dict[str, Any] = {
        "interval": "month",
        "metric": "input",
        "start": date(2026, 1, 1),
        "end": date(2026, 3, 31),
    }
    return tier_cost_curve(frame, **(options | kwargs))


def test_schema_constant_documents_every_required_column() -> None:
    assert set(_market().columns) == set(OFFERINGS_SCHEMA)


def test_monthly_curve_uses_the_price_in_effect_at_the_end_of_each_month() -> None:
    curve = _monthly(_market())
    assert curve.columns == list(CURVE_COLUMNS)
    good = curve.filter(pl.col("tier") == "good")
    assert good["bucket_start"].to_list() == [_t(2026, 1, 1), _t(2026, 2, 1), _t(2026, 3, 1)]
    # The last bucket's snapshot is the end of the requested range (Mar 31 inclusive).
    assert good["as_of"].to_list() == [_t(2026, 2, 1), _t(2026, 3, 1), _t(2026, 4, 1)]
    # January: alpha back at 4 (promotion over), beta 3 (closes exactly at Feb 1, so
    # it was in effect through the last instant of January); gamma not yet.
    # February: alpha cut to 2 on Feb 28 shows; beta gone; gamma 5.
    assert good.select("min", "p25", "median", "max", "count").rows() == [
        (3.0, 3.25, 3.5, 4.0, 2),
        (2.0, 2.75, 3.5, 5.0, 2),
        (2.0, 2.75, 3.5, 5.0, 2),
    ]
    assert good["cheapest_provider"].to_list() == ["beta", "alpha", "alpha"]
    assert good["cheapest_model"].to_list() == ["m-beta", "m-alpha", "m-alpha"]
    assert good["cheapest_offering_id"].to_list() == [2, 1, 1]
    assert curve.filter(pl.col("tier") == "fast")["min"].to_list() == [0.1, 0.1, 0.1]
    assert curve.schema["min"] == pl.Float64


def test_free_and_self_hosted_rows_are_opt_in() -> None:
    jan = pl.col("bucket_start") == _t(2026, 1, 1)
    default = _monthly(_market()).filter(jan, pl.col("tier") == "good")
    assert default["count"].to_list() == [2]
    with_free = _monthly(_market(), include_free=True).filter(jan, pl.col("tier") == "good")
    assert with_free.select("min", "count", "cheapest_provider").row(0) == (0.2, 3, "delta")
    with_self = _monthly(_market(), include_self_hosted=True).filter(jan, pl.col("tier") == "good")
    assert with_self.select("min", "count", "cheapest_provider").row(0) == (0.5, 3, "epsilon")


def test_zero_price_counts_as_free() -> None:
    frame = _frame([_version(1, "a", "0", _t(2026, 1, 1)), _version(2, "b", "1", _t(2026, 1, 1))])
    assert _monthly(frame)["min"].to_list()[0] == 1.0
    assert _monthly(frame, include_free=True)["min"].to_list()[0] == 0.0


def test_quantiles_interpolate_linearly() -> None:
    prices = ["1", "2", "3", "10"]
    frame = _frame([_version(i, f"p{i}", p, _t(2026, 1, 1)) for i, p in enumerate(prices)])
    row = _monthly(frame, end=date(2026, 1, 31)).row(0, named=True)
    # positions 0.25 * 3 = 0.75 -> 1 + 0.75 * (2 - 1); 0.5 * 3 = 1.5 -> (2 + 3) / 2
    assert (row["min"], row["p25"], row["median"], row["max"], row["count"]) == (
        1.0,
        1.75,
        2.5,
        10.0,
        4,
    )


def test_blended_metric_uses_three_to_one() -> None:
    frame = _frame([_version(1, "a", "1", _t(2026, 1, 1), output="5")])
    assert _monthly(frame, metric="blended")["min"].to_list()[0] == 2.0  # (3 * 1 + 5) / 4
    assert _monthly(frame, metric="output")["min"].to_list()[0] == 5.0


def test_correction_wins_over_observed_unless_excluded() -> None:
    frame = _frame(
        [
            _version(1, "a", "2", _t(2026, 1, 1)),
            _version(1, "a", "1.5", _t(2026, 1, 1), change_kind="correction"),
        ]
    )
    assert _monthly(frame)["min"].to_list() == [1.5, 1.5, 1.5]
    assert _monthly(frame)["count"].to_list() == [1, 1, 1]
    assert _monthly(frame, include_corrections=False)["min"].to_list() == [2.0, 2.0, 2.0]


def test_later_version_of_an_offering_wins_where_versions_overlap() -> None:
    frame = _frame(
        [
            _version(1, "a", "3", _t(2025, 12, 1)),  # never closed: a merged/hand-built frame
            _version(1, "a", "1", _t(2026, 2, 15)),
        ]
    )
    curve = _monthly(frame)
    assert curve["min"].to_list() == [3.0, 1.0, 1.0]
    assert curve["count"].to_list() == [1, 1, 1]


def test_provider_filter_and_cheapest_tie_break() -> None:
    frame = _frame(
        [
            _version(1, "zeta", "1", _t(2026, 1, 1)),
            _version(2, "alpha", "1", _t(2026, 1, 1)),
            _version(3, "mid", "2", _t(2026, 1, 1)),
        ]
    )
    jan = _monthly(frame, end=date(2026, 1, 31))
    assert jan["cheapest_provider"].to_list() == ["alpha"]
    only = _monthly(frame, end=date(2026, 1, 31), providers=["zeta", "mid"])
    assert only.select("min", "count", "cheapest_provider").row(0) == (1.0, 2, "zeta")


def test_weekly_buckets_start_on_monday_and_daily_buckets_see_intraday_changes() -> None:
    frame = _frame(
        [
            _version(1, "a", "4", _t(2026, 1, 1), datetime(2026, 1, 8, 12, tzinfo=UTC)),
            _version(1, "a", "2", datetime(2026, 1, 8, 12, tzinfo=UTC)),
        ]
    )
    weekly = _monthly(frame, interval="week", start=date(2026, 1, 7), end=date(2026, 1, 20))
    # Jan 7, 2026 is a Wednesday; its ISO week starts Monday Jan 5.
    assert weekly["bucket_start"].to_list() == [_t(2026, 1, 5), _t(2026, 1, 12), _t(2026, 1, 19)]
    assert weekly["min"].to_list() == [2.0, 2.0, 2.0]
    daily = _monthly(frame, interval="day", start=date(2026, 1, 7), end=date(2026, 1, 9))
    assert daily["min"].to_list() == [4.0, 2.0, 2.0]
    assert daily["as_of"].to_list()[-1] == _t(2026, 1, 10)


def test_datetime_end_is_the_last_snapshot_and_empty_buckets_have_no_row() -> None:
    frame = _frame([_version(1, "a", "1", _t(2026, 2, 10))])
    curve = _monthly(frame, end=datetime(2026, 2, 20, tzinfo=UTC))
    assert curve["bucket_start"].to_list() == [_t(2026, 2, 1)]  # January had no price
    assert curve["as_of"].to_list() == [_t(2026, 2, 20)]


def test_date_typed_validity_columns_are_accepted() -> None:
    frame = _market().with_columns(pl.col("valid_from").dt.date(), pl.col("valid_to").dt.date())
    assert _monthly(frame).equals(_monthly(_market()))


def test_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="missing column"):
        _monthly(_market().drop("tier"))
    with pytest.raises(ValueError, match="unknown interval"):
        _monthly(_market(), interval="year")
    with pytest.raises(ValueError, match="unknown metric"):
        _monthly(_market(), metric="cached")
    with pytest.raises(ValueError, match="must be after"):
        _monthly(_market(), start=date(2026, 3, 1), end=date(2026, 1, 1))


def test_cheapest_curve_feeds_an_exponential_fit() -> None:
    # One offering whose price halves every 365 days, re-priced at each month start.
    d0 = date(2024, 1, 1)
    starts = pl.date_range(d0, date(2026, 12, 1), "1mo", eager=True).to_list()
    rows = [
        _version(
            1,
            "a",
            str(Decimal(8) * Decimal(2) ** (Decimal(-(s - d0).days) / 365)),
            datetime(s.year, s.month, s.day, tzinfo=UTC),
            datetime(n.year, n.month, n.day, tzinfo=UTC) if n else None,
        )
        for s, n in zip(starts, [*starts[1:], None], strict=True)
    ]
    curve = _monthly(_frame(rows), start=d0, end=date(2026, 12, 31))
    assert curve.height == 36
    fit = exponential_fit(curve, date_col="bucket_start", price_col="min")
    assert fit.factor_per_year == pytest.approx(2.0, rel=1e-6)
    assert fit.halving_time_months == pytest.approx(12.0, rel=1e-6)
