"""One measured serving-benchmark point: the observation type of the benchmark family.

It lives in core because benchmark jobs produce it, db/ stores it and the API
reads it back; field names follow vLLM's ``benchmark_serving`` result JSON.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from costcurve.core.observations import UtcDatetime

# Relative tolerance for derived fields supplied by the caller (float round-trips).
_REL_TOL = 1e-9
_METRICS = ("ttft", "tpot", "itl", "e2el")
_STATS = ("mean", "median", "p99")


class BenchmarkPoint(BaseModel):
    """One (model, engine, GPU setup, lengths, concurrency) serving measurement."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, protected_namespaces=(), allow_inf_nan=False
    )

    model_id: str = Field(min_length=1)
    # Serving engine ("vllm", "sglang"); ``backend`` is the client request
    # backend as vLLM's result JSON names it ("vllm", "openai", "openai-chat").
    engine: str = Field(min_length=1)
    backend: str | None = None
    engine_version: str | None = None
    # Canonical GPU name as in GpuRate.gpu ("H100-SXM-80GB").
    gpu: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.+_-]*$")
    gpu_count: int = Field(ge=1)
    tensor_parallel_size: int = Field(ge=1)
    # Pipeline stages; a deployment's GPUs are normally tensor x pipeline parallel.
    pipeline_parallel_size: int = Field(default=1, ge=1)
    driver_version: str | None = None

    # Nominal lengths of the workload in tokens (mean actual lengths when the
    # run did not record them, e.g. a ShareGPT run).
    input_len: int = Field(ge=1)
    output_len: int = Field(ge=1)
    # "random" dataset length ratio; None when the run did not say. InferenceMAX's
    # meaning (lengths in [int(L * r), L]) unless raw["range_mode"] == "vllm".
    range_ratio: float | None = Field(default=None, ge=0, le=1)
    # vLLM's max_concurrency; None = no cap (every prompt sent at once).
    concurrency: int | None = Field(ge=1)
    num_prompts: int = Field(ge=1)
    completed: int = Field(ge=1)
    total_input_tokens: int = Field(ge=0)
    total_output_tokens: int = Field(ge=0)
    duration: float = Field(gt=0, description="seconds")

    request_throughput: float = Field(ge=0)
    output_throughput: float = Field(ge=0)
    total_token_throughput: float = Field(ge=0)

    mean_ttft_ms: float | None = Field(default=None, ge=0)
    median_ttft_ms: float | None = Field(default=None, ge=0)
    p99_ttft_ms: float | None = Field(default=None, ge=0)
    mean_tpot_ms: float | None = Field(default=None, ge=0)
    median_tpot_ms: float | None = Field(default=None, ge=0)
    p99_tpot_ms: float | None = Field(default=None, ge=0)
    mean_itl_ms: float | None = Field(default=None, ge=0)
    median_itl_ms: float | None = Field(default=None, ge=0)
    p99_itl_ms: float | None = Field(default=None, ge=0)
    mean_e2el_ms: float | None = Field(default=None, ge=0)
    median_e2el_ms: float | None = Field(default=None, ge=0)
    p99_e2el_ms: float | None = Field(default=None, ge=0)

    # Derived: filled in from throughput / gpu_count when absent, checked when given
    # (the defaults only satisfy type checkers; a wrong value fails validation).
    output_tokens_per_s_per_gpu: float = Field(default=0.0, ge=0)
    total_tokens_per_s_per_gpu: float = Field(default=0.0, ge=0)
    # Tokens per second each user sees: 1000 / median_tpot_ms (InferenceMAX's x axis).
    interactivity: float | None = Field(default=None, ge=0)

    # Random weights (vLLM --load-format dummy): speed is real, output text is not.
    dummy_weights: bool = False
    # Measured against something other than a real GPU server (fake server, CI).
    synthetic: bool = False
    started_at: UtcDatetime
    raw: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _fill_derived(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        count = data.get("gpu_count")
        if isinstance(count, int) and count >= 1:
            for field, source in (
                ("output_tokens_per_s_per_gpu", "output_throughput"),
                ("total_tokens_per_s_per_gpu", "total_token_throughput"),
            ):
                if data.get(field) is None and isinstance(data.get(source), int | float):
                    data[field] = data[source] / count
        if "interactivity" not in data:
            data["interactivity"] = interactivity_from_tpot(data.get("median_tpot_ms"))
        return data

    @model_validator(mode="after")
    def _check_consistency(self) -> BenchmarkPoint:
        if self.completed > self.num_prompts:
            raise ValueError(f"completed={self.completed} exceeds num_prompts={self.num_prompts}")
        expected = {
            "output_tokens_per_s_per_gpu": self.output_throughput / self.gpu_count,
            "total_tokens_per_s_per_gpu": self.total_token_throughput / self.gpu_count,
        }
        for field, want in expected.items():
            got = getattr(self, field)
            if not math.isclose(got, want, rel_tol=_REL_TOL, abs_tol=1e-12):
                raise ValueError(f"{field}={got} but throughput / gpu_count = {want}")
        want_i = interactivity_from_tpot(self.median_tpot_ms)
        if (want_i is None) != (self.interactivity is None) or (
            want_i is not None
            and self.interactivity is not None
            and not math.isclose(self.interactivity, want_i, rel_tol=_REL_TOL)
        ):
            raise ValueError(f"interactivity={self.interactivity} but 1000/median_tpot = {want_i}")
        return self

    def latency(self, metric: str, stat: str) -> float | None:
        """``latency("tpot", "p99")`` -> ``p99_tpot_ms``."""
        if metric not in _METRICS or stat not in _STATS:
            raise KeyError(f"{stat}_{metric}_ms is not a BenchmarkPoint field")
        value: float | None = getattr(self, f"{stat}_{metric}_ms")
        return value


def interactivity_from_tpot(median_tpot_ms: float | None) -> float | None:
    if median_tpot_ms is None or median_tpot_ms <= 0:
        return None
    return 1000.0 / median_tpot_ms
