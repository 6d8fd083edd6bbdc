"""The benchmark job: sweep an endpoint, store the points; or start vLLM first.

:func:`run_benchmark_job` measures any OpenAI-compatible endpoint (the
InferenceMAX method of benchmarks.loadgen) and stores the points with
``db.benchmarks.store_points``. :func:`serve_and_run` starts ``vllm serve``
(pinned :data:`VLLM_VERSION`, real weights or dummy weights for dense models,
see benchmarks._vllm), waits until it serves, runs the same job and always
stops the server. Both are synchronous (the Prefect flows call them from a
worker); :func:`arun_benchmark_job` is the coroutine underneath.

``synthetic`` marks runs against something that is not a real GPU server (the
fake server in CI): they are stored but never priced into published curves.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import tempfile
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import httpx
from sqlalchemy import Engine

from costcurve.benchmarks import _vllm
from costcurve.benchmarks._vllm import VLLM_VERSION, DummyWeightsError, VllmError
from costcurve.benchmarks.loadgen import run_sweep
from costcurve.benchmarks.spec import (
    DEFAULT_CONCURRENCIES,
    Deployment,
    ServeSpec,
    StoreOptions,
    SweepSpec,
    Workload,
)
from costcurve.catalog.gpus import canonical_gpu
from costcurve.core.benchmark_point import BenchmarkPoint
from db.benchmarks import store_points

__all__ = [
    "VLLM_VERSION",
    "Deployment",
    "DummyWeightsError",
    "ServeSpec",
    "StoreOptions",
    "SweepSpec",
    "VllmError",
    "Workload",
    "arun_benchmark_job",
    "run_benchmark_job",
    "serve_and_run",
]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
# InferenceMAX's workloads (input, output tokens).
WORKLOADS = ((1024, 1024), (1024, 8192), (8192, 1024))
DUMMY_WEIGHTS_NOTE = (
    "random weights (vLLM --load-format dummy) with the model's real config.json: "
    "speed does not depend on weight values for a dense model; the generated text is noise"
)


async def probe_engine_version(endpoint: str, timeout_s: float = 5.0) -> str | None:
    """vLLM's ``GET /version``; None when the server does not say."""
    base = endpoint.rstrip("/").removesuffix("/v1")
    try:
        async with httpx.AsyncClient(timeout=timeout_s, trust_env=False) as client:
            resp = await client.get(f"{base}/version")
            version = resp.json().get("version") if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return str(version) if version else None


async def arun_benchmark_job(
    engine: Engine, spec: SweepSpec, store: StoreOptions | None = None
) -> list[BenchmarkPoint]:
    """Sweep ``spec.endpoint`` (an OpenAI-compatible server) and store the points.

    One point per concurrency, each after a warm-up (2 x concurrency requests,
    or ``workload.num_warmups``), ``num_prompts`` = max(10 x concurrency, 50)
    unless given, random prompts with lengths in [0.8 L, L] (``range_ratio``)
    and ``ignore_eos``. The deployment's ``gpu_count`` is the GPUs behind the
    endpoint (throughput per GPU divides by it); its ``engine_version`` is asked
    from vLLM's ``/version`` when not given. ``store.metadata`` is merged into
    each point's raw result JSON; ``store.on_stored`` receives the store's counts
    and ids. Raises benchmarks.loadgen.BenchmarkRunError when the endpoint serves
    nothing (then nothing is stored).
    """
    store = store or StoreOptions()
    if spec.deployment.engine_version is None:
        version = await probe_engine_version(spec.endpoint)
        spec = replace(spec, deployment=replace(spec.deployment, engine_version=version))
    points = await run_sweep(spec)
    if store.metadata:
        # As vLLM's --metadata: extra keys at the top of the raw result JSON.
        extra = dict(store.metadata)
        points = [p.model_copy(update={"raw": p.raw | extra}) for p in points]
    stored = store_points(
        engine,
        points,
        model_slug=store.model_slug,
        trigger=store.trigger,
        flow_run_id=store.flow_run_id,
    )
    if store.on_stored is not None:
        store.on_stored(stored)
    return points


def _sync(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return asyncio.run(fn(*args, **kwargs))

    return run


# The same job for synchronous callers (the CLI, Prefect tasks); not from inside an event loop.
run_benchmark_job = _sync(arun_benchmark_job)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _check_gpus(
    gpu: str, gpu_count: int, warn: Callable[[str], None]
) -> tuple[list[str], str | None]:
    names, driver = _vllm.gpu_inventory()
    if not names:
        warn("nvidia-smi found no GPU: the driver version is not recorded")
        return names, driver
    if len(names) < gpu_count:
        warn(f"--gpu-count {gpu_count} but nvidia-smi lists {len(names)} GPU(s)")
    seen = {canonical_gpu(name) for name in names}
    if gpu not in seen:
        warn(f"--gpu {gpu} but nvidia-smi lists {', '.join(sorted(set(names)))}")
    return names, driver


def serve_and_run(
    engine: Engine,
    serve: ServeSpec,
    deployment: Deployment,
    workload: Workload | None = None,
    concurrencies: tuple[int, ...] = DEFAULT_CONCURRENCIES,
    store: StoreOptions | None = None,
    warn: Callable[[str], None] | None = None,
) -> list[BenchmarkPoint]:
    """Start vLLM as ``serve`` says, run :func:`run_benchmark_job` against it, stop it.

    ``serve.weights``: a directory with the real checkpoint; without it the
    model is served with dummy weights from ``serve.dummy_config`` (a
    config.json) or the built-in config of a known dense architecture, and a
    MoE is refused (:class:`DummyWeightsError`). A vLLM version other than
    :data:`VLLM_VERSION` is a warning, and the version that ran is recorded in
    the deployment. The server's whole process group is stopped however the
    run ends.
    """
    warn = warn or log.warning
    store = store or StoreOptions()
    model = serve.model
    with tempfile.TemporaryDirectory(prefix="costcurve-vllm-") as scratch:
        if serve.weights is not None:
            if not (serve.weights / "config.json").is_file():
                raise VllmError(f"{serve.weights} has no config.json: not a model directory")
            model_dir, dummy, default_tokenizer = serve.weights, False, None
        else:
            model_dir, default_tokenizer = _vllm.dummy_model_dir(
                model, Path(scratch) / "model", config_path=serve.dummy_config
            )
            dummy = True
        launch = _vllm.launcher(serve.vllm_bin)
        if launch.version != VLLM_VERSION:
            warn(f"vllm {launch.version} is installed but results are pinned to {VLLM_VERSION}")
        names, driver = _check_gpus(deployment.gpu, deployment.gpu_count, warn)
        host = serve.host
        port = serve.port or _free_port(host)
        cmd = [*launch.command(model_dir), "--served-model-name", model]
        cmd += ["--host", host, "--port", str(port), "--tensor-parallel-size", str(deployment.tp)]
        if deployment.pipeline_parallel_size > 1:
            cmd += ["--pipeline-parallel-size", str(deployment.pipeline_parallel_size)]
        if dummy:
            cmd += ["--load-format", "dummy"]
        if serve.tokenizer or default_tokenizer:
            cmd += ["--tokenizer", str(serve.tokenizer or default_tokenizer)]
        cmd += list(serve.vllm_args)
        log_file = serve.log_path or Path(scratch) / "vllm.log"
        metadata = {
            "vllm_command": cmd,
            "nvidia_smi_gpus": names,
            "weights": "dummy" if dummy else "real",
        } | ({"weights_note": DUMMY_WEIGHTS_NOTE} if dummy else {})
        ran = replace(
            deployment,
            engine="vllm",
            engine_version=launch.version,
            driver_version=deployment.driver_version or driver,
            dummy_weights=dummy,
        )
        proc = _vllm.start(cmd, log_file)
        try:
            base_url = f"http://{host}:{port}"
            _vllm.wait_ready(
                base_url, model, proc, timeout_s=serve.start_timeout_s, log_path=log_file
            )
            spec = SweepSpec(base_url, model, ran, workload or Workload(), concurrencies)
            merged = replace(store, metadata=metadata | dict(store.metadata or {}))
            return run_benchmark_job(engine, spec, merged)
        finally:
            _vllm.stop(proc)
