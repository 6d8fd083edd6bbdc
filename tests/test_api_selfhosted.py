"""/v1/self-hosted, /v1/breakeven and self-hosted rows in cost curves, over real
imported benchmark results and an ingested recorded GPU rate."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine

from costcurve.benchmarks.results import import_result_file
from db.benchmarks import store_points
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.pipeline import ingest_raw
from tests.conftest import TEMPLATE, LiveServer
from tests.support import DATASETS, fixture_files, observed_at_for, require_shared

LAMBDA_RUN = "lambdalabs_vllm-benchmark_1xH100_Llama-3.1-8B-FP8_len2048_prompt10_summary.json"


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
    yield engine
    engine.dispose()
    pg.drop_database("api_selfhosted")


@pytest.fixture(scope="module")
def api(store: Engine) -> Iterator[httpx.Client]:
    from api.main import create_app

    with LiveServer(create_app(store)) as server, httpx.Client(base_url=server.url) as client:
        yield client


def test_self_hosted_prices_the_run_at_the_current_runpod_rate(api: httpx.Client) -> None:
    body = api.get("/v1/self-hosted", params={"rate_policy": "current"}).json()
    [item] = body["items"]
    cost = item["costs"]["on_demand"]
    assert Decimal(str(cost["usd_per_gpu_hour"])) == Decimal("3.29")  # RunPod H100 SXM, 08-05
    tps = Decimal(str(item["output_tokens_per_s_per_gpu"]))
    expected = Decimal("3.29") / (tps * 3600) * 1_000_000
    assert Decimal(str(cost["output_usd_per_mtok"])) == pytest.approx(expected, rel=Decimal("1e-6"))
    assert body["headlines"]


def test_self_hosted_as_of_a_run_before_any_rate_reports_why(api: httpx.Client) -> None:
    [item] = api.get("/v1/self-hosted").json()["items"]
    cost = item["costs"]["on_demand"]
    assert cost["output_usd_per_mtok"] is None and "no on_demand rate" in cost["reason"]


def test_breakeven_compares_cheapest_api_with_measured_throughput(api: httpx.Client) -> None:
    response = api.get(
        "/v1/breakeven",
        # The recordings are past their freshness horizon today: ask for them.
        params={
            "model": "llama-3.1-8b-instruct",
            "monthly_tokens": 5e9,
            "gpu": "H100-SXM-80GB",
            "include_stale": "true",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["self_hosted"]["throughput_measured"] is True
    assert body["self_hosted"]["rate"]["usd_per_gpu_hour"] == 3.29
    api_cost = body["api"]["usd_per_mtok"] * 5e3
    assert body["api"]["usd_per_month"] == pytest.approx(api_cost)
    assert body["cheaper"] in {"api", "selfhost"}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"model": "gpt-9", "monthly_tokens": 1e9}, "model"),
        ({"model": "llama-3.1-8b-instruct", "monthly_tokens": -5}, "monthly_tokens"),
        ({"model": "llama-3.1-8b-instruct", "monthly_tokens": 1e9, "gpu": "B900"}, "gpu"),
        (
            {"model": "llama-3.1-8b-instruct", "monthly_tokens": 1e9, "utilization": 2},
            "utilization",
        ),
    ],
)
def test_bad_breakeven_parameters_are_422_naming_the_parameter(
    api: httpx.Client, params: dict, name: str
) -> None:
    response = api.get("/v1/breakeven", params=params)
    assert response.status_code == 422 and name in response.json()["detail"]


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
