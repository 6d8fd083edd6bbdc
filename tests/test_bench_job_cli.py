"""``costcurve bench run`` as a user runs it: a real CLI subprocess against a real
streaming server process (benchmarks.fake_server) on a free 127.0.0.1 port.

The server's timing is known: first token 50 ms after the request, then one
token every 10 ms; 16 output tokens, so one request takes 50 + 15 x 10 = 200 ms.
Tolerances (client and server share a 2-core CI machine with other tests; load
only adds delay, so they are asymmetric): median TTFT within -10/+50 ms, median
ITL and TPOT within -3/+12 ms, median end-to-end latency within -15/+120 ms,
output throughput within -35/+10 % of concurrency x 16 / 0.2 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import col

from costcurve.benchmarks.fake_server import running_fake_server
from db.models import BenchmarkResult, PipelineRun
from tests.support import assert_timing

TTFT_MS, ITL_MS, OUTPUT_LEN = 50.0, 10.0, 16
E2EL_MS = TTFT_MS + (OUTPUT_LEN - 1) * ITL_MS
LEVELS = (1, 4)


def bench_cli(*args: str, db_url: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COSTCURVE_")}
    environ["DATABASE_URL"] = db_url.replace("postgresql+psycopg://", "postgresql://")
    return subprocess.run(
        [sys.executable, "-m", "costcurve", "bench", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


def last_json(out: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return parsed


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_fake_server(ttft_ms=TTFT_MS, itl_ms=ITL_MS) as url:
        yield url


@pytest.mark.slow
def test_bench_run_measures_the_known_timing_and_stores_synthetic_points(
    server: str, db_url: str, engine: Engine
) -> None:
    result = bench_cli(
        "run",
        "--endpoint", server,
        "--model", "fake-model",
        "--gpu", "H100-SXM-80GB",
        "--gpu-count", "2",
        "--concurrency", ",".join(map(str, LEVELS)),
        "--input-len", "32",
        "--output-len", str(OUTPUT_LEN),
        "--range-ratio", "1.0",
        "--num-prompts", "8",
        "--num-warmups", "1",
        "--synthetic",
        "--json",
        db_url=db_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    assert summary["inserted"] == len(LEVELS)
    assert summary["duplicates"] == 0
    points = {p["concurrency"]: p for p in summary["points"]}
    assert sorted(points) == list(LEVELS)
    for conc, p in points.items():
        assert p["completed"] == 8
        assert p["synthetic"] is True
        assert p["total_output_tokens"] == 8 * OUTPUT_LEN
        assert_timing(p["median_ttft_ms"], TTFT_MS, early=10, late=50)
        assert_timing(p["median_itl_ms"], ITL_MS, early=3, late=12)
        assert_timing(p["median_tpot_ms"], ITL_MS, early=3, late=12)
        assert_timing(p["median_e2el_ms"], E2EL_MS, early=15, late=120)
        expected_tput = conc * OUTPUT_LEN / (E2EL_MS / 1000)
        # Load only slows requests down: throughput within -35 %/+10 % of the known rate.
        assert 0.65 * expected_tput <= p["output_throughput"] <= 1.10 * expected_tput
        assert p["output_tokens_per_s_per_gpu"] == pytest.approx(p["output_throughput"] / 2)
        assert p["interactivity"] == pytest.approx(1000 / p["median_tpot_ms"])
    # Human-readable lines come first, one per level.
    assert sum(line.startswith("conc") for line in result.stdout.splitlines()) == len(LEVELS)

    with engine.connect() as conn:
        by_level = select(BenchmarkResult).order_by(col(BenchmarkResult.concurrency))
        rows = conn.execute(by_level).all()
        run = conn.execute(select(PipelineRun).where(PipelineRun.id == summary["run_id"])).one()
    assert [r.concurrency for r in rows] == list(LEVELS)
    assert all(r.synthetic and not r.dummy_weights for r in rows)
    assert {r.id for r in rows} == {p["result_id"] for p in points.values()}
    assert all(r.gpu == "H100-SXM-80GB" and r.gpu_count == 2 for r in rows)
    # The raw result JSON is kept as the load generator wrote it.
    assert rows[0].raw["result"]["max_concurrency"] == 1
    assert len(rows[0].raw["result"]["input_lens"]) == 8
    assert run.source == "benchmarks"
    assert run.status == "succeeded"
    assert run.new_versions == 2


def test_bench_run_against_a_dead_endpoint_raises_and_stores_nothing(engine: Engine) -> None:
    from costcurve.benchmarks.job import run_benchmark_job
    from costcurve.benchmarks.loadgen import BenchmarkRunError
    from costcurve.benchmarks.spec import Deployment, SweepSpec, Workload
    from tests.conftest import free_port

    spec = SweepSpec(
        f"http://127.0.0.1:{free_port()}",
        "m",
        Deployment("H100-SXM-80GB", synthetic=True),
        Workload(8, 4, num_prompts=1),
        (1,),
    )
    with pytest.raises(BenchmarkRunError, match="warm-up failed"):
        run_benchmark_job(engine, spec)
    with engine.connect() as conn:
        assert conn.execute(select(BenchmarkResult)).first() is None


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--gpu", "Potato-9000", "--concurrency", "1"], "--gpu"),
        (["--gpu", "H100-SXM-80GB", "--concurrency", "1,two"], "--concurrency"),
        (["--gpu", "H100-SXM-80GB", "--concurrency", "0"], "--concurrency"),
        (["--gpu", "H100-SXM-80GB", "--api", "grpc"], "--api"),
        (["--gpu", "H100-SXM-80GB", "--endpoint", "127.0.0.1:8000"], "--endpoint"),
    ],
)
def test_bench_run_rejects_bad_options_naming_the_flag(args: list[str], flag: str) -> None:
    # Validation happens before the database is opened, so in-process is enough here.
    from typer.testing import CliRunner

    from costcurve.cli import app

    base = ["bench", "run", "--endpoint", "http://127.0.0.1:9", "--model", "m"]
    result = CliRunner().invoke(app, [*base, *args])
    assert result.exit_code == 2, result.output
    assert flag in result.output


@pytest.mark.parametrize("prefix", ["inferencex", "lambdalabs"])
def test_bench_import_of_the_shipped_results_prints_and_stores_each_verdict(
    prefix: str, db_url: str, engine: Engine
) -> None:
    from tests.support import DATASETS, require_shared
    from tests.test_benchmarks_results import setup_for

    require_shared()
    files = sorted((DATASETS / "benchmarks").glob(f"{prefix}_*.json"))
    setup = setup_for(files[0])
    result = bench_cli(
        "import", *map(str, files), "--gpu", setup["gpu"], "--gpu-count",
        str(setup["gpu_count"]), "--json", db_url=db_url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    assert len(summary["points"]) == len(files)
    for point in summary["points"]:
        assert point["verdict"]
        assert point["verdict_reason"]
        assert f"verdict: {point['verdict']}: {point['verdict_reason']}" in result.stdout
    with engine.connect() as conn:
        stored = conn.execute(select(BenchmarkResult)).all()
    assert {(r.verdict, r.verdict_reason) for r in stored} == {
        (p["verdict"], p["verdict_reason"]) for p in summary["points"]
    }
    assert all(r.duration_s is not None and r.completed for r in stored)
    again = bench_cli("reclassify", db_url=db_url)
    assert again.returncode == 0
    assert f"{len(files)} benchmark points classified" in again.stdout
