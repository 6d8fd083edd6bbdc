"""API vs self-hosting break-even, checked against seed 003 section 6."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from costcurve.analytics.breakeven import (
    SelfHostPlan,
    api_monthly_cost,
    breakeven_volume,
    cheapest_api,
    compare,
    gpus_needed,
    selfhost_monthly_cost,
)

B = 1e9
# Seed scenario 1: RunPod H100 at $2.49/h, Llama 3.3 70B at ~3,000 tok/s (section 2),
# a 720-hour (30-day) month, API (DeepInfra) ~$0.30/M blended.
SEED_H100 = SelfHostPlan(
    usd_per_gpu_hour=Decimal("2.49"), tokens_per_s_per_gpu=3000, hours_per_month=720
)


def test_seed_scenario_1_monthly_costs() -> None:
    assert SEED_H100.usd_per_gpu_month == pytest.approx(1792.8)  # seed: $1,793
    for volume, api in [(10e6, 3), (100e6, 30), (1 * B, 300), (10 * B, 3000)]:
        assert api_monthly_cost(volume, Decimal("0.30")) == pytest.approx(api)
    for volume in (10e6, 100e6, 1 * B):
        result = compare(volume, 0.30, SEED_H100)
        assert round(result.selfhost_usd_per_month) == 1793
        assert result.cheaper == "api"


def test_seed_scenario_1_break_even_is_about_six_billion_tokens() -> None:
    # $1,792.80 / $0.30 per M = 5.976B tokens/month ("~6-8B"), inside one H100's
    # 3,000 * 3,600 * 720 = 7.776B tokens/month.
    assert breakeven_volume(0.30, SEED_H100) == pytest.approx(5.976 * B)
    assert SEED_H100.tokens_per_gpu_month == pytest.approx(7.776 * B)


def test_ten_billion_tokens_needs_capacity_the_seed_assumes() -> None:
    # The seed's "10B: $1,793, self-host wins" assumes one GPU suffices; at 3,000 tok/s
    # it does not (7.776B/month), so two GPUs cost more than the API.
    at_3000 = compare(10 * B, 0.30, SEED_H100)
    assert at_3000.gpus == 2
    assert at_3000.selfhost_usd_per_month == pytest.approx(3585.6)
    assert at_3000.cheaper == "api"
    # At the top of the seed's 2,000-4,000 tok/s range one GPU carries 10.368B.
    fast = SelfHostPlan(usd_per_gpu_hour=2.49, tokens_per_s_per_gpu=4000, hours_per_month=720)
    at_4000 = compare(10 * B, 0.30, fast)
    assert (at_4000.gpus, round(at_4000.selfhost_usd_per_month), at_4000.cheaper) == (
        1,
        1793,
        "selfhost",
    )


def test_seed_fifty_percent_utilization_billing_only_busy_hours() -> None:
    half = SelfHostPlan(
        usd_per_gpu_hour=2.49,
        tokens_per_s_per_gpu=3000,
        hours_per_month=720,
        utilization=0.5,
        billing="utilized",
    )
    assert half.usd_per_gpu_month == pytest.approx(896.4)  # seed: $897 (= $1,793 / 2)
    assert breakeven_volume(0.30, half) == pytest.approx(2.988 * B)  # seed: ~3B
    roughly_equal = compare(3 * B, 0.30, half)  # seed: "$900 vs $897, roughly equal"
    assert roughly_equal.api_usd_per_month == pytest.approx(900)
    assert roughly_equal.selfhost_usd_per_month == pytest.approx(896.4)


def test_always_on_billing_pays_idle_hours() -> None:
    half_on = SelfHostPlan(usd_per_gpu_hour=2.49, tokens_per_s_per_gpu=3000, utilization=0.5)
    assert half_on.hours_per_month == 730  # default: 8,760 h / 12
    assert half_on.usd_per_gpu_month == pytest.approx(2.49 * 730)
    # Utilization halves capacity: 3,000 * 3,600 * 730 * 0.5 = 3.942B per GPU.
    assert gpus_needed(4 * B, half_on) == 2
    assert selfhost_monthly_cost(4 * B, half_on) == pytest.approx(2 * 2.49 * 730)


def test_expensive_api_break_even_drops_as_the_seed_says() -> None:
    # "Against Anthropic Haiku at $4/M output, break-even drops to ~500M tokens/month."
    assert breakeven_volume(4.0, SEED_H100) == pytest.approx(448.2e6)


def test_no_break_even_when_the_gpu_cannot_match_the_api_price() -> None:
    # One H100 at full load costs $0.2306/M; an API at $0.10/M is never beaten.
    assert breakeven_volume(0.10, SEED_H100) is None
    assert compare(50 * B, 0.10, SEED_H100).cheaper == "api"


def test_zero_volume_still_needs_one_gpu_and_bad_plans_are_rejected() -> None:
    assert gpus_needed(0, SEED_H100) == 1
    with pytest.raises(ValueError, match="tokens_per_s_per_gpu must be positive"):
        SelfHostPlan(usd_per_gpu_hour=2.49, tokens_per_s_per_gpu=0)
    with pytest.raises(ValueError, match="utilization must be in \\(0, 1\\]"):
        SelfHostPlan(usd_per_gpu_hour=2.49, tokens_per_s_per_gpu=3000, utilization=1.5)
    with pytest.raises(ValueError, match="billing must be"):
        SelfHostPlan(usd_per_gpu_hour=2.49, tokens_per_s_per_gpu=3000, billing="hourly")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative number"):
        api_monthly_cost(-1, 0.3)


def test_cheapest_api_uses_the_blended_price_and_skips_free() -> None:
    prices = pl.DataFrame(
        {
            "provider": ["deepinfra", "groq", "together", "promo"],
            "model": ["llama-3.3-70b"] * 4,
            "input_usd_per_mtok": [Decimal(v) for v in ("0.23", "0.59", "0.88", "0")],
            "output_usd_per_mtok": [Decimal(v) for v in ("0.40", "0.79", "0.88", "0")],
            "free": [False, False, False, True],
        }
    )
    best = cheapest_api(prices)
    assert best.provider == "deepinfra"
    assert best.usd_per_mtok == pytest.approx(0.2725)
    with pytest.raises(ValueError, match="no priced"):
        cheapest_api(prices.filter(pl.col("free")))


def test_a_multi_gpu_deployment_adds_capacity_in_whole_replicas() -> None:
    # 8 GPUs per replica at $2/h and 1,000 tok/s each: one replica makes
    # 8 x 1000 x 3600 x 730 = 21.024e9 tokens and costs 8 x 2 x 730 = $11,680 a month.
    plan = SelfHostPlan(usd_per_gpu_hour=2, tokens_per_s_per_gpu=1000, gpus_per_replica=8)
    small = compare(1e9, 1.0, plan)
    assert (small.gpus, small.replicas) == (8, 1)
    assert small.selfhost_usd_per_month == pytest.approx(11_680)
    big = compare(21.024e9 + 1, 1.0, plan)
    assert (big.gpus, big.replicas) == (16, 2)
    # Break-even against $1/M: one replica's bill over the price, within its capacity.
    assert small.breakeven_monthly_tokens == pytest.approx(11_680 / 1.0 * 1e6)
    with pytest.raises(ValueError, match="gpus_per_replica"):
        SelfHostPlan(usd_per_gpu_hour=2, tokens_per_s_per_gpu=1, gpus_per_replica=0)
