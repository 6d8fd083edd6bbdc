"""The flows end to end on a temporary Prefect server (prefect_test_harness), in replay mode.

Few and small on purpose: each flow run replays the newest recording of a
handful of small sources. The steps themselves are tested without Prefect in
tests/test_flows_steps.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from flows.fetchers import replay_plan
from flows.runtime import engine_in_use
from tests.conftest import free_port
from tests.support import FIXTURES, require_shared

pytestmark = pytest.mark.slow

LLM_SOURCES = ["deepseek", "xai"]
GPU_SOURCES = ["lambda", "coreweave"]
STEPS = ("fetch", "parse", "persist")


@pytest.fixture(scope="module", autouse=True)
def harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(autouse=True)
def no_live_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Flows warm the API's curves; point them at a port where nothing listens."""
    from costcurve.config import get_settings

    monkeypatch.setenv("COSTCURVE_API_PORT", str(free_port()))
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def flow_engine(engine: Engine) -> Iterator[Engine]:
    with engine_in_use(engine):
        yield engine


def _replay_dir(tmp_path: Path, sources: list[str]) -> Path:
    """A replay directory of real recordings (symlinked in place, never copied)."""
    require_shared()
    root = tmp_path / "replay"
    root.mkdir()
    for source in sources:
        (root / source).symlink_to(FIXTURES / source, target_is_directory=True)
    return root


def _run(flow: Any, **params: Any) -> Any:
    call = flow(**params, return_state=True)
    return asyncio.run(call) if asyncio.iscoroutine(call) else call


def _task_runs(flow_run_id: uuid.UUID, expected: int) -> list[Any]:
    """Task runs reach the server through events: wait until all have a final state."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            final = [r for r in runs if r.state and r.state.is_final()]
            if len(final) >= expected or time.monotonic() > deadline:
                return final
            time.sleep(0.3)


def _artifacts(flow_run_id: uuid.UUID) -> dict[str, Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {str(a.key): a for a in found}


def _pipeline_runs(engine: Engine) -> list[Any]:
    query = "SELECT source, status, flow_run_id, error FROM pipeline_run ORDER BY source, id"
    with engine.connect() as conn:
        return list(conn.execute(text(query)).all())


def test_scrape_llm_prices_replays_each_source_as_its_own_task_chain(
    flow_engine: Engine, tmp_path: Path
) -> None:
    from flows.scrape import scrape_llm_prices

    replay = _replay_dir(tmp_path, LLM_SOURCES)
    state = _run(scrape_llm_prices, replay_dir=str(replay))
    assert state.is_completed(), state.message
    summary = state.result()
    assert summary["sources_ok"] == LLM_SOURCES
    assert summary["sources_failed"] == {}
    assert summary["new_versions"] == summary["observations"] > 0
    flow_run_id = state.state_details.flow_run_id

    runs = _pipeline_runs(flow_engine)
    assert [(r[0], r[1], r[2]) for r in runs] == [
        (s, "succeeded", flow_run_id) for s in LLM_SOURCES
    ]
    tasks = {r.name: r for r in _task_runs(flow_run_id, 3 * len(LLM_SOURCES))}
    for source in LLM_SOURCES:
        # Named after the recording they read: the newest of each source.
        (newest,) = replay_plan(replay, source, all_dates=False)
        day = newest.observed_at.date().isoformat()
        fetched, parsed, persisted = (tasks[f"{step}-{source}-{day}"] for step in STEPS)
        assert all(t.state.is_completed() for t in (fetched, parsed, persisted))
        # The task graph: parse reads what fetch returned, persist what parse produced.
        assert [i.id for i in parsed.task_inputs["snapshot"]] == [fetched.id]
        assert parsed.id in [i.id for i in persisted.task_inputs["observations"]]

    artifacts = _artifacts(flow_run_id)
    assert artifacts["scrape-llm-prices-summary"].type == "markdown"
    summary_md = artifacts["scrape-llm-prices-summary"].data
    assert "**2 sources ok, 0 failed**" in summary_md
    assert "| deepseek |" in summary_md
    assert artifacts["scrape-llm-prices-price-changes"].type == "table"
    assert any(key.startswith("cost-curve-") for key in artifacts), sorted(artifacts)


def test_a_broken_page_fails_its_own_task_and_the_other_sources_still_ingest(
    flow_engine: Engine, tmp_path: Path
) -> None:
    from flows.scrape import scrape_llm_prices

    replay = _replay_dir(tmp_path, ["xai"])
    (replay / "deepseek").mkdir()
    (replay / "deepseek" / "pricing_2026-08-09.html").write_text("<html><p>Maintenance</p></html>")
    state = _run(scrape_llm_prices, replay_dir=str(replay))
    # Red in the Prefect UI, naming the failed source; the other source's data landed.
    assert state.is_failed(), state.message
    assert state.message.startswith("1 of 2 sources failed: deepseek (parse failed: deepseek:")
    summary = state.result(raise_on_failure=False)
    assert summary["sources_ok"] == ["xai"]
    (error,) = summary["sources_failed"]["deepseek"]
    assert error.startswith("parse failed: deepseek:")
    flow_run_id = state.state_details.flow_run_id

    runs = _pipeline_runs(flow_engine)
    assert [(r[0], r[1]) for r in runs] == [("deepseek", "failed"), ("xai", "succeeded")]
    assert runs[0][2] == flow_run_id
    assert runs[0][3].startswith("parse failed: deepseek:")
    with flow_engine.connect() as conn:
        archived = conn.execute(text("SELECT count(*) FROM raw_snapshot WHERE source = 'deepseek'"))
        assert archived.scalar_one() == 1, "the page that did not parse is kept for re-parsing"

    tasks = {r.name: r for r in _task_runs(flow_run_id, 6)}
    assert tasks["parse-deepseek-2026-08-09"].state.is_failed()
    assert "deepseek" in (tasks["parse-deepseek-2026-08-09"].state.message or "")
    assert tasks["record-failure-deepseek-2026-08-09"].state.is_completed()
    assert "persist-deepseek-2026-08-09" not in tasks
    assert tasks["persist-xai-2026-05-08"].state.is_completed()
    summary_md = _artifacts(flow_run_id)["scrape-llm-prices-summary"].data
    assert "**1 sources ok, 1 failed**" in summary_md
    assert "## Errors" in summary_md


def test_a_rerun_of_the_same_recordings_changes_nothing(
    flow_engine: Engine, tmp_path: Path
) -> None:
    from flows.scrape import scrape_gpu_rates

    replay = _replay_dir(tmp_path, GPU_SOURCES)
    first = _run(scrape_gpu_rates, replay_dir=str(replay)).result()
    assert first["sources_ok"] == sorted(GPU_SOURCES)
    assert first["new_versions"] > 0
    second = _run(scrape_gpu_rates, replay_dir=str(replay)).result()
    assert (second["new_versions"], second["closed_versions"]) == (0, 0)
    assert second["unchanged"] == first["observations"]
    assert second["price_changes"] == 0


def test_backfill_flow_loads_the_reference_history_as_a_flow_run(flow_engine: Engine) -> None:
    from flows.backfill import backfill

    state = _run(backfill, dataset="reference")
    assert state.is_completed(), state.message
    result = state.result()
    assert result["dataset"] == "reference"
    assert result["new_versions"] > 0
    (run,) = [r for r in _pipeline_runs(flow_engine) if r[0] == "reference"]
    assert run[1] == "succeeded"
    assert run[2] == state.state_details.flow_run_id
    assert "backfill-reference" in _artifacts(state.state_details.flow_run_id)


def test_gpu_benchmarks_flow_runs_each_matrix_cell_against_an_endpoint(
    flow_engine: Engine,
) -> None:
    from costcurve.benchmarks.fake_server import running_fake_server
    from flows.benchmarks import gpu_benchmarks

    with running_fake_server(ttft_ms=5, itl_ms=1) as url:
        state = _run(
            gpu_benchmarks,
            models=["fake-model"],
            gpus=["H100-SXM-80GB"],
            workloads=["32x8"],
            endpoint=url,
            concurrencies=[1],
            synthetic=True,
        )
    assert state.is_completed(), state.message
    assert state.result() == {"cells": 1, "ok": 1, "points": 1}
    assert "gpu-benchmarks-cells" in _artifacts(state.state_details.flow_run_id)


def test_run_flow_command_runs_a_replay_scrape_and_prints_its_summary(
    flow_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL
    from typer.testing import CliRunner

    from costcurve.cli import app
    from costcurve.cli.commands import run_flow

    replay = _replay_dir(tmp_path, ["lambda"])
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    monkeypatch.setattr(run_flow, "database_or_exit", lambda **_: (None, flow_engine))
    result = CliRunner().invoke(
        app, ["run-flow", "scrape-gpu-rates", "--replay", str(replay), "--source", "lambda"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["sources_ok"] == ["lambda"]
    assert summary["new_versions"] > 0


def test_publish_gpu_index_flow_stores_new_prints_once_and_reports_them(
    flow_engine: Engine, tmp_path: Path
) -> None:
    from db.gpu_backfill import backfill_gpu_dataset
    from flows.gpu_index import ARTIFACT_KEY, publish_gpu_index
    from tests.support import DATASETS

    market = DATASETS / "gpu-history" / "tugot17-primeintellect" / "summary"
    require_shared(market)
    [small] = list(market.glob("GH200*.jsonl.gz"))
    (tmp_path / small.name).symlink_to(small)  # one real file, read in place
    backfill_gpu_dataset(flow_engine, "gpu-marketplace", tmp_path)
    with flow_engine.connect() as conn:
        first_day = conn.execute(text("SELECT min(valid_from) FROM gpu_rate_version")).scalar_one()
    window = {"start": first_day.date(), "end": first_day.date() + timedelta(days=3)}

    state = _run(publish_gpu_index, **window)
    assert state.is_completed(), state.message
    first = state.result()
    assert first["computed"] > 0
    assert first["stored"] == first["computed"]
    assert first["by_interval"]["day"] > 0
    artifact = _artifacts(state.state_details.flow_run_id)[ARTIFACT_KEY]
    assert f"| {first['stored']} |" in str(artifact.data)
    with flow_engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM gpu_index_print")).scalar_one()
    assert stored == first["stored"]

    again = _run(publish_gpu_index, **window).result()
    assert (again["computed"], again["stored"]) == (first["computed"], 0)  # nothing changed
