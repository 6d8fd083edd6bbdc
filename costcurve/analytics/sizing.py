"""How many GPUs a model needs: the memory rule behind break-even's ``gpus``.

    weights  = total parameters x bytes per parameter at the stated precision
               (a MoE keeps every expert resident: total, not active, parameters)
    KV cache = kv_bytes_per_token x context_len x concurrency
    fit      = smallest power of two n with n x memory x USABLE_FRACTION >= weights + KV

Powers of two because tensor parallelism splits attention heads evenly
(vLLM deployments are TP 1, 2, 4 or 8). ``USABLE_FRACTION`` is vLLM's default
``--gpu-memory-utilization`` (0.9); the rest holds activations, CUDA graphs
and the framework. A deployment never has fewer GPUs than fit; when a
benchmark measured the model on more, that deployment is the one priced
(:func:`deployment_gpus`).

KV bytes per token = 2 (K and V) x layers x KV heads x head_dim x KV bytes
(:func:`kv_bytes_per_token` from a config.json). Without the architecture,
``DEFAULT_KV_BYTES_PER_TOKEN`` is Llama-3-70B's 16-bit GQA figure
(2 x 80 x 8 x 128 x 2 = 327,680 B), a conservative stand-in for GQA models
up to that size; the response says which was used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Precision = Literal["fp32", "bf16", "fp16", "fp8", "int8", "fp4", "int4"]
BYTES_PER_PARAM: dict[str, float] = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp4": 0.5,
    "int4": 0.5,
}
USABLE_FRACTION = 0.9
DEFAULT_KV_BYTES_PER_TOKEN = 2 * 80 * 8 * 128 * 2
MAX_GPUS = 64


@dataclass(frozen=True)
class Footprint:
    """What must sit in GPU memory to serve a model."""

    total_params_b: float
    precision: Precision = "bf16"
    context_len: int = 8192
    concurrency: int = 16
    kv_bytes_per_token: int = DEFAULT_KV_BYTES_PER_TOKEN

    def __post_init__(self) -> None:
        if self.total_params_b <= 0:
            raise ValueError("total_params_b must be > 0")
        if self.precision not in BYTES_PER_PARAM:
            raise ValueError(f"precision must be one of {', '.join(BYTES_PER_PARAM)}")
        if self.context_len < 1 or self.concurrency < 1 or self.kv_bytes_per_token < 0:
            raise ValueError("context_len and concurrency must be >= 1, kv bytes >= 0")

    @property
    def weights_gb(self) -> float:
        return self.total_params_b * BYTES_PER_PARAM[self.precision]

    @property
    def kv_cache_gb(self) -> float:
        return self.kv_bytes_per_token * self.context_len * self.concurrency / 1e9

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.kv_cache_gb


def kv_bytes_per_token(config: Mapping[str, Any], kv_bytes: float = 2.0) -> int:
    """KV cache bytes per token of a Hugging Face config.json (dense attention)."""
    layers = int(config["num_hidden_layers"])
    heads = int(config["num_attention_heads"])
    kv_heads = int(config.get("num_key_value_heads") or heads)
    head_dim = int(config.get("head_dim") or int(config["hidden_size"]) // heads)
    return int(2 * layers * kv_heads * head_dim * kv_bytes)


def gpus_to_fit(footprint: Footprint, gpu_memory_gb: float) -> int:
    """Smallest power-of-two GPU count whose usable memory holds the footprint."""
    if gpu_memory_gb <= 0:
        raise ValueError("gpu_memory_gb must be > 0")
    needed = footprint.total_gb / (gpu_memory_gb * USABLE_FRACTION)
    count = 1 << max(0, math.ceil(math.log2(max(needed, 1.0))))
    if count > MAX_GPUS:
        raise ValueError(
            f"{footprint.total_gb:.0f} GB needs more than {MAX_GPUS} GPUs of {gpu_memory_gb:g} GB"
        )
    return count


def deployment_gpus(fit: int, benchmark_gpus: int | None) -> int:
    """GPUs of one serving replica: the benchmark's deployment, never fewer than fit."""
    return max(fit, benchmark_gpus or 0)
