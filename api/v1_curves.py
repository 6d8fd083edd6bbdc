"""Cost curves per tier and deflation estimates (the headline routes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, HTTPException, Query, Request, Response

from api import curve_cache
from api.deps import EngineDep
from api.responses import FormatQuery, cached, to_csv
from costcurve.analytics.countable import CountOptions, countable_prices
from costcurve.analytics.curves import CURVE_COLUMNS, tier_cost_curve
from costcurve.analytics.deflation import exponential_fit
from costcurve.catalog.models import Tier
from costcurve.core.jsonenc import dumps

router = APIRouter(prefix="/v1", tags=["curves"])

Metric = Literal["input", "output", "blended"]
Interval = Literal["day", "week", "month"]
EARLIEST = date(2023, 1, 1)


def _window(start: date | None, end: date | None) -> tuple[date, date]:
    start = start or EARLIEST
    end = end or datetime.now(UTC).date()
    if end < start:
        raise HTTPException(422, detail=f"to ({end}) must not be before from ({start})")
    return start, end


def curve_frame(
    engine: Any,
    *,
    tier: str | None,
    metric: str,
    interval: str,
    start: date,
    end: date,
    include_self_hosted: bool,
    include_corrections: bool,
    include_free: bool,
    providers: tuple[str, ...] | None,
    counting: CountOptions | None = None,
) -> pl.DataFrame:
    _, llm, _ = curve_cache.frames(engine)
    frame = llm if tier is None else llm.filter(pl.col("tier") == tier)
    # "Which prices count" first, as its own step; tiers and buckets come after.
    frame = countable_prices(frame, counting or CountOptions())
    if include_self_hosted:
        from api.selfhosted import self_hosted_curve_rows

        frame = pl.concat([frame, self_hosted_curve_rows(engine, frame.schema)], how="vertical")
    if frame.is_empty():
        return pl.DataFrame(schema=dict.fromkeys(CURVE_COLUMNS, pl.String))
    return tier_cost_curve(
        frame,
        interval=interval,  # type: ignore[arg-type]
        metric=metric,  # type: ignore[arg-type]
        start=start,
        end=end,
        include_self_hosted=include_self_hosted,
        include_corrections=include_corrections,
        include_free=include_free,
        providers=providers,
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
    tier: Annotated[
        Tier | None, Query(description="Capability tier; all tiers when omitted")
    ] = None,
    metric: Annotated[Metric, Query(description="input, output or blended (3:1)")] = "blended",
    interval: Annotated[Interval, Query(description="day, week or month")] = "month",
    start: Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD)")] = None,
    end: Annotated[date | None, Query(alias="to", description="Last day (YYYY-MM-DD)")] = None,
    include_self_hosted: bool = False,
    include_corrections: bool = True,
    include_free: bool = False,
    include_promotions: bool = False,
    include_quarantined: bool = False,
    include_stale: bool = False,
    variant: Annotated[
        list[str] | None, Query(description="Also count these variants (batch, flex, ...)")
    ] = None,
    provider: Annotated[list[str] | None, Query(description="Only these providers")] = None,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    start, end = _window(start, end)
    counting = CountOptions(
        include_promotions=include_promotions,
        include_quarantined=include_quarantined,
        include_stale=include_stale,
        variants=tuple(sorted(variant or ())),
    )
    key = (
        "curve",
        tier,
        metric,
        interval,
        start,
        end,
        include_self_hosted,
        include_corrections,
        include_free,
        counting,
        tuple(provider or ()),
        fmt,
    )

    def compute() -> tuple[bytes, str]:
        curve = curve_frame(
            engine,
            tier=tier,
            metric=metric,
            interval=interval,
            start=start,
            end=end,
            include_self_hosted=include_self_hosted,
            include_corrections=include_corrections,
            include_free=include_free,
            providers=tuple(provider) if provider else None,
            counting=counting,
        )
        rows = curve.to_dicts()
        if fmt == "csv":
            return to_csv(rows, CURVE_COLUMNS), "text/csv; charset=utf-8"
        body = {
            "tier": tier,
            "metric": metric,
            "interval": interval,
            "from": start,
            "to": end,
            "unit": "usd_per_mtok",
            "points": rows,
        }
        return dumps(body).encode(), "application/json"

    body, media_type = curve_cache.memo(engine, key, compute)
    return cached(request, body, media_type)


def cheapest_series(engine: Any, tier: str, metric: str, start: date, end: date) -> pl.DataFrame:
    curve = curve_frame(
        engine,
        tier=tier,
        metric=metric,
        interval="month",
        start=start,
        end=end,
        include_self_hosted=False,
        include_corrections=True,
        include_free=False,
        providers=None,
    )
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
        series = cheapest_series(engine, tier, metric, start, end)
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
