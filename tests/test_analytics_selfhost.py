"""Self-hosted $/M tokens: benchmark throughput joined as-of with GPU rental rates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest

from costcurve.analytics.selfhost import cheapest_selfhost, cost_per_mtok, selfhost_costs


def _t(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def test_cost_per_mtok_reproduces_seed_h100_figure() -> None:
    # Seed 003 section 2: 3,000 tok/s on an H100 at $2.49/h = 10.8M tokens/h = $0.23/M.
    assert cost_per_mtok(Decimal("2.49"), 3000) == pytest.approx(2.49 / 10.8)
    assert round(cost_per_mtok(2.49, 3000), 2) == 0.23
    with pytest.raises(ValueError, match="positive throughput"):
        cost_per_mtok(2.49, 0)


BENCHMARKS = pl.DataFrame(
    {
        "model_slug": ["llama-3.3-70b", "llama-3.3-70b", "qwen", "old"],
        "gpu": ["H100-SXM-80GB", "H100-SXM-80GB", "A100-80GB", "H100-SXM-80GB"],
        "gpu_count": [1, 8, 1, 1],
        "started_at": [_t(2026, 1, 10), _t(2026, 3, 1), _t(2026, 3, 1), _t(2025, 6, 1)],
        "output_throughput": [Decimal("3000"), Decimal("8000"), Decimal("500"), Decimal("1")],
        "total_token_throughput": [Decimal("6000"), Decimal("24000"), Decimal("900"), Decimal("2")],
    }
)
RATES = pl.DataFrame(
    {
        "offering_id": [1, 1, 2, 3, 4],
        "provider": ["runpod", "runpod", "runpod", "lambda", "runpod"],
        "gpu": ["H100-SXM-80GB"] * 4 + ["A100-80GB"],
        "pricing": ["on_demand", "on_demand", "spot", "on_demand", "reserved_1y"],
        "usd_per_gpu_hour": [Decimal(v) for v in ("3.29", "2.99", "2.49", "2.49", "1.00")],
        "valid_from": [
            _t(2026, 1, 1),
            _t(2026, 2, 1),
            _t(2026, 1, 1),
            _t(2026, 3, 1),
            _t(2026, 1, 1),
        ],
        "valid_to": [_t(2026, 2, 1), None, None, None, None],
    }
)


def test_rate_in_effect_at_run_time_is_joined_per_pricing() -> None:
    costs = selfhost_costs(BENCHMARKS, RATES)
    first = costs.filter(pl.col("benchmark_row") == 0)
    # Jan 10: runpod on-demand was still 3.29 (cut to 2.99 on Feb 1); lambda not listed yet.
    assert first.select("provider", "pricing", "usd_per_gpu_hour").rows() == [
        ("runpod", "on_demand", 3.29),
        ("runpod", "spot", 2.49),
    ]
    assert first["output_usd_per_mtok"].to_list() == pytest.approx([3.29 / 10.8, 2.49 / 10.8])
    assert first["total_usd_per_mtok"].to_list() == pytest.approx([3.29 / 21.6, 2.49 / 21.6])


def test_multi_gpu_throughput_is_divided_per_gpu_and_valid_from_is_inclusive() -> None:
    costs = selfhost_costs(BENCHMARKS, RATES).filter(pl.col("benchmark_row") == 1)
    # Mar 1 run: lambda's version starts exactly then, so it is in effect.
    assert sorted(costs.select("provider", "usd_per_gpu_hour").rows()) == [
        ("lambda", 2.49),
        ("runpod", 2.49),
        ("runpod", 2.99),
    ]
    assert costs["output_tokens_per_s_per_gpu"].unique().to_list() == [1000.0]
    assert costs["total_tokens_per_s_per_gpu"].unique().to_list() == [3000.0]


def test_runs_without_a_matching_rate_get_no_row() -> None:
    costs = selfhost_costs(BENCHMARKS, RATES)
    # qwen's A100 only has a reserved rate (not asked for); "old" ran before any rate.
    assert set(costs["benchmark_row"].to_list()) == {0, 1}
    reserved = selfhost_costs(BENCHMARKS, RATES, pricings=["reserved_1y"])
    assert reserved.select("model_slug", "usd_per_gpu_hour").rows() == [("qwen", 1.0)]


def test_rate_closed_before_the_run_is_not_used() -> None:
    rates = RATES.filter(pl.col("offering_id") == 1).head(1)  # 3.29 until Feb 1 only
    assert selfhost_costs(BENCHMARKS, rates).filter(pl.col("benchmark_row") == 1).is_empty()


def test_cheapest_selfhost_per_run_and_pricing() -> None:
    best = cheapest_selfhost(selfhost_costs(BENCHMARKS, RATES))
    assert best.select("benchmark_row", "pricing", "provider", "usd_per_gpu_hour").rows() == [
        (0, "on_demand", "runpod", 3.29),
        (0, "spot", "runpod", 2.49),
        (1, "on_demand", "lambda", 2.49),
        (1, "spot", "runpod", 2.49),
    ]


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match="gpu_count"):
        selfhost_costs(BENCHMARKS.drop("gpu_count"), RATES)
    with pytest.raises(ValueError, match="pricing"):
        selfhost_costs(BENCHMARKS, RATES.drop("pricing"))
