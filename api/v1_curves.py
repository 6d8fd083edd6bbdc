"""Cost curves per tier and deflation estimates (the headline routes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from api import curve_cache
from api.curve_query import CurveQuery, Metric
from api.deps import EngineDep
from api.responses import FormatQuery, cached, to_csv
from costcurve.analytics.countable import countable_prices
from costcurve.analytics.curves import CURVE_COLUMNS, tier_cost_curve
from costcurve.analytics.deflation import exponential_fit
from costcurve.catalog.models import Tier
from costcurve.core.jsonenc import dumps

router = APIRouter(prefix="/v1", tags=["curves"])


def _window(start: date | None, end: date | None) -> tuple[date, date]:
    return CurveQuery(start=start, end=end).resolved().window


def curve_frame(engine: Any, query: CurveQuery) -> pl.DataFrame:
    """The curve of a resolved query, over the in-memory version frames."""
    start, end = query.window
    _, llm, _ = curve_cache.frames(engine)
    frame = llm if query.tier is None else llm.filter(pl.col("tier") == query.tier)
    # "Which prices count" first, as its own step; tiers and buckets come after.
    frame = countable_prices(frame, query.counting)
    if query.include_self_hosted:
        from api.selfhosted import self_hosted_curve_rows

        frame = pl.concat([frame, self_hosted_curve_rows(engine, frame.schema)], how="vertical")
    if frame.is_empty():
        return pl.DataFrame(schema=dict.fromkeys(CURVE_COLUMNS, pl.String))
    return tier_cost_curve(
        frame,
        interval=query.interval,
        metric=query.metric,
        start=start,
        end=end,
        include_self_hosted=query.include_self_hosted,
        include_corrections=query.include_corrections,
        include_free=query.include_free,
        providers=query.provider,
        dedupe_sources=True,
    )


@router.get(
    "/cost-curve",
    summary="Cost per million tokens over time for a capability tier",
    description=(
        "For each interval and tier: min, p25, median, max and count of the prices of the "
        "offerings in effect at the end of the interval, and the cheapest offering. An "
        "offering is a (provider, model) pair; one listed by several sources counts once "
        "at its lowest price. Only standard list prices of the base context tier count: "
        "free listings, promotions, prices quarantined by the plausibility screen and "
        "prices past their source's freshness horizon are left out unless `include_free`, "
        "`include_promotions`, `include_quarantined` or `include_stale`; `variant` adds "
        "other variants (batch, flex, ...)."
    ),
)
def cost_curve(
    request: Request,
    engine: EngineDep,
    params: Annotated[CurveQuery, Depends()],
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    query = params.resolved()

    def compute() -> tuple[bytes, str]:
        rows = curve_frame(engine, query).to_dicts()
        if fmt == "csv":
            return to_csv(rows, CURVE_COLUMNS), "text/csv; charset=utf-8"
        start, end = query.window
        body = {
            "tier": query.tier,
            "metric": query.metric,
            "interval": query.interval,
            "from": start,
            "to": end,
            "unit": "usd_per_mtok",
            "points": rows,
        }
        return dumps(body).encode(), "application/json"

    body, media_type = curve_cache.memo(engine, ("curve", query, fmt), compute)
    return cached(request, body, media_type)


def cheapest_series(engine: Any, query: CurveQuery) -> pl.DataFrame:
    """The monthly cheapest price of a query's tier: the series tier deflation fits."""
    curve = curve_frame(engine, replace(query, interval="month"))
    if curve.is_empty():
        return pl.DataFrame({"date": [], "price": []})
    return curve.select(date=pl.col("as_of"), price=pl.col("min"))


@router.get(
    "/deflation",
    summary="How fast prices fall: per tier, or at constant capability (Epoch AI method)",
    description=(
        "With `tier`: an exponential fit of the tier's monthly cheapest price (factor per "
        "year with 90% CI, halving time, months per 10x). With `benchmark` and `threshold`: "
        "Epoch AI's method over imported capability scores (see `costcurve scores import`)."
    ),
)
def deflation(
    request: Request,
    engine: EngineDep,
    tier: Tier | None = None,
    benchmark: Annotated[str | None, Query(description="Capability benchmark, e.g. MMLU")] = None,
    threshold: Annotated[float | None, Query(description="Minimum score on the benchmark")] = None,
    metric: Metric = "blended",
    exclude_reasoning: bool = False,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    start, end = _window(start, end)
    if (tier is None) == (benchmark is None):
        raise HTTPException(
            422, detail="give either tier=<frontier|strong|good|fast|local> or benchmark+threshold"
        )
    if benchmark is not None:
        if threshold is None:
            raise HTTPException(422, detail="threshold: required with benchmark")
        from api.scores import epoch_estimate

        result = epoch_estimate(engine, benchmark, threshold, exclude_reasoning=exclude_reasoning)
        return cached(request, dumps({"method": "epoch", **result}).encode(), "application/json")
    assert tier is not None

    def compute() -> bytes:
        query = CurveQuery(tier=tier, metric=metric, start=start, end=end).resolved()
        series = cheapest_series(engine, query)
        if series.height < 3:
            raise HTTPException(
                422, detail=f"tier {tier}: only {series.height} monthly points, need at least 3"
            )
        fit = exponential_fit(series)
        body = {
            "method": "tier_cheapest_exponential",
            "tier": tier,
            "metric": metric,
            "from": start,
            "to": end,
            **fit.as_dict(),
            "points": series.to_dicts(),
        }
        return dumps(body).encode()

    body = curve_cache.memo(engine, ("deflation", tier, metric, start, end), compute)
    return cached(request, body, "application/json")
