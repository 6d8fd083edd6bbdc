"""What an alert target is worth at an instant, from the versioned tables.

See alerts/evaluate.py for the value of each target type and the two time axes:
a :class:`Contribution` is one candidate for the minimum (a price version, a
GPU rate version or a priced benchmark) with when it held and when we knew it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, text

from costcurve.catalog.models import load_models
from costcurve.core.formulas import DEFAULT_BLEND
from costcurve.core.formulas import usd_per_mtok as selfhosted_usd_per_mtok
from db.countable_sql import COUNTABLE_LLM_SQL, GPU_NOT_EXCLUDED_SQL
from db.models import (
    BenchmarkResult,
    GpuOffering,
    GpuRateVersion,
    LlmOffering,
    LlmPriceVersion,
)

SELF_HOSTED_QUANTUM = Decimal("0.000001")

_lo = LlmOffering.__table__  # type: ignore[attr-defined]
_lv = LlmPriceVersion.__table__  # type: ignore[attr-defined]
_go = GpuOffering.__table__  # type: ignore[attr-defined]
_gv = GpuRateVersion.__table__  # type: ignore[attr-defined]
_bench = BenchmarkResult.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Contribution:
    """One candidate for the minimum: a value and when it held, in both time axes."""

    value: Decimal
    recorded_at: datetime
    valid_from: datetime
    valid_to: datetime | None
    # When valid_to became known (a backfill is learned already closed).
    closed_known_at: datetime | None
    llm_price_version_id: int | None = None
    gpu_rate_version_id: int | None = None
    benchmark_result_id: int | None = None

    def in_effect_at(self, t: datetime) -> bool:
        if self.recorded_at > t or self.valid_from > t:
            return False
        return self.valid_to is None or self.valid_to > t or self._closed_known_after(t)

    def in_effect_just_before(self, t: datetime) -> bool:
        if self.recorded_at >= t or self.valid_from >= t:
            return False
        return self.valid_to is None or self.valid_to >= t or self._closed_known_after(t, True)

    def _closed_known_after(self, t: datetime, inclusive: bool = False) -> bool:
        known = self.closed_known_at
        return known is not None and (known >= t if inclusive else known > t)

    def instants(self) -> Iterator[datetime]:
        yield self.recorded_at
        yield self.valid_from
        if self.valid_to is not None:
            yield self.valid_to
        if self.closed_known_at is not None:
            yield self.closed_known_at

    def sort_key(self) -> tuple[Decimal, int, int, int]:
        return (
            self.value,
            self.llm_price_version_id or 0,
            self.gpu_rate_version_id or 0,
            self.benchmark_result_id or 0,
        )


def _cheapest(items: Sequence[Contribution]) -> Contribution | None:
    return min(items, key=Contribution.sort_key) if items else None


def value_at(contributions: Sequence[Contribution], t: datetime) -> Contribution | None:
    return _cheapest([c for c in contributions if c.in_effect_at(t)])


def value_just_before(contributions: Sequence[Contribution], t: datetime) -> Contribution | None:
    return _cheapest([c for c in contributions if c.in_effect_just_before(t)])


# --- loading contributions ------------------------------------------------------------------


def _window(v: Any, lower: datetime, upper: datetime) -> Any:
    """Versions that may be in effect at some instant of [lower, upper]."""
    return and_(
        v.c.recorded_at <= upper,
        v.c.valid_from <= upper,
        or_(
            v.c.valid_to.is_(None),
            v.c.valid_to >= lower,
            func.coalesce(v.c.closed_recorded_at, v.c.recorded_at) >= lower,
        ),
    )


def _closed_known(valid_to: datetime | None, closed: datetime | None, recorded: datetime) -> Any:
    if valid_to is None:
        return None
    return closed or recorded


def _token_value(metric: str, input_: Decimal | None, output: Decimal | None) -> Decimal | None:
    if metric == "input":
        return input_
    if metric == "output":
        return output
    if input_ is None or output is None:
        return None
    return DEFAULT_BLEND.blend(input_, output)


def _llm(
    conn: Connection,
    slugs: list[str],
    provider: str | None,
    metric: str,
    lower: datetime,
    upper: datetime,
) -> list[Contribution]:
    if not slugs:
        return []
    # Aliased as in db.countable_sql's fragments ("which prices count").
    lv, lo = _lv.alias("v"), _lo.alias("o")
    query = (
        select(
            lv.c.id,
            lv.c.input_usd_per_mtok,
            lv.c.output_usd_per_mtok,
            lv.c.recorded_at,
            lv.c.valid_from,
            lv.c.valid_to,
            lv.c.closed_recorded_at,
        )
        .join(lo, lo.c.id == lv.c.offering_id)
        .where(
            func.coalesce(lv.c.model_slug, lo.c.model_slug).in_(slugs),
            text(COUNTABLE_LLM_SQL),
            lv.c.free.is_(False),
            _window(lv, lower, upper),
        )
    )
    if provider is not None:
        query = query.where(lo.c.provider == provider)
    out = []
    for vid, inp, outp, recorded, start, end, closed in conn.execute(query):
        value = _token_value(metric, inp, outp)
        if value is not None:
            out.append(
                Contribution(
                    value,
                    recorded,
                    start,
                    end,
                    _closed_known(end, closed, recorded),
                    llm_price_version_id=vid,
                )
            )
    return out


def _gpu(
    conn: Connection,
    gpu: str,
    pricing: str,
    provider: str | None,
    lower: datetime,
    upper: datetime,
) -> list[Contribution]:
    gv, go = _gv.alias("v"), _go.alias("o")
    query = (
        select(
            gv.c.id,
            gv.c.usd_per_gpu_hour,
            gv.c.recorded_at,
            gv.c.valid_from,
            gv.c.valid_to,
            gv.c.closed_recorded_at,
        )
        .join(go, go.c.id == gv.c.offering_id)
        .where(
            go.c.gpu == gpu,
            go.c.pricing == pricing,
            or_(go.c.statistic.is_(None), go.c.statistic == "min"),
            text(GPU_NOT_EXCLUDED_SQL),
            _window(gv, lower, upper),
        )
    )
    if provider is not None:
        query = query.where(go.c.provider == provider)
    return [
        Contribution(
            rate,
            recorded,
            start,
            end,
            _closed_known(end, closed, recorded),
            gpu_rate_version_id=vid,
        )
        for vid, rate, recorded, start, end, closed in conn.execute(query)
    ]


def _self_hosted(
    conn: Connection, model: str, gpu: str, lower: datetime, upper: datetime
) -> list[Contribution]:
    rows = conn.execute(
        select(_bench.c.id, _bench.c.output_throughput, _bench.c.gpu_count, _bench.c.recorded_at)
        .where(
            _bench.c.model_slug == model,
            _bench.c.gpu == gpu,
            _bench.c.synthetic.is_(False),
            _bench.c.output_throughput > 0,
            _bench.c.recorded_at <= upper,
        )
        .order_by(_bench.c.recorded_at, _bench.c.id)
    ).all()
    # Only a benchmark faster per GPU than every earlier-known one can ever be the minimum.
    frontier: list[tuple[int, Decimal, datetime]] = []
    for bid, throughput, gpu_count, recorded in rows:
        per_gpu = Decimal(throughput) / max(int(gpu_count), 1)
        if not frontier or per_gpu > frontier[-1][1]:
            frontier.append((bid, per_gpu, recorded))
    if not frontier:
        return []
    out = []
    for rate in _gpu(conn, gpu, "on_demand", None, lower, upper):
        for bid, per_gpu, recorded in frontier:
            usd_per_mtok = selfhosted_usd_per_mtok(rate.value, per_gpu)
            out.append(
                Contribution(
                    usd_per_mtok.quantize(SELF_HOSTED_QUANTUM),
                    max(rate.recorded_at, recorded),
                    rate.valid_from,
                    rate.valid_to,
                    rate.closed_known_at,
                    gpu_rate_version_id=rate.gpu_rate_version_id,
                    benchmark_result_id=bid,
                )
            )
    return out


_INDEX_SQL = text(
    """
    SELECT DISTINCT ON (period_start) period_start, usd_per_gpu_hour, computed_at
    FROM gpu_index_print
    WHERE gpu = :gpu AND tenor = :tenor AND segment = :segment AND interval = 'day'
    ORDER BY period_start, computed_at DESC, revision DESC
    """
)


def _gpu_index(conn: Connection, target: dict[str, Any]) -> list[Contribution]:
    """Each published daily print holds from its day's close until the next published one's.

    A withheld day publishes no value, so it neither interrupts the last value nor
    re-arms a rule (a flapping contributor count must not fire a rule again).
    """
    params = {
        "gpu": target["gpu"],
        "tenor": target.get("tenor") or "on_demand",
        "segment": target.get("segment") or "all",
    }
    rows = [r for r in conn.execute(_INDEX_SQL, params).all() if r[1] is not None]
    out = []
    for i, (start, value, computed) in enumerate(rows):
        following = rows[i + 1] if i + 1 < len(rows) else None
        out.append(
            Contribution(
                Decimal(value),
                computed,
                start + timedelta(days=1),
                following[0] + timedelta(days=1) if following else None,
                following[2] if following else None,
            )
        )
    return out


def load_contributions(
    conn: Connection, target: dict[str, Any], metric: str, lower: datetime, upper: datetime
) -> list[Contribution]:
    kind = target["type"]
    if kind == "model":
        return _llm(conn, [target["model"]], target.get("provider"), metric, lower, upper)
    if kind == "tier":
        slugs = sorted(m.slug for m in load_models().values() if m.tier == target["tier"])
        return _llm(conn, slugs, None, metric, lower, upper)
    if kind == "gpu":
        pricing = target.get("pricing") or "on_demand"
        return _gpu(conn, target["gpu"], pricing, target.get("provider"), lower, upper)
    if kind == "self_hosted":
        return _self_hosted(conn, target["model"], target["gpu"], lower, upper)
    if kind == "gpu_index":
        return _gpu_index(conn, target)
    raise ValueError(f"unknown alert target type {kind!r}")


def current_value(
    conn: Connection, target: dict[str, Any], metric: str, at: datetime | None = None
) -> Contribution | None:
    at = at or datetime.now(UTC)
    return value_at(load_contributions(conn, target, metric, at, at), at)


# --- evaluation -------------------------------------------------------------------------------
