"""Evaluate alert rules against the versioned price tables.

**Value of a target** (money is Decimal throughout):

- ``model``: the model's token price (``input``, ``output`` or ``blended`` =
  (3 x input + output) / 4) at the named provider, or the minimum over every
  provider when none is named. Only standard, paid, text offerings without a
  context tier count (batch/flex discounts, free tiers and long-context
  surcharges would make "the price" mean something else).
- ``tier``: the same minimum over every catalog model of that tier.
- ``gpu``: the minimum ``usd_per_gpu_hour`` over offers of that GPU and pricing
  (aggregate rows only when they are minima).
- ``self_hosted``: for each non-synthetic serving benchmark of the model on the
  GPU, the cheapest on-demand rate of that GPU divided by the measured output
  tokens per second per GPU, in $/M tokens; the minimum over benchmarks.

**When a rule fires.** Each price version is valid over ``[valid_from, valid_to)``
and was learned at ``recorded_at`` (its end at ``closed_recorded_at``). The
value *at instant t* is computed from the versions in effect at t as we believed
at t, so an ingest changes the value exactly at its ``recorded_at``; a
backfill of old history (learned already closed) never changes a current value.
For every instant t where some version starts, ends or becomes known, the value
just before t is compared with the value at t: the rule fires when the value at
t is past the threshold (``below``: <, ``above``: >) and the value just before
was not (or there was none). It cannot fire again until the value has gone back
(re-armed) and crossed anew.

**Exactly once.** An event's ``crossing_key`` is t itself, derived only from the
version tables, and ``uq_alert_crossing (rule_id, crossing_key)`` makes every
later or concurrent evaluation of the same crossing insert nothing
(``ON CONFLICT DO NOTHING``). The event and its outbox row are written in one
transaction. Only instants after the rule was created count, so a rule whose
value is already past its threshold when it is created waits for the next
crossing.

Each rule remembers ``evaluated_through``; the next evaluation looks back
``LOOKBACK`` before it, so an ingest that committed after an evaluation read
the tables, but recorded its versions before that, is still seen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, func, or_, select, text, update

from alerts.rules import is_past
from catalog.models import load_models
from db.models import (
    AlertDelivery,
    AlertRule,
    BenchmarkResult,
    GpuOffering,
    GpuRateVersion,
    LlmOffering,
    LlmPriceVersion,
)

LOOKBACK = timedelta(hours=1)
SELF_HOSTED_QUANTUM = Decimal("0.000001")

_rules = AlertRule.__table__  # type: ignore[attr-defined]
_deliveries = AlertDelivery.__table__  # type: ignore[attr-defined]
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


@dataclass(frozen=True)
class Crossing:
    at: datetime
    value: Decimal
    previous: Decimal | None
    cause: Contribution

    @property
    def key(self) -> str:
        return self.at.astimezone(UTC).isoformat()


def _cheapest(items: Sequence[Contribution]) -> Contribution | None:
    return min(items, key=Contribution.sort_key) if items else None


def value_at(contributions: Sequence[Contribution], t: datetime) -> Contribution | None:
    return _cheapest([c for c in contributions if c.in_effect_at(t)])


def value_just_before(contributions: Sequence[Contribution], t: datetime) -> Contribution | None:
    return _cheapest([c for c in contributions if c.in_effect_just_before(t)])


def find_crossings(
    contributions: Sequence[Contribution],
    threshold: Decimal,
    direction: str,
    after: datetime,
    until: datetime,
) -> list[Crossing]:
    """Crossings at change points in ``(after, until]``, oldest first."""
    points = sorted({t for c in contributions for t in c.instants() if after < t <= until})
    found = []
    for t in points:
        now = value_at(contributions, t)
        if now is None or not is_past(now.value, threshold, direction):
            continue
        before = value_just_before(contributions, t)
        if before is not None and is_past(before.value, threshold, direction):
            continue
        found.append(Crossing(t, now.value, before.value if before else None, now))
    return found


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
    return (3 * input_ + output) / 4


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
    query = (
        select(
            _lv.c.id,
            _lv.c.input_usd_per_mtok,
            _lv.c.output_usd_per_mtok,
            _lv.c.recorded_at,
            _lv.c.valid_from,
            _lv.c.valid_to,
            _lv.c.closed_recorded_at,
        )
        .join(_lo, _lo.c.id == _lv.c.offering_id)
        .where(
            _lo.c.model_slug.in_(slugs),
            _lo.c.variant == "standard",
            _lo.c.context_tier.is_(None),
            _lo.c.modality == "text",
            _lv.c.free.is_(False),
            _window(_lv, lower, upper),
        )
    )
    if provider is not None:
        query = query.where(_lo.c.provider == provider)
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
    query = (
        select(
            _gv.c.id,
            _gv.c.usd_per_gpu_hour,
            _gv.c.recorded_at,
            _gv.c.valid_from,
            _gv.c.valid_to,
            _gv.c.closed_recorded_at,
        )
        .join(_go, _go.c.id == _gv.c.offering_id)
        .where(
            _go.c.gpu == gpu,
            _go.c.pricing == pricing,
            or_(_go.c.statistic.is_(None), _go.c.statistic == "min"),
            _window(_gv, lower, upper),
        )
    )
    if provider is not None:
        query = query.where(_go.c.provider == provider)
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
            usd_per_mtok = rate.value / (per_gpu * 3600) * 1_000_000
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
    raise ValueError(f"unknown alert target type {kind!r}")


def current_value(
    conn: Connection, target: dict[str, Any], metric: str, at: datetime | None = None
) -> Contribution | None:
    at = at or datetime.now(UTC)
    return value_at(load_contributions(conn, target, metric, at, at), at)


# --- evaluation -------------------------------------------------------------------------------


_INSERT_EVENT = text(
    """
    INSERT INTO alert_event (rule_id, crossing_key, value, previous_value, threshold, crossed_at,
                             llm_price_version_id, gpu_rate_version_id, benchmark_result_id,
                             fired_at)
    VALUES (:rule_id, :key, :value, :previous, :threshold, :at, :llm, :gpu, :bench, :fired_at)
    ON CONFLICT ON CONSTRAINT uq_alert_crossing DO NOTHING
    RETURNING id
    """
)


def _lower_bound(rule: Any, since: datetime | None) -> datetime:
    if since is not None:
        lower = since
    elif rule.evaluated_through is not None:
        lower = rule.evaluated_through - LOOKBACK
    else:
        lower = rule.created_at
    return max(lower, rule.created_at)


def _record(engine: Engine, rule: Any, crossings: list[Crossing]) -> list[int]:
    """Insert the events and their outbox rows in one transaction; returns new event ids."""
    new_ids: list[int] = []
    with engine.begin() as conn:
        for crossing in crossings:
            event_id = conn.execute(
                _INSERT_EVENT,
                {
                    "rule_id": rule.id,
                    "key": crossing.key,
                    "value": crossing.value,
                    "previous": crossing.previous,
                    "threshold": rule.threshold,
                    "at": crossing.at,
                    "llm": crossing.cause.llm_price_version_id,
                    "gpu": crossing.cause.gpu_rate_version_id,
                    "bench": crossing.cause.benchmark_result_id,
                    "fired_at": datetime.now(UTC),
                },
            ).scalar_one_or_none()
            if event_id is None:
                continue  # recorded already by an earlier or concurrent evaluation
            conn.execute(
                _deliveries.insert().values(
                    event_id=event_id,
                    status="pending",
                    attempts=0,
                    next_attempt_at=datetime.now(UTC),
                )
            )
            new_ids.append(int(event_id))
    return new_ids


def evaluate_rules(engine: Engine, *, since: datetime | None = None) -> list[int]:
    """Evaluate every active rule; returns the ids of the events this call created.

    ``since``: re-examine change points after this instant (default: from each
    rule's last evaluation, minus ``LOOKBACK``; never before the rule existed).
    Safe to run repeatedly and concurrently: a crossing becomes one event.
    Rules with the same target and metric share one read of the price tables.
    """
    upper = datetime.now(UTC)
    groups: dict[tuple[str, str], list[Any]] = {}
    with engine.connect() as conn:
        rules = conn.execute(
            select(
                _rules.c.id,
                _rules.c.target,
                _rules.c.metric,
                _rules.c.threshold,
                _rules.c.direction,
                _rules.c.created_at,
                _rules.c.evaluated_through,
            )
            .where(_rules.c.active.is_(True), _rules.c.deleted_at.is_(None))
            .order_by(_rules.c.id)
        ).all()
        for rule in rules:
            groups.setdefault((json.dumps(rule.target, sort_keys=True), rule.metric), []).append(
                rule
            )
        new_ids: list[int] = []
        states: list[dict[str, Any]] = []
        for members in groups.values():
            lowers = {rule.id: _lower_bound(rule, since) for rule in members}
            contributions = load_contributions(
                conn, members[0].target, members[0].metric, min(lowers.values()), upper
            )
            now_value = value_at(contributions, upper)
            for rule in members:
                crossings = find_crossings(
                    contributions, rule.threshold, rule.direction, lowers[rule.id], upper
                )
                if crossings:
                    new_ids.extend(_record(engine, rule, crossings))
                states.append({"rid": rule.id, "v": now_value.value if now_value else None})
    if states:
        with engine.begin() as conn:
            conn.execute(
                update(_rules)
                .where(_rules.c.id == bindparam("rid"))
                .values(
                    last_value=bindparam("v"),
                    last_evaluated_at=datetime.now(UTC),
                    evaluated_through=func.greatest(
                        func.coalesce(_rules.c.evaluated_through, upper), upper
                    ),
                ),
                states,
            )
    return sorted(new_ids)
