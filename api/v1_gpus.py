"""GPU rental rates, current and historical."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import text

from api.deps import EngineDep
from api.responses import FormatQuery, LimitQuery, OffsetQuery, table
from api.sql import aware, equal_filters, in_effect
from costcurve.core.observations import GpuPricing
from db.countable_sql import GPU_NOT_EXCLUDED_SQL, stale_sql

router = APIRouter(prefix="/v1", tags=["gpus"])

Pricing = GpuPricing
GPU_COLUMNS = (
    "source",
    "provider",
    "gpu",
    "gpu_count",
    "pricing",
    "region",
    "instance_type",
    "os",
    "statistic",
    "usd_per_gpu_hour",
    "usd_per_instance_hour",
    "offer_count",
    "valid_from",
    "valid_to",
    "recorded_at",
    "last_seen_at",
    "stale",
    "quarantined",
    "change_kind",
    "version_id",
    "source_url",
)


def _select() -> str:
    return f"""
    SELECT o.source, o.provider, o.gpu, o.gpu_count, o.pricing, o.region, o.instance_type,
           o.os, o.statistic, v.usd_per_gpu_hour, v.usd_per_instance_hour, v.offer_count,
           v.valid_from, v.valid_to, v.recorded_at, v.last_seen_at,
           (v.valid_to IS NULL AND {stale_sql(":now")}) AS stale,
           NOT {GPU_NOT_EXCLUDED_SQL} AS quarantined, v.change_kind,
           v.id AS version_id, v.source_url
    FROM gpu_rate_version v JOIN gpu_offering o ON o.id = v.offering_id
"""


@router.get("/gpu-rates", summary="Current GPU rental rates per GPU-hour (filter by GPU, provider)")
def gpu_rates(
    request: Request,
    engine: EngineDep,
    gpu: Annotated[str | None, Query(description="Canonical GPU, e.g. H100-SXM-80GB")] = None,
    provider: str | None = None,
    pricing: Pricing | None = None,
    region: str | None = None,
    include_stale: Annotated[
        bool, Query(description="Also list rates past their source's freshness horizon")
    ] = False,
    limit: Annotated[int, LimitQuery] = 100,
    offset: Annotated[int, OffsetQuery] = 0,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    where, params = equal_filters(gpu=gpu, provider=provider, pricing=pricing, region=region)
    where.append(in_effect("now"))
    params["now"] = datetime.now(UTC)
    if not include_stale:
        where.append(f"NOT {stale_sql(':now')}")
    clause = " WHERE " + " AND ".join(where)
    with engine.connect() as conn:
        total = conn.execute(
            text(
                "SELECT count(*) FROM gpu_rate_version v JOIN gpu_offering o "
                "ON o.id = v.offering_id" + clause
            ),
            params,
        ).scalar_one()
        rows = [
            dict(r)
            for r in conn.execute(
                text(
                    _select() + clause + " ORDER BY v.usd_per_gpu_hour, o.provider, o.gpu "
                    "LIMIT :limit OFFSET :offset"
                ),
                params | {"limit": limit, "offset": offset},
            ).mappings()
        ]
    return table(
        request, rows, fmt=fmt, total=total, limit=limit, offset=offset, columns=GPU_COLUMNS
    )


@router.get("/gpu-rates/history", summary="Every rate version of a GPU's offerings")
def gpu_rate_history(
    request: Request,
    engine: EngineDep,
    gpu: Annotated[str, Query(description="Canonical GPU, e.g. H100-SXM-80GB")],
    provider: str | None = None,
    pricing: Pricing | None = None,
    as_of: Annotated[datetime | None, Query(description="Only versions in effect then")] = None,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    where, params = equal_filters(gpu=gpu, provider=provider, pricing=pricing)
    params["now"] = datetime.now(UTC)
    if as_of is not None:
        where.append(in_effect("as_of"))
        params["as_of"] = aware(as_of)
    sql = (
        _select()
        + " WHERE "
        + " AND ".join(where)
        + (" ORDER BY o.provider, o.pricing, o.region NULLS FIRST, o.instance_type, v.valid_from")
    )
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(text(sql), params).mappings()]
    if not rows and as_of is None:
        from costcurve.catalog.gpus import KNOWN_GPUS

        if gpu not in KNOWN_GPUS:
            raise HTTPException(
                422, detail=f"gpu: unknown GPU {gpu!r}; known: {', '.join(sorted(KNOWN_GPUS))}"
            )
    return table(request, rows, fmt=fmt, columns=GPU_COLUMNS)
