"""Epoch AI's constant-capability deflation and the exponential trend fit."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from costcurve.analytics.deflation import epoch_deflation, exponential_fit, frontier_walk

# Threshold 50 on "GPQA Diamond". Walk in release order, keeping a model when it
# scores >= 50 and costs less than every model kept so far:
#   alpha-pricey 2023-01-01 $150  kept? no: alpha, same day, is cheaper (listed first on purpose)
#   alpha        2023-01-01 $100  kept
#   beta         2023-06-01 $120  no (pricier than alpha)
#   gamma        2023-09-01 $5    no (49.9 < 50)
#   delta        2024-01-01 $10   kept (score exactly 50)
#   epsilon-r    2024-06-01 $3    kept, unless reasoning models are excluded
#   zeta         2024-12-31 $1    kept
#   iota         2025-06-01 none  no price: skipped
#   theta        2025-12-31 $0.01 kept
# Without epsilon-r the kept days are 0, 365, 730, 1095 from 2023-01-01 and
# log10 prices 2, 1, 0, -2. In years t = 0..3: mean t 1.5, mean y 0.25,
# Stt 5, Sty -6.5 -> slope -1.3/year (= -1.3/365 per day), intercept 2.2,
# residuals -0.2, 0.1, 0.4, -0.3 -> SSE 0.30, SST 8.75, r2 = 1 - 0.3/8.75 = 0.965714.
# factor_per_year = 10^1.3 = 19.9526. se(slope) = sqrt(0.30/2/5) = 0.173205/year;
# t(0.95, df=2) = 2.919986 -> half-width 0.505756 -> factor CI
# [10^(1.3-0.505756), 10^(1.3+0.505756)] = [6.2265, 63.9376].
PRICES = ["150", "100", "120", "5", "10", "3", "1", None, "0.01"]
TABLE = pl.DataFrame(
    {
        "model": [
            "alpha-pricey",
            "alpha",
            "beta",
            "gamma",
            "delta",
            "epsilon-r",
            "zeta",
            "iota",
            "theta",
        ],
        "date": [
            date(2023, 1, 1),
            date(2023, 1, 1),
            date(2023, 6, 1),
            date(2023, 9, 1),
            date(2024, 1, 1),
            date(2024, 6, 1),
            date(2024, 12, 31),
            date(2025, 6, 1),
            date(2025, 12, 31),
        ],
        # Money arrives as Decimal; analytics converts it once, on the way in.
        "usd_per_mtok": [Decimal(v) if v else None for v in PRICES],
        "reasoning": [False, False, False, False, False, True, False, False, None],
        "GPQA Diamond": [65.0, 60, 70, 49.9, 50, 80, 55, 90, 52],
        "MMLU": [80.0, 80, 85, 70, 75, 90, 82, 95, 83],
    }
)


def test_walk_keeps_cheaper_models_at_or_above_threshold() -> None:
    kept = frontier_walk(TABLE, "GPQA Diamond", 50)
    assert kept["model"].to_list() == ["alpha", "delta", "epsilon-r", "zeta", "theta"]
    kept = frontier_walk(TABLE, "GPQA Diamond", 50, exclude_reasoning=True)
    assert kept["model"].to_list() == ["alpha", "delta", "zeta", "theta"]


def test_epoch_fit_matches_hand_computation() -> None:
    result = epoch_deflation(TABLE, "GPQA Diamond", 50, exclude_reasoning=True)
    assert result.n == 4
    assert result.slope_log10_per_day == pytest.approx(-1.3 / 365)
    assert result.factor_per_year == pytest.approx(19.952623, rel=1e-6)
    assert result.r2 == pytest.approx(0.965714, abs=1e-6)
    assert result.ci90 == pytest.approx((6.226495, 63.937601), rel=1e-6)
    assert [(m.model, m.date, m.usd_per_mtok) for m in result.models] == [
        ("alpha", date(2023, 1, 1), 100.0),
        ("delta", date(2024, 1, 1), 10.0),
        ("zeta", date(2024, 12, 31), 1.0),
        ("theta", date(2025, 12, 31), 0.01),
    ]
    as_dict = result.as_dict()
    assert set(as_dict) == {"factor_per_year", "ci90", "r2", "n", "models"}
    assert as_dict["ci90"] == list(result.ci90)


def test_including_reasoning_models_changes_the_fit() -> None:
    result = epoch_deflation(TABLE, "GPQA Diamond", 50)
    assert result.n == 5
    assert result.ci90[0] < result.factor_per_year < result.ci90[1]


def test_same_day_rule_does_not_depend_on_row_order() -> None:
    shuffled = TABLE.sample(fraction=1.0, shuffle=True, seed=7)
    assert frontier_walk(shuffled, "GPQA Diamond", 50).equals(
        frontier_walk(TABLE, "GPQA Diamond", 50)
    )


def test_too_few_points_unknown_benchmark_and_missing_flag_raise() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        epoch_deflation(TABLE, "GPQA Diamond", 60)
    with pytest.raises(ValueError, match="available benchmarks: GPQA Diamond, MMLU"):
        epoch_deflation(TABLE, "HLE", 10)
    with pytest.raises(ValueError, match="reasoning"):
        epoch_deflation(TABLE.drop("reasoning"), "MMLU", 70, exclude_reasoning=True)
    with pytest.raises(ValueError, match="positive"):
        epoch_deflation(TABLE.with_columns(usd_per_mtok=pl.lit(0.0)), "MMLU", 70)


def _halving_series(days: int, step: int, noise: float, seed: int = 42) -> pl.DataFrame:
    rng = random.Random(seed)
    start = date(2022, 1, 1)
    rows = [
        (start + timedelta(days=d), 10.0 * 2 ** (-d / 365) * math.exp(rng.gauss(0, noise)))
        for d in range(0, days, step)
    ]
    return pl.DataFrame(rows, schema=["date", "price"], orient="row")


def test_exponential_fit_recovers_a_known_halving_rate_within_one_percent() -> None:
    # Price halves every 365 days (12 months), 2% log-normal noise, monthly for 4 years.
    fit = exponential_fit(_halving_series(4 * 365, 30, noise=0.02))
    assert fit.factor_per_year == pytest.approx(2.0, rel=0.01)
    assert fit.halving_time_months == pytest.approx(12.0, rel=0.01)
    # 10x takes log(10)/log(2) = 3.3219 halvings = 39.86 months.
    assert fit.months_per_10x == pytest.approx(12 * math.log2(10), rel=0.01)
    assert fit.ci90[0] < 2.0 < fit.ci90[1]
    assert fit.r2 > 0.99


def test_exponential_fit_exact_series_and_rising_prices() -> None:
    exact = exponential_fit(_halving_series(3 * 365, 91, noise=0.0))
    assert exact.factor_per_year == pytest.approx(2.0, rel=1e-9)
    assert exact.ci90 == pytest.approx((2.0, 2.0), rel=1e-6)
    rising = exponential_fit(
        _halving_series(3 * 365, 91, noise=0.0).with_columns(price=1 / pl.col("price"))
    )
    assert rising.factor_per_year == pytest.approx(0.5)
    assert rising.halving_time_months is None
    assert rising.months_per_10x is None


def test_exponential_fit_skips_empty_buckets_and_rejects_zero() -> None:
    series = _halving_series(365, 30, noise=0.0)
    with_gap = series.with_columns(
        price=pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("price"))
    )
    assert exponential_fit(with_gap).n == series.height - 1
    with pytest.raises(ValueError, match="positive"):
        exponential_fit(series.with_columns(price=pl.lit(0.0)))
