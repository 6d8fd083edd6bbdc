"""GPU rental rates, current and historical."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.deps import EngineDep
from api.params import IsoDatetime
from api.responses import FormatQuery, LimitQuery, OffsetQuery, table
from api.sql import aware
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
    listing = queries.Listing(
        equal={"gpu": gpu, "provider": provider, "pricing": pricing, "region": region},
        lead_order=("usd_per_gpu_hour",),
        fresh_only=not include_stale,
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
    gpu: Annotated[str, Query(description="Canonical GPU, e.g. H100-SXM-80GB")],
    provider: str | None = None,
    pricing: Pricing | None = None,
    as_of: Annotated[IsoDatetime | None, Query(description="Only versions in effect then")] = None,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    listing = queries.Listing(equal={"gpu": gpu, "provider": provider, "pricing": pricing})
    with engine.connect() as conn:
        if as_of is None:
            rows = queries.history(conn, queries.GPU, listing)
        else:
            rows = queries.read_at(conn, queries.GPU, listing, aware(as_of))[1]
    if not rows and as_of is None:
        from costcurve.catalog.gpus import KNOWN_GPUS

        if gpu not in KNOWN_GPUS:
            raise HTTPException(
                422, detail=f"gpu: unknown GPU {gpu!r}; known: {', '.join(sorted(KNOWN_GPUS))}"
            )
    return table(request, rows, fmt=fmt, columns=GPU_COLUMNS)
