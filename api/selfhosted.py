"""Self-hosted cost per million tokens and API-vs-self-hosting break-even."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import Engine, text

from api.deps import EngineDep
from api.responses import FormatQuery, cached, table
from api.sql import in_effect
from costcurve.analytics.breakeven import SelfHostPlan, compare
from costcurve.catalog import load_models
from costcurve.core.jsonenc import dumps
from db.countable_sql import COUNTABLE_LLM_SQL, GPU_NOT_EXCLUDED_SQL, stale_sql
from db.selfhost_costs import USABLE_RATE_SQL, headline_costs, self_hosted_costs

router = APIRouter(prefix="/v1", tags=["self-hosting"])


@router.get(
    "/self-hosted",
    summary="Measured serving throughput priced at GPU rental rates ($/M tokens)",
    description=(
        "Every stored benchmark point with its cost per million output and total tokens, "
        "on-demand and spot, using the cheapest rate of that GPU in effect when the "
        "benchmark ran (`rate_policy=as_of`) or now (`current`), and per sweep the "
        "InferenceMAX headlines (cheapest at >= 20 and >= 50 tokens/s per user, and at "
        "maximum throughput). Synthetic runs (CI against a fake server) are excluded "
        "unless asked for."
    ),
)
def self_hosted(
    request: Request,
    engine: EngineDep,
    model: Annotated[str | None, Query(description="Canonical slug or engine model id")] = None,
    gpu: Annotated[str | None, Query(description="Canonical GPU, e.g. H100-SXM-80GB")] = None,
    rate_policy: Literal["as_of", "current"] = "as_of",
    include_synthetic: bool = False,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    with engine.connect() as conn:
        items = self_hosted_costs(
            conn,
            include_synthetic=include_synthetic,
            model=model,
            gpu=gpu,
            rate_policy=rate_policy,
        )
    if fmt == "csv":
        flat = []
        for item in items:
            base = {k: v for k, v in item.items() if k != "costs"}
            for pricing, cost in item["costs"].items():
                flat.append(
                    base | {"pricing": pricing, **{k: v for k, v in cost.items() if k != "rate"}}
                )
        return table(request, flat, fmt="csv")
    body = {"items": items, "headlines": headline_costs(items)}
    return cached(request, dumps(body).encode(), "application/json")


def _fresh(include_stale: bool) -> str:
    return "true" if include_stale else f"NOT {stale_sql(':now')}"


def _cheapest_api(engine: Engine, model: str, *, include_stale: bool) -> dict[str, Any] | None:
    sql = f"""
        SELECT o.provider, o.source, o.provider_model_id,
               (3 * v.input_usd_per_mtok + v.output_usd_per_mtok) / 4 AS blended
        FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
        WHERE COALESCE(v.model_slug, o.model_slug) = :model AND {COUNTABLE_LLM_SQL}
          AND NOT v.free AND v.input_usd_per_mtok > 0
          AND v.output_usd_per_mtok IS NOT NULL
          AND {in_effect("now")} AND {_fresh(include_stale)}
        ORDER BY blended, o.provider LIMIT 1
    """
    with engine.connect() as conn:
        row = conn.execute(text(sql), {"model": model, "now": datetime.now(UTC)}).mappings().first()
    return dict(row) if row else None


def _cheapest_rate(
    engine: Engine, gpu: str, pricing: str, *, include_stale: bool
) -> dict[str, Any] | None:
    sql = f"""
        SELECT o.provider, o.source, o.region, v.usd_per_gpu_hour, v.id AS version_id
        FROM gpu_rate_version v JOIN gpu_offering o ON o.id = v.offering_id
        WHERE o.gpu = :gpu AND o.pricing = :pricing AND {USABLE_RATE_SQL}
          AND {GPU_NOT_EXCLUDED_SQL} AND {in_effect("now")} AND {_fresh(include_stale)}
        ORDER BY v.usd_per_gpu_hour, o.provider LIMIT 1
    """
    params = {"gpu": gpu, "pricing": pricing, "now": datetime.now(UTC)}
    with engine.connect() as conn:
        row = conn.execute(text(sql), params).mappings().first()
    return dict(row) if row else None


def _measured_throughput(engine: Engine, model: str, gpu: str) -> Decimal | None:
    sql = """
        SELECT max(total_token_throughput / gpu_count) FROM benchmark_result
        WHERE NOT synthetic AND gpu = :gpu AND (model_slug = :model OR model_id = :model)
    """
    with engine.connect() as conn:
        value = conn.execute(text(sql), {"gpu": gpu, "model": model}).scalar()
    return Decimal(value) if value is not None else None


@router.get(
    "/breakeven",
    summary="API vs self-hosting for a monthly token volume, and the break-even volume",
    description=(
        "The cheapest current blended API price of `model` against renting `gpu` at its "
        "cheapest current rate (`pricing`), serving at `tokens_per_s_per_gpu` (default: the "
        "best measured total throughput per GPU for that model and GPU). `billing=always_on` "
        "bills every hour of the month; `utilized` only the busy share (seed 003, section 6)."
    ),
)
def breakeven(
    request: Request,
    engine: EngineDep,
    model: Annotated[str, Query(description="Canonical model slug")],
    monthly_tokens: Annotated[float, Query(gt=0, description="Tokens per month")],
    gpu: Annotated[str, Query(description="Canonical GPU")] = "H100-SXM-80GB",
    pricing: Literal["on_demand", "spot", "community"] = "on_demand",
    tokens_per_s_per_gpu: Annotated[float | None, Query(gt=0)] = None,
    utilization: Annotated[float, Query(gt=0, le=1)] = 1.0,
    billing: Literal["always_on", "utilized"] = "always_on",
    hours_per_month: Annotated[float, Query(gt=0, le=744)] = 730.0,
    include_stale: Annotated[
        bool, Query(description="Also use prices past their source's freshness horizon")
    ] = False,
) -> Response:
    from costcurve.catalog.gpus import KNOWN_GPUS

    if model not in load_models():
        raise HTTPException(422, detail=f"model: unknown canonical model {model!r}")
    if gpu not in KNOWN_GPUS:
        raise HTTPException(422, detail=f"gpu: unknown GPU {gpu!r}")
    api_offer = _cheapest_api(engine, model, include_stale=include_stale)
    if api_offer is None:
        raise HTTPException(422, detail=f"model: no current API price for {model!r}")
    rate = _cheapest_rate(engine, gpu, pricing, include_stale=include_stale)
    if rate is None:
        raise HTTPException(422, detail=f"gpu: no current {pricing} rate for {gpu!r}")
    throughput = (
        Decimal(str(tokens_per_s_per_gpu))
        if tokens_per_s_per_gpu
        else _measured_throughput(engine, model, gpu)
    )
    if throughput is None:
        raise HTTPException(
            422,
            detail=f"tokens_per_s_per_gpu: no benchmark of {model} on {gpu}; pass a throughput",
        )
    plan = SelfHostPlan(
        usd_per_gpu_hour=rate["usd_per_gpu_hour"],
        tokens_per_s_per_gpu=throughput,
        utilization=utilization,
        hours_per_month=hours_per_month,
        billing=billing,
    )
    result = compare(monthly_tokens, api_offer["blended"], plan)
    body = {
        "model": model,
        "monthly_tokens": monthly_tokens,
        "api": {
            **api_offer,
            "usd_per_mtok": api_offer.pop("blended"),
            "usd_per_month": result.api_usd_per_month,
        },
        "self_hosted": {
            "gpu": gpu,
            "pricing": pricing,
            "rate": rate,
            "gpus": result.gpus,
            "tokens_per_s_per_gpu": throughput,
            "throughput_measured": not tokens_per_s_per_gpu,
            "utilization": utilization,
            "billing": billing,
            "hours_per_month": hours_per_month,
            "usd_per_month": result.selfhost_usd_per_month,
        },
        "cheaper": result.cheaper,
        "breakeven_monthly_tokens": result.breakeven_monthly_tokens,
    }
    return cached(request, dumps(body).encode(), "application/json")


def self_hosted_curve_rows(engine: Engine, schema: Any) -> pl.DataFrame:
    """Self-hosted offerings for cost curves: a (model, GPU, rate offering) is an
    offering whose price follows that GPU rate's versions, at the best measured
    total throughput per GPU of the model on that GPU (synthetic runs excluded)."""
    sql = f"""
        WITH best AS (
            SELECT model_slug, gpu, max(total_token_throughput / gpu_count) AS tps
            FROM benchmark_result WHERE NOT synthetic AND model_slug IS NOT NULL
            GROUP BY 1, 2
        )
        SELECT b.model_slug, b.gpu, o.id AS rate_offering, o.provider, v.valid_from,
               v.valid_to, v.usd_per_gpu_hour / (b.tps * 3600) * 1000000 AS usd_per_mtok
        FROM best b
        JOIN gpu_offering o ON o.gpu = b.gpu AND o.pricing = 'on_demand' AND {USABLE_RATE_SQL}
        JOIN gpu_rate_version v ON v.offering_id = o.id AND {GPU_NOT_EXCLUDED_SQL}
    """
    with engine.connect() as conn:
        rows = conn.execute(text(sql)).mappings().all()
    tiers = {slug: m.tier for slug, m in load_models().items()}
    records = [
        {
            # Negative ids never collide with stored offerings; crc32 is stable across runs.
            "offering_id": -zlib.crc32(f"{r['model_slug']}|{r['rate_offering']}".encode()) - 1,
            "source": "benchmarks",
            "provider": f"self-hosted {r['gpu']} @ {r['provider']}",
            "provider_model_id": r["model_slug"],
            "model": r["model_slug"],
            "input_usd_per_mtok": r["usd_per_mtok"],
            "output_usd_per_mtok": r["usd_per_mtok"],
            "valid_from": r["valid_from"],
            "valid_to": r["valid_to"],
            "free": False,
            "change_kind": "observed",
            "recorded_at": r["valid_from"],
            "tier": tiers.get(r["model_slug"]),
            "self_hosted": True,
        }
        for r in rows
        if tiers.get(r["model_slug"])
    ]
    if not records:
        return pl.DataFrame(schema=schema)
    frame = pl.DataFrame(records)
    # Columns only stored API prices have (variant, freshness, flags) stay null.
    frame = frame.with_columns(pl.lit(None).alias(c) for c in schema if c not in frame.columns)
    return frame.cast(dict(schema)).select(list(schema))
