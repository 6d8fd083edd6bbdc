"""Rules across keys: the administrator's list, and the one definition of deleting a rule.

A rule belongs to the API key that created it. When that key is revoked its
rules stop firing (``evaluate.evaluate_rules`` skips them) but stay in the
database, listed here as revoked, until the owner's rotated key
(``costcurve apikey rotate``) takes them over or an administrator deletes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select, update

from db.models import AlertDelivery, AlertEvent, AlertRule, ApiKey

_rules = AlertRule.__table__  # type: ignore[attr-defined]
_keys = ApiKey.__table__  # type: ignore[attr-defined]
_events = AlertEvent.__table__  # type: ignore[attr-defined]
_deliveries = AlertDelivery.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RuleSummary:
    id: int
    api_key_id: int
    key_name: str
    name: str
    active: bool
    key_revoked: bool


def all_rules(engine: Engine) -> list[RuleSummary]:
    """Every undeleted rule of every key, oldest first."""
    query = (
        select(
            _rules.c.id,
            _rules.c.api_key_id,
            _keys.c.name.label("key_name"),
            _rules.c.name,
            _rules.c.active,
            _keys.c.revoked_at.is_not(None).label("key_revoked"),
        )
        .join(_keys, _keys.c.id == _rules.c.api_key_id)
        .where(_rules.c.deleted_at.is_(None))
        .order_by(_rules.c.id)
    )
    with engine.connect() as conn:
        return [RuleSummary(*row) for row in conn.execute(query)]


def soft_delete_rule(conn: Connection, rule_id: int) -> bool:
    """Delete a rule: past events keep it, undelivered alerts are not sent."""
    done = conn.execute(
        update(_rules)
        .where(_rules.c.id == rule_id, _rules.c.deleted_at.is_(None))
        .values(active=False, deleted_at=datetime.now(UTC))
    ).rowcount
    conn.execute(
        update(_deliveries)
        .where(
            _deliveries.c.status == "pending",
            _deliveries.c.event_id.in_(select(_events.c.id).where(_events.c.rule_id == rule_id)),
        )
        .values(status="cancelled", last_error="the rule was deleted")
    )
    return bool(done)


def delete_rule(engine: Engine, rule_id: int) -> bool:
    """An administrator's delete, whatever key owns the rule."""
    with engine.begin() as conn:
        return soft_delete_rule(conn, rule_id)
