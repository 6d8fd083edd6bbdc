"""prefect.yaml (production) and flows/deployments.py (`costcurve up`) agree."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect import Flow

from flows.deployments import (
    DEPLOYMENTS,
    GPU_POOL,
    PROCESS_POOL,
    SCRAPES,
    by_name,
    served_deployments,
)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def prefect_yaml() -> dict[str, Any]:
    return yaml.safe_load((REPO / "prefect.yaml").read_text())


def _by_name(prefect_yaml: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in prefect_yaml["deployments"]}


def test_prefect_yaml_lists_exactly_the_deployments_up_serves(prefect_yaml: dict[str, Any]) -> None:
    assert list(_by_name(prefect_yaml)) == [spec.name for spec in DEPLOYMENTS]
    assert {s.name for s in DEPLOYMENTS} >= {
        "scrape-llm-prices",
        "scrape-gpu-rates",
        "backfill",
        "refresh-analytics",
        "evaluate-alerts",
        "gpu-benchmarks",
    }


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda s: s.name)
def test_each_deployment_matches_prefect_yaml(prefect_yaml: dict[str, Any], spec: Any) -> None:
    entry = _by_name(prefect_yaml)[spec.name]
    assert entry["entrypoint"] == spec.entrypoint
    assert entry["work_pool"]["name"] == spec.work_pool
    crons = [s["cron"] for s in entry.get("schedules") or []]
    assert crons == ([spec.cron] if spec.cron else [])
    assert all(s.get("timezone") == "UTC" for s in entry.get("schedules") or [])
    assert (entry.get("parameters") or {}) == spec.parameters
    assert entry["description"] == spec.description


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda s: s.name)
def test_each_entrypoint_is_a_flow_named_like_its_deployment(spec: Any) -> None:
    flow = spec.load_flow()
    assert isinstance(flow, Flow)
    assert flow.name == spec.name
    assert (REPO / spec.entrypoint.split(":")[0]).is_file()
    signature = inspect.signature(flow.fn)
    assert set(spec.parameters) <= set(signature.parameters)
    required = {n for n, p in signature.parameters.items() if p.default is inspect.Parameter.empty}
    assert required <= set(spec.parameters), "a scheduled run needs every required parameter"


def test_cpu_flows_use_the_process_pool_and_benchmarks_the_gpu_pool() -> None:
    pools = {s.name: s.work_pool for s in DEPLOYMENTS}
    assert pools.pop("gpu-benchmarks") == GPU_POOL
    assert set(pools.values()) == {PROCESS_POOL}


def test_cron_schedules_are_valid() -> None:
    from prefect.client.schemas.schedules import CronSchedule

    for spec in DEPLOYMENTS:
        if spec.cron:
            assert CronSchedule(cron=spec.cron, timezone="UTC").cron == spec.cron


def test_prefect_yaml_pulls_into_the_image_workdir(prefect_yaml: dict[str, Any]) -> None:
    (step,) = prefect_yaml["pull"]
    directory = step["prefect.deployments.steps.set_working_directory"]["directory"]
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f"WORKDIR {directory}" in dockerfile
    # The image copies the whole tree; prefect.yaml must not be ignored from it.
    assert "COPY . ." in dockerfile
    ignored = (REPO / ".dockerignore").read_text().split()
    assert "prefect.yaml" not in ignored
    assert "flows" not in ignored


def test_served_deployments_replay_the_scrapes_and_hold_the_gpu_schedule_without_a_gpu(
    tmp_path: Path,
) -> None:
    deployments = {d.name: d for d in served_deployments(tmp_path, all_dates=True, gpu=False)}
    for name in SCRAPES:
        assert deployments[name].parameters == {"replay_dir": str(tmp_path), "all_dates": True}
        assert "replay" in deployments[name].tags
    assert deployments["backfill"].parameters == {"dataset": "reference"}
    assert deployments["backfill"].schedules in (None, [])
    (bench,) = deployments["gpu-benchmarks"].schedules
    assert bench.active is False
    (scrape,) = deployments["scrape-llm-prices"].schedules
    assert scrape.active is True
    # Served deployments run in the runner; a work pool would be ignored with a warning.
    assert all(d.work_pool_name is None for d in deployments.values())
    # Module paths, so flow runs do not depend on the runner's working directory.
    for spec in DEPLOYMENTS:
        assert deployments[spec.name].entrypoint == f"{spec.module}.{spec.function}"


def test_unknown_flow_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="scrape-llm-prices"):
        by_name("scrape-everything")
