"""GPU rental rates, current and historical."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import text

from api.deps import EngineDep
from api.gpu_names import gpu_param, optional_gpu_param
from api.responses import FormatQuery, LimitQuery, OffsetQuery, cached, table
from api.sql import aware, equal_filters, in_effect
from costcurve.core.jsonenc import dumps
from costcurve.core.observations import GpuPricing

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
    "change_kind",
    "version_id",
    "source_url",
)
_SELECT = """
    SELECT o.source, o.provider, o.gpu, o.gpu_count, o.pricing, o.region, o.instance_type,
           o.os, o.statistic, v.usd_per_gpu_hour, v.usd_per_instance_hour, v.offer_count,
           v.valid_from, v.valid_to, v.recorded_at, v.last_seen_at, v.change_kind,
           v.id AS version_id, v.source_url
    FROM gpu_rate_version v JOIN gpu_offering o ON o.id = v.offering_id
"""


@router.get("/gpu-rates", summary="Current GPU rental rates per GPU-hour (filter by GPU, provider)")
def gpu_rates(
    request: Request,
    engine: EngineDep,
    gpu: Annotated[
        str | None, Query(description="GPU name or alias, e.g. H100-SXM-80GB or h100 sxm")
    ] = None,
    provider: str | None = None,
    pricing: Pricing | None = None,
    region: str | None = None,
    limit: Annotated[int, LimitQuery] = 100,
    offset: Annotated[int, OffsetQuery] = 0,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    gpu = optional_gpu_param(gpu)
    where, params = equal_filters(gpu=gpu, provider=provider, pricing=pricing, region=region)
    where.append(in_effect("now"))
    params["now"] = datetime.now(UTC)
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
                    _SELECT + clause + " ORDER BY v.usd_per_gpu_hour, o.provider, o.gpu "
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
    gpu: Annotated[str, Query(description="GPU name or alias, e.g. H100-SXM-80GB or h100 sxm")],
    provider: str | None = None,
    pricing: Pricing | None = None,
    as_of: Annotated[datetime | None, Query(description="Only versions in effect then")] = None,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    gpu = gpu_param(gpu)
    where, params = equal_filters(gpu=gpu, provider=provider, pricing=pricing)
    if as_of is not None:
        where.append(in_effect("as_of"))
        params["as_of"] = aware(as_of)
    sql = (
        _SELECT
        + " WHERE "
        + " AND ".join(where)
        + (" ORDER BY o.provider, o.pricing, o.region NULLS FIRST, o.instance_type, v.valid_from")
    )
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(text(sql), params).mappings()]
    return table(request, rows, fmt=fmt, columns=GPU_COLUMNS)


@router.get("/gpus", summary="Canonical GPU names with the aliases every gpu parameter accepts")
def gpus(request: Request) -> Response:
    """Every ``gpu`` parameter accepts the canonical name or an alias, in any case."""
    from costcurve.catalog.gpus import KNOWN_GPUS, gpu_aliases

    rows = [
        {
            "gpu": spec.canonical,
            "vendor": spec.vendor,
            "model": spec.model,
            "form_factor": spec.form_factor,
            "memory_gb": spec.memory_gb,
            "default_for_model": spec.default,
            "aliases": gpu_aliases(spec.canonical),
        }
        for spec in KNOWN_GPUS.values()
    ]
    body = {"items": rows, "total": len(rows)}
    return cached(request, dumps(body).encode(), "application/json")
