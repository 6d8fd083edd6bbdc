"""Parameter objects of a benchmark: what is sent, what serves it, how vLLM starts.

A sweep used to be 24 keyword arguments through the job and 20 through the
load generator; these frozen objects say the same once:

* :class:`Workload`: the requests (lengths, range ratio, prompts and warm-ups
  per level, API, seed, timeout);
* :class:`Deployment`: what serves them, recorded with every point (GPU,
  count, tensor/pipeline parallelism, engine and version, driver, dummy
  weights, synthetic);
* :class:`SweepSpec`: an endpoint and model, a deployment, a workload and
  the concurrency levels;
* :class:`ServeSpec`: how ``serve_and_run`` starts vLLM;
* :class:`StoreOptions`: how the job stores the points.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from db.benchmarks import StoreResult

RangeMode = Literal["inferencemax", "vllm"]
Api = Literal["completions", "chat"]
DEFAULT_CONCURRENCIES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass(frozen=True)
class Workload:
    """The requests of each level (see benchmarks.loadgen for the sampling)."""

    input_len: int = 1024
    output_len: int = 1024
    range_ratio: float = 0.8
    range_mode: RangeMode = "inferencemax"
    # Per level; None = max(10 x concurrency, 50) prompts, 2 x concurrency warm-ups.
    num_prompts: int | None = None
    num_warmups: int | None = None
    api: Api = "completions"
    seed: int = 0
    timeout_s: float = 600.0

    def __post_init__(self) -> None:
        if self.input_len < 1 or self.output_len < 1:
            raise ValueError("input_len and output_len must be >= 1")
        if self.num_prompts is not None and self.num_prompts < 1:
            raise ValueError("num_prompts must be >= 1")


@dataclass(frozen=True)
class Deployment:
    """What serves the endpoint; recorded in every point."""

    gpu: str
    gpu_count: int = 1
    tensor_parallel_size: int | None = None  # None: gpu_count // pipeline_parallel_size
    pipeline_parallel_size: int = 1
    engine: str = "vllm"
    engine_version: str | None = None
    driver_version: str | None = None
    dummy_weights: bool = False
    synthetic: bool = False

    def __post_init__(self) -> None:
        if self.gpu_count < 1 or self.pipeline_parallel_size < 1:
            raise ValueError("gpu_count and pipeline_parallel_size must be >= 1")

    @property
    def tp(self) -> int:
        return self.tensor_parallel_size or max(1, self.gpu_count // self.pipeline_parallel_size)


@dataclass(frozen=True)
class SweepSpec:
    """One sweep: an endpoint serving ``model``, over ``concurrencies``."""

    endpoint: str
    model: str
    deployment: Deployment
    workload: Workload = field(default_factory=Workload)
    concurrencies: tuple[int, ...] = DEFAULT_CONCURRENCIES

    def __post_init__(self) -> None:
        if not self.concurrencies:
            raise ValueError("concurrencies must name at least one level")
        if any(c < 1 for c in self.concurrencies):
            raise ValueError(f"concurrency must be >= 1, got {self.concurrencies}")


@dataclass(frozen=True)
class ServeSpec:
    """How serve_and_run starts ``vllm serve`` (weights, tokenizer, binary, port)."""

    model: str
    weights: Path | None = None
    dummy_config: Path | None = None
    tokenizer: str | None = None
    vllm_bin: str = "vllm"
    vllm_args: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int | None = None
    start_timeout_s: float = 1800.0
    log_path: Path | None = None


@dataclass(frozen=True)
class StoreOptions:
    """How the job stores its points (db.benchmarks.store_points)."""

    model_slug: str | None = None
    # Extra keys at the top of each point's raw result JSON, as vLLM's --metadata.
    metadata: Mapping[str, Any] | None = None
    trigger: str = "cli"
    flow_run_id: uuid.UUID | None = None
    on_stored: Callable[[StoreResult], None] | None = None
