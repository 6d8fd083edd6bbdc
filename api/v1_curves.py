"""Cost curves per tier and deflation estimates (the headline routes)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, HTTPException, Query, Request, Response

from api import curve_cache
from api.curve_query import CurveQuery, CurveQueryDep, Metric, TierRuleName
from api.deps import EngineDep
from api.responses import FormatQuery, cached, to_csv
from api.tier_state import tier_inputs
from costcurve.analytics.countable import INPUT_COLUMNS as COUNTABLE_INPUTS
from costcurve.analytics.countable import countable_prices
from costcurve.analytics.curves import CURVE_COLUMNS, OFFERINGS_SCHEMA, tier_cost_curve
from costcurve.analytics.tiers import apply_membership
from costcurve.catalog.models import Tier
from costcurve.core.formulas import DEFAULT_BLEND, BlendRatio
from costcurve.core.jsonenc import dumps

router = APIRouter(prefix="/v1", tags=["curves"])


def _window(start: date | None, end: date | None) -> tuple[date, date]:
    return CurveQuery(start=start, end=end).resolved().window


# What a curve reads of a version (and the id that keys a derived frame's rows):
# selected before anything is filtered, so a derived frame copies no other column.
_CURVE_INPUTS = ("id", *OFFERINGS_SCHEMA, *COUNTABLE_INPUTS)


def _curve_inputs(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(list(dict.fromkeys(c for c in _CURVE_INPUTS if c in frame.columns)))


def tiered_prices(engine: Any, query: CurveQuery) -> pl.DataFrame:
    """The prices ``query`` counts, each version with the tier of its rule, kept per
    data version (``curve_cache.derived``: a data change re-derives its rows only)."""
    counting = query.counting
    if query.tiers == "capability":
        # Tier assignment as its own step: each version carries the capability
        # tier its model had while it was in effect (analytics.tiers).
        intervals = tier_inputs(engine).intervals

        def derive(frame: pl.DataFrame) -> pl.DataFrame:
            return apply_membership(countable_prices(_curve_inputs(frame), counting), intervals)
    else:

        def derive(frame: pl.DataFrame) -> pl.DataFrame:
            return countable_prices(_curve_inputs(frame), counting)

    frame = curve_cache.derived(engine, ("tiered", counting, query.tiers), derive)
    if query.include_self_hosted:
        from api.selfhosted import self_hosted_curve_rows

        _, llm, _ = curve_cache.frames(engine)
        schema = countable_prices(llm.clear(), counting).schema
        frame = pl.concat([frame, derive(self_hosted_curve_rows(engine, schema))])
    return frame


def curve_frame(engine: Any, query: CurveQuery) -> pl.DataFrame:
    """The curve of a resolved query, over the in-memory version frames."""
    start, end = query.window
    frame = tiered_prices(engine, query)
    if query.tier is not None:
        frame = frame.filter(pl.col("tier") == query.tier)
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
async def cost_curve(
    request: Request,
    engine: EngineDep,
    params: CurveQueryDep,
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
            "tiers": query.tiers,
            "question": curve_question(query.tier, query.tiers),
            "metric": query.metric,
            "interval": query.interval,
            "from": start,
            "to": end,
            "unit": "usd_per_mtok",
            **tier_flags(engine, query, rows),
            "points": rows,
        }
        return dumps(body).encode(), "application/json"

    # The score stamp is part of the data version (db.frame_delta), so the key of the
    # current version's result needs no query: the cached answer is served here.
    key = ("curve", query, fmt)
    body, media_type = await curve_cache.amemo(engine, key, compute)
    return cached(request, body, media_type)


def curve_question(tier: str | None, tiers: str) -> str:
    """Which question a tier curve answers (the two are easy to confuse)."""
    if tiers == "static":
        return (
            "price of a static price band: the cheapest price among the models the catalog "
            "labels with this tier (reviewed labels judged from launch prices; not capability)"
        )
    who = f"the models in the {tier} tier" if tier else "the models of each tier"
    return (
        f"price of the tier: the cheapest price among {who} at the end of each bucket, "
        "membership by measured capability relative to the best model released by that "
        "date (for tier=frontier: the price of the frontier, which can rise). For the "
        "price of constant capability see /v1/deflation?benchmark=ECI&threshold=X"
    )


def tier_flags(engine: Any, query: CurveQuery, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The rule used and which priced models fell back to the reviewed static label."""
    if query.tiers == "static":
        return {"tier_rule": "static catalog labels"}
    inputs = tier_inputs(engine)
    counting = query.counting
    models = curve_cache.derived(
        engine,
        ("priced-models", counting),
        lambda frame: countable_prices(
            frame.select("id", "model", *COUNTABLE_INPUTS), counting
        ).select("id", "model"),
    )
    priced = set(models["model"].unique().to_list())
    static = inputs.static_label_models(priced, query.tier)
    fallback = set(static)  # computed once, not once per curve row
    return {
        "tier_rule": inputs.rule.describe(),
        "static_label_models": static,
        "cheapest_static_label": sorted(
            {str(r["cheapest_model"]) for r in rows if r.get("cheapest_model") in fallback}
        ),
    }


def cheapest_series(engine: Any, query: CurveQuery) -> pl.DataFrame:
    """The monthly cheapest price of a query's tier: the series tier deflation fits."""
    curve = curve_frame(engine, replace(query, interval="month"))
    if curve.is_empty():
        return pl.DataFrame({"date": [], "price": []})
    return curve.select(date=pl.col("as_of"), price=pl.col("min"))


def _blend(text_value: str) -> BlendRatio:
    try:
        return BlendRatio.parse(text_value)
    except ValueError as exc:
        raise HTTPException(422, detail=f"blend: {exc} (e.g. 3:1 or 1:1)") from None


BlendQuery = Query(
    description="Input:output weights of the blended price: 3:1 (default, Epoch AI and "
    "Artificial Analysis) or 1:1 (a16z)"
)


def tier_deflation(
    engine: Any, query: CurveQuery, ratio: BlendRatio = DEFAULT_BLEND
) -> dict[str, Any]:
    """The body of ``/v1/deflation?tier=``: the tier's robust fit and its points."""
    from api.capability_fits import tier_deflation as fit_tier

    assert query.tier is not None
    start, end = query.window
    return {
        "method": "tier_cheapest_exponential",
        "tier": query.tier,
        "tiers": query.tiers,
        "metric": query.metric,
        "blend": ratio.label,
        "from": start,
        "to": end,
        **fit_tier(engine, query, ratio),
    }


@router.get(
    "/deflation",
    summary="How fast prices fall: per tier, or at constant capability (Epoch AI method)",
    description=(
        "With `tier`: the tier's monthly cheapest price (capability membership at each "
        "month's end, or the static labels with `tiers=static`) fitted over observed months "
        "only, with an autocorrelation-robust 90% interval; plus the price of the capability "
        "level the tier had at the start, held constant. With `benchmark` and `threshold`: "
        "Epoch AI's method over the stored scores (shipped: ECI, GPQA Diamond, MATH Level 5, "
        "...), listing the models on the cheapest-at-or-above-threshold frontier."
    ),
)
def deflation(
    request: Request,
    engine: EngineDep,
    tier: Tier | None = None,
    benchmark: Annotated[str | None, Query(description="Capability benchmark, e.g. ECI")] = None,
    threshold: Annotated[
        float | None,
        Query(ge=-1e6, le=1e6, allow_inf_nan=False, description="Minimum score on the benchmark"),
    ] = None,
    metric: Metric = "blended",
    blend: Annotated[str, BlendQuery] = "3:1",
    tiers: TierRuleName = "capability",
    exclude_reasoning: bool = False,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    start, end = _window(start, end)
    ratio = _blend(blend)
    if (tier is None) == (benchmark is None):
        raise HTTPException(
            422, detail="give either tier=<frontier|strong|good|fast|local> or benchmark+threshold"
        )
    if benchmark is not None:
        if threshold is None:
            raise HTTPException(422, detail="threshold: required with benchmark")
        from api.scores import epoch_estimate

        def compute_epoch() -> bytes:
            result = epoch_estimate(
                engine,
                benchmark,
                threshold,
                exclude_reasoning=exclude_reasoning,
                ratio=ratio,
                window=CurveQuery(metric=metric, start=start, end=end).resolved(),
            )
            return dumps({"method": "epoch", "blend": ratio.label, **result}).encode()

        epoch_key = ("epoch", benchmark, threshold, exclude_reasoning, ratio, metric, start, end)
        body = curve_cache.memo(engine, epoch_key, compute_epoch)
        return cached(request, body, "application/json")
    assert tier is not None

    def compute() -> bytes:
        query = CurveQuery(tier=tier, metric=metric, start=start, end=end, tiers=tiers).resolved()
        return dumps(tier_deflation(engine, query, ratio)).encode()

    key = ("deflation", tier, tiers, metric, ratio, start, end)
    body = curve_cache.memo(engine, key, compute)
    return cached(request, body, "application/json")
