"""Hostile input gets a 4xx that names the parameter, never a 500 (through real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine

from tests.conftest import LiveServer


@pytest.fixture
def api(engine: Engine) -> Iterator[httpx.Client]:
    from api.main import create_app

    with LiveServer(create_app(engine)) as server, httpx.Client(base_url=server.url) as client:
        yield client


@pytest.mark.parametrize(
    ("route", "params", "names"),
    [
        ("/v1/prices", {"provider": "open\x00router"}, "provider"),
        ("/v1/gpu-rates", {"region": "us\x01east"}, "region"),
        ("/v1/prices/history", {"model": "x\x00", "provider": "p"}, "model"),
        ("/v1/cost-curve", {"provider": "\x00"}, "provider"),
    ],
)
def test_a_control_character_in_any_text_parameter_is_a_422_naming_it(
    api: httpx.Client, route: str, params: dict[str, str], names: str
) -> None:
    response = api.get(route, params=params)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{names}: control characters")


@pytest.mark.parametrize(
    ("route", "params", "names"),
    [
        ("/v1/prices", {"offset": str(2**63)}, "offset"),
        ("/v1/gpu-rates", {"offset": str(2**63)}, "offset"),
        ("/v1/runs", {"offset": str(2**63)}, "offset"),
        ("/v1/cost-curve", {"tier": "frontier", "to": "9999-12-31"}, "to"),
        ("/v1/deflation", {"tier": "frontier", "to": "9999-12-31"}, "to"),
        ("/v1/cost-curve", {"from": "1900-01-01"}, "from"),
    ],
)
def test_out_of_range_numbers_and_dates_are_422s_naming_the_parameter(
    api: httpx.Client, route: str, params: dict[str, str], names: str
) -> None:
    response = api.get(route, params=params)
    assert response.status_code == 422, response.text
    assert names in response.json()["detail"]


def test_a_request_for_too_many_buckets_is_refused_with_how_to_narrow_it(
    api: httpx.Client,
) -> None:
    response = api.get(
        "/v1/cost-curve", params={"interval": "day", "from": "2000-01-01", "to": "2100-01-02"}
    )
    assert response.status_code == 422
    assert "narrow the range or use a longer interval" in response.json()["detail"]


def test_an_alert_rule_id_past_postgres_integer_is_a_422_not_a_500(api: httpx.Client) -> None:
    response = api.get(f"/v1/alert-rules/{2**31}", headers={"X-API-Key": "nope"})
    assert response.status_code in (401, 422)
    response = api.delete(f"/v1/alert-rules/{2**40}")
    assert 400 <= response.status_code < 500


def test_422_bodies_match_the_published_error_schema(api: httpx.Client) -> None:
    schema = api.get("/openapi.json").json()
    error = schema["components"]["schemas"]["HTTPValidationError"]
    assert error["properties"]["detail"]["type"] == "string"
    body = api.get("/v1/cost-curve", params={"tier": "nope"}).json()
    assert isinstance(body["detail"], str)
    assert "tier" in body["detail"]
    assert set(body) <= set(error["properties"])
    assert set(error["required"]) <= set(body)
    curve = schema["paths"]["/v1/cost-curve"]["get"]["responses"]
    assert "text/csv" in curve["200"]["content"]
    assert "4XX" in curve
    changes = schema["paths"]["/v1/changes"]["get"]["responses"]["200"]["content"]
    assert "application/atom+xml" in changes


@pytest.mark.parametrize(
    ("header", "matches"),
    [("*", True), ("{tag}", True), ("W/{tag}", True), ('"other", {tag}', True), ('"x"', False)],
)
def test_conditional_requests_follow_rfc_9110(
    api: httpx.Client, header: str, matches: bool
) -> None:
    first = api.get("/v1/cost-curve", params={"tier": "frontier"})
    tag = first.headers["etag"]
    again = api.get(
        "/v1/cost-curve",
        params={"tier": "frontier"},
        headers={"If-None-Match": header.format(tag=tag)},
    )
    assert again.status_code == (304 if matches else 200)


@pytest.mark.parametrize(
    "params",
    [
        {"monthly_tokens": "inf"},
        {"monthly_tokens": "1e309"},
        {"monthly_tokens": "1e9", "utilization": "5e-324"},
        {"monthly_tokens": "1e9", "tokens_per_s_per_gpu": "nan"},
    ],
)
def test_breakeven_refuses_non_finite_and_denormal_numbers(
    api: httpx.Client, params: dict[str, str]
) -> None:
    response = api.get("/v1/breakeven", params={"model": "llama-3.1-8b", **params})
    assert response.status_code == 422, response.text
    assert any(name in response.json()["detail"] for name in params)


@pytest.mark.parametrize("threshold", ["inf", "nan", "1e309"])
def test_a_non_finite_deflation_threshold_is_a_422_naming_it(
    api: httpx.Client, threshold: str
) -> None:
    response = api.get("/v1/deflation", params={"benchmark": "ECI", "threshold": threshold})
    assert response.status_code == 422, response.text
    assert "threshold" in response.json()["detail"]
