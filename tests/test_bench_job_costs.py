"""Self-hosted $/M tokens: stored benchmark points priced with ingested GPU rates.

Rates come from recorded RunPod captures ingested through the real pipeline
(``ingest_raw``); expected costs are computed here, independently of
db/benchmarks.py, from the stored throughput and the price read from the
recorded file: usd_per_gpu_hour x 1e6 / (tokens/s / gpu_count x 3600).

Dates matter and the tests say which rate they use. The RunPod API captures
are from 2026-07-28 on, the pricing-page excerpt from 2025-09-09; the
InferenceX runs are from 2026-02-16 (priced as of their run time by the
2025-09-09 page) and the Lambda Labs run from 2024-09-07, before any recorded
rate: as of its run time it has no cost, and it is priced only with
``rate_policy="current"``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import col

from costcurve.benchmarks.fake_server import running_fake_server
from costcurve.benchmarks.job import run_benchmark_job
from costcurve.benchmarks.results import import_result_file
from costcurve.benchmarks.spec import Deployment, SweepSpec, Workload
from costcurve.core.observations import GpuRate, Observation
from db.benchmarks import load_points, store_points
from db.models import BenchmarkResult, PipelineRun
from db.pipeline import IngestOptions, SourceRow, ingest_observations, ingest_raw
from db.selfhost_costs import self_hosted_costs
from tests.support import DATASETS, FIXTURES, observed_at_for, require_shared

RUNPOD = FIXTURES / "runpod"
API_0728 = RUNPOD / "graphql_gpuTypes_2026-07-28.json"
PAGE_2025 = RUNPOD / "runpod_io_pricing_excerpt_wayback_20250909131230.html"
BENCH = DATASETS / "benchmarks"
INFERENCEX = "inferencex_*.json"
LAMBDA = "lambdalabs_*.json"
MILLION, HOUR = Decimal(1_000_000), Decimal(3600)


def ingest_runpod(engine: Engine, path: Path) -> None:
    ingest_raw(engine, "runpod", path.read_bytes(), observed_at=observed_at_for(path))


def secure_price(gpu_id: str, path: Path = API_0728) -> Decimal:
    """RunPod's on-demand (secure cloud) $/GPU-hour as the recorded API response has it."""
    (entry,) = [g for g in json.loads(path.read_text()) if g["id"] == gpu_id]
    return Decimal(str(entry["securePrice"]))


def expected_cost(rate: Decimal, throughput: Decimal, gpu_count: int) -> Decimal:
    return rate * MILLION * gpu_count / (throughput * HOUR)


def close(a: Decimal, b: Decimal) -> bool:
    # db.benchmarks rounds costs to 1e-9 $/M (and divides per GPU in float).
    return abs(a - b) <= Decimal("1e-9")


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


@pytest.mark.slow
def test_synthetic_run_is_priced_with_the_ingested_runpod_rate(engine: Engine) -> None:
    require_shared()
    # The capture is replayed as seen now: months after its recording its rate is
    # stale (tests/test_selfhost_rate_screen.py), and a stale rate prices nothing.
    replayed = datetime.now(UTC)
    ingest_raw(engine, "runpod", API_0728.read_bytes(), observed_at=replayed)
    with running_fake_server(ttft_ms=20, itl_ms=5) as url:
        spec = SweepSpec(
            url,
            "fake-model",
            Deployment("H100-SXM-80GB", 2, synthetic=True),
            Workload(16, 8, num_prompts=4, num_warmups=1),
            (2,),
        )
        points = run_benchmark_job(engine, spec)
    assert len(points) == 1
    rate = secure_price("NVIDIA H100 80GB HBM3")
    with engine.connect() as conn:
        assert self_hosted_costs(conn) == []  # synthetic runs never reach published costs
        (item,) = self_hosted_costs(conn, include_synthetic=True)
        stored = conn.execute(select(BenchmarkResult)).one()
    # The run started after the replayed capture, so its open version is in effect.
    assert item["priced_at"] == stored.started_at > replayed
    cost = item["costs"]["on_demand"]
    assert cost["usd_per_gpu_hour"] == rate
    assert cost["rate"]["provider"] == "runpod"
    assert cost["rate"]["valid_to"] is None
    assert close(cost["output_usd_per_mtok"], expected_cost(rate, stored.output_throughput, 2))
    assert close(cost["total_usd_per_mtok"], expected_cost(rate, stored.total_token_throughput, 2))
    # The API capture has no interruptible price: spot is reported missing, not guessed.
    assert cost["reason"] is None
    assert item["costs"]["spot"]["output_usd_per_mtok"] is None
    assert "no spot rate for H100-SXM-80GB in effect at run time" in item["costs"]["spot"]["reason"]


def _import(db_url: str, pattern: str, *flags: str) -> dict[str, Any]:
    files = sorted(str(p) for p in BENCH.glob(pattern))
    assert files, f"no {pattern} in {BENCH}"
    result = bench_cli("import", *files, *flags, "--json", db_url=db_url)
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return summary


@pytest.mark.slow
def test_imported_results_are_priced_as_of_their_run_or_at_current_rates(
    db_url: str, engine: Engine
) -> None:
    require_shared(BENCH)
    # Per the dataset README: InferenceX TP8 runs on 8 x H200, Lambda's on 1 x H100 SXM.
    h200 = ("--gpu", "H200-SXM-141GB", "--gpu-count", "8")
    first = _import(db_url, INFERENCEX, *h200)
    assert (first["inserted"], first["duplicates"]) == (3, 0)
    # The Lambda file through the same library calls, to spare a CLI start-up.
    (lambda_file,) = BENCH.glob(LAMBDA)
    lambda_points = import_result_file(lambda_file.read_bytes(), gpu="H100-SXM-80GB", gpu_count=1)
    assert store_points(engine, lambda_points).inserted == 1
    # Importing the same files again (what the CLI calls, in-process to spare a start-up).
    read = [
        p
        for f in sorted(BENCH.glob(INFERENCEX))
        for p in import_result_file(f.read_bytes(), gpu="H200-SXM-141GB", gpu_count=8)
    ]
    again = store_points(engine, read)
    assert (again.inserted, again.duplicates) == (0, 3)
    assert sorted(again.ids) == sorted(p["result_id"] for p in first["points"])

    ingest_runpod(engine, PAGE_2025)
    ingest_runpod(engine, API_0728)
    page_h200 = Decimal("3.79")  # H200 row of the 2025-09-09 page, data-secure-cloud-price
    api_h200 = secure_price("NVIDIA H200")
    api_h100 = secure_price("NVIDIA H100 80GB HBM3")
    assert page_h200 != api_h200  # the two policies must be told apart

    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(BenchmarkResult)).scalar() == 4
        runs = conn.execute(
            select(col(PipelineRun.new_versions), col(PipelineRun.unchanged))
            .where(col(PipelineRun.source) == "benchmarks")
            .order_by(col(PipelineRun.id))
        ).all()
        as_of = self_hosted_costs(conn)
        # "Now" a day after the last capture: months later its rates are stale.
        soon = observed_at_for(API_0728) + timedelta(days=1)
        current = self_hosted_costs(conn, rate_policy="current", now=soon)
        only_h200 = self_hosted_costs(conn, gpu="H200-SXM-141GB", model="qwen3.5-397b-a17b")
        rebuilt = load_points(conn, gpu="H200-SXM-141GB")
    assert [tuple(r) for r in runs] == [(3, 0), (1, 0), (0, 3)]
    assert len(only_h200) == 3
    # Each stored point comes back whole, as the file was read.
    assert sorted(rebuilt, key=lambda p: p.concurrency or 0) == sorted(
        read, key=lambda p: p.concurrency or 0
    )

    by_gpu = {g: [i for i in as_of if i["gpu"] == g] for g in ("H200-SXM-141GB", "H100-SXM-80GB")}
    assert [i["concurrency"] for i in by_gpu["H200-SXM-141GB"]] == [4, 16, 64]
    for item in by_gpu["H200-SXM-141GB"]:
        assert item["started_at"].date().isoformat() == "2026-02-16"
        assert item["model_slug"] == "qwen3.5-397b-a17b"
        assert not item["synthetic"]
        cost = item["costs"]["on_demand"]
        assert cost["usd_per_gpu_hour"] == page_h200
        assert cost["rate"]["valid_from"] == observed_at_for(PAGE_2025)
        assert cost["rate"]["valid_to"] == observed_at_for(API_0728)
        want = expected_cost(page_h200, item["output_throughput"], 8)
        assert close(cost["output_usd_per_mtok"], want)
    (old,) = by_gpu["H100-SXM-80GB"]
    assert old["concurrency"] is None  # the Lambda run had no concurrency cap
    assert old["costs"]["on_demand"]["output_usd_per_mtok"] is None
    assert "in effect at run time (2024-09-07" in old["costs"]["on_demand"]["reason"]

    assert all(i["rate_policy"] == "current" for i in current)
    for item in current:
        rate = api_h200 if item["gpu"] == "H200-SXM-141GB" else api_h100
        cost = item["costs"]["on_demand"]
        assert cost["usd_per_gpu_hour"] == rate
        assert cost["rate"]["valid_to"] is None
        want = expected_cost(rate, item["total_token_throughput"], item["gpu_count"])
        assert close(cost["total_usd_per_mtok"], want)


def test_the_cheapest_usable_offering_prices_a_point(engine: Engine) -> None:
    """Among offerings of the GPU: cheapest per GPU-hour, whatever the instance size;
    a Windows price and a marketplace minimum are not used. (Constructed rates.)"""
    require_shared(BENCH)
    (path,) = BENCH.glob(LAMBDA)
    [point] = import_result_file(path.read_bytes(), gpu="H100-SXM-80GB", gpu_count=1)
    store_points(engine, [point])
    at = datetime(2024, 1, 1, tzinfo=UTC)

    def rate(provider: str, usd: str, **kw: Any) -> GpuRate:
        return GpuRate(
            source="reference", provider=provider, gpu="H100-SXM-80GB", pricing="on_demand",
            usd_per_gpu_hour=Decimal(usd), observed_at=at, source_url="https://example.com",
            **{"gpu_count": 1} | kw,
        )  # fmt: skip

    observations: list[Observation] = [
        rate("aws", "3.10", gpu_count=8, instance_type="p5.48xlarge"),
        rate("acme", "3.50"),
        rate("azure", "1.00", os="windows"),
        rate("vast", "0.90", statistic="min"),
        rate("vast", "3.20", statistic="median"),
    ]
    ingest_observations(
        engine,
        SourceRow("reference", "reference"),
        observations,
        IngestOptions(listing_complete=False),
    )
    with engine.connect() as conn:
        (item,) = self_hosted_costs(conn)
    cost = item["costs"]["on_demand"]
    assert cost["usd_per_gpu_hour"] == Decimal("3.10")
    assert (cost["rate"]["provider"], cost["rate"]["gpu_count"]) == ("aws", 8)


def test_import_names_the_missing_flag_and_imports_nothing(tmp_path: Path) -> None:
    require_shared(BENCH)
    from typer.testing import CliRunner

    from costcurve.cli import app

    files = [str(p) for p in sorted(BENCH.glob(INFERENCEX))]
    result = CliRunner().invoke(app, ["bench", "import", *files])
    assert result.exit_code == 2
    assert "pass --gpu" in result.output
    assert "nothing imported" in result.output
    no_count = CliRunner().invoke(app, ["bench", "import", files[0], "--gpu", "H200-SXM-141GB"])
    assert no_count.exit_code == 2
    assert "pass --gpu-count" in no_count.output
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}')
    bad = CliRunner().invoke(app, ["bench", "import", str(junk), "--gpu", "H100-SXM-80GB"])
    assert bad.exit_code == 2
    assert "not a vLLM benchmark_serving result" in bad.output


def test_self_hosted_costs_rejects_an_unknown_rate_policy(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(ValueError, match="rate_policy"):
        self_hosted_costs(conn, rate_policy="latest")  # type: ignore[arg-type]
