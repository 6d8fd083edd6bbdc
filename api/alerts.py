"""``/v1/alert-rules``: create, list, read and delete alert rules; read their events.

Every route needs an ``X-API-Key`` header (``costcurve apikey create NAME``):
rules hold delivery targets, so even reading them is private. A rule belongs to
the key that created it; to any other key it does not exist (404).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from sqlalchemy import Connection, func, insert, select

from api.deps import EngineDep
from costcurve.alerts.admin import soft_delete_rule
from costcurve.alerts.channels import ChannelError, check_channel, mask_channel, redact
from costcurve.alerts.keys import verify_key
from costcurve.alerts.rules import (
    AlertEventList,
    AlertEventPublic,
    AlertRuleCreate,
    AlertRuleList,
    AlertRulePublic,
    DeliveryPublic,
    rule_state,
)
from costcurve.alerts.values import current_value
from db.models import AlertDelivery, AlertEvent, AlertRule

router = APIRouter(prefix="/v1/alert-rules", tags=["alerts"])

_rules = AlertRule.__table__  # type: ignore[attr-defined]
_events = AlertEvent.__table__  # type: ignore[attr-defined]
_deliveries = AlertDelivery.__table__  # type: ignore[attr-defined]

_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="An API key from `costcurve apikey create NAME`",
)


def api_key_id(engine: EngineDep, key: Annotated[str | None, Depends(_key_header)]) -> int:
    if not key:
        raise HTTPException(401, "missing X-API-Key header", {"WWW-Authenticate": "X-API-Key"})
    with engine.connect() as conn:
        key_id = verify_key(conn, key)
    if key_id is None:
        raise HTTPException(401, "invalid or revoked X-API-Key", {"WWW-Authenticate": "X-API-Key"})
    return key_id


KeyDep = Annotated[int, Depends(api_key_id)]
# Ids are PostgreSQL integers: anything past 2^31-1 is a 422, never a database error.
RuleId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Alert rule id")]


def _allow_private() -> bool:
    from costcurve.config import get_settings

    return get_settings().alerts_allow_private_targets


def _public(conn: Connection, rule: Any) -> AlertRulePublic:
    now = current_value(conn, rule.target, rule.metric)
    value = now.value if now else None
    events = conn.execute(
        select(func.count()).select_from(_events).where(_events.c.rule_id == rule.id)
    ).scalar_one()
    return AlertRulePublic(
        id=rule.id,
        name=rule.name,
        target=rule.target,
        metric=rule.metric,
        threshold=rule.threshold,
        direction=rule.direction,
        channel=mask_channel(rule.channel),
        active=rule.active,
        created_at=rule.created_at,
        current_value=value,
        state=rule_state(value, rule.threshold, rule.direction),
        last_evaluated_at=rule.last_evaluated_at,
        events=events,
    )


def _owned(conn: Connection, rule_id: int, key_id: int) -> Any:
    rule = conn.execute(
        select(_rules).where(
            _rules.c.id == rule_id,
            _rules.c.api_key_id == key_id,
            _rules.c.deleted_at.is_(None),
        )
    ).first()
    if rule is None:
        raise HTTPException(404, f"alert rule {rule_id} not found")
    return rule


@router.post(
    "",
    summary="Create an alert rule",
    status_code=201,
    response_model=AlertRulePublic,
    responses={401: {"description": "Missing or invalid X-API-Key"}},
)
def create_rule(body: AlertRuleCreate, engine: EngineDep, key_id: KeyDep) -> Any:
    try:
        check_channel(body.channel, allow_private=_allow_private())
    except ChannelError as exc:
        message = f"channel: {exc}"
        return JSONResponse(
            status_code=422,
            content={"detail": message, "errors": [{"parameter": "channel", "message": str(exc)}]},
        )
    with engine.begin() as conn:
        rule_id = conn.execute(
            insert(_rules)
            .values(
                api_key_id=key_id,
                name=body.name,
                target=body.target.model_dump(mode="json"),
                metric=body.metric,
                threshold=body.threshold,
                direction=body.direction,
                channel=body.channel.strip(),
                active=True,
                created_at=datetime.now(UTC),
            )
            .returning(_rules.c.id)
        ).scalar_one()
        return _public(conn, _owned(conn, rule_id, key_id))


@router.get("", summary="List your alert rules", response_model=AlertRuleList)
def list_rules(engine: EngineDep, key_id: KeyDep) -> Any:
    with engine.connect() as conn:
        rules = conn.execute(
            select(_rules)
            .where(_rules.c.api_key_id == key_id, _rules.c.deleted_at.is_(None))
            .order_by(_rules.c.id)
        ).all()
        return AlertRuleList(items=[_public(conn, rule) for rule in rules])


@router.get("/{rule_id}", summary="Read one of your alert rules", response_model=AlertRulePublic)
def get_rule(rule_id: RuleId, engine: EngineDep, key_id: KeyDep) -> Any:
    with engine.connect() as conn:
        return _public(conn, _owned(conn, rule_id, key_id))


@router.delete("/{rule_id}", summary="Delete one of your alert rules", status_code=204)
def delete_rule(rule_id: RuleId, engine: EngineDep, key_id: KeyDep) -> Response:
    with engine.begin() as conn:
        _owned(conn, rule_id, key_id)
        soft_delete_rule(conn, rule_id)
    return Response(status_code=204)


@router.get(
    "/{rule_id}/events",
    summary="Threshold crossings of one of your rules, newest first, with delivery status",
    response_model=AlertEventList,
)
def rule_events(
    rule_id: RuleId,
    engine: EngineDep,
    key_id: KeyDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many events")] = 100,
) -> Any:
    with engine.connect() as conn:
        rule = _owned(conn, rule_id, key_id)
        rows = conn.execute(
            select(
                _events,
                _deliveries.c.status,
                _deliveries.c.attempts,
                _deliveries.c.next_attempt_at,
                _deliveries.c.delivered_at,
                _deliveries.c.last_error,
            )
            .outerjoin(_deliveries, _deliveries.c.event_id == _events.c.id)
            .where(_events.c.rule_id == rule_id)
            .order_by(_events.c.crossed_at.desc(), _events.c.id.desc())
            .limit(limit)
        ).all()
    items = [
        AlertEventPublic(
            id=r.id,
            rule_id=r.rule_id,
            value=r.value,
            previous_value=r.previous_value,
            threshold=r.threshold,
            direction=rule.direction,
            crossed_at=r.crossed_at,
            fired_at=r.fired_at,
            llm_price_version_id=r.llm_price_version_id,
            gpu_rate_version_id=r.gpu_rate_version_id,
            benchmark_result_id=r.benchmark_result_id,
            delivery=None
            if r.status is None
            else DeliveryPublic(
                status=r.status,
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at if r.status == "pending" else None,
                delivered_at=r.delivered_at,
                last_error=redact(r.last_error, rule.channel),
            ),
        )
        for r in rows
    ]
    return AlertEventList(items=items)
