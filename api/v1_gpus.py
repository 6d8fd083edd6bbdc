"""GPU rental rates, current and historical."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Engine

from api import curve_cache
from api.curve_query import CurveQuery, Interval
from api.deps import EngineDep
from api.gpu_names import gpu_param, optional_gpu_param
from api.params import IsoDatetime
from api.responses import FormatQuery, LimitQuery, OffsetQuery, cached, table
from api.sql import aware
from costcurve.analytics.gpu_series import gpu_rate_series
from costcurve.core.jsonenc import dumps
from costcurve.core.observations import GpuPricing
from db import queries

router = APIRouter(prefix="/v1", tags=["gpus"])

Pricing = GpuPricing
# Derived from the table definitions (db/queries.py).
GPU_COLUMNS = queries.GPU.listing_names()


@dataclass(frozen=True)
class GpuFilter:
    gpu: str | None = None
    provider: str | None = None
    pricing: str | None = None
    region: str | None = None
    # Only offers inside their source's freshness horizon (the current listing).
    fresh_only: bool = False

    def listing(self, lead_order: tuple[str, ...] = ()) -> queries.Listing:
        equal = {"gpu": self.gpu, "provider": self.provider, "pricing": self.pricing}
        return queries.Listing(
            equal=equal | {"region": self.region},
            lead_order=lead_order,
            fresh_only=self.fresh_only,
        )


@dataclass(frozen=True)
class SeriesWindow:
    interval: Annotated[Interval, Query(description="day, week or month")] = "week"
    start: Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD)")] = None
    end: Annotated[date | None, Query(alias="to", description="Last day (YYYY-MM-DD)")] = None


def current_gpu_rates(
    engine: Engine, filters: GpuFilter, *, limit: int, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page, cheapest first) of the GPU rates in effect now."""
    page = queries.Page(limit, offset)
    listing = filters.listing(lead_order=("usd_per_gpu_hour",))
    with engine.connect() as conn:
        return queries.read_at(conn, queries.GPU, listing, datetime.now(UTC), page=page)


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
    include_stale: Annotated[
        bool, Query(description="Also list rates past their source's freshness horizon")
    ] = False,
    limit: Annotated[int, LimitQuery] = 100,
    offset: Annotated[int, OffsetQuery] = 0,
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    filters = GpuFilter(optional_gpu_param(gpu), provider, pricing, region, not include_stale)
    total, rows = current_gpu_rates(engine, filters, limit=limit, offset=offset)
    return table(
        request, rows, fmt=fmt, total=total, limit=limit, offset=offset, columns=GPU_COLUMNS
    )


def gpu_history(
    engine: Engine, filters: GpuFilter, *, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """Every rate version of the matching GPU offerings (or those in effect at ``as_of``)."""
    listing = filters.listing()
    with engine.connect() as conn:
        if as_of is None:
            return queries.history(conn, queries.GPU, listing)
        return queries.read_at(conn, queries.GPU, listing, aware(as_of))[1]


def gpu_series(engine: Engine, gpu: str, window: SeriesWindow) -> list[dict[str, Any]]:
    """Min and median per-GPU-hour rate per bucket and pricing type (``/v1/gpu-rates/series``)."""
    # The curves' window rules: default range, date bounds and the bucket cap.
    start, end = (
        CurveQuery(interval=window.interval, start=window.start, end=window.end).resolved().window
    )

    def compute() -> list[dict[str, Any]]:
        _, _, frame = curve_cache.frames(engine)  # read inside: reruns on new data
        series = gpu_rate_series(
            frame.filter(pl.col("gpu") == gpu), interval=window.interval, start=start, end=end
        )
        return series.to_dicts()

    rows: list[dict[str, Any]] = curve_cache.memo(
        engine, ("gpu-series", gpu, window.interval, start, end), compute
    )
    return rows


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
    rows = gpu_history(engine, GpuFilter(gpu_param(gpu), provider, pricing), as_of=as_of)
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
    gpu: Annotated[str, Query(description="GPU name or alias, e.g. H100-SXM-80GB or h100 sxm")],
    window: Annotated[SeriesWindow, Depends()],
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    gpu = gpu_param(gpu)
    rows = gpu_series(engine, gpu, window)
    return table(request, rows, fmt=fmt, extra={"gpu": gpu, "unit": "usd_per_gpu_hour"})


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
