"""The costcurve GPU price index: published prints per GPU, tenor and segment.

Daily (and hourly) prints are read as stored by ``costcurve gpu-index publish``
(the latest revision of each); ``interval=week|month`` aggregates the daily
prints of each calendar week (ISO, Monday) or month: the mean of the published
daily values, the mean of their p10 and p90, every provider that contributed on
any day, withheld when no day of the period was published. docs/gpu-index.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.curve_query import MAX_DATE, MIN_DATE
from api.deps import EngineDep
from api.gpu_names import gpu_param, optional_gpu_param
from api.params import IsoDatetime
from api.responses import FormatQuery, cached, table
from api.sql import aware
from costcurve.analytics.gpu_index import METHOD_VERSION, SEGMENTS, money
from costcurve.core.jsonenc import dumps
from costcurve.core.observations import GpuPricing
from db.gpu_index import latest_prints, series

router = APIRouter(prefix="/v1", tags=["gpu index"])
Segment = Literal["all", "hyperscaler", "neocloud", "marketplace"]
IntervalParam = Literal["hour", "day", "week", "month"]
POINT_COLUMNS = (
    "date",
    "usd_per_gpu_hour",
    "contributor_count",
    "p10_usd_per_gpu_hour",
    "p90_usd_per_gpu_hour",
    "withheld_reason",
    "method_version",
    "providers",
)
assert set(SEGMENTS) == {"all", "hyperscaler", "neocloud", "marketplace"}


def _point(row: dict[str, Any], interval: str) -> dict[str, Any]:
    start: datetime = row["period_start"]
    return {
        "date": start.isoformat() if interval == "hour" else start.date().isoformat(),
        "usd_per_gpu_hour": row["usd_per_gpu_hour"],
        "contributor_count": row["contributor_count"],
        "p10_usd_per_gpu_hour": row["p10_usd_per_gpu_hour"],
        "p90_usd_per_gpu_hour": row["p90_usd_per_gpu_hour"],
        "withheld_reason": row["withheld_reason"],
        "method_version": row["method_version"],
        "providers": [c["provider"] for c in row["contributors"]],
    }


def _bucket(start: datetime, interval: str) -> datetime:
    if interval == "week":
        return start - timedelta(days=start.weekday())
    return start.replace(day=1)


def _mean(values: Sequence[Decimal]) -> Decimal:
    return money(float(sum(values)) / len(values))


def _aggregate(rows: list[dict[str, Any]], interval: str) -> list[dict[str, Any]]:
    buckets: dict[datetime, list[dict[str, Any]]] = {}
    for row in rows:
        buckets.setdefault(_bucket(row["period_start"], interval), []).append(row)
    out = []
    for start, days in sorted(buckets.items()):
        published = [d for d in days if d["usd_per_gpu_hour"] is not None]
        providers = sorted({c["provider"] for d in published for c in d["contributors"]})
        versions = sorted({d["method_version"] for d in days})
        point: dict[str, Any] = {
            "date": start.date().isoformat(),
            "usd_per_gpu_hour": None,
            "contributor_count": len(providers),
            "p10_usd_per_gpu_hour": None,
            "p90_usd_per_gpu_hour": None,
            "withheld_reason": None,
            "method_version": ",".join(versions),
            "providers": providers,
            "days_published": len(published),
            "days": len(days),
        }
        if not published:
            point["withheld_reason"] = f"no published daily print in the {interval}"
        else:
            point["usd_per_gpu_hour"] = _mean([d["usd_per_gpu_hour"] for d in published])
            point["p10_usd_per_gpu_hour"] = _mean([d["p10_usd_per_gpu_hour"] for d in published])
            point["p90_usd_per_gpu_hour"] = _mean([d["p90_usd_per_gpu_hour"] for d in published])
        out.append(point)
    return out


@router.get(
    "/gpu-index",
    summary="The costcurve GPU price index: one print per day (or hour, week, month)",
    description="Per canonical GPU and tenor, the capped weighted median of per-provider "
    "median prices, with contributor count, p10/p90 dispersion, and a withheld reason "
    "when fewer than the minimum number of providers contribute (docs/gpu-index.md).",
)
def gpu_index(
    request: Request,
    engine: EngineDep,
    gpu: Annotated[str, Query(description="GPU name or alias, e.g. H100-SXM-80GB, h100 sxm")],
    tenor: GpuPricing = "on_demand",
    segment: Segment = "all",
    start: Annotated[IsoDatetime | None, Query(alias="from", description="First day")] = None,
    end: Annotated[IsoDatetime | None, Query(alias="to", description="Last day, exclusive")] = None,
    interval: IntervalParam = "day",
    fmt: Annotated[Literal["json", "csv"], FormatQuery] = "json",
) -> Response:
    canonical = gpu_param(gpu)
    for name, value in (("from", start), ("to", end)):
        if value is not None and not MIN_DATE <= value.date() <= MAX_DATE:
            raise HTTPException(422, detail=f"{name}: {value} is outside {MIN_DATE}..{MAX_DATE}")
    lo = aware(start) if start else datetime(MIN_DATE.year, 1, 1, tzinfo=UTC)
    hi = aware(end) if end else datetime.now(UTC) + timedelta(days=1)
    if hi <= lo:
        raise HTTPException(422, detail=f"to ({hi.date()}) must be after from ({lo.date()})")
    stored = "hour" if interval == "hour" else "day"
    with engine.connect() as conn:
        rows = series(
            conn, gpu=canonical, tenor=tenor, segment=segment, interval=stored, start=lo, end=hi
        )
    points = (
        [_point(r, interval) for r in rows]
        if interval in ("hour", "day")
        else _aggregate(rows, interval)
    )
    extra = {
        "gpu": canonical,
        "tenor": tenor,
        "segment": segment,
        "interval": interval,
        "method_version": METHOD_VERSION,
        "method": "/docs/gpu-index.md",
    }
    if fmt == "csv":
        columns = POINT_COLUMNS if interval in ("hour", "day") else None
        flat = [p | {"providers": ";".join(p["providers"])} for p in points]
        return table(request, flat, fmt="csv", columns=columns)
    body = extra | {"points": points, "total": len(points)}
    return cached(request, dumps(body).encode(), "application/json")


@router.get(
    "/gpu-index/latest",
    summary="The latest published daily print per GPU and tenor, with its contributors",
)
def gpu_index_latest(
    request: Request,
    engine: EngineDep,
    gpu: Annotated[str | None, Query(description="GPU name or alias (default: every GPU)")] = None,
    tenor: GpuPricing | None = None,
    segment: Segment = "all",
) -> Response:
    canonical = optional_gpu_param(gpu)
    with engine.connect() as conn:
        rows = latest_prints(conn, gpu=canonical, tenor=tenor, segment=segment)
    items = [
        {
            "gpu": r["gpu"],
            "tenor": r["tenor"],
            "segment": r["segment"],
            **_point(r, "day"),
            "contributors": r["contributors"],
            "excluded": r["excluded"],
            "computed_at": r["computed_at"],
            "revision": r["revision"],
        }
        for r in rows
    ]
    body = {"items": items, "total": len(items), "method_version": METHOD_VERSION}
    return cached(request, dumps(body).encode(), "application/json")
