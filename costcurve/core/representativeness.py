"""Is a benchmark sweep a throughput reference? The representativeness verdict.

A self-hosted $/M figure is only as good as the run it divides by. InferenceMAX
and Artificial Analysis quote cost from a concurrency sweep that is long
enough to be in steady state and that goes far enough to show where the
server saturates; a 10-prompt smoke run or a decode-latency experiment with
short outputs measures something else. A sweep (one setup over concurrency
levels, see :func:`sweep_key`) is ``representative`` when every rule holds:

* each point is long enough (``short``): at least ``MIN_PROMPTS`` prompts,
  at least ``MIN_PROMPTS_PER_SLOT`` prompts per concurrency slot (so ramp-up
  and drain are a small share of the run; InferenceMAX sends 10 per slot),
  and at least ``MIN_DURATION_S`` seconds;
* outputs are long enough for decode throughput (``latency_only``): at least
  ``MIN_OUTPUT_LEN`` output tokens per request (InferenceMAX's workloads use
  1024 or 8192; with ~128 the run is dominated by prefill and ramp);
* it is a sweep (``single_point``): at least ``MIN_LEVELS`` concurrency levels;
* it reached saturation (``unsaturated``): on the last step between the two
  highest levels, the elasticity of per-GPU output throughput to concurrency,
  ``log(T2/T1) / log(c2/c1)``, is below ``SATURATION_ELASTICITY`` (1 when
  throughput still grows in proportion, 0 when flat; 0.5 means doubling the
  concurrency returned less than 41 % more throughput).

The verdict is the first failed rule in that order (all failed rules are in
the reason). Synthetic runs are never representative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from costcurve.core.benchmark_point import BenchmarkPoint

Verdict = Literal[
    "representative", "short", "latency_only", "single_point", "unsaturated", "synthetic"
]
MIN_PROMPTS = 32
MIN_PROMPTS_PER_SLOT = 4
MIN_DURATION_S = 30.0
MIN_OUTPUT_LEN = 512
MIN_LEVELS = 3
SATURATION_ELASTICITY = 0.5


@dataclass(frozen=True)
class SweepVerdict:
    verdict: Verdict
    reason: str

    @property
    def representative(self) -> bool:
        return self.verdict == "representative"


def sweep_key(point: BenchmarkPoint) -> tuple[object, ...]:
    """Points with equal keys are one sweep over concurrency."""
    return (
        point.model_id,
        point.engine,
        point.engine_version,
        point.gpu,
        point.gpu_count,
        point.tensor_parallel_size,
        point.pipeline_parallel_size,
        point.input_len,
        point.output_len,
        point.dummy_weights,
        point.synthetic,
    )


def effective_concurrency(point: BenchmarkPoint) -> int:
    # No cap: every prompt was sent at once, so at most num_prompts were in flight.
    return point.concurrency if point.concurrency is not None else point.num_prompts


def _short(point: BenchmarkPoint) -> str | None:
    conc = effective_concurrency(point)
    problems = []
    if point.num_prompts < MIN_PROMPTS:
        problems.append(f"{point.num_prompts} prompts (< {MIN_PROMPTS})")
    if point.num_prompts < MIN_PROMPTS_PER_SLOT * conc:
        problems.append(
            f"{point.num_prompts} prompts for concurrency {conc} "
            f"(< {MIN_PROMPTS_PER_SLOT} per slot)"
        )
    if point.duration < MIN_DURATION_S:
        problems.append(f"{point.duration:.1f} s (< {MIN_DURATION_S:g} s)")
    if not problems:
        return None
    return f"concurrency {conc}: " + ", ".join(problems)


def _elasticity(points: Sequence[BenchmarkPoint]) -> tuple[float, int, int] | None:
    by_level: dict[int, float] = {}
    for p in points:
        level = effective_concurrency(p)
        by_level[level] = max(by_level.get(level, 0.0), p.output_tokens_per_s_per_gpu)
    levels = sorted(by_level)
    if len(levels) < 2:
        return None
    c1, c2 = levels[-2], levels[-1]
    t1, t2 = by_level[c1], by_level[c2]
    if t1 <= 0 or t2 <= 0:
        return 0.0, c1, c2
    return math.log(t2 / t1) / math.log(c2 / c1), c1, c2


def classify_sweep(points: Sequence[BenchmarkPoint]) -> SweepVerdict:
    """The verdict for one sweep (points sharing :func:`sweep_key`)."""
    if not points:
        raise ValueError("a sweep needs at least one point")
    failed: list[tuple[Verdict, str]] = []
    if any(p.synthetic for p in points):
        failed.append(("synthetic", "measured against a synthetic server, not real hardware"))
    shorts = [s for p in points if (s := _short(p))]
    if shorts:
        failed.append(("short", "short run: " + "; ".join(shorts)))
    out_len = min(p.output_len for p in points)
    if out_len < MIN_OUTPUT_LEN:
        failed.append(
            (
                "latency_only",
                f"latency-only workload: {out_len} output tokens per request "
                f"(< {MIN_OUTPUT_LEN}), not a steady-state decode throughput",
            )
        )
    levels = sorted({effective_concurrency(p) for p in points})
    if len(levels) < MIN_LEVELS:
        failed.append(
            (
                "single_point",
                f"{len(levels)} concurrency level(s) {levels} (< {MIN_LEVELS}): "
                "not a sweep, saturation unknown",
            )
        )
    else:
        step = _elasticity(points)
        if step is not None and step[0] >= SATURATION_ELASTICITY:
            e, c1, c2 = step
            failed.append(
                (
                    "unsaturated",
                    f"did not reach saturation: throughput elasticity {e:.2f} from concurrency "
                    f"{c1} to {c2} (>= {SATURATION_ELASTICITY})",
                )
            )
    if not failed:
        e, c1, c2 = _elasticity(points) or (0.0, levels[0], levels[-1])
        return SweepVerdict(
            "representative",
            f"sweep of {len(levels)} levels {levels} saturated (elasticity {e:.2f} "
            f"from {c1} to {c2}), every point long enough",
        )
    return SweepVerdict(failed[0][0], "; ".join(reason for _, reason in failed))


def classify_points(points: Sequence[BenchmarkPoint]) -> list[SweepVerdict]:
    """The verdict of each point's sweep, in the order of ``points``."""
    sweeps: dict[tuple[object, ...], list[BenchmarkPoint]] = {}
    for p in points:
        sweeps.setdefault(sweep_key(p), []).append(p)
    verdicts = {key: classify_sweep(members) for key, members in sweeps.items()}
    return [verdicts[sweep_key(p)] for p in points]
