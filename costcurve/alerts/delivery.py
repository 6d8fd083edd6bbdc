"""Deliver alert events from the outbox through Apprise, at least once.

Each pending ``alert_delivery`` row is *claimed* in a short transaction
(``FOR UPDATE SKIP LOCKED``: concurrent deliverers take different rows), which
counts the attempt and pushes ``next_attempt_at`` out by a lease. The message is
then sent outside any transaction, and the outcome is written with one
``alert_delivery_attempt`` row per try. A failure schedules the next try with
exponential backoff and jitter; after ``max_attempts`` the row is ``failed``. A
deliverer that dies mid-send leaves the row due again when the lease expires,
so a receiver may see a message twice but never zero times: payloads carry the
event id for de-duplication.

Every delivered (or abandoned) alert is also emitted as a Prefect event, so it
shows in the Prefect UI's event feed. That is best effort: with no Prefect API
configured, or when emitting fails, delivery is unaffected.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, insert, text, update

from costcurve.alerts.channels import ChannelError, check_channel, mask_channel, redact
from db.models import AlertDelivery, AlertDeliveryAttempt

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
LEASE = timedelta(minutes=5)
MAX_WORKERS = 8
BATCH = 100

_deliveries = AlertDelivery.__table__  # type: ignore[attr-defined]
_attempts = AlertDeliveryAttempt.__table__  # type: ignore[attr-defined]


@dataclass
class DeliveryStats:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0  # gave up after max_attempts
    cancelled: int = 0  # the rule was deleted before delivery


@dataclass(frozen=True)
class _Job:
    delivery_id: int
    attempt: int
    event_id: int
    rule_id: int
    rule_name: str
    target: dict[str, Any]
    metric: str
    direction: str
    channel: str
    value: Decimal
    previous_value: Decimal | None
    threshold: Decimal
    crossed_at: datetime


@dataclass(frozen=True)
class _Outcome:
    job: _Job
    attempted_at: datetime
    duration_ms: int
    error: str | None


def backoff(attempt: int, *, rng: random.Random | None = None) -> timedelta:
    """Delay before try ``attempt + 1``: base x 2^(attempt-1), capped, "equal jitter"."""
    full = min(BACKOFF_BASE * 2 ** max(attempt - 1, 0), BACKOFF_CAP)
    jitter: float = (rng or random).random()
    half: timedelta = full / 2
    return half + half * jitter


_UNITS = {"usd_per_gpu_hour": "$/GPU-hour"}


def describe_target(target: dict[str, Any], metric: str) -> str:
    kind = target.get("type")
    if kind == "model":
        where = f"at {target['provider']}" if target.get("provider") else "(cheapest provider)"
        return f"{target['model']} {metric} price {where}"
    if kind == "tier":
        return f"cheapest {target['tier']}-tier {metric} price"
    if kind == "gpu":
        where = f"at {target['provider']}" if target.get("provider") else "(cheapest provider)"
        return f"{target['gpu']} {target.get('pricing', 'on_demand')} rate {where}"
    if kind == "self_hosted":
        return f"self-hosted {target['model']} on {target['gpu']} output cost"
    return f"{kind} {metric}"


def compose(job: _Job) -> tuple[str, str]:
    unit = _UNITS.get(job.metric, "$/M tokens")
    verb = "fell below" if job.direction == "below" else "rose above"
    was = f"{job.previous_value} {unit}" if job.previous_value is not None else "no price"
    title = f"costcurve alert: {job.rule_name}"
    body = (
        f"{describe_target(job.target, job.metric)} {verb} {job.threshold} {unit}: "
        f"now {job.value} {unit} (was {was}). "
        f"Rule #{job.rule_id}, event #{job.event_id}, changed at "
        f"{job.crossed_at.astimezone(UTC).isoformat()}."
    )
    return title, body


class _ThreadLogs(logging.Handler):
    """Apprise reports failures only through its logger; keep them per sending thread."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: dict[int, list[str]] = {}
        self.lock_ = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self.lock_:
            self.lines.setdefault(record.thread or 0, []).append(record.getMessage())

    def take(self) -> list[str]:
        with self.lock_:
            return self.lines.pop(threading.get_ident(), [])


def _send(job: _Job, logs: _ThreadLogs, allow_private: bool) -> _Outcome:
    started = datetime.now(UTC)
    clock = time.perf_counter()
    error: str | None = None
    try:
        # Checked again at send time: DNS may point elsewhere than at rule creation.
        plugin = check_channel(job.channel, allow_private=allow_private)
        extras = getattr(plugin, "payload_extras", None)
        if isinstance(extras, dict):  # JSON / XML / form webhooks: structured fields
            extras.update(
                {
                    "costcurve_event_id": str(job.event_id),
                    "costcurve_rule_id": str(job.rule_id),
                    "value": str(job.value),
                    "previous_value": "" if job.previous_value is None else str(job.previous_value),
                    "threshold": str(job.threshold),
                    "direction": job.direction,
                    "metric": job.metric,
                }
            )
        logs.take()
        title, body = compose(job)
        if not plugin.notify(body=body, title=title):
            error = "; ".join(logs.take()) or "the channel refused or did not answer"
    except ChannelError as exc:
        error = f"refused: {exc}"
    except Exception as exc:  # a plugin bug must not stop the other deliveries
        error = f"{type(exc).__name__}: {exc}"
    finally:
        logs.take()
    duration = int((time.perf_counter() - clock) * 1000)
    return _Outcome(job, started, duration, redact(error, job.channel))


_CANCEL = text(
    """
    UPDATE alert_delivery d SET status = 'cancelled',
        last_error = CASE WHEN k.revoked_at IS NOT NULL THEN 'the rule''s API key was revoked'
                          ELSE 'the rule was deleted' END
    FROM alert_event e JOIN alert_rule r ON r.id = e.rule_id JOIN api_key k ON k.id = r.api_key_id
    WHERE d.event_id = e.id AND d.status = 'pending'
      AND (r.deleted_at IS NOT NULL OR NOT r.active OR k.revoked_at IS NOT NULL)
    """
)
_CLAIM = text(
    """
    WITH due AS (
        SELECT id FROM alert_delivery
        WHERE status = 'pending' AND next_attempt_at <= :now
        ORDER BY next_attempt_at, id
        LIMIT :batch
        FOR UPDATE SKIP LOCKED
    )
    UPDATE alert_delivery d
    SET attempts = d.attempts + 1, next_attempt_at = :lease_until
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.attempts, d.event_id
    """
)
_JOBS = text(
    """
    SELECT e.id AS event_id, r.id AS rule_id, r.name, r.target, r.metric, r.direction,
           r.channel, e.value, e.previous_value, e.threshold, e.crossed_at
    FROM alert_event e JOIN alert_rule r ON r.id = e.rule_id
    WHERE e.id = ANY(:ids)
    """
)


def _claim(engine: Engine, now: datetime) -> list[_Job]:
    with engine.begin() as conn:
        claimed = conn.execute(
            _CLAIM, {"now": now, "batch": BATCH, "lease_until": now + LEASE}
        ).all()
        if not claimed:
            return []
        details = {
            row.event_id: row for row in conn.execute(_JOBS, {"ids": [c.event_id for c in claimed]})
        }
    jobs = []
    for delivery_id, attempt, event_id in claimed:
        d = details[event_id]
        jobs.append(
            _Job(
                delivery_id,
                attempt,
                event_id,
                d.rule_id,
                d.name,
                d.target,
                d.metric,
                d.direction,
                d.channel,
                d.value,
                d.previous_value,
                d.threshold,
                d.crossed_at,
            )
        )
    return jobs


def _record(engine: Engine, outcome: _Outcome, max_attempts: int, now: datetime) -> str:
    job = outcome.job
    if outcome.error is None:
        status, values = (
            "delivered",
            {"status": "delivered", "delivered_at": datetime.now(UTC), "last_error": None},
        )
    elif job.attempt >= max_attempts:
        status, values = "failed", {"status": "failed", "last_error": outcome.error}
    else:
        status = "retrying"
        values = {"next_attempt_at": now + backoff(job.attempt), "last_error": outcome.error}
    with engine.begin() as conn:
        conn.execute(
            insert(_attempts).values(
                delivery_id=job.delivery_id,
                attempt=job.attempt,
                attempted_at=outcome.attempted_at,
                duration_ms=outcome.duration_ms,
                ok=outcome.error is None,
                error=outcome.error,
            )
        )
        conn.execute(
            update(_deliveries)
            .where(_deliveries.c.id == job.delivery_id, _deliveries.c.status == "pending")
            .values(values)
        )
    return status


def prefect_api_configured() -> bool:
    try:
        from prefect.settings import PREFECT_API_URL

        return bool(PREFECT_API_URL.value())
    except Exception:
        return False


def emit_prefect_event(outcome: _Outcome, status: str) -> None:
    """One Prefect event per alert; never raises (delivery must not depend on Prefect)."""
    if not prefect_api_configured():
        return
    job = outcome.job
    try:
        import prefect.events

        prefect.events.emit_event(
            event=f"costcurve.alert.{status}",
            resource={
                "prefect.resource.id": f"costcurve.alert-rule.{job.rule_id}",
                "prefect.resource.name": job.rule_name,
            },
            related=[
                {
                    "prefect.resource.id": f"costcurve.alert-event.{job.event_id}",
                    "prefect.resource.role": "alert-event",
                }
            ],
            payload={
                "rule_id": job.rule_id,
                "event_id": job.event_id,
                "target": describe_target(job.target, job.metric),
                "metric": job.metric,
                "direction": job.direction,
                "value": str(job.value),
                "previous_value": None if job.previous_value is None else str(job.previous_value),
                "threshold": str(job.threshold),
                "crossed_at": job.crossed_at.astimezone(UTC).isoformat(),
                "channel": mask_channel(job.channel),
                "attempts": job.attempt,
                "error": outcome.error,
            },
        )
    except Exception as exc:
        log.warning("could not emit the Prefect event for alert %s: %s", job.event_id, exc)


def deliver_pending(
    engine: Engine,
    *,
    max_attempts: int = 8,
    now: datetime | None = None,
    allow_private: bool | None = None,
) -> DeliveryStats:
    """Send every due outbox row once; returns what happened.

    ``now`` (default: the clock) decides which rows are due and is the base of
    the next retry time, so tests can step time. ``allow_private`` defaults to
    the ``alerts_allow_private_targets`` setting.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if allow_private is None:
        from costcurve.config import get_settings

        allow_private = get_settings().alerts_allow_private_targets
    now = now or datetime.now(UTC)
    stats = DeliveryStats()
    with engine.begin() as conn:
        stats.cancelled = conn.execute(_CANCEL).rowcount
    logs = _ThreadLogs()
    apprise_logger = logging.getLogger("apprise")
    apprise_logger.addHandler(logs)
    try:
        with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="alert") as pool:
            while jobs := _claim(engine, now):
                for outcome in pool.map(lambda j: _send(j, logs, bool(allow_private)), jobs):
                    status = _record(engine, outcome, max_attempts, now)
                    stats.attempted += 1
                    if status == "delivered":
                        stats.delivered += 1
                    elif status == "failed":
                        stats.failed += 1
                    else:
                        stats.retrying += 1
                    if status != "retrying":
                        emit_prefect_event(outcome, status)
                if len(jobs) < BATCH:
                    break
    finally:
        apprise_logger.removeHandler(logs)
    return stats
