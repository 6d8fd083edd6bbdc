"""/v1/self-hosted, /v1/breakeven and self-hosted rows in cost curves, over the
real shipped benchmark results (none of which is a throughput reference), one
hand-built saturated sweep with known numbers, and ingested recorded rates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from costcurve.analytics.interactivity import CurvePoint, throughput_at
from costcurve.benchmarks.results import import_result_file
from costcurve.core.benchmark_point import BenchmarkPoint
from db.benchmarks import store_points
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.pipeline import ingest_raw
from tests.conftest import TEMPLATE, LiveServer
from tests.support import DATASETS, fixture_files, observed_at_for, require_shared

LAMBDA_RUN = "lambdalabs_vllm-benchmark_1xH100_Llama-3.1-8B-FP8_len2048_prompt10_summary.json"
# A hand-built saturated sweep, 1k in / 1k out on one H100: (concurrency, tok/s/user).
SWEEP = ((16, 60.0), (64, 35.0), (128, 22.0), (256, 12.0))
SWEEP_MODEL = "hand-built/llama-3.1-8b"


def sweep_point(conc: int, interactivity: float) -> BenchmarkPoint:
    out_tps = conc * interactivity
    n = 10 * conc
    duration = n * 1024 / out_tps
    return BenchmarkPoint(
        model_id=SWEEP_MODEL, engine="vllm", engine_version="0.33.0", gpu="H100-SXM-80GB",
        gpu_count=1, tensor_parallel_size=1, input_len=1024, output_len=1024, concurrency=conc,
        num_prompts=n, completed=n, total_input_tokens=1024 * n, total_output_tokens=1024 * n,
        duration=duration, request_throughput=n / duration, output_throughput=out_tps,
        total_token_throughput=2 * out_tps, median_tpot_ms=1000.0 / interactivity,
        started_at=datetime(2026, 7, 1, tzinfo=UTC), raw={"hand_built": conc},
    )  # fmt: skip


@pytest.fixture(scope="module")
def store(pg: EmbeddedPostgres) -> Iterator[Engine]:
    require_shared()
    pg.ensure_database("api_selfhosted", template=TEMPLATE)
    engine = make_engine(pg.url("api_selfhosted"))
    [runpod] = [p for p in fixture_files("runpod") if p and "2026-08-05" in p.name]
    ingest_raw(engine, "runpod", runpod.read_bytes(), observed_at=observed_at_for(runpod))
    [openrouter] = [p for p in fixture_files("openrouter") if p and "2026-08-03" in p.name]
    ingest_raw(
        engine, "openrouter", openrouter.read_bytes(), observed_at=observed_at_for(openrouter)
    )
    raw = (DATASETS / "benchmarks" / LAMBDA_RUN).read_bytes()
    points = import_result_file(raw, gpu="H100-SXM-80GB", gpu_count=1)
    store_points(engine, points, model_slug="llama-3.1-8b-instruct")
    qwen = [
        p
        for f in sorted((DATASETS / "benchmarks").glob("inferencex_*.json"))
        for p in import_result_file(f.read_bytes(), gpu="H200-SXM-141GB", gpu_count=8)
    ]
    store_points(engine, qwen, model_slug="qwen3.5-397b-a17b")
    store_points(engine, [sweep_point(*c) for c in SWEEP], model_slug="llama-3.1-8b-instruct")
    yield engine
    engine.dispose()
    pg.drop_database("api_selfhosted")


@pytest.fixture(scope="module")
def api(store: Engine) -> Iterator[httpx.Client]:
    from api.main import create_app

    with LiveServer(create_app(store)) as server, httpx.Client(base_url=server.url) as client:
        yield client


def test_self_hosted_prices_each_point_at_the_current_runpod_rate(api: httpx.Client) -> None:
    # The recorded rates are past their freshness horizon today: ask for them.
    params = {"model": "neuralmagic/Meta-Llama-3.1-8B-FP8", "include_stale": "true"}
    body = api.get("/v1/self-hosted", params=params).json()
    [item] = body["items"]
    assert item["verdict"] == "short"
    assert "10 prompts" in item["verdict_reason"]
    assert (item["duration_s"], item["completed"]) == (1.0679055179934949, 10)
    cost = item["costs"]["on_demand"]
    assert Decimal(str(cost["usd_per_gpu_hour"])) == Decimal("3.29")  # RunPod H100 SXM, 08-05
    tps = Decimal(str(item["output_tokens_per_s_per_gpu"]))
    expected = Decimal("3.29") / (tps * 3600) * 1_000_000
    assert Decimal(str(cost["output_usd_per_mtok"])) == pytest.approx(expected, rel=Decimal("1e-6"))


def test_self_hosted_without_include_stale_names_the_stale_rate_it_left_out(
    api: httpx.Client,
) -> None:
    body = api.get("/v1/self-hosted", params={"model": "neuralmagic/Meta-Llama-3.1-8B-FP8"}).json()
    cost = body["items"][0]["costs"]["on_demand"]
    assert (cost["usd_per_gpu_hour"], cost["output_usd_per_mtok"]) == (None, None)
    assert cost["cheaper_rate_left_out"]["reason"] == "stale"
    assert Decimal(str(cost["cheaper_rate_left_out"]["usd_per_gpu_hour"])) == Decimal("3.29")


def test_self_hosted_as_of_a_run_before_any_rate_reports_why(api: httpx.Client) -> None:
    params = {"rate_policy": "as_of", "model": "neuralmagic/Meta-Llama-3.1-8B-FP8"}
    [item] = api.get("/v1/self-hosted", params=params).json()["items"]
    cost = item["costs"]["on_demand"]
    assert cost["output_usd_per_mtok"] is None
    assert "no on_demand rate" in cost["reason"]


def test_shipped_runs_get_no_headline_and_are_listed_with_their_reason(api: httpx.Client) -> None:
    body = api.get("/v1/self-hosted").json()
    listed = {s["model_id"]: s for s in body["not_representative"]}
    assert {"neuralmagic/Meta-Llama-3.1-8B-FP8", "Qwen/Qwen3.5-397B-A17B"} <= set(listed)
    assert {h["model_id"] for h in body["headlines"]} == {SWEEP_MODEL}
    for sweep in listed.values():
        assert not sweep["representative"]
        assert sweep["verdict_reason"]
    qwen = listed["Qwen/Qwen3.5-397B-A17B"]
    assert qwen["verdict"] == "latency_only"
    assert qwen["concurrencies"] == [4, 16, 64]
    assert (qwen["gpu_count"], qwen["tensor_parallel_size"], qwen["output_len"]) == (8, 8, 128)
    assert listed["neuralmagic/Meta-Llama-3.1-8B-FP8"]["verdict"] == "short"


def test_headline_interpolates_the_sweep_and_prices_each_basis_with_its_source(
    api: httpx.Client,
) -> None:
    params = {"model": SWEEP_MODEL, "include_stale": "true"}  # recorded rates, months old
    body = api.get("/v1/self-hosted", params=params).json()
    [sweep] = body["headlines"]
    assert body["interactivity_levels"] == [20, 50]
    assert sweep["verdict"] == "representative"
    rates = sweep["rates"]
    assert (rates["on_demand"]["source"], rates["on_demand"]["usd_per_gpu_hour"]) == (
        "runpod",
        3.29,
    )
    assert rates["on_demand"]["valid_from"]
    # The recording has RunPod's community tier but no spot offer: said, not substituted.
    assert rates["community"]["usd_per_gpu_hour"] == 2.69
    assert rates["spot"]["usd_per_gpu_hour"] is None
    assert "no spot rate" in rates["spot"]["reason"]
    assert rates["owned"]["source"] == "owned"
    assert rates["owned"]["parameters"]["pue"] == 1.56
    assert rates["index"]["usd_per_gpu_hour"] is None
    assert rates["index"]["reason"]
    points = {p["label"]: p for p in sweep["points"]}
    curve = [CurvePoint(i, c * i) for c, i in SWEEP]
    for level in (20.0, 50.0):
        head = points[f"interactivity={level:g}"]
        want = throughput_at(curve, level)
        assert want is not None
        assert head["output_tokens_per_s_per_gpu"] == pytest.approx(want)
        # Between the two measured levels around it, on the frontier.
        below = max(c * i for c, i in SWEEP if i <= level)
        above = min(c * i for c, i in SWEEP if i >= level)
        assert above <= want <= below
        usd = Decimal("3.29") / (Decimal(repr(want)) * 3600) * 1_000_000
        got = Decimal(str(head["costs"]["on_demand"]["output_usd_per_mtok"]))
        assert got == pytest.approx(usd, rel=Decimal("1e-6"))
        total = Decimal(str(head["costs"]["on_demand"]["total_usd_per_mtok"]))
        assert total == pytest.approx(got / 2, rel=Decimal("1e-6"))  # 1k in / 1k out
    top = points["max_throughput"]
    assert (top["concurrency"], top["output_tokens_per_s_per_gpu"]) == (256, 3072.0)


def breakeven(api: httpx.Client, **params: Any) -> dict[str, Any]:
    # The recorded prices are past their freshness horizon today: ask for them.
    response = api.get("/v1/breakeven", params={"include_stale": "true", **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_breakeven_reports_gpus_cost_utilisation_and_the_api_price_used(
    api: httpx.Client,
) -> None:
    body = breakeven(
        api, model="llama-3.1-8b-instruct", monthly_tokens=5e9, gpu="H100-SXM-80GB",
        interactivity=20, utilization=0.5,
    )  # fmt: skip
    sh = body["self_hosted"]
    assert sh["throughput_measured"] is True
    assert sh["benchmark"]["model_id"] == SWEEP_MODEL
    assert sh["rate"]["usd_per_gpu_hour"] == 3.29
    assert sh["rate"]["source"] == "runpod"
    assert sh["utilization"] == 0.5
    assert sh["gpus_per_replica"] == 1
    capacity = sh["tokens_per_s_per_gpu"] * 3600 * 730 * 0.5
    assert sh["gpus"] == max(1, -(-5e9 // capacity))
    assert sh["usd_per_month"] == pytest.approx(sh["gpus"] * 3.29 * 730)
    assert body["api"]["usd_per_month"] == pytest.approx(body["api"]["usd_per_mtok"] * 5e3)
    assert body["api"]["variant"] == "standard"
    assert body["api"]["selection"]
    assert body["cheaper"] in {"api", "selfhost"}


def test_breakeven_for_the_397b_model_prices_the_benchmarks_eight_h200s(
    api: httpx.Client,
) -> None:
    body = breakeven(
        api, model="qwen3.5-397b-a17b", monthly_tokens=1e9, gpu="H200-SXM-141GB",
        precision="fp8", tokens_per_s_per_gpu=1000, pricing="owned",
    )  # fmt: skip
    sh = body["self_hosted"]
    assert sh["sizing"]["benchmark_gpus"] == 8
    assert sh["sizing"]["gpus_to_fit"] < 8
    assert sh["gpus_per_replica"] == 8
    assert sh["gpus"] % 8 == 0
    assert sh["gpus"] >= 8
    assert sh["rate"]["source"] == "owned"
    assert sh["usd_per_month"] == pytest.approx(sh["gpus"] * sh["rate"]["usd_per_gpu_hour"] * 730)


def test_breakeven_refuses_a_throughput_from_a_run_that_is_no_reference(
    api: httpx.Client,
) -> None:
    response = api.get(
        "/v1/breakeven",
        # The recordings are past their freshness horizon today: ask for them.
        params={
            "model": "qwen3.5-397b-a17b",
            "monthly_tokens": 1e9,
            "gpu": "H200-SXM-141GB",
            "include_stale": "true",
        },
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("tokens_per_s_per_gpu")
    assert "latency_only" in detail


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"model": "gpt-9", "monthly_tokens": 1e9}, "model"),
        ({"model": "llama-3.1-8b-instruct", "monthly_tokens": -5}, "monthly_tokens"),
        ({"model": "llama-3.1-8b-instruct", "monthly_tokens": 1e9, "gpu": "B900"}, "gpu"),
        (
            {"model": "llama-3.1-8b-instruct", "monthly_tokens": 1e9, "pricing": "index"},
            "pricing",
        ),
        (
            {"model": "llama-3.1-8b-instruct", "monthly_tokens": 1e9, "precision": "fp2"},
            "precision",
        ),
        (
            {"model": "llama-3.1-8b-instruct", "monthly_tokens": 1e9, "utilization": 2},
            "utilization",
        ),
    ],
)
def test_bad_breakeven_parameters_are_422_naming_the_parameter(
    api: httpx.Client, params: dict, name: str
) -> None:
    response = api.get("/v1/breakeven", params={"include_stale": "true", **params})
    assert response.status_code == 422
    assert name in response.json()["detail"]


def test_cost_curve_can_include_self_hosted_offerings(api: httpx.Client) -> None:
    from costcurve.catalog import load_models

    tier = load_models()["llama-3.1-8b-instruct"].tier
    params = {"tier": tier, "from": "2026-08-01", "to": "2026-08-31", "include_stale": "true"}
    [without] = api.get("/v1/cost-curve", params=params).json()["points"]
    [with_sh] = api.get("/v1/cost-curve", params=params | {"include_self_hosted": "true"}).json()[
        "points"
    ]
    # One self-hosted offering: llama-3.1-8b on RunPod's H100 SXM (the only H100 rate).
    assert with_sh["count"] == without["count"] + 1


def test_breakeven_never_prices_a_70b_fp16_model_on_one_80gb_gpu(api: httpx.Client) -> None:
    body = breakeven(
        api, model="llama-3.3-70b-instruct", monthly_tokens=1e8, gpu="H100-SXM-80GB",
        precision="fp16", tokens_per_s_per_gpu=3000, context_len=1, concurrency=1,
    )  # fmt: skip
    sh = body["self_hosted"]
    assert sh["sizing"]["weights_gb"] == 140
    assert sh["sizing"]["benchmark_gpus"] is None
    assert sh["gpus_per_replica"] == sh["gpus"] == 2
    assert sh["throughput_measured"] is False
