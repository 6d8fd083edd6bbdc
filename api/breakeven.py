"""``/v1/breakeven``: API vs self-hosting (rented or owned GPUs) for a monthly volume.

The deployment priced is the one the model needs: the GPU count of its
representative benchmark sweep on that GPU, never fewer than its memory
footprint fits (costcurve.analytics.sizing); throughput per GPU is that sweep's
at the requested interactivity (interpolated) or its maximum, unless given.
The API side is db.price_selection.cheapest_standard_price, the one selection
of "which prices count".
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.deps import EngineDep
from api.gpu_names import gpu_param
from api.responses import cached
from api.selfhost_rates import Basis, OwnedDep, rate_for, require_rate
from costcurve.analytics.breakeven import SelfHostPlan, compare
from costcurve.analytics.interactivity import SweepMeasure, sweep_headlines
from costcurve.analytics.sizing import (
    DEFAULT_KV_BYTES_PER_TOKEN,
    Footprint,
    Precision,
    deployment_gpus,
    gpus_to_fit,
    kv_bytes_per_token,
)
from costcurve.benchmarks._vllm import DENSE_CONFIGS
from costcurve.catalog import load_models
from costcurve.catalog.gpus import KNOWN_GPUS
from costcurve.core.jsonenc import dumps
from costcurve.core.representativeness import effective_concurrency
from db.price_selection import cheapest_standard_price
from db.selfhost_sweeps import RateAsk, StoredSweep, load_sweeps

router = APIRouter(prefix="/v1", tags=["self-hosting"])


def _kv_per_token(model: str) -> tuple[int, str]:
    if model in DENSE_CONFIGS:
        return kv_bytes_per_token(DENSE_CONFIGS[model][1]), f"{model} config.json (16-bit KV)"
    return DEFAULT_KV_BYTES_PER_TOKEN, "default: Llama-3-70B GQA, 16-bit KV (architecture unknown)"


def _deployment(sweeps: list[StoredSweep], used: StoredSweep | None) -> int | None:
    """GPUs the benchmarks deployed the model on: the sweep used, else any stored one.

    A run that is no throughput reference still says how many GPUs served the model.
    """
    if used is not None:
        return used.first.gpu_count
    return max((s.first.gpu_count for s in sweeps), default=None)


def _measured(
    sweeps: list[StoredSweep], model: str, gpu: str, interactivity: float | None
) -> tuple[StoredSweep | None, float | None, str]:
    """The representative sweep used and its total tokens/s per GPU (or why none)."""
    good = [s for s in sweeps if s.representative]
    if not good:
        why = "; ".join(f"{s.verdict}: {s.verdict_reason}" for s in sweeps) or "none stored"
        return None, None, f"no representative benchmark of {model} on {gpu} ({why})"
    best: tuple[StoredSweep | None, float | None, str] = (None, None, "")
    for sweep in good:
        measures = [
            SweepMeasure(
                effective_concurrency(p),
                p.interactivity,
                p.output_tokens_per_s_per_gpu,
                p.total_tokens_per_s_per_gpu,
            )
            for p in sweep.points
        ]
        levels = () if interactivity is None else (interactivity,)
        head = sweep_headlines(measures, levels)[0]
        tps = head.total_tokens_per_s_per_gpu
        if tps is not None and (best[1] is None or tps > best[1]):
            best = (sweep, tps, head.label)
        elif best[0] is None:
            best = (None, None, head.reason or "")
    if best[0] is None:
        return None, None, f"interactivity: {best[2]} for {model} on {gpu}"
    return best


@router.get(
    "/breakeven",
    summary="API vs self-hosting for a monthly token volume, and the break-even volume",
    description=(
        "The cheapest current standard blended API price of `model` against serving it on "
        "`gpu` priced at `pricing` (rental on_demand/spot/community, `owned` hardware, or "
        "`index`). GPUs per replica = the benchmark deployment's count, never fewer than "
        "the memory footprint fits (parameters x bytes at `precision` + KV cache for "
        "`context_len` x `concurrency`). Throughput per GPU: the representative sweep's "
        "total tokens/s at `interactivity` (interpolated) or its maximum, unless "
        "`tokens_per_s_per_gpu` is given. `billing=always_on` bills every hour; `utilized` "
        "only the busy share (seed 003, section 6)."
    ),
)
def breakeven(
    request: Request,
    engine: EngineDep,
    owned: OwnedDep,
    model: Annotated[str, Query(description="Canonical model slug")],
    monthly_tokens: Annotated[
        float,
        Query(ge=1, le=1e15, allow_inf_nan=False, description="Tokens per month (1 to 1e15)"),
    ],
    gpu: Annotated[str, Query(description="GPU name or alias")] = "H100-SXM-80GB",
    pricing: Basis = "on_demand",
    interactivity: Annotated[
        float | None,
        Query(
            gt=0,
            le=10_000,
            allow_inf_nan=False,
            description="Tokens/s per user (default: max throughput)",
        ),
    ] = None,
    tokens_per_s_per_gpu: Annotated[
        float | None, Query(ge=0.001, le=10_000_000, allow_inf_nan=False)
    ] = None,
    utilization: Annotated[float, Query(ge=0.01, le=1, allow_inf_nan=False)] = 1.0,
    billing: Literal["always_on", "utilized"] = "always_on",
    hours_per_month: Annotated[float, Query(ge=1, le=744, allow_inf_nan=False)] = 730.0,
    precision: Precision = "bf16",
    context_len: Annotated[int, Query(ge=1, le=10_000_000)] = 8192,
    concurrency: Annotated[int, Query(ge=1, le=100_000)] = 16,
    include_stale: Annotated[
        bool,
        Query(
            description="Also use API prices and GPU-hour rates past their source's "
            "freshness horizon"
        ),
    ] = False,
) -> Response:
    catalog = load_models()
    if model not in catalog:
        raise HTTPException(422, detail=f"model: unknown canonical model {model!r}")
    gpu = gpu_param(gpu)
    params_b = catalog[model].total_params_b
    now = datetime.now(UTC)
    with engine.connect() as conn:
        api_offer = cheapest_standard_price(conn, model, now, include_stale=include_stale)
        if api_offer is None:
            raise HTTPException(422, detail=f"model: no current standard API price for {model!r}")
        rate = rate_for(conn, pricing, RateAsk(gpu, now, include_stale), owned)
        usd_per_gpu_hour = require_rate(rate, pricing)
        sweeps = [s for _, s in load_sweeps(conn, model=model, gpu=gpu)]
    sweep, measured_tps, measured_note = _measured(sweeps, model, gpu, interactivity)
    if tokens_per_s_per_gpu is None and measured_tps is None:
        raise HTTPException(422, detail=f"tokens_per_s_per_gpu: {measured_note}; pass a throughput")
    if params_b is None:
        raise HTTPException(422, detail=f"model: the catalog has no parameter count for {model}")
    kv, kv_source = _kv_per_token(model)
    footprint = Footprint(float(params_b), precision, context_len, concurrency, kv)
    try:
        fit = gpus_to_fit(footprint, KNOWN_GPUS[gpu].memory_gb)
    except ValueError as exc:
        raise HTTPException(422, detail=f"gpu: {exc}") from exc
    bench_gpus = _deployment(sweeps, sweep)
    per_replica = deployment_gpus(fit, bench_gpus)
    tps = tokens_per_s_per_gpu or measured_tps
    assert tps is not None
    plan = SelfHostPlan(
        usd_per_gpu_hour=usd_per_gpu_hour,
        tokens_per_s_per_gpu=Decimal(repr(tps)),
        utilization=utilization,
        hours_per_month=hours_per_month,
        billing=billing,
        gpus_per_replica=per_replica,
    )
    result = compare(monthly_tokens, api_offer["usd_per_mtok"], plan)
    body = {
        "model": model,
        "monthly_tokens": monthly_tokens,
        "api": api_offer | {"usd_per_month": result.api_usd_per_month},
        "self_hosted": {
            "gpu": gpu,
            "pricing": pricing,
            "rate": rate,
            "gpus": result.gpus,
            "gpus_per_replica": per_replica,
            "replicas": result.replicas,
            "sizing": _sizing(footprint, fit, bench_gpus, kv_source, KNOWN_GPUS[gpu].memory_gb),
            "tokens_per_s_per_gpu": tps,
            "throughput_measured": tokens_per_s_per_gpu is None,
            "throughput_point": None if tokens_per_s_per_gpu else measured_note,
            "benchmark": None if sweep is None else _bench(sweep),
            "utilization": utilization,
            "billing": billing,
            "hours_per_month": hours_per_month,
            "usd_per_gpu_month": plan.usd_per_gpu_month,
            "usd_per_month": result.selfhost_usd_per_month,
        },
        "cheaper": result.cheaper,
        "breakeven_monthly_tokens": result.breakeven_monthly_tokens,
    }
    return cached(request, dumps(body).encode(), "application/json")


def _sizing(
    fp: Footprint, fit: int, bench_gpus: int | None, kv_source: str, memory_gb: int
) -> dict[str, Any]:
    return {
        "rule": "max(benchmark deployment GPUs, smallest power of two holding weights + KV "
        "in 90% of GPU memory)",
        "total_params_b": fp.total_params_b,
        "precision": fp.precision,
        "weights_gb": fp.weights_gb,
        "context_len": fp.context_len,
        "concurrency": fp.concurrency,
        "kv_bytes_per_token": fp.kv_bytes_per_token,
        "kv_source": kv_source,
        "kv_cache_gb": fp.kv_cache_gb,
        "gpu_memory_gb": memory_gb,
        "gpus_to_fit": fit,
        "benchmark_gpus": bench_gpus,
    }


def _bench(sweep: StoredSweep) -> dict[str, Any]:
    setup = sweep.setup()
    keep = ("model_id", "engine", "engine_version", "gpu_count", "tensor_parallel_size",
            "pipeline_parallel_size", "input_len", "output_len", "concurrencies",
            "result_ids", "verdict")  # fmt: skip
    return {k: setup[k] for k in keep}
