"""A small async load generator following vLLM's ``benchmark_serving`` (InferenceMAX method).

``vllm bench serve`` needs vLLM itself, which does not install on a CPU-only
machine, so this reproduces the part the pipeline uses: the "random" dataset,
``--request-rate inf`` with ``--max-concurrency``, ``--ignore-eos``, warm-up
requests, streaming against an OpenAI-compatible endpoint and the result JSON
statistics (mean/median/p99 TTFT, TPOT, ITL, E2EL in ms).

Range ratio. InferenceMAX runs its fork of benchmark_serving with
``--random-range-ratio 0.8``; there every input and output length is drawn
uniformly from ``[int(L * r), L]`` (inclusive), so 0.8 means 80-100 % of L and
1.0 means fixed lengths. Current upstream vLLM redefined the flag as
``[floor(L * (1 - r)), ceil(L * (1 + r))]`` with ``r < 1`` and 0 meaning fixed.
``range_mode="inferencemax"`` (the default) follows the former, ``"vllm"`` the
latter; output lengths are at least 1 either way.

Prompts are random common English words, one word per token on the fake
server and about one token each on real tokenizers; the server's reported
``usage`` gives the token counts that are stored whenever it sends one.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from costcurve.benchmarks._result_formats import point_fields
from costcurve.benchmarks.spec import Api, RangeMode, SweepSpec
from costcurve.core.benchmark_point import BenchmarkPoint

__all__ = ["Api", "BenchmarkRunError", "RangeMode", "SweepSpec", "benchmark_serving", "run_sweep"]

_WORD_TEXT = (
    "the of and to in is for on that by this with you it not or be are from at as your all "
    "have new more an was we will home can us about if page my has search free but our one "
    "other do no information time they site he up may what which their news out use any there "
    "see only so his when contact here business who web also now help get view online first "
    "been would how were me services some these click its like service than find price date "
    "back top people had list name just over state year day into email two health world next "
    "used go work last most products music buy data make them should product system post her "
    "city add policy number such please available copyright support message after best software "
    "then good video well where info rights public books high school through each links she "
    "review years order very privacy book items company read group need many user said does set"
)
# Public: benchmarks.tiny_model builds its tokenizer vocabulary from these words.
PROMPT_WORDS = tuple(_WORD_TEXT.split())


class BenchmarkRunError(RuntimeError):
    """The endpoint did not serve the benchmark (every request failed)."""


@dataclass(frozen=True)
class SampledRequest:
    prompt: str
    prompt_len: int
    output_len: int


@dataclass
class RequestOutcome:
    success: bool = False
    prompt_len: int = 0
    output_tokens: int = 0
    ttft: float = 0.0
    latency: float = 0.0
    itl: list[float] = field(default_factory=list)
    error: str = ""


def length_bounds(length: int, range_ratio: float, mode: RangeMode) -> tuple[int, int]:
    """Inclusive [low, high] a sampled length falls in (see the module docstring)."""
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    if mode == "inferencemax":
        if not 0 <= range_ratio <= 1:
            raise ValueError(f"range_ratio must be in [0, 1] for InferenceMAX, got {range_ratio}")
        return max(1, int(length * range_ratio)), length
    if not 0 <= range_ratio < 1:
        raise ValueError(f"range_ratio must be in [0, 1) for vLLM, got {range_ratio}")
    low = max(1, math.floor(length * (1 - range_ratio)))
    return low, math.ceil(length * (1 + range_ratio))


def sample_requests(
    num_prompts: int,
    input_len: int,
    output_len: int,
    *,
    range_ratio: float = 0.8,
    range_mode: RangeMode = "inferencemax",
    seed: int = 0,
) -> list[SampledRequest]:
    rng = random.Random(seed)
    in_lo, in_hi = length_bounds(input_len, range_ratio, range_mode)
    out_lo, out_hi = length_bounds(output_len, range_ratio, range_mode)
    requests = []
    for _ in range(num_prompts):
        n_in = rng.randint(in_lo, in_hi)
        # Distinct prompts, so a prefix cache on a real server cannot skip prefill.
        prompt = " ".join(rng.choices(PROMPT_WORDS, k=n_in))
        requests.append(SampledRequest(prompt, n_in, rng.randint(out_lo, out_hi)))
    return requests


def default_num_prompts(concurrency: int) -> int:
    return max(10 * concurrency, 50)


def percentile(values: Sequence[float], p: float) -> float:
    """numpy.percentile's default (linear interpolation), which vLLM reports."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    lo = math.floor(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


async def _send(
    client: httpx.AsyncClient, url: str, api: Api, model: str, req: SampledRequest
) -> RequestOutcome:
    payload: dict[str, Any] = {
        "model": model,
        "max_tokens": req.output_len,
        "temperature": 0.0,
        "stream": True,
        "ignore_eos": True,
        "stream_options": {"include_usage": True},
    }
    if api == "chat":
        payload["messages"] = [{"role": "user", "content": req.prompt}]
    else:
        payload["prompt"] = req.prompt
    out = RequestOutcome(prompt_len=req.prompt_len)
    chunks = 0
    usage: dict[str, Any] | None = None
    start = last = time.perf_counter()
    try:
        async with client.stream("POST", url, json=payload) as resp:
            if resp.status_code != 200:
                body = (await resp.aread())[:300].decode("utf-8", "replace")
                out.error = f"HTTP {resp.status_code}: {body}"
                return out
            async for line in resp.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                now = time.perf_counter()
                chunk = json.loads(data)
                usage = chunk.get("usage") or usage
                choices = chunk.get("choices") or []
                if not choices:
                    continue
                first = choices[0]
                if api == "chat":
                    text = (first.get("delta") or {}).get("content")
                else:
                    text = first.get("text")
                if not text:
                    continue
                if chunks == 0:
                    out.ttft = now - start
                else:
                    out.itl.append(now - last)
                last = now
                chunks += 1
    except (httpx.HTTPError, json.JSONDecodeError, AttributeError) as exc:
        out.error = f"{type(exc).__name__}: {exc}"
        return out
    if chunks == 0:
        out.error = "the stream carried no tokens"
        return out
    # As vLLM: latency ends at the last token, output counted by the server when it says.
    out.latency = last - start
    out.output_tokens = int(usage["completion_tokens"]) if usage else chunks
    out.prompt_len = int(usage["prompt_tokens"]) if usage else req.prompt_len
    out.success = True
    return out


def _stats(name: str, values_s: list[float]) -> dict[str, float | None]:
    if not values_s:
        return {f"{s}_{name}_ms": None for s in ("mean", "median", "std", "p99")}
    ms = [v * 1000.0 for v in values_s]
    return {
        f"mean_{name}_ms": statistics.fmean(ms),
        f"median_{name}_ms": statistics.median(ms),
        f"std_{name}_ms": statistics.pstdev(ms),
        f"p99_{name}_ms": percentile(ms, 99),
    }


def summarize(
    requests: list[SampledRequest], outcomes: list[RequestOutcome], duration: float
) -> dict[str, Any]:
    """vLLM result-JSON statistics of one measured run."""
    ok = [o for o in outcomes if o.success]
    total_in = sum(o.prompt_len for o in ok)
    total_out = sum(o.output_tokens for o in ok)
    tpots = [(o.latency - o.ttft) / (o.output_tokens - 1) for o in ok if o.output_tokens > 1]
    result: dict[str, Any] = {
        "duration": duration,
        "completed": len(ok),
        "failed": len(outcomes) - len(ok),
        "total_input_tokens": total_in,
        "total_output_tokens": total_out,
        "request_throughput": len(ok) / duration,
        "output_throughput": total_out / duration,
        "total_token_throughput": (total_in + total_out) / duration,
    }
    result |= _stats("ttft", [o.ttft for o in ok])
    result |= _stats("tpot", tpots)
    result |= _stats("itl", [gap for o in ok for gap in o.itl])
    result |= _stats("e2el", [o.latency for o in ok])
    result["input_lens"] = [r.prompt_len for r in requests]
    result["output_lens"] = [o.output_tokens for o in outcomes]
    result["errors"] = [o.error for o in outcomes]
    return result


async def _run_all(
    client: httpx.AsyncClient,
    url: str,
    api: Api,
    model: str,
    requests: list[SampledRequest],
    concurrency: int,
) -> list[RequestOutcome]:
    gate = asyncio.Semaphore(concurrency)

    async def limited(req: SampledRequest) -> RequestOutcome:
        async with gate:
            return await _send(client, url, api, model, req)

    return list(await asyncio.gather(*(limited(r) for r in requests)))


async def benchmark_serving(spec: SweepSpec, concurrency: int) -> BenchmarkPoint:
    """Benchmark one concurrency level of ``spec.endpoint`` (base URL, e.g. http://host:8000).

    Warm-up: ``workload.num_warmups`` (default 2 x concurrency, as InferenceMAX)
    copies of the first prompt at the same concurrency, not measured. Raises
    :class:`BenchmarkRunError` when every warm-up or every measured request fails.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    work, dep, model = spec.workload, spec.deployment, spec.model
    num_prompts = work.num_prompts or default_num_prompts(concurrency)
    warmups = 2 * concurrency if work.num_warmups is None else work.num_warmups
    base = spec.endpoint.rstrip("/").removesuffix("/v1")
    url = f"{base}/v1/chat/completions" if work.api == "chat" else f"{base}/v1/completions"
    requests = sample_requests(
        num_prompts,
        work.input_len,
        work.output_len,
        range_ratio=work.range_ratio,
        range_mode=work.range_mode,
        seed=work.seed,
    )
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(work.timeout_s, connect=min(work.timeout_s, 30.0))
    # trust_env=False: a proxy from the environment would sit inside every measured latency.
    async with httpx.AsyncClient(limits=limits, timeout=timeout, trust_env=False) as client:
        if warmups:
            warm = await _run_all(
                client, url, work.api, model, [requests[0]] * warmups, concurrency
            )
            if not any(o.success for o in warm):
                raise BenchmarkRunError(f"warm-up failed against {url}: {warm[0].error}")
        started_at = datetime.now(UTC)
        t0 = time.perf_counter()
        outcomes = await _run_all(client, url, work.api, model, requests, concurrency)
        duration = time.perf_counter() - t0
    result = summarize(requests, outcomes, duration)
    if result["completed"] == 0:
        raise BenchmarkRunError(f"every request to {url} failed: {outcomes[0].error}")
    finished = datetime.now(UTC)
    raw: dict[str, Any] = {
        "date": finished.strftime("%Y%m%d-%H%M%S"),
        "started_at": started_at.isoformat(),
        "backend": "openai-chat" if work.api == "chat" else "openai",
        "model_id": model,
        "num_prompts": num_prompts,
        "request_rate": "inf",
        "burstiness": 1.0,
        "max_concurrency": concurrency,
        "num_warmups": warmups,
        # Written as vLLM --metadata would, so import_result_file(raw) rebuilds this point.
        "engine": dep.engine,
        "engine_version": dep.engine_version,
        "driver_version": dep.driver_version,
        "gpu": dep.gpu,
        "gpu_count": dep.gpu_count,
        "tensor_parallel_size": dep.tp,
        "pipeline_parallel_size": dep.pipeline_parallel_size,
        "random_input_len": work.input_len,
        "random_output_len": work.output_len,
        "random_range_ratio": work.range_ratio,
        "range_mode": work.range_mode,
        "synthetic": dep.synthetic,
        "dummy_weights": dep.dummy_weights,
    } | result
    fields = point_fields(raw, index=0, overrides={})
    return BenchmarkPoint(**fields, dummy_weights=dep.dummy_weights, synthetic=dep.synthetic)


async def run_sweep(spec: SweepSpec) -> list[BenchmarkPoint]:
    """One point per concurrency level, run one after another (InferenceMAX sweeps 4..64/128)."""
    return [await benchmark_serving(spec, concurrency) for concurrency in spec.concurrencies]
