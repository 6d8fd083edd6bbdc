"""Throughput at a stated interactivity: the InferenceX reading of a concurrency sweep.

A sweep gives, per concurrency level, the throughput per GPU (tokens/s) and
the interactivity each user sees (tokens/s/user = 1000 / median TPOT).
Raising concurrency trades interactivity for throughput, so the useful points
form a frontier: throughput falls as interactivity rises. Cost is quoted at a
stated interactivity (for example 20 or 50 tok/s/user), which is rarely a
measured point, so the frontier is interpolated with a monotone piecewise
cubic (Fritsch-Carlson PCHIP, as ``scipy.interpolate.PchipInterpolator``):
it passes through every measured point, never overshoots between two of
them (no invented throughput) and reproduces straight lines exactly. Nothing
is extrapolated: a level outside the measured interactivity range has no
throughput (None), and the response says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_INTERACTIVITY_LEVELS: tuple[float, ...] = (20.0, 50.0)


@dataclass(frozen=True)
class CurvePoint:
    interactivity: float  # tokens/s per user
    throughput: float  # tokens/s per GPU (the curve's y)


def frontier(points: Sequence[CurvePoint]) -> list[CurvePoint]:
    """The non-dominated points, by interactivity ascending (throughput then descending).

    A point is dropped when another is at least as interactive and has at
    least its throughput: no deployment would choose it.
    """
    best: list[CurvePoint] = []
    for p in sorted(points, key=lambda q: (-q.interactivity, -q.throughput)):
        if p.interactivity <= 0 or p.throughput <= 0:
            continue
        if not best or p.throughput > best[-1].throughput:
            if best and best[-1].interactivity == p.interactivity:
                best[-1] = p
            else:
                best.append(p)
    return best[::-1]


def _end_slope(h0: float, h1: float, d0: float, d1: float) -> float:
    # scipy's three-point end condition, kept shape-preserving.
    slope = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    if (slope > 0) != (d0 > 0) or d0 == 0:
        return 0.0
    if (d0 > 0) != (d1 > 0) and abs(slope) > abs(3 * d0):
        return 3 * d0
    return slope


def _slopes(xs: Sequence[float], ys: Sequence[float]) -> list[float]:
    n = len(xs)
    h = [xs[i + 1] - xs[i] for i in range(n - 1)]
    d = [(ys[i + 1] - ys[i]) / h[i] for i in range(n - 1)]
    if n == 2:
        return [d[0], d[0]]
    m = [0.0] * n
    for i in range(1, n - 1):
        if d[i - 1] == 0 or d[i] == 0 or (d[i - 1] > 0) != (d[i] > 0):
            m[i] = 0.0
        else:
            # Weighted harmonic mean (Fritsch-Butland), as scipy.
            w1, w2 = 2 * h[i] + h[i - 1], h[i] + 2 * h[i - 1]
            m[i] = (w1 + w2) / (w1 / d[i - 1] + w2 / d[i])
    m[0] = _end_slope(h[0], h[1], d[0], d[1])
    m[-1] = _end_slope(h[-1], h[-2], d[-1], d[-2])
    return m


def pchip(xs: Sequence[float], ys: Sequence[float], x: float) -> float | None:
    """Monotone cubic interpolation of (xs, ys) at ``x``; None outside [xs[0], xs[-1]].

    ``xs`` strictly increasing; one point answers only at that point.
    """
    if len(xs) != len(ys) or not xs:
        raise ValueError("xs and ys must be non-empty and of equal length")
    if any(b <= a for a, b in itertools.pairwise(xs)):
        raise ValueError("xs must be strictly increasing")
    if x < xs[0] or x > xs[-1]:
        return None
    if len(xs) == 1:
        return ys[0]
    m = _slopes(xs, ys)
    i = max(j for j in range(len(xs) - 1) if xs[j] <= x)
    h = xs[i + 1] - xs[i]
    t = (x - xs[i]) / h
    h00 = (1 + 2 * t) * (1 - t) ** 2
    h10 = t * (1 - t) ** 2
    h01 = t * t * (3 - 2 * t)
    h11 = t * t * (t - 1)
    return h00 * ys[i] + h10 * h * m[i] + h01 * ys[i + 1] + h11 * h * m[i + 1]


def throughput_at(points: Sequence[CurvePoint], interactivity: float) -> float | None:
    """Throughput per GPU on the sweep's frontier at ``interactivity`` (None: not measured)."""
    front = frontier(points)
    if not front:
        return None
    return pchip([p.interactivity for p in front], [p.throughput for p in front], interactivity)


def max_throughput(points: Sequence[CurvePoint]) -> CurvePoint | None:
    return max(points, key=lambda p: (p.throughput, p.interactivity), default=None)


@dataclass(frozen=True)
class SweepMeasure:
    """One measured concurrency level of a sweep (per-GPU throughputs, tokens/s)."""

    concurrency: int
    interactivity: float | None
    output_tokens_per_s_per_gpu: float
    total_tokens_per_s_per_gpu: float


@dataclass(frozen=True)
class Headline:
    """Throughput of a sweep at one interactivity level, or at its maximum.

    ``label`` is ``"interactivity=20"`` or ``"max_throughput"``; throughputs are
    None (with ``reason``) when the level lies outside the measured range.
    """

    label: str
    interactivity: float | None
    output_tokens_per_s_per_gpu: float | None
    total_tokens_per_s_per_gpu: float | None
    concurrency: int | None
    interpolated: bool
    reason: str | None = None


def _curve(points: Sequence[SweepMeasure], total: bool) -> list[CurvePoint]:
    return [
        CurvePoint(
            p.interactivity,
            p.total_tokens_per_s_per_gpu if total else p.output_tokens_per_s_per_gpu,
        )
        for p in points
        if p.interactivity is not None
    ]


def sweep_headlines(
    points: Sequence[SweepMeasure], levels: Sequence[float] = DEFAULT_INTERACTIVITY_LEVELS
) -> list[Headline]:
    """Headlines of one sweep: one per interactivity level, then max throughput."""
    out_curve, total_curve = _curve(points, False), _curve(points, True)
    measured = sorted(p.interactivity for p in out_curve)
    span = f"[{measured[0]:.1f}, {measured[-1]:.1f}]" if measured else "[]"
    heads = []
    for level in levels:
        out_tps = throughput_at(out_curve, level)
        total_tps = throughput_at(total_curve, level)
        at_point = [p for p in points if p.interactivity == level]
        heads.append(
            Headline(
                label=f"interactivity={level:g}",
                interactivity=level,
                output_tokens_per_s_per_gpu=out_tps,
                total_tokens_per_s_per_gpu=total_tps,
                concurrency=at_point[0].concurrency if at_point else None,
                interpolated=not at_point,
                reason=None
                if out_tps is not None
                else f"{level:g} tok/s/user is outside the measured interactivity {span}",
            )
        )
    top = max(points, key=lambda p: (p.output_tokens_per_s_per_gpu, p.interactivity or 0.0))
    heads.append(
        Headline(
            label="max_throughput",
            interactivity=top.interactivity,
            output_tokens_per_s_per_gpu=top.output_tokens_per_s_per_gpu,
            total_tokens_per_s_per_gpu=top.total_tokens_per_s_per_gpu,
            concurrency=top.concurrency,
            interpolated=False,
        )
    )
    return heads
