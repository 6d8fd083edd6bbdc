"""End to end: recorded RunPod snapshots are ingested, rules evaluated, and alerts
delivered through Apprise to a real HTTP receiver on 127.0.0.1.

RunPod ``gpuTypes`` captures, Secure Cloud (``on_demand``) prices read in the files:
H100 SXM 2.99 on 2026-08-03 and 3.29 on 2026-08-05; RTX PRO 4500 0.74 then 0.72.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from costcurve.alerts import evaluate as alerts_evaluate
from costcurve.alerts.delivery import deliver_pending
from costcurve.alerts.evaluate import evaluate_rules
from costcurve.alerts.keys import create_key
from costcurve.config import get_settings
from db.pipeline import ingest_raw
from tests.conftest import LiveServer, free_port
from tests.support import fixture_files, observed_at_for


class Receiver:
    """A tiny webhook receiver: records every POST body and when it arrived."""

    def __init__(self, port: int | None = None, status: int = 200) -> None:
        self.port = port or free_port()
        self.status = status
        self.bodies: list[dict[str, Any]] = []
        self.arrived: list[float] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def channel(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                receiver.arrived.append(time.time())
                receiver.bodies.append(json.loads(body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("COSTCURVE_ALERTS_ALLOW_PRIVATE_TARGETS", "true")
    get_settings.cache_clear()
    assert get_settings().alerts_allow_private_targets
    yield
    get_settings.cache_clear()


def runpod_capture(day: str) -> Path:
    files = [p for p in fixture_files("runpod", "graphql_gpuTypes_*.json") if p and day in p.name]
    if not files:
        pytest.skip(f"RunPod gpuTypes capture of {day} not found")
    return files[0]


def ingest_runpod(engine: Engine, day: str) -> None:
    path = runpod_capture(day)
    ingest_raw(engine, "runpod", path.read_bytes(), observed_at=observed_at_for(path))


def make_rule(
    engine: Engine,
    channel: str,
    *,
    target: dict[str, Any],
    metric: str = "usd_per_gpu_hour",
    threshold: str,
    direction: str = "below",
    key_id: int | None = None,
) -> int:
    key_id = key_id or create_key(engine, "tests").id
    with engine.begin() as conn:
        return int(
            conn.execute(
                text(
                    "INSERT INTO alert_rule (api_key_id, name, target, metric, threshold, "
                    "direction, channel, active, created_at) VALUES (:k, 'test rule', "
                    "CAST(:t AS jsonb), :m, :th, :d, :c, true, now()) RETURNING id"
                ),
                {
                    "k": key_id,
                    "t": json.dumps(target),
                    "m": metric,
                    "th": Decimal(threshold),
                    "d": direction,
                    "c": channel,
                },
            ).scalar_one()
        )


def gpu_target(gpu: str) -> dict[str, Any]:
    return {"type": "gpu", "gpu": gpu, "pricing": "on_demand", "provider": None}


def count(engine: Engine, sql: str, **params: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def run_alerts(engine: Engine) -> list[int]:
    ids = evaluate_rules(engine)
    deliver_pending(engine)
    return ids


@pytest.mark.parametrize(
    ("gpu", "direction", "threshold", "before", "after"),
    [
        ("H100-SXM-80GB", "above", "3.00", "2.99", "3.29"),
        ("RTXPRO4500-32GB", "below", "0.73", "0.74", "0.72"),
    ],
)
def test_crossing_between_two_runpod_snapshots_delivers_exactly_one_alert(
    engine: Engine,
    receiver: Receiver,
    allow_private: None,
    live_api: LiveServer,
    gpu: str,
    direction: str,
    threshold: str,
    before: str,
    after: str,
) -> None:
    key = create_key(engine, "e2e")
    created = httpx.post(
        f"{live_api.url}/v1/alert-rules",
        headers={"X-API-Key": key.secret},
        json={
            "name": f"{gpu} {direction} {threshold}",
            "target": {"type": "gpu", "gpu": gpu, "pricing": "on_demand"},
            "metric": "usd_per_gpu_hour",
            "threshold": threshold,
            "direction": direction,
            "channel": receiver.channel,
        },
    )
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]

    ingest_runpod(engine, "2026-08-03")
    assert run_alerts(engine) == []
    assert receiver.bodies == []

    ingest_runpod(engine, "2026-08-05")
    new = run_alerts(engine)
    assert len(new) == 1
    assert len(receiver.bodies) == 1
    body = receiver.bodies[0]
    verb = "rose above" if direction == "above" else "fell below"
    assert f"{verb} {threshold} $/GPU-hour" in body["message"]
    assert f"now {after} $/GPU-hour (was {before} $/GPU-hour)" in body["message"]
    assert body["costcurve_event_id"] == str(new[0])
    assert body["costcurve_rule_id"] == str(rule_id)
    assert (body["value"], body["previous_value"], body["threshold"]) == (after, before, threshold)

    # The same snapshot again changes no price, so nothing fires; neither does re-evaluating.
    ingest_runpod(engine, "2026-08-05")
    assert run_alerts(engine) == []
    assert evaluate_rules(engine, since=datetime(2000, 1, 1, tzinfo=UTC)) == []
    assert len(receiver.bodies) == 1

    with engine.connect() as conn:
        event = conn.execute(
            text(
                "SELECT e.value, e.previous_value, e.threshold, v.usd_per_gpu_hour, v.valid_from, "
                "o.gpu, o.pricing FROM alert_event e "
                "JOIN gpu_rate_version v ON v.id = e.gpu_rate_version_id "
                "JOIN gpu_offering o ON o.id = v.offering_id"
            )
        ).one()
    assert event[:4] == (Decimal(after), Decimal(before), Decimal(threshold), Decimal(after))
    assert event[4] == datetime(2026, 8, 5, tzinfo=UTC)
    assert event[5:] == (gpu, "on_demand")

    events = httpx.get(
        f"{live_api.url}/v1/alert-rules/{rule_id}/events", headers={"X-API-Key": key.secret}
    ).json()["items"]
    assert len(events) == 1
    assert events[0]["value"] == float(after)
    assert events[0]["delivery"]["status"] == "delivered"
    assert events[0]["delivery"]["attempts"] == 1


def test_concurrent_evaluations_record_one_event_because_of_the_constraint(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule_id = make_rule(
        engine,
        "json://127.0.0.1:9/hook",
        target=gpu_target("H100-SXM-80GB"),
        threshold="3",
        direction="above",
    )
    ingest_runpod(engine, "2026-08-03")
    ingest_runpod(engine, "2026-08-05")

    # Every evaluator computes the crossing before any of them inserts it.
    workers = 4
    barrier = threading.Barrier(workers, timeout=30)
    real = alerts_evaluate.find_crossings

    def synchronised(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        barrier.wait()
        return found

    monkeypatch.setattr(alerts_evaluate, "find_crossings", synchronised)
    results: list[list[int]] = []
    threads = [
        threading.Thread(target=lambda: results.append(evaluate_rules(engine)))
        for _ in range(workers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(len(r) for r in results) == [0, 0, 0, 1]
    assert count(engine, "SELECT count(*) FROM alert_event WHERE rule_id = :r", r=rule_id) == 1
    assert count(engine, "SELECT count(*) FROM alert_delivery") == 1

    # The guarantee is the unique constraint itself, not the code path.
    with pytest.raises(IntegrityError, match="uq_alert_crossing"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO alert_event (rule_id, crossing_key, value, threshold, crossed_at, "
                "fired_at) SELECT rule_id, crossing_key, value, threshold, crossed_at, now() "
                "FROM alert_event"
            )
        )


def test_receiver_that_is_down_gets_the_alert_after_it_comes_back(
    engine: Engine, allow_private: None
) -> None:
    down = Receiver()  # not started: connections are refused
    make_rule(engine, down.channel, target=gpu_target("RTXPRO4500-32GB"), threshold="0.73")
    ingest_runpod(engine, "2026-08-03")
    ingest_runpod(engine, "2026-08-05")
    assert len(evaluate_rules(engine)) == 1

    t0 = datetime.now(UTC)
    first = deliver_pending(engine, now=t0)
    assert (first.attempted, first.delivered, first.retrying) == (1, 0, 1)
    with engine.connect() as conn:
        status, attempts, due, error = conn.execute(
            text("SELECT status, attempts, next_attempt_at, last_error FROM alert_delivery")
        ).one()
    assert (status, attempts) == ("pending", 1)
    assert t0 + timedelta(seconds=15) <= due <= t0 + timedelta(seconds=30)  # backoff, jittered
    assert "Connection error" in error
    assert deliver_pending(engine, now=t0).attempted == 0  # not due yet

    down.start()
    try:
        second = deliver_pending(engine, now=due + timedelta(seconds=1))
        assert (second.attempted, second.delivered) == (1, 1)
        assert len(down.bodies) == 1
        assert "0.72" in down.bodies[0]["message"]
    finally:
        down.stop()
    with engine.connect() as conn:
        attempts_rows = conn.execute(
            text("SELECT attempt, ok, error IS NULL FROM alert_delivery_attempt ORDER BY id")
        ).all()
        status = conn.execute(text("SELECT status FROM alert_delivery")).scalar_one()
    assert [tuple(r) for r in attempts_rows] == [(1, False, False), (2, True, True)]
    assert status == "delivered"


def test_failing_receiver_is_retried_with_backoff_then_given_up(
    engine: Engine, allow_private: None
) -> None:
    broken = Receiver(status=500).start()
    try:
        make_rule(engine, broken.channel, target=gpu_target("RTXPRO4500-32GB"), threshold="0.73")
        ingest_runpod(engine, "2026-08-03")
        ingest_runpod(engine, "2026-08-05")
        evaluate_rules(engine)
        now = datetime.now(UTC)
        outcomes = []
        for _ in range(3):
            stats = deliver_pending(engine, max_attempts=3, now=now)
            outcomes.append((stats.attempted, stats.retrying, stats.failed))
            now += timedelta(hours=2)  # past any backoff
        assert outcomes == [(1, 1, 0), (1, 1, 0), (1, 0, 1)]
        assert deliver_pending(engine, max_attempts=3, now=now).attempted == 0
        assert len(broken.bodies) == 3  # every attempt reached the receiver
    finally:
        broken.stop()
    with engine.connect() as conn:
        status, attempts, error = conn.execute(
            text("SELECT status, attempts, last_error FROM alert_delivery")
        ).one()
        errors = (
            conn.execute(text("SELECT error FROM alert_delivery_attempt WHERE NOT ok ORDER BY id"))
            .scalars()
            .all()
        )
    assert (status, attempts) == ("failed", 3)
    assert len(errors) == 3
    assert all("error=500" in e for e in errors)
    assert "error=500" in error


def test_delivery_refuses_a_private_target_when_the_setting_is_off(
    engine: Engine, receiver: Receiver
) -> None:
    # A rule that reaches a loopback address (e.g. its DNS changed after creation).
    make_rule(engine, receiver.channel, target=gpu_target("RTXPRO4500-32GB"), threshold="0.73")
    ingest_runpod(engine, "2026-08-03")
    ingest_runpod(engine, "2026-08-05")
    evaluate_rules(engine)
    stats = deliver_pending(engine, allow_private=False)
    assert (stats.attempted, stats.delivered, stats.retrying) == (1, 0, 1)
    assert receiver.bodies == []
    with engine.connect() as conn:
        error = conn.execute(text("SELECT last_error FROM alert_delivery")).scalar_one()
    assert error.startswith("refused: host '127.0.0.1' resolves to 127.0.0.1, a loopback")


def test_alert_of_a_deleted_rule_is_cancelled_not_sent(
    engine: Engine, receiver: Receiver, allow_private: None
) -> None:
    rule_id = make_rule(
        engine, receiver.channel, target=gpu_target("RTXPRO4500-32GB"), threshold="0.73"
    )
    ingest_runpod(engine, "2026-08-03")
    ingest_runpod(engine, "2026-08-05")
    evaluate_rules(engine)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE alert_rule SET active = false, deleted_at = now() WHERE id = :r"),
            {"r": rule_id},
        )
    stats = deliver_pending(engine)
    assert (stats.attempted, stats.cancelled) == (0, 1)
    assert receiver.bodies == []


def test_a_prefect_event_is_emitted_per_delivered_alert(
    engine: Engine, receiver: Receiver, allow_private: None
) -> None:
    from prefect.events.clients import AssertingEventsClient
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings

    rule_id = make_rule(
        engine, receiver.channel, target=gpu_target("RTXPRO4500-32GB"), threshold="0.73"
    )
    ingest_runpod(engine, "2026-08-03")
    ingest_runpod(engine, "2026-08-05")
    (event_id,) = evaluate_rules(engine)
    EventsWorker.set_client_override(AssertingEventsClient)
    try:
        with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
            assert deliver_pending(engine).delivered == 1
            EventsWorker.instance().drain()
        assert AssertingEventsClient.last is not None
        emitted = AssertingEventsClient.last.events
    finally:
        EventsWorker.set_client_override(None)
    assert len(emitted) == 1
    event = emitted[0]
    assert event.event == "costcurve.alert.delivered"
    assert event.resource.id == f"costcurve.alert-rule.{rule_id}"
    assert event.payload["event_id"] == event_id
    assert event.payload["value"] == "0.72"
    assert event.payload["channel"] == receiver.channel.removesuffix("hook") + "****"


def test_delivery_succeeds_when_emitting_the_prefect_event_fails(
    engine: Engine, receiver: Receiver, allow_private: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prefect.events
    from prefect.settings import PREFECT_API_URL, temporary_settings

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Prefect API unreachable")

    monkeypatch.setattr(prefect.events, "emit_event", broken)
    make_rule(engine, receiver.channel, target=gpu_target("RTXPRO4500-32GB"), threshold="0.73")
    ingest_runpod(engine, "2026-08-03")
    ingest_runpod(engine, "2026-08-05")
    evaluate_rules(engine)
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert deliver_pending(engine).delivered == 1
    assert len(receiver.bodies) == 1


def test_no_prefect_event_is_attempted_without_a_prefect_api(
    engine: Engine, receiver: Receiver, allow_private: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prefect.events
    from prefect.settings import PREFECT_API_URL, temporary_settings

    calls: list[Any] = []
    monkeypatch.setattr(prefect.events, "emit_event", lambda *a, **k: calls.append(k))  # noqa: ARG005
    make_rule(engine, receiver.channel, target=gpu_target("RTXPRO4500-32GB"), threshold="0.73")
    ingest_runpod(engine, "2026-08-03")
    ingest_runpod(engine, "2026-08-05")
    evaluate_rules(engine)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert deliver_pending(engine).delivered == 1
    assert calls == []
