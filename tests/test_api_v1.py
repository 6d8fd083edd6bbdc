"""API v1 through real HTTP against embedded PostgreSQL holding recorded data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine

from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from tests.conftest import TEMPLATE, LiveServer
from tests.support import (
    API_CAPTURES,
    ingest_captures,
    require_shared,
)

INGESTS = API_CAPTURES


@pytest.fixture(scope="module")
def loaded(pg: EmbeddedPostgres) -> Iterator[Engine]:
    require_shared()
    pg.ensure_database("api_v1", template=TEMPLATE)
    engine = make_engine(pg.url("api_v1"))
    ingest_captures(engine, INGESTS)
    yield engine
    engine.dispose()
    pg.drop_database("api_v1")


@pytest.fixture(scope="module")
def api(loaded: Engine) -> Iterator[httpx.Client]:
    from api.main import create_app

    with LiveServer(create_app(loaded)) as server, httpx.Client(base_url=server.url) as client:
        yield client


def test_cost_curve_for_frontier_tier_has_monthly_points(api: httpx.Client) -> None:
    response = api.get("/v1/cost-curve", params={"tier": "frontier", "from": "2025-10-01"})
    assert response.status_code == 200
    body = response.json()
    assert body["tier"] == "frontier"
    assert body["unit"] == "usd_per_mtok"
    points = body["points"]
    assert points, "frontier curve is empty"
    for p in points:
        assert p["tier"] == "frontier"
        assert p["min"] <= p["p25"] <= p["median"] <= p["max"]
        assert p["count"] >= 1
        assert p["cheapest_provider"]
    assert response.headers["etag"]
    assert "max-age" in response.headers["cache-control"]


def test_cost_curve_answers_304_to_a_matching_etag(api: httpx.Client) -> None:
    first = api.get("/v1/cost-curve", params={"tier": "good"})
    again = api.get(
        "/v1/cost-curve", params={"tier": "good"}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_cost_curve_csv_has_the_curve_columns(api: httpx.Client) -> None:
    response = api.get("/v1/cost-curve", params={"tier": "frontier", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows
    assert {"bucket_start", "min", "median", "cheapest_model"} <= set(rows[0])


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"tier": "legendary"}, ["tier", "frontier"]),
        ({"tier": "frontier", "interval": "hour"}, ["interval", "month"]),
        ({"tier": "frontier", "metric": "median"}, ["metric", "blended"]),
        ({"tier": "frontier", "from": "yesterday"}, ["from"]),
        ({"tier": "frontier", "from": "2026-01-01", "to": "2025-01-01"}, ["to", "from"]),
        ({"tier": "frontier", "include_free": "perhaps"}, ["include_free"]),
    ],
)
def test_bad_cost_curve_parameters_get_422_naming_the_parameter(
    api: httpx.Client, params: dict[str, str], names: list[str]
) -> None:
    response = api.get("/v1/cost-curve", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    for name in names:
        assert name in detail, detail


def test_current_prices_filter_by_provider_and_paginate(api: httpx.Client) -> None:
    # The recordings are months old: every price is past its freshness horizon.
    stale = {"include_stale": "true"}
    assert api.get("/v1/prices", params={"provider": "anthropic"}).json()["items"] == []
    page = api.get("/v1/prices", params={"provider": "anthropic", "limit": 5, **stale}).json()
    assert page["total"] > 5
    assert len(page["items"]) == 5
    assert page["next_offset"] == 5
    assert all(item["provider"] == "anthropic" and item["stale"] for item in page["items"])
    rest = api.get(
        "/v1/prices", params={"provider": "anthropic", "limit": 5, "offset": 5, **stale}
    ).json()
    assert {i["version_id"] for i in page["items"]}.isdisjoint(
        i["version_id"] for i in rest["items"]
    )


def test_prices_by_tier_only_return_models_of_that_tier(api: httpx.Client) -> None:
    params: dict[str, str | int] = {"tier": "frontier", "limit": 1000, "include_stale": "true"}
    items = api.get("/v1/prices", params=params).json()["items"]
    assert items
    assert all(i["tier"] == "frontier" for i in items)


def test_price_history_as_of_returns_the_price_then(api: httpx.Client) -> None:
    history = api.get(
        "/v1/prices/history",
        params={"provider": "openrouter", "provider_model_id": "meta-llama/llama-3.3-70b-instruct"},
    )
    assert history.status_code == 200
    items = history.json()["items"]
    assert items
    assert items[0]["valid_from"].startswith("2026-07-17")
    at = api.get(
        "/v1/prices/history",
        params={
            "provider": "openrouter",
            "provider_model_id": "meta-llama/llama-3.3-70b-instruct",
            "as_of": "2026-07-20T00:00:00Z",
        },
    ).json()["items"]
    assert len(at) == 1
    assert at[0]["valid_from"].startswith("2026-07-17")


def test_price_history_without_an_offering_is_a_422(api: httpx.Client) -> None:
    response = api.get("/v1/prices/history", params={"provider": "openrouter"})
    assert response.status_code == 422
    assert "provider_model_id" in response.json()["detail"]


def test_gpu_rates_report_runpod_h100_sxm_rise(api: httpx.Client) -> None:
    current = api.get(
        "/v1/gpu-rates",
        params={
            "gpu": "H100-SXM-80GB",
            "provider": "runpod",
            "pricing": "on_demand",
            "include_stale": "true",
        },
    ).json()["items"]
    assert [Decimal(str(r["usd_per_gpu_hour"])) for r in current] == [Decimal("3.29")]
    history = api.get(
        "/v1/gpu-rates/history",
        params={"gpu": "H100-SXM-80GB", "provider": "runpod", "pricing": "on_demand"},
    ).json()["items"]
    assert [Decimal(str(r["usd_per_gpu_hour"])) for r in history] == [
        Decimal("2.99"),
        Decimal("3.29"),
    ]


def test_unknown_gpu_history_is_a_422_listing_known_gpus(api: httpx.Client) -> None:
    response = api.get("/v1/gpu-rates/history", params={"gpu": "H1OO"})
    assert response.status_code == 422
    assert "H100-SXM-80GB" in response.json()["detail"]


def test_changes_feed_lists_price_changes_as_json_and_atom(api: httpx.Client) -> None:
    items = api.get("/v1/changes").json()["items"]
    assert items, "the second OpenRouter capture changes some prices"
    fields = (
        "input_usd_per_mtok",
        "output_usd_per_mtok",
        "cached_input_usd_per_mtok",
        "cache_write_usd_per_mtok",
        "cache_write_1h_usd_per_mtok",
        "free",
    )
    for item in items:
        old = tuple(item[f"old_{f}"] for f in fields)
        new = tuple(item[f"new_{f}"] for f in fields)
        assert old != new, item
    atom = api.get("/v1/changes", params={"format": "atom"})
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert atom.text.count("<entry>") == len(items)


def test_runs_list_every_pipeline_run(api: httpx.Client) -> None:
    body = api.get("/v1/runs").json()
    assert body["total"] == len(INGESTS)
    assert all(run["status"] == "succeeded" for run in body["items"])


def test_deflation_needs_tier_or_benchmark(api: httpx.Client) -> None:
    response = api.get("/v1/deflation")
    assert response.status_code == 422
    assert "tier" in response.json()["detail"]


def test_openapi_documents_every_route_with_a_summary(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/cost-curve?tier=frontier",
        "/v1/prices",
        "/v1/prices/history?model=gpt-4o",
        "/v1/gpu-rates",
        "/v1/gpu-rates/history?gpu=H100-SXM-80GB",
        "/v1/changes",
        "/v1/runs",
        "/v1/self-hosted",
    ],
)
def test_read_routes_carry_etag_and_cache_control(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["etag"].startswith('"')
    assert "max-age=" in response.headers["cache-control"]


def _money_values(doc: object, path: str = "") -> Iterator[tuple[str, object]]:
    """Every value whose key names a USD amount, anywhere in a JSON document."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            if "usd" in key and not isinstance(value, dict | list):
                yield f"{path}.{key}", value
            yield from _money_values(value, f"{path}.{key}")
    elif isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from _money_values(item, f"{path}[{i}]")


@pytest.mark.parametrize(
    "route",
    [
        "/v1/prices?limit=1000&include_stale=true",
        "/v1/gpu-rates?limit=1000&include_stale=true",
        "/v1/prices/history?provider=anthropic&model=claude-opus-4.1",
        "/v1/changes",
        "/v1/self-hosted",
    ],
)
def test_every_money_value_is_an_exact_json_number_never_a_string(
    api: httpx.Client, route: str
) -> None:
    response = api.get(route)
    assert response.status_code == 200, response.text
    values = list(_money_values(response.json(parse_float=Decimal)))
    for where, value in values:
        assert value is None or isinstance(value, int | Decimal), (where, value)
    if route.startswith(("/v1/prices?", "/v1/gpu-rates?")):
        assert values, f"{route} carried no money values"


def test_price_listings_carry_every_value_column_of_the_version_table(api: httpx.Client) -> None:
    """Column lists are derived from the tables: the 1h cache-write price is not forgotten."""
    from db.queries import LLM

    stale = {"include_stale": "true"}  # the recordings are past their horizon today
    item = api.get("/v1/prices", params={"provider": "anthropic", **stale}).json()["items"][0]
    assert {c.name for c in LLM.value_columns()} <= set(item)
    assert "cache_write_1h_usd_per_mtok" in item
    header = api.get("/v1/prices", params={"format": "csv"}).text.splitlines()[0].split(",")
    assert header == [*list(LLM.listing_names()), "tier"]
    csv_params = {"format": "csv", "provider": "anthropic", **stale}
    assert any(
        r["cache_write_1h_usd_per_mtok"] not in ("", None)
        for r in csv.DictReader(io.StringIO(api.get("/v1/prices", params=csv_params).text))
    )
