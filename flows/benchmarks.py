"""``gpu-benchmarks``: serving benchmarks on a GPU worker (the ``gpu`` work pool).

One task run per cell of the matrix models x GPUs x workloads; a failing cell
fails alone. With ``endpoint`` the cells measure an OpenAI-compatible server
that is already running (``costcurve.benchmarks.job.run_benchmark_job``); without it each
cell starts vLLM on this worker's GPUs, measures and stops it
(``costcurve.benchmarks.job.serve_and_run``). A worker can only measure the GPUs it has:
give each GPU type its own worker (and work queue) and its own ``gpus`` value.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows import runtime

# InferenceMAX's workloads, input x output tokens.
DEFAULT_WORKLOADS = ["1024x1024", "1024x8192", "8192x1024"]
_WORKLOAD = re.compile(r"^(\d+)x(\d+)$")


def parse_workload(text: str) -> tuple[int, int]:
    match = _WORKLOAD.match(text.strip())
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ValueError(f"workload {text!r} is not INPUTxOUTPUT tokens, e.g. 1024x1024")
    return int(match[1]), int(match[2])


@task(
    name="benchmark",
    task_run_name="benchmark-{model}-{gpu}-{workload}",
    cache_policy=NO_CACHE,
    timeout_seconds=4 * 3600,
)
def benchmark_cell(
    model: str,
    gpu: str,
    workload: str,
    *,
    endpoint: str | None,
    gpu_count: int,
    concurrencies: list[int] | None,
    synthetic: bool,
) -> dict[str, Any]:
    from costcurve.benchmarks import job

    input_len, output_len = parse_workload(workload)
    from costcurve.benchmarks.spec import (
        DEFAULT_CONCURRENCIES,
        Deployment,
        ServeSpec,
        StoreOptions,
        SweepSpec,
        Workload,
    )

    deployment = Deployment(gpu, gpu_count, synthetic=synthetic)
    work = Workload(input_len, output_len)
    levels = tuple(concurrencies or DEFAULT_CONCURRENCIES)
    store = StoreOptions(trigger="flow", flow_run_id=runtime.flow_run_id())
    if endpoint:
        spec = SweepSpec(endpoint, model, deployment, work, levels)
        points = job.run_benchmark_job(runtime.engine(), spec, store)
    else:
        points = job.serve_and_run(
            runtime.engine(),
            ServeSpec(model),
            deployment,
            work,
            levels,
            store,
            warn=get_run_logger().warning,
        )
    return {"model": model, "gpu": gpu, "workload": workload, "points": len(points)}


@flow(name="gpu-benchmarks", description="Serving benchmarks on a GPU worker (gpu work pool).")
def gpu_benchmarks(
    models: list[str],
    gpus: list[str],
    workloads: list[str] | None = None,
    endpoint: str | None = None,
    gpu_count: int = 1,
    concurrencies: list[int] | None = None,
    synthetic: bool = False,
) -> dict[str, Any]:
    """Benchmark every (model, GPU, workload) cell.

    Args:
        models: served model names (Hugging Face ids for vLLM).
        gpus: canonical GPU names of this worker's GPUs (H100-SXM-80GB).
        workloads: INPUTxOUTPUT token lengths (default: InferenceMAX's three).
        endpoint: measure this running OpenAI-compatible server instead of starting vLLM.
        gpu_count: GPUs behind one server (tensor parallel).
        concurrencies: concurrency levels to sweep (default: 1..256).
        synthetic: not a real GPU server (CI); stored but never in published curves.
    """
    cells = list(itertools.product(models, gpus, workloads or DEFAULT_WORKLOADS))
    if not cells:
        raise ValueError("the matrix is empty: give at least one model and one GPU")
    for _, _, workload in cells:
        parse_workload(workload)
    states = [
        benchmark_cell(
            model,
            gpu,
            workload,
            endpoint=endpoint,
            gpu_count=gpu_count,
            concurrencies=concurrencies,
            synthetic=synthetic,
            return_state=True,
        )
        for model, gpu, workload in cells
    ]
    rows = []
    for (model, gpu, workload), state in zip(cells, states, strict=True):
        if state.is_completed():
            rows.append(state.result() | {"status": "ok", "error": None})
        else:
            error = state.result(raise_on_failure=False)
            rows.append(
                {"model": model, "gpu": gpu, "workload": workload, "points": 0}
                | {"status": "failed", "error": str(error)}
            )
    create_table_artifact(rows, key="gpu-benchmarks-cells", description="One row per matrix cell")
    ok = [r for r in rows if r["status"] == "ok"]
    if not ok:
        raise RuntimeError(
            "every benchmark cell failed: " + "; ".join(str(r["error"]) for r in rows)
        )
    return {"cells": len(rows), "ok": len(ok), "points": sum(r["points"] for r in ok)}
