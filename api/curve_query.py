"""The cost-curve request as one frozen parameter object.

FastAPI reads the query parameters from the dataclass fields (``CurveQueryDep``),
the curve code takes the object whole, and because it is frozen and hashable it
is also the cache key: a parameter added here reaches the route, the
computation and the cache at once, and cannot be forgotten in one of them.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import Depends, HTTPException, Query
from sqlalchemy import Engine

from api import curve_cache
from costcurve.analytics.countable import CountOptions, countable_prices
from costcurve.catalog.models import Tier

Metric = Literal["input", "output", "blended"]
TierRuleName = Literal["capability", "static"]
Interval = Literal["day", "week", "month"]
EARLIEST = date(2023, 1, 1)
# The documented range of dates a curve can ask about, and the most buckets one
# response may hold: a wider request is a 422 that says how to narrow it.
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
MAX_BUCKETS = 4000
_DAYS_PER_BUCKET = {"day": 1, "week": 7, "month": 28}


@dataclass(frozen=True)
class CurveQuery:
    tier: Annotated[Tier | None, Query(description="Capability tier; all tiers when omitted")] = (
        None
    )
    metric: Annotated[Metric, Query(description="input, output or blended (3:1)")] = "blended"
    interval: Annotated[Interval, Query(description="day, week or month")] = "month"
    start: Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD)")] = None
    end: Annotated[date | None, Query(alias="to", description="Last day (YYYY-MM-DD)")] = None
    include_self_hosted: Annotated[
        bool, Query(description="Add benchmarked self-hosted costs as offerings")
    ] = False
    include_corrections: Annotated[
        bool, Query(description="Count versions marked as upstream corrections")
    ] = True
    include_free: Annotated[bool, Query(description="Count free listings")] = False
    include_promotions: Annotated[
        bool, Query(description="Count promotional prices instead of list prices")
    ] = False
    include_quarantined: Annotated[
        bool, Query(description="Count prices the plausibility screen quarantined")
    ] = False
    include_stale: Annotated[
        bool, Query(description="Carry prices past their source's freshness horizon")
    ] = False
    provider: Annotated[tuple[str, ...] | None, Query(description="Only these providers")] = None
    tiers: Annotated[
        TierRuleName,
        Query(
            description="capability: tiers from measured scores at each bucket's date "
            "(default); static: the catalog's reviewed labels (the old price bands)"
        ),
    ] = "capability"
    variant: Annotated[
        tuple[str, ...] | None,
        Query(
            description="Price variants to count (repeat: variant=standard&variant=batch); "
            "standard list prices when omitted"
        ),
    ] = None

    def resolved(self, today: date | None = None) -> CurveQuery:
        """The same query with its window filled in (from 2023-01-01 to today) and checked."""
        start = self.start or EARLIEST
        end = self.end or today or datetime.now(UTC).date()
        for name, value in (("from", start), ("to", end)):
            if not MIN_DATE <= value <= MAX_DATE:
                raise HTTPException(
                    422, detail=f"{name}: {value} is outside {MIN_DATE}..{MAX_DATE}"
                )
        if end < start:
            raise HTTPException(422, detail=f"to ({end}) must not be before from ({start})")
        buckets = ((end - start).days + 1) // _DAYS_PER_BUCKET[self.interval] + 1
        if buckets > MAX_BUCKETS:
            raise HTTPException(
                422,
                detail=(
                    f"from..to at interval={self.interval} is about {buckets} buckets, more than "
                    f"{MAX_BUCKETS}: narrow the range or use a longer interval"
                ),
            )
        variants = tuple(sorted(self.variant)) if self.variant else None
        return replace(self, start=start, end=end, provider=self.provider or None, variant=variants)

    @property
    def counting(self) -> CountOptions:
        """Which prices count (costcurve.analytics.countable) for this request."""
        return CountOptions(
            include_promotions=self.include_promotions,
            include_quarantined=self.include_quarantined,
            include_stale=self.include_stale,
            variants=self.variant or (),
        )

    @property
    def window(self) -> tuple[date, date]:
        assert self.start is not None, "call resolved() first"
        assert self.end is not None, "call resolved() first"
        return self.start, self.end


async def _curve_query(**fields: Any) -> CurveQuery:
    return CurveQuery(**fields)


# FastAPI runs a class dependency in its thread pool (a hop per request); this
# coroutine takes the same parameters (the dataclass's signature) and builds it
# on the event loop.
_curve_query.__signature__ = inspect.signature(CurveQuery)  # type: ignore[attr-defined]
CurveQueryDep = Annotated[CurveQuery, Depends(_curve_query)]


def priced_versions(engine: Engine, query: CurveQuery) -> pl.DataFrame:
    """The in-memory versions a curve of ``query`` may count: standard, current,
    non-quarantined list prices unless the query asks for more
    (``costcurve.analytics.countable``; ARCHITECTURE.md "Which prices count")."""
    _, llm, _ = curve_cache.frames(engine)
    return countable_prices(llm, query.counting)
