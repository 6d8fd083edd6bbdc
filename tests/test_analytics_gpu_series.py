"""GPU rate series (min/median per bucket and pricing) and the trend band of a fit."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from costcurve.analytics.curves import Interval
from costcurve.analytics.deflation import exponential_fit, trend_band
from costcurve.analytics.gpu_series import gpu_rate_series

START = datetime(2025, 1, 1, tzinfo=UTC)


def _versions(seed: int, offerings: int = 6) -> pl.DataFrame:
    """Random version chains per offering: contiguous, the last one open."""
    rng = random.Random(seed)
    rows = []
    for o in range(offerings):
        pricing = rng.choice(["on_demand", "spot"])
        at = START + timedelta(days=rng.randint(0, 40))
        for k in range(rng.randint(1, 4)):
            end = at + timedelta(days=rng.randint(3, 30))
            last = k == 3 or rng.random() < 0.3
            rows.append(
                {
                    "offering_id": o,
                    "pricing": pricing,
                    "usd_per_gpu_hour": Decimal(rng.randint(50, 500)) / 100,
                    "valid_from": at,
                    "valid_to": None if last else end,
                }
            )
            if last:
                break
            at = end
    return pl.DataFrame(
        rows,
        schema={
            "offering_id": pl.Int64,
            "pricing": pl.String,
            "usd_per_gpu_hour": pl.Decimal(12, 4),
            "valid_from": pl.Datetime("us", "UTC"),
            "valid_to": pl.Datetime("us", "UTC"),
        },
    )


def _brute_force(versions: pl.DataFrame, as_of: datetime) -> dict[str, list[float]]:
    """Rates in effect just before ``as_of``: valid_from < as_of <= valid_to (open: forever)."""
    live: dict[str, list[float]] = {}
    for row in versions.iter_rows(named=True):
        if row["valid_from"] < as_of and (row["valid_to"] is None or as_of <= row["valid_to"]):
            live.setdefault(row["pricing"], []).append(float(row["usd_per_gpu_hour"]))
    return live


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), interval=st.sampled_from(["day", "week", "month"]))
def test_each_bucket_holds_the_min_median_and_count_of_the_rates_in_effect_at_its_end(
    seed: int, interval: Interval
) -> None:
    versions = _versions(seed)
    series = gpu_rate_series(
        versions, interval=interval, start=date(2025, 1, 1), end=date(2025, 4, 30)
    )
    seen = set()
    for row in series.iter_rows(named=True):
        live = _brute_force(versions, row["as_of"])[row["pricing"]]
        assert row["min"] == pytest.approx(min(live))
        assert row["median"] == pytest.approx(statistics.median(live))
        assert row["count"] == len(live)
        seen.add((row["as_of"], row["pricing"]))
    # And no bucket with rates in effect is missing.
    for as_of in {r["as_of"] for r in series.iter_rows(named=True)}:
        for pricing in _brute_force(versions, as_of):
            assert (as_of, pricing) in seen


def test_no_rates_is_an_empty_series_with_the_documented_columns() -> None:
    empty = _versions(1).clear()
    series = gpu_rate_series(empty, interval="week", start=date(2025, 1, 1), end=date(2025, 2, 1))
    assert series.is_empty()
    assert series.columns == [
        "bucket_start",
        "as_of",
        "pricing",
        "min",
        "median",
        "count",
    ]


def test_trend_band_is_the_fitted_line_with_a_band_narrowest_at_the_mean_date() -> None:
    rng = random.Random(3)
    days = [date(2024, 1, 1) + timedelta(days=30 * i) for i in range(12)]
    prices = [10.0 * 10 ** (-0.001 * 30 * i) * (1 + rng.uniform(-0.2, 0.2)) for i in range(12)]
    series = pl.DataFrame({"date": days, "price": prices})
    band = trend_band(series)
    fit = exponential_fit(series)
    assert band.height == 12
    fitted = band["fitted"].to_list()
    # The line's slope is the fit's: log10 steps per day match slope_log10_per_day.
    for a, b, x0, x1 in zip(fitted, fitted[1:], band["x"], band["x"][1:], strict=False):
        assert (math.log10(b) - math.log10(a)) / (x1 - x0) == pytest.approx(fit.slope_log10_per_day)
    widths = [math.log10(h) - math.log10(lo) for lo, h in zip(band["lo"], band["hi"], strict=True)]
    assert all(lo < f < h for lo, f, h in zip(band["lo"], fitted, band["hi"], strict=True))
    middle = widths.index(min(widths))
    assert middle in (5, 6)
    assert widths[0] > widths[middle] < widths[-1]
