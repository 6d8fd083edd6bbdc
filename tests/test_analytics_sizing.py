"""The GPU-count rule of break-even and the owned-hardware GPU-hour formula."""

from __future__ import annotations

from decimal import Decimal

import pytest

from costcurve.analytics.sizing import (
    USABLE_FRACTION,
    Footprint,
    deployment_gpus,
    gpus_to_fit,
    kv_bytes_per_token,
)
from costcurve.benchmarks._vllm import DENSE_CONFIGS
from costcurve.catalog import load_models
from costcurve.catalog.gpus import KNOWN_GPUS
from costcurve.core.formulas import owned_usd_per_gpu_hour


@pytest.mark.parametrize("context_len", [1, 2048, 131072])
@pytest.mark.parametrize("concurrency", [1, 64])
def test_a_70b_fp16_model_never_fits_one_80gb_gpu(context_len: int, concurrency: int) -> None:
    fp = Footprint(70, "fp16", context_len, concurrency, kv_bytes_per_token=0)
    assert gpus_to_fit(fp, 80) >= 2
    assert gpus_to_fit(Footprint(70, "fp16", context_len, concurrency), 80) >= 2


def test_the_397b_model_on_h200_gets_at_least_the_benchmarks_eight_gpus() -> None:
    qwen = load_models()["qwen3.5-397b-a17b"]
    assert qwen.total_params_b is not None
    memory = KNOWN_GPUS["H200-SXM-141GB"].memory_gb
    fit_fp8 = gpus_to_fit(Footprint(float(qwen.total_params_b), "fp8"), memory)
    assert fit_fp8 < 8  # the weights alone would fit fewer ...
    assert deployment_gpus(fit_fp8, 8) == 8  # ... but the benchmark deployed 8
    fit_bf16 = gpus_to_fit(Footprint(float(qwen.total_params_b), "bf16"), memory)
    assert deployment_gpus(fit_bf16, 4) == fit_bf16 >= 8  # never fewer than fit


def test_fit_is_the_smallest_power_of_two_holding_weights_and_kv() -> None:
    fp = Footprint(
        8, "bf16", 8192, 16, kv_bytes_per_token(DENSE_CONFIGS["llama-3.1-8b-instruct"][1])
    )
    # Llama-3.1-8B: 2 x 32 layers x 8 KV heads x 128 x 2 bytes = 131072 B per token.
    assert fp.kv_bytes_per_token == 131072
    assert fp.total_gb == pytest.approx(16 + 131072 * 8192 * 16 / 1e9)
    assert gpus_to_fit(fp, 80) == 1
    assert gpus_to_fit(fp, 24) == 2  # 33.2 GB > 21.6 usable, <= 43.2
    assert gpus_to_fit(Footprint(1000, "bf16", kv_bytes_per_token=0), 80) == 32
    assert 2000 / (32 * 80 * USABLE_FRACTION) <= 1


def test_owned_gpu_hour_is_straight_line_capex_plus_facility_power() -> None:
    rate = owned_usd_per_gpu_hour(
        Decimal(26280), Decimal(3), Decimal("0.7"), Decimal("1.5"), Decimal("0.10")
    )
    # 26280 / (3 x 8760) = 1.0 $/h of capex; 0.7 kW x 1.5 x $0.10 = 0.105 $/h of power.
    assert rate == Decimal("1.105")
    with pytest.raises(ValueError, match="pue"):
        owned_usd_per_gpu_hour(Decimal(1), Decimal(1), Decimal(1), Decimal("0.9"), Decimal(1))
