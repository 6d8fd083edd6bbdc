"""`/v1/self-hosted`: serving throughput priced per GPU-hour basis (see api/breakeven.py)."""

from __future__ import annotations

import zlib
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Query, Request, Response
from pydantic import Field
from sqlalchemy import Engine, text

from api.deps import EngineDep
from api.gpu_names import optional_gpu_param
from api.responses import FormatQuery, cached, table
from api.selfhost_rates import HEADLINE_BASES, OwnedDep, cost, rates_for
from costcurve.analytics.interactivity import (
    DEFAULT_INTERACTIVITY_LEVELS,
    SweepMeasure,
    sweep_headlines,
)
from costcurve.catalog import load_models
from costcurve.core.jsonenc import dumps
from costcurve.core.representativeness import effective_concurrency
from db.countable_sql import GPU_NOT_EXCLUDED_SQL
from db.selfhost_costs import USABLE_RATE_SQL, self_hosted_costs
from db.selfhost_sweeps import RateAsk, StoredSweep, load_sweeps

router = APIRouter(prefix="/v1", tags=["self-hosting"])


METHOD = (
    "InferenceX: per representative sweep, throughput per GPU is interpolated on the "
    "measured throughput-vs-interactivity frontier (monotone PCHIP, no extrapolation) at "
    "each interactivity level (tokens/s per user); $/M = usd_per_gpu_hour / (tokens/s per "
    "GPU x 3600) x 1e6 on output tokens and on total (input + output) tokens."
)


@router.get(
    "/self-hosted",
    summary="Measured serving throughput priced at GPU rental and owned rates ($/M tokens)",
    description=(
        "Per model and GPU (one benchmark sweep), $/M output and total tokens at the "
        "`interactivity` levels (default 20 and 50 tokens/s per user, interpolated on the "
        "measured curve) and at maximum throughput, priced on-demand, spot, owned hardware "
        "and (when configured) a GPU price index, each with its rate's source and date. "
        "Only representative sweeps (long enough, saturated, not latency-only) get "
        "headlines; the others are listed in `not_representative` with the reason. "
        "`items` lists every point with its rental cost (`rate_policy`: current = "
        "today's rates, as_of = the rate when the benchmark ran)."
    ),
)
def self_hosted(
    request: Request,
    engine: EngineDep,
    owned: OwnedDep,
    model: Annotated[str | None, Query(description="Canonical slug or engine model id")] = None,
    gpu: Annotated[str | None, Query(description="GPU name or alias, e.g. H100 SXM")] = None,
    rate_policy: Literal["as_of", "current"] = "current",
    interactivity: Annotated[
        list[Annotated[float, Field(gt=0, le=10000, allow_inf_nan=False)]] | None,
        Query(description="Tokens/s per user to quote at (repeatable, 0 < level <= 10000)"),
    ] = None,
    include_synthetic: bool = False,
    include_stale: Annotated[
        bool, Query(description="Also price with GPU-hour rates past their freshness horizon")
    ] = False,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    gpu = optional_gpu_param(gpu)
    levels = tuple(sorted(set(interactivity or DEFAULT_INTERACTIVITY_LEVELS)))
    now = datetime.now(UTC)
    with engine.connect() as conn:
        items = self_hosted_costs(
            conn,
            include_synthetic=include_synthetic,
            model=model,
            gpu=gpu,
            rate_policy=rate_policy,
            now=now,
            include_stale=include_stale,
        )
        sweeps = load_sweeps(conn, include_synthetic=include_synthetic, model=model, gpu=gpu)
        headlines, others = [], []
        for slug, sweep in sweeps:
            described = {"model_slug": slug, **sweep.setup()}
            if not sweep.representative:
                others.append(described)
                continue
            at = now if rate_policy == "current" else described["started_at"]
            ask = RateAsk(sweep.first.gpu, at, include_stale)
            rates = rates_for(conn, ask, owned, HEADLINE_BASES)
            described |= {"priced_at": at, "rates": rates}
            described["points"] = _priced_headlines(sweep, levels, rates)
            headlines.append(described)
    if fmt == "csv":
        flat = []
        for item in items:
            base = {k: v for k, v in item.items() if k != "costs"}
            for pricing, cost_ in item["costs"].items():
                flat.append(
                    base | {"pricing": pricing, **{k: v for k, v in cost_.items() if k != "rate"}}
                )
        return table(request, flat, fmt="csv")
    body = {
        "method": METHOD,
        "interactivity_levels": list(levels),
        "rate_policy": rate_policy,
        "bases": list(HEADLINE_BASES),
        "headlines": headlines,
        "not_representative": others,
        "items": items,
    }
    return cached(request, dumps(body).encode(), "application/json")


def _priced_headlines(
    sweep: StoredSweep, levels: tuple[float, ...], rates: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    measures = [
        SweepMeasure(
            effective_concurrency(p),
            p.interactivity,
            p.output_tokens_per_s_per_gpu,
            p.total_tokens_per_s_per_gpu,
        )
        for p in sweep.points
    ]
    out = []
    for head in sweep_headlines(measures, levels):
        costs = {
            basis: {
                "output_usd_per_mtok": cost(
                    rate["usd_per_gpu_hour"], head.output_tokens_per_s_per_gpu
                ),
                "total_usd_per_mtok": cost(
                    rate["usd_per_gpu_hour"], head.total_tokens_per_s_per_gpu
                ),
            }
            for basis, rate in rates.items()
        }
        out.append(asdict(head) | {"costs": costs})
    return out


def self_hosted_curve_rows(engine: Engine, schema: Any) -> pl.DataFrame:
    """Self-hosted offerings for cost curves: a (model, GPU, rate offering) is an
    offering whose price follows that GPU rate's versions, at the best measured
    total throughput per GPU of the model on that GPU (representative sweeps only:
    a short or latency-only run is no price anyone could serve at)."""
    sql = f"""
        WITH best AS (
            SELECT model_slug, gpu, max(total_token_throughput / gpu_count) AS tps
            FROM benchmark_result
            WHERE NOT synthetic AND model_slug IS NOT NULL AND verdict = 'representative'
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
            "variant": "standard",
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
