"""The scrape steps and reports without Prefect: replay planning, persist, failures, artifacts."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from costcurve.core.observations import ParseError
from db.pipeline import RunSpec
from flows.fetchers import Snapshot, read_recording, recorded_sources, recordings, replay_plan
from flows.steps import (
    parse_snapshot,
    percent_change,
    persist_snapshot,
    record_failure,
)
from tests.support import FIXTURES, observed_at_for, require_shared

FLOW_RUN = uuid.UUID("00000000-0000-4000-8000-000000000001")


def _touch(folder: Path, name: str, body: bytes = b"{}") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(body)
    return path


def test_replay_reads_the_newest_recording_or_every_one_in_date_order(tmp_path: Path) -> None:
    folder = tmp_path / "openrouter"
    _touch(folder, "models_2026-07-21.json")
    _touch(folder, "models_2025-12-29.json")
    _touch(folder, "capture_wayback_20260801120000.html")
    newest = replay_plan(tmp_path, "openrouter", all_dates=False)
    assert [r.path.name for r in newest] == ["capture_wayback_20260801120000.html"]
    every = replay_plan(tmp_path, "openrouter", all_dates=True)
    assert [r.observed_at.date().isoformat() for r in every] == [
        "2025-12-29",
        "2026-07-21",
        "2026-08-01",
    ]
    assert all(r.observed_at.tzinfo is not None for r in every)


def test_recordings_of_one_day_are_read_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "openai"
    _touch(folder, "pricing_jina_md_2026-05-08.md")
    _touch(folder, "pricing_BLOCKED_cloudflare_2026-05-08.html")
    names = [r.path.name for r in recordings(tmp_path, "openai")]
    assert names == ["pricing_BLOCKED_cloudflare_2026-05-08.html", "pricing_jina_md_2026-05-08.md"]


def test_an_undated_recording_is_never_dated_by_its_modification_time(tmp_path: Path) -> None:
    path = _touch(tmp_path / "aws", "ec2_subset.json")
    os.utime(path, (1_780_000_000, 1_780_000_000))
    _touch(tmp_path / "aws", "ec2_2026-09-30.json")
    (only,) = recordings(tmp_path, "aws")
    assert only.path.name == "ec2_2026-09-30.json"


def test_folders_that_are_not_sources_are_ignored(tmp_path: Path) -> None:
    for name in ("openrouter", "openrouter_frontend", "runpod"):
        _touch(tmp_path / name, "x_2026-01-01.json")
    assert recorded_sources(tmp_path, {"openrouter", "runpod", "xai"}) == ["openrouter", "runpod"]
    assert replay_plan(tmp_path, "xai", all_dates=True) == []


def test_a_recording_becomes_a_snapshot_with_the_production_url(tmp_path: Path) -> None:
    path = _touch(tmp_path / "deepseek", "pricing_2026-05-08.html", b"<html></html>")
    (recording,) = recordings(tmp_path, "deepseek")
    snapshot = read_recording("deepseek", recording)
    assert snapshot.raw == b"<html></html>"
    assert snapshot.url.startswith("https://api-docs.deepseek.com")
    assert snapshot.origin == str(path)
    assert "bytes" in repr(snapshot)
    assert "<html>" not in repr(snapshot)


def _snapshot(path: Path, source: str = "openrouter") -> Snapshot:
    return Snapshot(source, path.read_bytes(), observed_at_for(path), "https://x", str(path))


def _runs(engine: Engine) -> list[Any]:
    query = (
        "SELECT source, status, flow_run_id, trigger, snapshot_sha256 IS NOT NULL, error "
        "FROM pipeline_run ORDER BY id"
    )
    with engine.connect() as conn:
        return list(conn.execute(text(query)).all())


def _spec(snapshot: Snapshot, trigger: str) -> RunSpec:
    return RunSpec(trigger, FLOW_RUN, snapshot.observed_at)


def test_persist_versions_a_snapshot_once_and_links_the_flow_run(engine: Engine) -> None:
    require_shared()
    path = FIXTURES / "openrouter" / "api_v1_models_data_2026-07-17.json"
    snapshot = _snapshot(path)
    observations = parse_snapshot(snapshot)
    first = persist_snapshot(engine, snapshot, observations, _spec(snapshot, "replay"))
    assert first.status == "succeeded"
    assert first.new_versions == len(observations) > 300
    assert first.new_offerings == first.new_versions
    assert first.changes == []
    again = persist_snapshot(engine, snapshot, observations, _spec(snapshot, "replay"))
    assert (again.new_versions, again.closed_versions) == (0, 0)
    assert again.unchanged == len(observations)
    runs = _runs(engine)
    assert [r[:5] for r in runs] == [("openrouter", "succeeded", FLOW_RUN, "replay", True)] * 2


def test_a_price_that_moved_is_a_change_row_with_its_percent(engine: Engine) -> None:
    require_shared()
    folder = FIXTURES / "openrouter"
    for name in ("api_v1_models_data_2026-07-17.json", "api_v1_models_data_2026-07-21.json"):
        snapshot = _snapshot(folder / name)
        spec = RunSpec("flow", None, snapshot.observed_at)
        result = persist_snapshot(engine, snapshot, parse_snapshot(snapshot), spec)
    rows = {(r["offering"], r["price"]): r for r in result.changes}
    hy3_in = rows[("tencent/hy3", "input_usd_per_mtok")]
    assert (hy3_in["old"], hy3_in["new"], hy3_in["change_pct"]) == ("0.2", "0.14", "-30.0%")
    hy3_out = rows[("tencent/hy3", "output_usd_per_mtok")]
    assert (hy3_out["old"], hy3_out["new"], hy3_out["change_pct"]) == ("0.8", "0.58", "-27.5%")
    assert hy3_in["at"] == "2026-07-21"
    assert hy3_in["provider"] == "openrouter"
    assert "hy3" in result.affected_models


def test_a_parse_failure_is_a_failed_run_that_keeps_the_raw_response(engine: Engine) -> None:
    snapshot = Snapshot(
        "openrouter", b'{"unexpected": true}', datetime(2026, 8, 9, tzinfo=UTC), "https://x", "f"
    )
    with pytest.raises(ParseError) as caught:
        parse_snapshot(snapshot)
    result = record_failure(
        engine,
        "openrouter",
        caught.value,
        snapshot,
        _spec(snapshot, "flow"),
        origin="f",
    )
    assert result.status == "failed"
    assert result.error
    assert result.error.startswith("parse failed")
    (run,) = _runs(engine)
    assert run[:5] == ("openrouter", "failed", FLOW_RUN, "flow", True)
    assert "openrouter" in run[5]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM llm_price_version")).scalar_one() == 0


def test_a_fetch_failure_is_a_failed_run_without_a_snapshot(engine: Engine) -> None:
    error = httpx.ConnectError("connection refused")
    spec = RunSpec("flow", FLOW_RUN, None)
    result = record_failure(engine, "xai", error, None, spec, origin="network")
    assert result.error == "fetch failed: ConnectError: connection refused"
    (run,) = _runs(engine)
    assert run[:5] == ("xai", "failed", FLOW_RUN, "flow", False)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [("2", "1", "-50.0%"), ("0.1", "0.125", "+25.0%"), ("0", "1", None), (None, "1", None)],
)
def test_percent_change(old: str | None, new: str, expected: str | None) -> None:
    value = percent_change(Decimal(old) if old else None, Decimal(new))
    assert value == expected


def test_fetch_tasks_do_not_retry_so_attempts_do_not_multiply() -> None:
    from flows.backfill import fetch_dataset
    from flows.tasks import fetch

    assert fetch.retries == 0
    assert fetch_dataset.retries == 0


@pytest.mark.parametrize("status", [503, 429])
def test_the_http_layer_makes_exactly_its_attempts_against_a_failing_host(status: int) -> None:
    from scrapers.http import ATTEMPTS, request_bytes

    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(status)

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        pytest.raises(httpx.HTTPStatusError),
    ):
        request_bytes(client, f"https://failing.invalid/{status}", backoff_base=0.0)
    assert len(calls) == ATTEMPTS == 4


def test_a_permanent_http_error_is_not_retried() -> None:
    from scrapers.http import request_bytes

    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(404)

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as client,
        pytest.raises(httpx.HTTPStatusError),
    ):
        request_bytes(client, "https://failing.invalid/404", backoff_base=0.0)
    assert len(calls) == 1
