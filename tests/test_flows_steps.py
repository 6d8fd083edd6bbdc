"""The scrape steps and reports without Prefect: replay planning, persist, failures, artifacts."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from costcurve.core.observations import ParseError
from flows import report
from flows.fetchers import Snapshot, read_recording, recorded_sources, recordings, replay_plan
from flows.steps import (
    SourceResult,
    parse_snapshot,
    percent_change,
    persist_snapshot,
    record_failure,
)
from flows.tasks import is_transient
from tests.support import FIXTURES, fixture_files, observed_at_for, require_shared

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
    assert "bytes" in repr(snapshot) and "<html>" not in repr(snapshot)


def _snapshot(path: Path, source: str = "openrouter") -> Snapshot:
    return Snapshot(source, path.read_bytes(), observed_at_for(path), "https://x", str(path))


def _runs(engine: Engine) -> list[Any]:
    query = (
        "SELECT source, status, flow_run_id, trigger, snapshot_sha256 IS NOT NULL, error "
        "FROM pipeline_run ORDER BY id"
    )
    with engine.connect() as conn:
        return list(conn.execute(text(query)).all())


def test_persist_versions_a_snapshot_once_and_links_the_flow_run(engine: Engine) -> None:
    require_shared()
    path = FIXTURES / "openrouter" / "api_v1_models_data_2026-07-17.json"
    snapshot = _snapshot(path)
    observations = parse_snapshot(snapshot)
    first = persist_snapshot(engine, snapshot, observations, trigger="replay", flow_run_id=FLOW_RUN)
    assert first.status == "succeeded" and first.new_versions == len(observations) > 300
    assert first.new_offerings == first.new_versions and first.changes == []
    again = persist_snapshot(engine, snapshot, observations, trigger="replay", flow_run_id=FLOW_RUN)
    assert (again.new_versions, again.closed_versions) == (0, 0)
    assert again.unchanged == len(observations)
    runs = _runs(engine)
    assert [r[:5] for r in runs] == [("openrouter", "succeeded", FLOW_RUN, "replay", True)] * 2


def test_a_price_that_moved_is_a_change_row_with_its_percent(engine: Engine) -> None:
    require_shared()
    folder = FIXTURES / "openrouter"
    for name in ("api_v1_models_data_2026-07-17.json", "api_v1_models_data_2026-07-21.json"):
        snapshot = _snapshot(folder / name)
        result = persist_snapshot(
            engine, snapshot, parse_snapshot(snapshot), trigger="flow", flow_run_id=None
        )
    rows = {(r["offering"], r["price"]): r for r in result.changes}
    hy3_in = rows[("tencent/hy3", "input_usd_per_mtok")]
    assert (hy3_in["old"], hy3_in["new"], hy3_in["change_pct"]) == ("0.2", "0.14", "-30.0%")
    hy3_out = rows[("tencent/hy3", "output_usd_per_mtok")]
    assert (hy3_out["old"], hy3_out["new"], hy3_out["change_pct"]) == ("0.8", "0.58", "-27.5%")
    assert hy3_in["at"] == "2026-07-21" and hy3_in["provider"] == "openrouter"
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
        trigger="flow",
        flow_run_id=FLOW_RUN,
        origin="f",
    )
    assert result.status == "failed" and result.error and result.error.startswith("parse failed")
    (run,) = _runs(engine)
    assert run[:5] == ("openrouter", "failed", FLOW_RUN, "flow", True)
    assert "openrouter" in run[5]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM llm_price_version")).scalar_one() == 0


def test_a_fetch_failure_is_a_failed_run_without_a_snapshot(engine: Engine) -> None:
    error = httpx.ConnectError("connection refused")
    result = record_failure(
        engine, "xai", error, None, trigger="flow", flow_run_id=FLOW_RUN, origin="network"
    )
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


def _state(exc: BaseException) -> SimpleNamespace:
    return SimpleNamespace(data=exc)


def _status_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "https://example.com")
    return httpx.HTTPStatusError("x", request=request, response=httpx.Response(status))


@pytest.mark.parametrize(
    ("exc", "retry"),
    [
        (httpx.ConnectTimeout("slow"), True),
        (_status_error(503), True),
        (_status_error(429), True),
        (_status_error(403), False),
        (_status_error(404), False),
        (FileNotFoundError("gone"), False),
        (ParseError("xai", "changed"), False),
    ],
)
def test_only_transient_fetch_errors_are_retried(exc: BaseException, retry: bool) -> None:
    assert is_transient(None, None, _state(exc)) is retry  # type: ignore[arg-type]


def _result(source: str, status: str = "succeeded", **kw: object) -> SourceResult:
    when = datetime(2026, 8, 3, tzinfo=UTC)
    return SourceResult(source, status, 1, when, "/r/x_2026-08-03.json", **kw)  # type: ignore[arg-type]


def test_summary_markdown_lists_sources_counts_and_errors() -> None:
    results = [
        _result("xai", new_versions=6, observations=6),
        _result("moonshot", "failed", error="parse failed: moonshot: overview | no prices"),
    ]
    text_ = report.markdown("llm_price", results, ["groq: nothing recorded"])
    assert "**1 sources ok, 1 failed**" in text_
    assert "| xai | 2026-08-03 `x_2026-08-03.json` | ok | 1 | 6 | 6 | 0 | 0 |" in text_
    assert "- **moonshot**: parse failed: moonshot: overview \\| no prices" in text_
    assert "- groq: nothing recorded" in text_
    summary = report.summary(results, [])
    assert summary["sources_ok"] == ["xai"] and list(summary["sources_failed"]) == ["moonshot"]


def test_links_point_at_the_cost_curves_of_affected_tiers_and_moved_gpu_rates() -> None:
    from costcurve.catalog import load_models

    frontier = next(m for m in load_models().values() if m.tier == "frontier")
    results = [
        _result("openrouter", affected_models={frontier.slug, "not-in-catalog"}),
        _result("runpod", affected_gpus={"H100-SXM-80GB"}),
    ]
    links = report.curve_links(results, "http://api")
    assert links == [
        ("http://api/v1/cost-curve?tier=frontier", "cost curve, frontier tier"),
        ("http://api/v1/gpu-rates?gpu=H100-SXM-80GB", "GPU rates, H100-SXM-80GB"),
    ]
    only_new = [_result("runpod", gpu_rates_added=3)]
    assert report.curve_links(only_new, "http://api") == [
        ("http://api/v1/gpu-rates", "GPU rates, all")
    ]


def test_artifact_keys_are_lowercase_dashes() -> None:
    assert report._key("GPU rates, H100-SXM-80GB") == "gpu-rates-h100-sxm-80gb"


def test_every_fixture_source_folder_used_by_replay_is_a_registered_source() -> None:
    require_shared()
    from scrapers.registry import sources

    found = recorded_sources(FIXTURES, set(sources()))
    assert "openrouter_frontend" not in found
    assert {"openrouter", "runpod", "litellm"} <= set(found)
    assert fixture_files("openrouter")  # the support helper sees the same files
