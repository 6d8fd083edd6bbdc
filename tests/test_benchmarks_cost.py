from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from costcurve.benchmarks import BenchmarkPoint
from costcurve.core.formulas import usd_per_mtok


def point(conc: int, output_tps: float, tpot_ms: float | None, *, gpu: str = "H100-SXM-80GB",
          gpu_count: int = 1, input_per_output: int = 8) -> BenchmarkPoint:  # fmt: skip
    duration = 100.0
    out_tokens = int(output_tps * duration)
    return BenchmarkPoint(
        model_id="meta-llama/Llama-3.1-8B-Instruct",
        engine="vllm",
        gpu=gpu,
        gpu_count=gpu_count,
        tensor_parallel_size=gpu_count,
        input_len=1024,
        output_len=128,
        concurrency=conc,
        num_prompts=10 * conc,
        completed=10 * conc,
        total_input_tokens=out_tokens * input_per_output,
        total_output_tokens=out_tokens,
        duration=duration,
        request_throughput=10 * conc / duration,
        output_throughput=output_tps,
        total_token_throughput=output_tps * (1 + input_per_output),
        median_tpot_ms=tpot_ms,
        started_at=datetime(2026, 8, 1, tzinfo=UTC),
        raw={},
    )


def test_usd_per_mtok_is_exact_decimal_arithmetic() -> None:
    # 3.60 $/h at 1000 tok/s: 3.6M tokens an hour -> $1 per million.
    assert usd_per_mtok(Decimal("3.60"), 1000) == Decimal("1")
    assert usd_per_mtok(Decimal("2.88"), Decimal("400")) == Decimal("2")
    assert usd_per_mtok(Decimal("2.69"), Decimal("8000")) == Decimal("2.69") * 10**6 / (
        Decimal(8000) * 3600
    )
    assert usd_per_mtok(Decimal("1.80"), 2500.0) == Decimal("0.2")
    assert usd_per_mtok(Decimal("0"), 10) == Decimal("0")
    assert isinstance(usd_per_mtok(Decimal("3.99"), 413.89429359863317), Decimal)


def test_usd_per_mtok_takes_float_throughput_by_its_repr() -> None:
    # 0.1 as a float is not 1/10 in binary; repr keeps it 0.1 so no noise enters the price.
    assert usd_per_mtok(Decimal("0.36"), 0.1) == Decimal("1000")


@pytest.mark.parametrize(
    ("price", "rate", "error"),
    [
        (Decimal("1"), 0, ValueError),
        (Decimal("1"), -5.0, ValueError),
        (Decimal("-1"), 10, ValueError),
        (Decimal("1"), float("inf"), ValueError),
        (1.5, 10, TypeError),
        (Decimal("1"), True, TypeError),
    ],
)
def test_usd_per_mtok_rejects_nonsense(price: object, rate: object, error: type) -> None:
    with pytest.raises(error):
        usd_per_mtok(price, rate)  # type: ignore[arg-type]
