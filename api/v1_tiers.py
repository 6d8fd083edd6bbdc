"""Capability tiers at a date, and the price/capability Pareto frontier."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, HTTPException, Query, Request, Response

from api import curve_cache
from api.curve_query import CurveQuery, priced_versions
from api.deps import EngineDep
from api.params import IsoDate
from api.responses import cached
from api.tier_state import tier_inputs
from costcurve.analytics.capability import pareto_frontier, prices_at
from costcurve.analytics.tiers import best_by_date, model_scores_by_date, tier_membership
from costcurve.catalog.models import TIERS
from costcurve.core.formulas import BlendRatio
from costcurve.core.jsonenc import dumps

router = APIRouter(prefix="/v1", tags=["capability"])

AsOfQuery = Query(description="The date (YYYY-MM-DD); default today (UTC)")


def _today() -> date:
    return datetime.now(UTC).date()


def _end_of(day: date) -> datetime:
    """The last instant of ``day`` as the half-open bound used by price versions."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def _best_model(inputs: Any, day: date) -> dict[str, Any] | None:
    released = inputs.scores.filter(pl.col("released_on") <= day).sort("score", descending=True)
    if released.is_empty():
        return None
    top = released.row(0, named=True)
    return {
        "score": top["score"],
        "model": top["model"],
        "source_model_id": top["source_model_id"],
        "released_on": top["released_on"],
    }


@router.get(
    "/tiers",
    summary="Each capability tier's members at a date, with score and where it came from",
    description=(
        "Tiers by measured capability relative to the best model released by `as_of` "
        "(rule and bands in `rule`; README 'Capability tiers'). `tier_source` is `score`, "
        "`local_rule` (open weights that fit one GPU) or `static_label` (no score: the "
        "catalog's reviewed label, flagged)."
    ),
)
def tiers(
    request: Request, engine: EngineDep, as_of: Annotated[IsoDate | None, AsOfQuery] = None
) -> Response:
    day = as_of or _today()

    def compute() -> bytes:
        inputs = tier_inputs(engine)
        frame = tier_membership(inputs.scores, inputs.catalog, [day], inputs.rule)
        sources = inputs.scores.filter(pl.col("model").is_not_null()).select(
            "model", "source", "source_model_id", "score"
        )
        members: dict[str, list[dict[str, Any]]] = {t: [] for t in TIERS}
        for row in frame.sort("gap", "model", nulls_last=True).iter_rows(named=True):
            origin = None
            if row["score"] is not None:
                match = sources.filter(
                    pl.col("model") == row["model"], pl.col("score") == row["score"]
                )
                if match.height:
                    origin = {
                        "benchmark": inputs.rule.benchmark,
                        "source": match["source"][0],
                        "name": match["source_model_id"][0],
                    }
            members[row["tier"]].append(
                {
                    "model": row["model"],
                    "score": row["score"],
                    "gap_to_best": row["gap"],
                    "tier_source": row["tier_source"],
                    "score_from": origin,
                }
            )
        not_chat = inputs.catalog.filter(~pl.col("chat"))["model"].sort().to_list()
        body = {
            "as_of": day,
            "rule": inputs.rule.describe(),
            "best": _best_model(inputs, day),
            "tiers": members,
            "static_label_models": sorted(
                frame.filter(pl.col("tier_source") == "static_label")["model"].to_list()
            ),
            "not_in_a_chat_tier": not_chat,
        }
        return dumps(body).encode()

    body = curve_cache.memo(engine, ("tiers", day), compute)
    return cached(request, body, "application/json")


@router.get(
    "/pareto",
    summary="Pareto frontier of blended price against capability score at a date",
    description=(
        "Models with a price in effect at the end of `as_of` and a `metric` score released by "
        "then; kept when no cheaper model scores as high (cheapest for each capability level). "
        "`usd_per_mtok_per_point` is the blended price divided by the score."
    ),
)
def pareto(
    request: Request,
    engine: EngineDep,
    as_of: Annotated[IsoDate | None, AsOfQuery] = None,
    metric: Annotated[str, Query(description="Score benchmark, e.g. ECI, GPQA Diamond")] = "ECI",
    blend: Annotated[str, Query(description="Input:output weights, 3:1 or 1:1")] = "3:1",
) -> Response:
    day = as_of or _today()
    try:
        ratio = BlendRatio.parse(blend)
    except ValueError as exc:
        raise HTTPException(422, detail=f"blend: {exc}") from None

    def compute() -> bytes:
        inputs = tier_inputs(engine, metric)
        if inputs.scores.is_empty():
            raise HTTPException(422, detail=f"metric: no stored scores for {metric!r}")
        priced = prices_at(priced_versions(engine, CurveQuery()), _end_of(day), ratio)
        scored = model_scores_by_date(inputs.scores, [day]).drop("as_of")
        frontier = pareto_frontier(priced.join(scored, on="model"))
        best = best_by_date(inputs.scores, [day])["best"][0]
        body = {
            "as_of": day,
            "metric": metric,
            "blend": ratio.label,
            "unit": "usd_per_mtok",
            "best_released_score": best,
            "priced_and_scored_models": priced.join(scored, on="model").height,
            "frontier": frontier.to_dicts(),
        }
        return dumps(body).encode()

    key = ("pareto", day, metric, ratio)
    body = curve_cache.memo(engine, key, compute)
    return cached(request, body, "application/json")


@router.get(
    "/frontier-price",
    summary="Price of the frontier: the cheapest price of the best available model, monthly",
    description=(
        "At each observed month's end, the highest-scoring model on `metric` that has a "
        "price, and its cheapest blended price; the trend with a HAC 90% interval. This is "
        "not constant capability (see /v1/deflation?benchmark=&threshold=): it can rise."
    ),
)
def frontier_price_route(
    request: Request,
    engine: EngineDep,
    metric: Annotated[str, Query(description="Score benchmark, e.g. ECI")] = "ECI",
    blend: Annotated[str, Query(description="Input:output weights, 3:1 or 1:1")] = "3:1",
    start: Annotated[IsoDate | None, Query(alias="from")] = None,
    end: Annotated[IsoDate | None, Query(alias="to")] = None,
) -> Response:
    from api.capability_fits import frontier_price
    from api.curve_query import CurveQuery

    try:
        ratio = BlendRatio.parse(blend)
    except ValueError as exc:
        raise HTTPException(422, detail=f"blend: {exc}") from None
    query = CurveQuery(start=start, end=end).resolved()

    def compute() -> bytes:
        if tier_inputs(engine, metric).scores.is_empty():
            raise HTTPException(422, detail=f"metric: no stored scores for {metric!r}")
        body = frontier_price(engine, query, ratio, metric)
        return dumps(
            {"blend": ratio.label, "from": query.window[0], "to": query.window[1], **body}
        ).encode()

    key = ("frontier-price", metric, ratio, query)
    return cached(request, curve_cache.memo(engine, key, compute), "application/json")
