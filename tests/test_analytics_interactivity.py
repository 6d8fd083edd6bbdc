"""Monotone interpolation of the throughput-vs-interactivity curve on hand-built
curves whose answers are known in closed form."""

from __future__ import annotations

import itertools

import pytest

from costcurve.analytics.interactivity import (
    CurvePoint,
    SweepMeasure,
    frontier,
    pchip,
    sweep_headlines,
    throughput_at,
)


def test_pchip_reproduces_a_straight_line_exactly() -> None:
    xs, ys = [10.0, 20.0, 40.0, 80.0], [1000.0, 900.0, 700.0, 300.0]
    line_y = [2000.0 - 10.0 * x for x in xs]
    for x in (10.0, 12.5, 25.0, 50.0, 79.0):
        assert pchip(xs, line_y, x) == pytest.approx(2000.0 - 10.0 * x, rel=1e-12)
    assert pchip(xs, ys, 20.0) == 900.0  # passes through every knot


def test_pchip_never_overshoots_between_knots_of_a_monotone_curve() -> None:
    # A sharp knee: a natural cubic spline would overshoot below 100 after the knee.
    xs = [5.0, 10.0, 20.0, 30.0, 60.0]
    ys = [5000.0, 4900.0, 1000.0, 900.0, 100.0]
    samples = [pchip(xs, ys, 5.0 + i * 0.25) for i in range(int((60 - 5) / 0.25) + 1)]
    values = [v for v in samples if v is not None]
    assert len(values) == len(samples)
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(values))
    assert min(values) >= 100.0
    assert max(values) <= 5000.0


def test_pchip_two_points_is_linear_and_outside_the_range_is_none() -> None:
    assert pchip([10.0, 30.0], [600.0, 200.0], 20.0) == pytest.approx(400.0)
    assert pchip([10.0, 30.0], [600.0, 200.0], 9.99) is None
    assert pchip([10.0, 30.0], [600.0, 200.0], 30.01) is None
    with pytest.raises(ValueError, match="strictly increasing"):
        pchip([10.0, 10.0], [1.0, 2.0], 10.0)


def test_frontier_drops_dominated_points() -> None:
    points = [
        CurvePoint(50.0, 100.0),
        CurvePoint(40.0, 90.0),  # less interactive and slower than (50, 100): dominated
        CurvePoint(20.0, 400.0),
        CurvePoint(10.0, 380.0),  # dominated by (20, 400)
        CurvePoint(5.0, 900.0),
    ]
    assert frontier(points) == [
        CurvePoint(5.0, 900.0),
        CurvePoint(20.0, 400.0),
        CurvePoint(50.0, 100.0),
    ]


def test_throughput_at_a_level_between_two_measured_levels_of_a_linear_sweep() -> None:
    # Throughput falls linearly with interactivity: T = 3000 - 50 x I.
    sweep = [CurvePoint(i, 3000.0 - 50.0 * i) for i in (10.0, 30.0, 45.0, 55.0)]
    assert throughput_at(sweep, 20.0) == pytest.approx(2000.0)
    assert throughput_at(sweep, 50.0) == pytest.approx(500.0)
    assert throughput_at(sweep, 60.0) is None


def test_sweep_headlines_quote_each_level_and_the_max_throughput_point() -> None:
    # Output throughput T = 3000 - 50 x I, total = 3 x output (1k in / 1k out shares).
    sweep = [SweepMeasure(c, i, 3000.0 - 50.0 * i, 3 * (3000.0 - 50.0 * i))
             for c, i in ((64, 10.0), (16, 30.0), (4, 50.0))]  # fmt: skip
    heads = {h.label: h for h in sweep_headlines(sweep, (20.0, 50.0, 90.0))}
    at20 = heads["interactivity=20"]
    assert at20.output_tokens_per_s_per_gpu == pytest.approx(2000.0)
    assert at20.total_tokens_per_s_per_gpu == pytest.approx(6000.0)
    assert at20.interpolated
    assert at20.concurrency is None
    at50 = heads["interactivity=50"]
    assert (at50.output_tokens_per_s_per_gpu, at50.concurrency, at50.interpolated) == (
        500.0,
        4,
        False,
    )
    assert heads["interactivity=90"].output_tokens_per_s_per_gpu is None
    assert "outside the measured interactivity" in (heads["interactivity=90"].reason or "")
    top = heads["max_throughput"]
    assert (top.concurrency, top.output_tokens_per_s_per_gpu) == (64, 2500.0)
