"""GPU rental rates, current and historical."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from api.deps import EngineDep
from api.gpu_names import gpu_param, optional_gpu_param
from api.params import IsoDatetime
from api.responses import FormatQuery, LimitQuery, OffsetQuery, cached, table
from api.sql import aware
from costcurve.core.jsonenc import dumps
from costcurve.core.observations import GpuPricing
from db import queries

router = APIRouter(prefix="/v1", tags=["gpus"])

Pricing = GpuPricing
# Derived from the table definitions (db/queries.py).
GPU_COLUMNS = queries.GPU.listing_names()


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
    listing = queries.Listing(
        equal={"gpu": gpu, "provider": provider, "pricing": pricing, "region": region},
        lead_order=("usd_per_gpu_hour",),
    )
    page = queries.Page(limit, offset)
    with engine.connect() as conn:
        total, rows = queries.read_at(conn, queries.GPU, listing, datetime.now(UTC), page=page)
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
    as_of: Annotated[IsoDatetime | None, Query(description="Only versions in effect then")] = None,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    gpu = gpu_param(gpu)
    listing = queries.Listing(equal={"gpu": gpu, "provider": provider, "pricing": pricing})
    with engine.connect() as conn:
        if as_of is None:
            rows = queries.history(conn, queries.GPU, listing)
        else:
            rows = queries.read_at(conn, queries.GPU, listing, aware(as_of))[1]
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
