"""The representativeness verdict: on every shipped benchmark file (judged from
the file's own numbers) and on hand-built sweeps with known answers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from costcurve.benchmarks import BenchmarkPoint, import_result_file
from costcurve.core import representativeness as rep
from tests.support import DATASETS
from tests.test_benchmarks_results import FILES, name_of, setup_for

FOLDER = DATASETS / "benchmarks"


def shipped_points() -> list[BenchmarkPoint]:
    points: list[BenchmarkPoint] = []
    for path in sorted(FOLDER.glob("*.json")):
        points += import_result_file(path.read_bytes(), **setup_for(path))
    return points


@pytest.mark.parametrize("path", FILES, ids=name_of)
def test_each_shipped_file_gets_a_verdict_naming_every_rule_its_numbers_break(
    path: Path,
) -> None:
    everything = shipped_points()
    verdicts = dict(zip(map(id, everything), rep.classify_points(everything), strict=True))
    mine = import_result_file(path.read_bytes(), **setup_for(path))
    for point in mine:
        # The verdict belongs to the sweep the file is part of (files of one setup).
        [same] = [p for p in everything if p.raw == point.raw]
        verdict = verdicts[id(same)]
        sweep = [p for p in everything if rep.sweep_key(p) == rep.sweep_key(point)]
        broken = {
            "short run": any(
                p.num_prompts < rep.MIN_PROMPTS
                or p.num_prompts < rep.MIN_PROMPTS_PER_SLOT * rep.effective_concurrency(p)
                or p.duration < rep.MIN_DURATION_S
                for p in sweep
            ),
            "latency-only": min(p.output_len for p in sweep) < rep.MIN_OUTPUT_LEN,
            "not a sweep": len({rep.effective_concurrency(p) for p in sweep}) < rep.MIN_LEVELS,
        }
        for words, is_broken in broken.items():
            assert (words in verdict.reason) == is_broken, (words, verdict.reason)
        assert verdict.representative == (not any(broken.values()) and "saturat" in verdict.reason)
        if not verdict.representative:
            assert verdict.reason


def point(conc: int, out_tps: float, *, output_len: int = 1024, prompts: int | None = None,
          duration: float = 120.0) -> BenchmarkPoint:  # fmt: skip
    n = prompts or 10 * conc
    return BenchmarkPoint(
        model_id="m", engine="vllm", gpu="H100-SXM-80GB", gpu_count=1, tensor_parallel_size=1,
        input_len=1024, output_len=output_len, concurrency=conc, num_prompts=n, completed=n,
        total_input_tokens=1024 * n, total_output_tokens=output_len * n, duration=duration,
        request_throughput=n / duration, output_throughput=out_tps,
        total_token_throughput=out_tps * 2, median_tpot_ms=1000.0 * conc / out_tps,
        started_at=datetime(2026, 1, 1, tzinfo=UTC), raw={"c": conc},
    )  # fmt: skip


def test_a_long_sweep_that_flattens_out_is_representative() -> None:
    # 32 -> 64 adds 10 %: elasticity log(1.1)/log(2) = 0.14 < 0.5.
    sweep = [point(8, 1000.0), point(16, 1800.0), point(32, 3000.0), point(64, 3300.0)]
    verdict = rep.classify_sweep(sweep)
    assert verdict.representative
    assert "0.14" in verdict.reason


def test_a_sweep_still_scaling_at_its_top_level_is_unsaturated() -> None:
    sweep = [point(4, 500.0), point(8, 1000.0), point(16, 1900.0)]
    verdict = rep.classify_sweep(sweep)
    assert verdict.verdict == "unsaturated"
    assert "elasticity 0.93" in verdict.reason


def test_short_outputs_make_a_latency_only_run_and_few_prompts_a_short_one() -> None:
    latency = [point(c, t, output_len=128) for c, t in ((4, 100.0), (16, 300.0), (64, 350.0))]
    assert rep.classify_sweep(latency).verdict == "latency_only"
    short = [point(c, t, prompts=10, duration=1.0) for c, t in ((8, 1e3), (16, 2e3), (32, 2e3))]
    verdict = rep.classify_sweep(short)
    assert verdict.verdict == "short"
    assert "10 prompts (< 32)" in verdict.reason


def test_two_levels_are_not_a_sweep() -> None:
    verdict = rep.classify_sweep([point(8, 1000.0), point(64, 1100.0)])
    assert verdict.verdict == "single_point"
    assert "(< 3)" in verdict.reason
