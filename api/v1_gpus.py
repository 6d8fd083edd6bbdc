"""GPU rental rates, current and historical."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from sqlalchemy import Engine, text

from api import curve_cache
from api.curve_query import EARLIEST, Interval
from api.deps import EngineDep
from api.responses import FormatQuery, LimitQuery, OffsetQuery, table
from api.sql import aware, equal_filters, in_effect
from costcurve.analytics.gpu_series import gpu_rate_series
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


@dataclass(frozen=True)
class SeriesWindow:
    interval: Annotated[Interval, Query(description="day, week or month")] = "week"
    start: Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD)")] = None
    end: Annotated[date | None, Query(alias="to", description="Last day (YYYY-MM-DD)")] = None


@dataclass(frozen=True)
class GpuFilter:
    gpu: str | None = None
    provider: str | None = None
    pricing: str | None = None
    region: str | None = None


def current_gpu_rates(
    engine: Engine, filters: GpuFilter, *, limit: int, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page, cheapest first) of the GPU rates in effect now."""
    where, params = equal_filters(
        gpu=filters.gpu, provider=filters.provider, pricing=filters.pricing, region=filters.region
    )
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
    return total, rows


@router.get("/gpu-rates", summary="Current GPU rental rates per GPU-hour (filter by GPU, provider)")
def gpu_rates(
    request: Request,
    engine: EngineDep,
    gpu: Annotated[str | None, Query(description="Canonical GPU, e.g. H100-SXM-80GB")] = None,
    provider: str | None = None,
    pricing: Pricing | None = None,
    region: str | None = None,
    limit: Annotated[int, LimitQuery] = 100,
    offset: Annotated[int, OffsetQuery] = 0,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    filters = GpuFilter(gpu, provider, pricing, region)
    total, rows = current_gpu_rates(engine, filters, limit=limit, offset=offset)
    return table(
        request, rows, fmt=fmt, total=total, limit=limit, offset=offset, columns=GPU_COLUMNS
    )


def gpu_series(engine: Engine, gpu: str, window: SeriesWindow) -> list[dict[str, Any]]:
    """Min and median per-GPU-hour rate per bucket and pricing type (``/v1/gpu-rates/series``)."""
    _, _, frame = curve_cache.frames(engine)
    start, end = window.start or EARLIEST, window.end or datetime.now(UTC).date()
    if end < start:
        raise HTTPException(422, detail=f"to ({end}) must not be before from ({start})")

    def compute() -> list[dict[str, Any]]:
        series = gpu_rate_series(
            frame.filter(pl.col("gpu") == gpu), interval=window.interval, start=start, end=end
        )
        return series.to_dicts()

    rows: list[dict[str, Any]] = curve_cache.memo(
        engine, ("gpu-series", gpu, window.interval, start, end), compute
    )
    return rows


def _check_gpu(gpu: str) -> None:
    from costcurve.catalog.gpus import KNOWN_GPUS

    if gpu not in KNOWN_GPUS:
        raise HTTPException(
            422, detail=f"gpu: unknown GPU {gpu!r}; known: {', '.join(sorted(KNOWN_GPUS))}"
        )


def gpu_history(
    engine: Engine, filters: GpuFilter, *, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """Every rate version of the matching GPU offerings (or those in effect at ``as_of``)."""
    where, params = equal_filters(
        gpu=filters.gpu, provider=filters.provider, pricing=filters.pricing
    )
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
        return [dict(r) for r in conn.execute(text(sql), params).mappings()]


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
    rows = gpu_history(engine, GpuFilter(gpu, provider, pricing), as_of=as_of)
    if not rows and as_of is None:
        _check_gpu(gpu)
    return table(request, rows, fmt=fmt, columns=GPU_COLUMNS)


@router.get(
    "/gpu-rates/series",
    summary="A GPU's per-GPU-hour rate over time: min and median per pricing type",
    description=(
        "For each interval and pricing type: min, median and count of the per-GPU-hour rates "
        "of the GPU's offerings in effect at the end of the interval (the cost-curve snapshot "
        "rule). Marketplace aggregates count at their minimum."
    ),
)
def gpu_rate_series_route(
    request: Request,
    engine: EngineDep,
    gpu: Annotated[str, Query(description="Canonical GPU, e.g. H100-SXM-80GB")],
    window: Annotated[SeriesWindow, Depends()],
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    _check_gpu(gpu)
    rows = gpu_series(engine, gpu, window)
    return table(request, rows, fmt=fmt, extra={"gpu": gpu, "unit": "usd_per_gpu_hour"})
