"""Trend fits whose interval survives autocorrelation, over observed periods only.

A tier's monthly cheapest price is a step function: it stays put for months,
then drops. Its residuals around a fitted trend are strongly autocorrelated,
so the textbook OLS interval (which assumes independent errors) is far too
narrow. :func:`robust_fit` keeps the OLS slope and gives two intervals that
allow for the autocorrelation actually present:

- HAC (the headline ``ci90`` of the API): the equal-weighted cosine estimator
  of Lazarus, Lewis, Stock & Watson ("HAR inference: recommendations for
  practice", JBES 2018), ``nu = floor(0.4 n^(2/3))`` cosine terms, Student t
  with ``nu`` degrees of freedom. Measured coverage of its 90% interval on
  synthetic AR(1) noise around a known trend (tests/test_analytics_robust.py):
  about 80% at rho 0.5-0.8 with 36-60 monthly points (HAC estimators
  under-cover with a time-trend regressor), against about 50% for plain OLS.
- conservative (``ci90_conservative``): the effective-sample-size adjustment
  of Santer et al. (2000, JGR 105:7337): lag-1 autocorrelation ``r`` of the
  residuals, corrected for the bias of a fitted trend (Shaman & Stine 1988:
  ``+ (2 + 4r) / n``), ``n_eff = n (1 - r) / (1 + r)`` (at least 3); residual
  variance over ``n_eff - 2``, t with ``n_eff - 2`` dof. Coverage 88-95% in
  the same simulations, but on a series of a few long flat steps ``r`` nears
  1 and the interval becomes uninformative (that is what it honestly says).

:func:`observed_periods` makes sure the series holds only what was observed:
no buckets after the last observation (a price carried forward is not a new
data point), no partial current bucket, and each snapshot once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from costcurve.analytics._frames import UTC_DATETIME
from costcurve.analytics.stats import ols, t_quantile

METHOD = (
    "OLS of log10(price) on days; 90% interval with the AR(1) effective-sample-size "
    "adjustment (Santer et al. 2000; lag-1 autocorrelation bias-corrected for the trend)"
)
HAC_METHOD = "HAC, equal-weighted cosine (Lazarus-Lewis-Stock-Watson 2018)"
MAX_AUTOCORRELATION = 0.97


@dataclass(frozen=True)
class RobustFit:
    slope: float
    intercept: float
    r2: float
    n: int
    lag1_autocorrelation: float  # bias-corrected, clipped to [0, MAX_AUTOCORRELATION]
    effective_n: float
    slope_se: float  # effective-n standard error
    hac_slope_se: float
    hac_dof: int
    ols_slope_se: float

    @property
    def dof(self) -> float:
        return self.effective_n - 2.0

    def slope_interval(self, level: float = 0.90) -> tuple[float, float]:
        half = t_quantile(0.5 + level / 2.0, self.dof) * self.slope_se
        return self.slope - half, self.slope + half

    def hac_slope_interval(self, level: float = 0.90) -> tuple[float, float]:
        half = t_quantile(0.5 + level / 2.0, self.hac_dof) * self.hac_slope_se
        return self.slope - half, self.slope + half

    def describe(self) -> dict[str, Any]:
        return {
            "ci90_method": METHOD,
            "n": self.n,
            "r2": self.r2,
            "lag1_autocorrelation": self.lag1_autocorrelation,
            "effective_n": self.effective_n,
            "ci90_hac_method": HAC_METHOD,
            "hac_dof": self.hac_dof,
        }


def ewc_terms(n: int) -> int:
    return max(1, int(0.4 * n ** (2.0 / 3.0)))


def _ewc_se(centred: list[float], residuals: list[float], sxx: float, nu: int) -> float:
    n = len(centred)
    z = [c * e for c, e in zip(centred, residuals, strict=True)]
    scale = math.sqrt(2.0 / n)
    lambdas = [
        scale * math.fsum(zt * math.cos(math.pi * j * (t + 0.5) / n) for t, zt in enumerate(z))
        for j in range(1, nu + 1)
    ]
    long_run = math.fsum(v * v for v in lambdas) / nu
    return math.sqrt(n * long_run) / sxx


def _lag1(residuals: list[float]) -> float:
    n = len(residuals)
    total = math.fsum(e * e for e in residuals)
    if total == 0:
        return 0.0
    raw = math.fsum(residuals[t] * residuals[t - 1] for t in range(1, n)) / total
    corrected = raw + (2.0 + 4.0 * raw) / n
    return min(max(corrected, 0.0), MAX_AUTOCORRELATION)


def robust_fit(x: Sequence[float], y: Sequence[float], nu: int | None = None) -> RobustFit:
    """OLS of y on x (points in time order) with autocorrelation-robust intervals."""
    base = ols(x, y)
    n = base.n
    nu = ewc_terms(n) if nu is None else nu
    if not 1 <= nu < n:
        raise ValueError(f"nu must be between 1 and n - 1 = {n - 1}, got {nu}")
    mean_x = math.fsum(x) / n
    centred = [xi - mean_x for xi in x]
    sxx = math.fsum(c * c for c in centred)
    residuals = [yi - base.intercept - base.slope * xi for xi, yi in zip(x, y, strict=True)]
    r = _lag1(residuals)
    # At least 3 effective points keep one degree of freedom for the t quantile.
    effective_n = max(n * (1.0 - r) / (1.0 + r), 3.0)
    sse = math.fsum(e * e for e in residuals)
    return RobustFit(
        slope=base.slope,
        intercept=base.intercept,
        r2=base.r2,
        n=n,
        lag1_autocorrelation=r,
        effective_n=effective_n,
        slope_se=math.sqrt(sse / (effective_n - 2.0) / sxx),
        hac_slope_se=_ewc_se(centred, residuals, sxx, nu),
        hac_dof=nu,
        ols_slope_se=base.slope_se,
    )


def observed_periods(
    curve: pl.DataFrame, *, last_observed: datetime | None, every: str = "1mo"
) -> pl.DataFrame:
    """The rows of a bucketed curve that rest on observations (module doc).

    ``curve`` has ``bucket_start`` and ``as_of`` (the snapshot instant: the
    bucket's end, or the curve's end for the last one) as from
    :func:`costcurve.analytics.curves.tier_cost_curve`, with buckets ``every``
    long. A bucket is kept when it is complete (its snapshot is its own end,
    not the curve's end cutting it short) and it starts on or before
    ``last_observed``: a month that begins after the last observation only
    repeats the last known price. Each snapshot appears once (per tier).
    """
    if curve.is_empty():
        return curve
    complete = pl.col("as_of") == pl.col("bucket_start").dt.offset_by(every)
    keep = curve.filter(complete)
    if last_observed is not None:
        keep = keep.filter(pl.col("bucket_start") <= pl.lit(last_observed, dtype=UTC_DATETIME))
    key = ["as_of", "tier"] if "tier" in keep.columns else ["as_of"]
    return keep.unique(subset=key, keep="first", maintain_order=True).sort(key)
