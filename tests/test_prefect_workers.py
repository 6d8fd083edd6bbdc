"""Scale-out on Prefect's own machinery: two workers on one pool share the runs, each once.

A real local Prefect server, the ``process`` work pool of the production
deployments, a deployment of a trivial flow (tests/workers_flow.py) and two
``prefect worker start --pool process --type process`` subprocesses. Twelve
flow runs scheduled for now all complete, each executed exactly once (every
execution appends its flow-run id to a file), and both workers took some.

What makes it hold: before a worker starts a run it proposes Scheduled ->
Pending, and the server's orchestration rules accept that transition once; the
worker that is refused leaves the run alone.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.embedded import EmbeddedPostgres
from flows.deployments import PROCESS_POOL
from flows.local import Child
from tests.prefect_local import PrefectServer, prefect_server, wait_until
from tests.support import REPO
from tests.workers_flow import WORKER_LABEL

pytestmark = pytest.mark.slow
RUNS = 12
WORKERS = ("a", "b")
# At most this many runs per worker at a time: neither can take all twelve at once.
LIMIT_PER_WORKER = 6
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.fixture
def server(pg: EmbeddedPostgres, tmp_path: Path) -> Iterator[PrefectServer]:
    with prefect_server(pg, tmp_path / "prefect") as running:
        yield running


def _deploy(server: PrefectServer, record_file: Path) -> str:
    """The work pool and a deployment on it, as `prefect deploy` would register them."""
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    server.post(
        "/work_pools/", {"name": PROCESS_POOL, "type": "process", "base_job_template": template}
    )
    flow = server.post("/flows/", {"name": "record-execution"})
    deployment = server.post(
        "/deployments/",
        {
            "name": "record-execution",
            "flow_id": flow["id"],
            "work_pool_name": PROCESS_POOL,
            "work_queue_name": "default",
            "entrypoint": "tests/workers_flow.py:record_execution",
            # What prefect.yaml's pull step does with /app in the image.
            "pull_steps": [
                {"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}
            ],
            "parameters": {"record_file": str(record_file)},
        },
    )
    return str(deployment["id"])


def _start_worker(server: PrefectServer, label: str, logs: Path) -> Child:
    argv = [sys.executable, "-m", "prefect", "worker", "start", "--pool", PROCESS_POOL]
    argv += ["--type", "process", "--name", f"worker-{label}", "--limit", str(LIMIT_PER_WORKER)]
    env = server.env | {
        WORKER_LABEL: label,
        # Poll every 2 s (default 10 s) so the test is short.
        "PREFECT_WORKER_QUERY_SECONDS": "2",
    }
    return Child(f"worker {label}", argv, env, logs / f"worker-{label}.log")


def _alive(workers: list[Child]) -> None:
    dead = [w for w in workers if not w.alive()]
    assert not dead, f"{dead[0].name} exited:\n{dead[0].log_tail(40)}"


def _workers_online(server: PrefectServer, children: list[Child]) -> bool:
    _alive(children)
    workers = server.post(f"/work_pools/{PROCESS_POOL}/workers/filter", {})
    return {w["name"] for w in workers} >= {f"worker-{label}" for label in WORKERS}


def _runs(server: PrefectServer, deployment_id: str) -> list[dict]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "limit": 200}
    return list(server.post("/flow_runs/filter", body))


def _all_ended(
    server: PrefectServer, deployment_id: str, workers: list[Child]
) -> list[dict] | None:
    _alive(workers)
    runs = _runs(server, deployment_id)
    ended = len(runs) == RUNS and all(r["state_type"] in TERMINAL for r in runs)
    return runs if ended else None


def test_two_workers_on_the_pool_share_the_scheduled_runs_and_execute_each_exactly_once(
    server: PrefectServer, tmp_path: Path
) -> None:
    record_file = tmp_path / "executions.txt"
    deployment_id = _deploy(server, record_file)
    workers = [_start_worker(server, label, tmp_path) for label in WORKERS]
    try:
        wait_until(
            lambda: _workers_online(server, workers), 180, "both workers heart-beating on the pool"
        )
        created = {
            server.post(f"/deployments/{deployment_id}/create_flow_run", {})["id"]
            for _ in range(RUNS)
        }
        runs = wait_until(
            lambda: _all_ended(server, deployment_id, workers),
            300,
            f"{RUNS} runs ending",
            every_s=1,
        )
    finally:
        for worker in workers:
            worker.stop()
    logs = "\n".join(w.log_tail(40) for w in workers)
    assert {r["id"] for r in runs} == created
    assert {r["state_type"] for r in runs} == {"COMPLETED"}, logs
    assert {r["run_count"] for r in runs} == {1}
    executions = [line.split() for line in record_file.read_text().splitlines()]
    per_run = Counter(run_id for run_id, _, _ in executions)
    assert set(per_run) == created
    assert set(per_run.values()) == {1}, f"executed more than once: {per_run}"
    per_worker = Counter(label for _, label, _ in executions)
    assert set(per_worker) == set(WORKERS), f"runs per worker: {dict(per_worker)}"
