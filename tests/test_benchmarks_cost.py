from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from costcurve.benchmarks import BenchmarkPoint
from costcurve.benchmarks.cost import headlines, point_cost, usd_per_mtok


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


def test_point_cost_prices_output_and_total_tokens_per_gpu() -> None:
    # 2 GPUs at 14,400 output tok/s together = 7,200 per GPU; total is 9x that.
    cost = point_cost(point(64, 14_400.0, 40.0, gpu_count=2), Decimal("2.88"))
    assert cost.output_usd_per_mtok == Decimal("2.88") * 10**6 / (Decimal(7200) * 3600)
    assert cost.output_usd_per_mtok == Decimal("0.1111111111111111111111111111")
    assert cost.total_usd_per_mtok == Decimal("2.88") * 10**6 / (Decimal(64800) * 3600)
    assert cost.usd_per_mtok("output") == cost.output_usd_per_mtok


def test_headlines_pick_cheapest_point_meeting_each_interactivity_floor() -> None:
    sweep = [
        point(4, 600.0, 10.0),  # 100 tok/s per user
        point(16, 1800.0, 16.0),  # 62.5
        point(32, 2880.0, 25.0),  # 40
        point(64, 3600.0, 40.0),  # 25
        point(128, 4000.0, 80.0),  # 12.5
    ]
    price = Decimal("2.88")
    heads = headlines(sweep, price)
    assert list(heads) == ["interactivity>=20", "interactivity>=50", "max_throughput"]
    h20, h50, top = heads["interactivity>=20"], heads["interactivity>=50"], heads["max_throughput"]
    assert h20 is not None and h20.point.concurrency == 64
    assert h20.output_usd_per_mtok == Decimal("2.88") * 10**6 / (Decimal(3600) * 3600)
    assert h50 is not None and h50.point.concurrency == 16
    assert h50.output_usd_per_mtok == Decimal("2.88") * 10**6 / (Decimal(1800) * 3600)
    assert top is not None and top.point.concurrency == 128
    assert top.output_usd_per_mtok == Decimal("0.2")


def test_headlines_handle_unreachable_floors_missing_tpot_and_gpu_prices() -> None:
    sweep = [
        point(64, 3600.0, 40.0, gpu="H100-SXM-80GB"),
        point(64, 7200.0, None, gpu="B200-SXM-180GB"),
    ]
    prices = {"H100-SXM-80GB": Decimal("2.00"), "B200-SXM-180GB": Decimal("4.00")}
    heads = headlines(sweep, prices, interactivity_floors=[20, 100], basis="total")
    assert heads["interactivity>=100"] is None
    h20 = heads["interactivity>=20"]
    assert h20 is not None and h20.point.gpu == "H100-SXM-80GB"
    top = heads["max_throughput"]
    assert top is not None and top.point.gpu == "B200-SXM-180GB"
    assert top.total_usd_per_mtok == Decimal("4.00") * 10**6 / (Decimal(64800) * 3600)
    with pytest.raises(ValueError, match="no GPU-hour price given for B200-SXM-180GB"):
        headlines(sweep, {"H100-SXM-80GB": Decimal("2")})
    assert headlines([], Decimal("1")) == {
        "interactivity>=20": None,
        "interactivity>=50": None,
        "max_throughput": None,
    }
