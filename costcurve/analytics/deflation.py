"""How fast prices fall: Epoch AI's constant-capability method and a plain exponential fit.

Both fit ordinary least squares of log10(price) on time in days, so a slope
``s`` means the price is multiplied by ``10**(365 * s)`` each year. We report
``factor_per_year = 10**(-365 * s)``: the factor by which the price *falls*
per year (40.0 means "40x cheaper every year"; below 1.0 means it rose). The
90% interval comes from the slope's t interval with n - 2 degrees of freedom,
mapped through the same (monotone) transform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from costcurve.analytics._frames import as_date, days_since_epoch, require_columns
from costcurve.analytics.money import to_float_prices
from costcurve.analytics.stats import LinearFit, ols, t_quantile

# Input of the Epoch method: one row per model; every other column is a
# benchmark score (higher is better), named as the benchmark, e.g. "GPQA Diamond".
# usd_per_mtok is the blended price (analytics.blend: 3 input : 1 output).
EPOCH_COLUMNS: tuple[str, ...] = ("model", "date", "usd_per_mtok", "reasoning")
MIN_EPOCH_POINTS = 4
DAYS_PER_YEAR = 365.0
MONTHS_PER_YEAR = 12.0


def factor_per_year(slope_log10_per_day: float) -> float:
    return float(10.0 ** (-DAYS_PER_YEAR * slope_log10_per_day))


def _factor_interval(fit: LinearFit, level: float) -> tuple[float, float]:
    slope_lo, slope_hi = fit.slope_interval(level)
    # A steeper fall (more negative slope) is a larger factor, so the ends swap.
    return factor_per_year(slope_hi), factor_per_year(slope_lo)


@dataclass(frozen=True)
class KeptModel:
    model: str
    date: date
    usd_per_mtok: float
    score: float


@dataclass(frozen=True)
class DeflationResult:
    """Epoch-method estimate for one benchmark threshold."""

    benchmark: str
    threshold: float
    factor_per_year: float
    ci90: tuple[float, float]
    r2: float
    n: int
    slope_log10_per_day: float
    models: tuple[KeptModel, ...]

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of ``costcurve deflation`` (ARCHITECTURE.md, CLI contract)."""
        return {
            "factor_per_year": self.factor_per_year,
            "ci90": list(self.ci90),
            "r2": self.r2,
            "n": self.n,
            "models": [
                {"model": m.model, "date": m.date, "usd_per_mtok": m.usd_per_mtok, "score": m.score}
                for m in self.models
            ],
        }


def benchmark_columns(df: pl.DataFrame) -> list[str]:
    return [c for c in df.columns if c not in EPOCH_COLUMNS]


def frontier_walk(
    df: pl.DataFrame, benchmark: str, threshold: float, *, exclude_reasoning: bool = False
) -> pl.DataFrame:
    """The models Epoch's method keeps, in release order (columns model, date, usd_per_mtok, score).

    Walking in release-date order, a model is kept when its score is at or above
    ``threshold`` and its price is lower than every model kept so far. Rows
    sort by (date, price), so of two qualifying models released the same day
    the cheaper comes first and the other is never lower than it: only the
    cheaper is kept. Rows with no score, price or date do not qualify; a
    missing ``reasoning`` flag counts as not reasoning.
    """
    require_columns(df, ("model", "date", "usd_per_mtok"), "the deflation input")
    if benchmark not in df.columns or benchmark in EPOCH_COLUMNS:
        available = ", ".join(benchmark_columns(df)) or "none"
        raise ValueError(f"unknown benchmark {benchmark!r}; available benchmarks: {available}")
    if exclude_reasoning and "reasoning" not in df.columns:
        raise ValueError("exclude_reasoning needs a 'reasoning' column")
    df = to_float_prices(df, ["usd_per_mtok", benchmark])
    if exclude_reasoning:
        df = df.filter(~pl.col("reasoning").cast(pl.Boolean).fill_null(False))
    qualifying = (
        df.with_columns(date=as_date(df, "date"))
        .filter(
            pl.col(benchmark) >= threshold,
            pl.col("usd_per_mtok").is_not_null(),
            pl.col("date").is_not_null(),
        )
        .select("model", "date", "usd_per_mtok", score=pl.col(benchmark))
        .sort("date", "usd_per_mtok", "model")
    )
    if (qualifying["usd_per_mtok"] <= 0).any():
        bad = qualifying.filter(pl.col("usd_per_mtok") <= 0)["model"].to_list()
        raise ValueError(f"prices must be positive for a log fit; not so for: {', '.join(bad)}")
    cheapest_before = pl.col("usd_per_mtok").cum_min().shift(1)
    return qualifying.filter(cheapest_before.is_null() | (pl.col("usd_per_mtok") < cheapest_before))


def epoch_deflation(
    df: pl.DataFrame,
    benchmark: str,
    threshold: float,
    *,
    exclude_reasoning: bool = False,
    level: float = 0.90,
) -> DeflationResult:
    """Deflation at constant capability (Epoch AI, 2025): see :func:`frontier_walk`.

    Raises ``ValueError`` with a clear message for a missing column, an unknown
    benchmark (naming the available ones) or fewer than 4 kept models.
    """
    kept = frontier_walk(df, benchmark, threshold, exclude_reasoning=exclude_reasoning)
    if kept.height < MIN_EPOCH_POINTS:
        raise ValueError(
            f"only {kept.height} model(s) on the price frontier for {benchmark} >= {threshold:g}; "
            f"the fit needs at least {MIN_EPOCH_POINTS} (lower the threshold or add models)"
        )
    days = kept["date"].cast(pl.Int32).cast(pl.Float64).to_list()
    fit = ols(days, [math.log10(p) for p in kept["usd_per_mtok"].to_list()])
    models = tuple(KeptModel(**row) for row in kept.iter_rows(named=True))
    return DeflationResult(
        benchmark=benchmark,
        threshold=threshold,
        factor_per_year=factor_per_year(fit.slope),
        ci90=_factor_interval(fit, level),
        r2=fit.r2,
        n=fit.n,
        slope_log10_per_day=fit.slope,
        models=models,
    )


@dataclass(frozen=True)
class ExponentialFit:
    """An exponential trend of a price series, e.g. a tier's cheapest-price curve."""

    factor_per_year: float
    ci90: tuple[float, float]
    r2: float
    n: int
    slope_log10_per_day: float
    # Months for the price to halve / fall 10x; None when the price is not falling.
    halving_time_months: float | None
    months_per_10x: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "factor_per_year": self.factor_per_year,
            "ci90": list(self.ci90),
            "r2": self.r2,
            "n": self.n,
            "halving_time_months": self.halving_time_months,
            "months_per_10x": self.months_per_10x,
        }


def exponential_fit(
    series: pl.DataFrame,
    *,
    date_col: str = "date",
    price_col: str = "price",
    level: float = 0.90,
) -> ExponentialFit:
    """Fit price = A * 10**(slope * days) to a (date, price) series.

    Rows with a null price (buckets with no offering) are skipped; a
    non-positive price raises, since it has no logarithm. At least 3 points.
    "Halving time" and "10x every N months" use 12 months per 365-day year:
    ``months_per_10x = 12 / log10(factor_per_year)``.
    """
    points = _log_points(series, date_col, price_col)
    fit = ols(points["x"].to_list(), points["log_y"].to_list())
    factor = factor_per_year(fit.slope)
    log_factor = math.log10(factor)
    falling = log_factor > 0
    return ExponentialFit(
        factor_per_year=factor,
        ci90=_factor_interval(fit, level),
        r2=fit.r2,
        n=fit.n,
        slope_log10_per_day=fit.slope,
        halving_time_months=MONTHS_PER_YEAR * math.log10(2) / log_factor if falling else None,
        months_per_10x=MONTHS_PER_YEAR / log_factor if falling else None,
    )


def _log_points(series: pl.DataFrame, date_col: str, price_col: str) -> pl.DataFrame:
    """(x = days since epoch, y = price, log_y) of a series, sorted; nulls skipped."""
    require_columns(series, (date_col, price_col), "the price series")
    series = to_float_prices(series, [price_col])
    points = (
        series.select(x=days_since_epoch(series, date_col), y=pl.col(price_col))
        .drop_nulls()
        .sort("x")
    )
    if (points["y"] <= 0).any():
        raise ValueError("prices must be positive for a log fit; filter free (zero) prices out")
    logs = [math.log10(v) for v in points["y"].to_list()]
    return points.with_columns(log_y=pl.Series(logs, dtype=pl.Float64))


def trend_band(
    series: pl.DataFrame,
    *,
    date_col: str = "date",
    price_col: str = "price",
    level: float = 0.90,
) -> pl.DataFrame:
    """The fitted line of ``exponential_fit`` and its confidence band, at the fitted dates.

    Columns ``x`` (days since epoch), ``fitted``, ``lo``, ``hi`` in price units:
    the band is the interval of the mean log10 price at each date,
    ``t * s * sqrt(1/n + (x - mean_x)^2 / sxx)``, the usual OLS confidence band.
    """
    points = _log_points(series, date_col, price_col)
    xs, ys = points["x"].to_list(), points["log_y"].to_list()
    fit = ols(xs, ys)
    n = fit.n
    mean_x = math.fsum(xs) / n
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    residual_sd = fit.slope_se * math.sqrt(sxx)
    t = t_quantile(0.5 + level / 2.0, fit.dof)
    rows = []
    for x in xs:
        centre = fit.intercept + fit.slope * x
        half = t * residual_sd * math.sqrt(1.0 / n + (x - mean_x) ** 2 / sxx)
        rows.append((x, 10.0**centre, 10.0 ** (centre - half), 10.0 ** (centre + half)))
    return pl.DataFrame(rows, schema=["x", "fitted", "lo", "hi"], orient="row")
