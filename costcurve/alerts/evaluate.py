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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, bindparam, func, select, text, update

from costcurve.alerts.rules import is_past
from costcurve.alerts.values import Contribution, load_contributions, value_at, value_just_before
from db.models import (
    AlertDelivery,
    AlertRule,
    ApiKey,
)

LOOKBACK = timedelta(hours=1)

_rules = AlertRule.__table__  # type: ignore[attr-defined]
_deliveries = AlertDelivery.__table__  # type: ignore[attr-defined]
_keys = ApiKey.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Crossing:
    at: datetime
    value: Decimal
    previous: Decimal | None
    cause: Contribution

    @property
    def key(self) -> str:
        return self.at.astimezone(UTC).isoformat()


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
    floor: datetime = rule.created_at
    return max(lower, floor)


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
            .join(_keys, _keys.c.id == _rules.c.api_key_id)
            # A revoked key's rules stop firing (they stay listed, as revoked, for admins).
            .where(
                _rules.c.active.is_(True),
                _rules.c.deleted_at.is_(None),
                _keys.c.revoked_at.is_(None),
            )
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
