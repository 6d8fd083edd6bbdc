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
import uuid
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import httpx
from sqlalchemy import Engine

from costcurve.benchmarks import _vllm
from costcurve.benchmarks._vllm import VLLM_VERSION, DummyWeightsError, VllmError
from costcurve.benchmarks.loadgen import Api, run_sweep
from costcurve.catalog.gpus import canonical_gpu
from costcurve.core.benchmark_point import BenchmarkPoint
from db.benchmarks import StoreResult, store_points

__all__ = [
    "VLLM_VERSION",
    "DummyWeightsError",
    "VllmError",
    "arun_benchmark_job",
    "run_benchmark_job",
    "serve_and_run",
]

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
DEFAULT_CONCURRENCIES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
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
    engine: Engine,
    *,
    endpoint: str,
    model: str,
    gpu: str,
    gpu_count: int = 1,
    concurrencies: Sequence[int] = DEFAULT_CONCURRENCIES,
    input_len: int = 1024,
    output_len: int = 1024,
    synthetic: bool,
    num_prompts: int | None = None,
    num_warmups: int | None = None,
    tensor_parallel_size: int | None = None,
    range_ratio: float = 0.8,
    api: Api = "completions",
    serving_engine: str = "vllm",
    engine_version: str | None = None,
    driver_version: str | None = None,
    dummy_weights: bool = False,
    model_slug: str | None = None,
    metadata: dict[str, Any] | None = None,
    timeout_s: float = 600.0,
    trigger: str = "cli",
    flow_run_id: uuid.UUID | None = None,
    on_stored: Callable[[StoreResult], None] | None = None,
) -> list[BenchmarkPoint]:
    """Sweep ``endpoint`` (base URL of an OpenAI-compatible server) and store the points.

    One point per concurrency, each after a warm-up (2 x concurrency requests,
    or ``num_warmups``), ``num_prompts`` = max(10 x concurrency, 50) unless
    given, random prompts with lengths in [0.8 L, L] (``range_ratio``) and
    ``ignore_eos``. ``gpu`` is the canonical GPU name, ``gpu_count`` the GPUs
    behind the endpoint (throughput per GPU divides by it). ``engine_version``
    is asked from vLLM's ``/version`` when not given. ``metadata`` is merged
    into each point's raw result JSON; ``on_stored`` receives the store's
    counts and ids. Raises benchmarks.loadgen.BenchmarkRunError when the
    endpoint serves nothing (then nothing is stored).
    """
    if not concurrencies:
        raise ValueError("concurrencies must name at least one level")
    if engine_version is None:
        engine_version = await probe_engine_version(endpoint)
    points = await run_sweep(
        endpoint,
        model,
        list(concurrencies),
        input_len,
        output_len,
        gpu=gpu,
        gpu_count=gpu_count,
        tensor_parallel_size=tensor_parallel_size,
        num_prompts=num_prompts,
        num_warmups=num_warmups,
        range_ratio=range_ratio,
        api=api,
        timeout_s=timeout_s,
        engine=serving_engine,
        engine_version=engine_version,
        driver_version=driver_version,
        dummy_weights=dummy_weights,
        synthetic=synthetic,
    )
    if metadata:
        # As vLLM's --metadata: extra keys at the top of the raw result JSON.
        points = [p.model_copy(update={"raw": p.raw | metadata}) for p in points]
    stored = store_points(
        engine, points, model_slug=model_slug, trigger=trigger, flow_run_id=flow_run_id
    )
    if on_stored is not None:
        on_stored(stored)
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
    *,
    model: str,
    gpu: str,
    gpu_count: int = 1,
    weights: Path | None = None,
    dummy_config: Path | None = None,
    tokenizer: str | None = None,
    tensor_parallel_size: int | None = None,
    vllm_bin: str = "vllm",
    vllm_args: Sequence[str] = (),
    host: str = "127.0.0.1",
    port: int | None = None,
    start_timeout_s: float = 1800.0,
    log_path: Path | None = None,
    warn: Callable[[str], None] | None = None,
    **job_options: Any,
) -> list[BenchmarkPoint]:
    """Start ``vllm serve``, run :func:`run_benchmark_job` against it, stop it.

    ``weights``: a directory with the real checkpoint; without it the model is
    served with dummy weights from ``dummy_config`` (a config.json) or the
    built-in config of a known dense architecture, and a MoE is refused
    (:class:`DummyWeightsError`). ``vllm --version`` different from
    :data:`VLLM_VERSION` is a warning, and the version that ran is recorded.
    ``job_options`` go to :func:`arun_benchmark_job` (``concurrencies``,
    ``input_len``, ``output_len``, ``synthetic``, ...). The server's whole
    process group is stopped however the run ends.
    """
    warn = warn or log.warning
    tp = tensor_parallel_size or gpu_count
    with tempfile.TemporaryDirectory(prefix="costcurve-vllm-") as scratch:
        if weights is not None:
            if not (weights / "config.json").is_file():
                raise VllmError(f"{weights} has no config.json: not a model directory")
            model_dir, dummy, default_tokenizer = weights, False, None
        else:
            model_dir, default_tokenizer = _vllm.dummy_model_dir(
                model, Path(scratch) / "model", config_path=dummy_config
            )
            dummy = True
        launch = _vllm.launcher(vllm_bin)
        version = launch.version
        if version != VLLM_VERSION:
            warn(f"vllm {version} is installed but results are pinned to {VLLM_VERSION}")
        names, driver = _check_gpus(gpu, gpu_count, warn)
        port = port or _free_port(host)
        cmd = [*launch.command(model_dir), "--served-model-name", model]
        cmd += ["--host", host, "--port", str(port), "--tensor-parallel-size", str(tp)]
        if dummy:
            cmd += ["--load-format", "dummy"]
        if tokenizer or default_tokenizer:
            cmd += ["--tokenizer", str(tokenizer or default_tokenizer)]
        cmd += list(vllm_args)
        log_file = log_path or Path(scratch) / "vllm.log"
        metadata = {
            "vllm_command": cmd,
            "nvidia_smi_gpus": names,
            "weights": "dummy" if dummy else "real",
        } | ({"weights_note": DUMMY_WEIGHTS_NOTE} if dummy else {})
        proc = _vllm.start(cmd, log_file)
        try:
            base_url = f"http://{host}:{port}"
            _vllm.wait_ready(base_url, model, proc, timeout_s=start_timeout_s, log_path=log_file)
            return run_benchmark_job(
                engine,
                endpoint=base_url,
                model=model,
                gpu=gpu,
                gpu_count=gpu_count,
                tensor_parallel_size=tp,
                engine_version=version,
                driver_version=job_options.pop("driver_version", None) or driver,
                dummy_weights=dummy,
                metadata=metadata | (job_options.pop("metadata", None) or {}),
                **job_options,
            )
        finally:
            _vllm.stop(proc)
