"""Deflation fits with honest uncertainty: per tier, at constant capability, per benchmark.

Every fit here runs over observed periods only (``analytics.robust.observed_periods``)
and reports the autocorrelation-robust interval with n, r^2, the method and
the window it covers.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import Any

import polars as pl
from fastapi import HTTPException
from sqlalchemy import Engine, text

from api.curve_query import CurveQuery, priced_versions
from api.tier_state import TierInputs, tier_inputs
from costcurve.analytics.capability import best_model_series, threshold_membership
from costcurve.analytics.curves import tier_cost_curve
from costcurve.analytics.deflation import MONTHS_PER_YEAR, factor_per_year
from costcurve.analytics.robust import observed_periods, robust_fit
from costcurve.analytics.stats import t_quantile
from costcurve.analytics.tiers import apply_membership, best_by_date
from costcurve.core.formulas import BlendRatio

MIN_POINTS = 4
# The tier's lower edge, in points below the best model, per band of the rule.
_BANDS = {"frontier": "frontier_within", "strong": "strong_within", "good": "good_within"}


def last_observed(engine: Engine) -> datetime | None:
    """The last instant any price was seen: later months would only be carried forward."""
    with engine.connect() as conn:
        value: datetime | None = conn.execute(
            text("SELECT max(last_seen_at) FROM llm_price_version")
        ).scalar_one()
    return value


def fit_series(series: pl.DataFrame, *, what: str) -> dict[str, Any]:
    """Robust fit of a (date, price) series in time order; 422 with fewer than 4 points."""
    points = series.filter(pl.col("price") > 0).sort("date")
    if points.height < MIN_POINTS:
        raise HTTPException(
            422,
            detail=f"{what}: only {points.height} observed monthly points, need at least "
            f"{MIN_POINTS} (widen from/to or lower the threshold)",
        )
    days = (points["date"].dt.epoch("us").cast(pl.Float64) / 86_400_000_000.0).to_list()
    fit = robust_fit(days, [math.log10(p) for p in points["price"].to_list()])

    def factors(interval: tuple[float, float]) -> list[float]:
        return [factor_per_year(interval[1]), factor_per_year(interval[0])]

    # Headline: the HAC interval; the effective-n one is the conservative bound
    # (it degenerates to about 3 effective points on a series of long flat steps).
    naive = t_quantile(0.95, fit.n - 2) * fit.ols_slope_se
    factor = factor_per_year(fit.slope)
    log_factor = math.log10(factor)
    return {
        "factor_per_year": factor,
        "ci90": factors(fit.hac_slope_interval(0.90)),
        "ci90_conservative": factors(fit.slope_interval(0.90)),
        "ci90_ols_naive": factors((fit.slope - naive, fit.slope + naive)),
        "months_per_10x": MONTHS_PER_YEAR / log_factor if log_factor > 0 else None,
        **fit.describe(),
        "window": {"from": points["date"][0], "to": points["date"][-1]},
        "points": points.to_dicts(),
    }


def monthly_series(
    engine: Engine, versions: pl.DataFrame, tier: str, query: CurveQuery, ratio: BlendRatio
) -> pl.DataFrame:
    """A tier's cheapest monthly price over the observed months (date, price, model)."""
    frame = versions.filter(pl.col("tier") == tier)
    if frame.is_empty():
        return pl.DataFrame(schema={"date": pl.Datetime("us", "UTC"), "price": pl.Float64})
    kept = observed_monthly(engine, frame, query, ratio)
    return kept.select(date=pl.col("as_of"), price=pl.col("min"), model=pl.col("cheapest_model"))


def observed_monthly(
    engine: Engine, frame: pl.DataFrame, query: CurveQuery, ratio: BlendRatio
) -> pl.DataFrame:
    """The monthly curve of ``frame`` over the query's window, observed months only."""
    start, end = query.window
    curve = tier_cost_curve(
        frame,
        interval="month",
        metric=query.metric,
        start=start,
        end=end,
        ratio=ratio,
        dedupe_sources=True,
    )
    return observed_periods(curve, last_observed=last_observed(engine))


def constant_capability(
    engine: Engine, threshold: float, query: CurveQuery, ratio: BlendRatio, inputs: TierInputs
) -> dict[str, Any]:
    """The cheapest monthly price of any model scoring >= threshold, and its trend."""
    llm = priced_versions(engine, query)
    intervals = threshold_membership(inputs.scores, inputs.catalog, threshold)
    series = monthly_series(engine, apply_membership(llm, intervals), "at_or_above", query, ratio)
    what = f"{inputs.rule.benchmark} >= {threshold:g}"
    return {
        "benchmark": inputs.rule.benchmark,
        "threshold": threshold,
        **fit_series(series, what=what),
    }


def tier_floor(inputs: TierInputs, tier: str, at: datetime) -> float | None:
    """The lowest score still in ``tier`` at ``at`` (best released by then minus the band)."""
    band = _BANDS.get(tier)
    if band is None:
        return None
    best = best_by_date(inputs.scores, [at.date()])["best"][0]
    return None if best is None else float(best) - float(getattr(inputs.rule, band))


def tier_deflation(engine: Engine, query: CurveQuery, ratio: BlendRatio) -> dict[str, Any]:
    """Per tier: the price of the tier (membership at each date) and, for the capability
    level the tier had at the start of its series, the price of constant capability."""
    assert query.tier is not None
    llm = priced_versions(engine, query)
    inputs = tier_inputs(engine)
    capability = query.tiers == "capability"
    versions = apply_membership(llm, inputs.intervals) if capability else llm
    series = monthly_series(engine, versions, query.tier, replace(query, interval="month"), ratio)
    body: dict[str, Any] = {
        "question": "price of the tier (membership at each month's end)",
        **fit_series(series, what=f"tier {query.tier}"),
    }
    # One reference date for every tier: the first month the frontier tier has a
    # price, so "the level each tier had at the start" is measured at the same date.
    if query.tier == "frontier" or not capability:
        reference = body["window"]["from"]
    else:
        frontier = monthly_series(engine, versions, "frontier", query, ratio)
        reference = frontier["date"][0] if frontier.height else body["window"]["from"]
    floor = tier_floor(inputs, query.tier, reference)
    if query.tiers == "capability" and floor is not None:
        try:
            body["constant_capability"] = {
                "question": f"price of the capability level the {query.tier} tier had at "
                "the reference date (the frontier series' first month), held constant",
                "reference_date": reference,
                **constant_capability(engine, floor, query, ratio, inputs),
            }
        except HTTPException as exc:
            body["constant_capability"] = {"error": exc.detail, "threshold": floor}
    return body


def frontier_price(
    engine: Engine, query: CurveQuery, ratio: BlendRatio, benchmark: str
) -> dict[str, Any]:
    """Per observed month: the best-scoring model that has a price, and its cheapest price."""
    llm = priced_versions(engine, query)
    inputs = tier_inputs(engine, benchmark)
    # One "tier" per model: the per-model cheapest price in each bucket.
    curve = observed_monthly(engine, llm.with_columns(tier=pl.col("model")), query, ratio)
    best = best_model_series(curve, inputs.scores)
    series = best.select("date", "price", "model", "score") if best.height else best
    body: dict[str, Any] = {
        "benchmark": benchmark,
        "question": "price of the frontier: the cheapest price of the highest-scoring "
        "model that has a price, at each month's end (can rise when a better, dearer "
        "model appears; Gundlach et al. 2025)",
    }
    try:
        body.update(fit_series(series, what="the frontier price"))
    except HTTPException as exc:
        body.update({"error": exc.detail, "points": series.to_dicts()})
    return body
