"""The alert-rule API over real HTTP: keys, ownership, validation, masking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from costcurve.alerts.keys import create_key, hash_key, revoke_key, verify_key
from tests.conftest import LiveServer
from tests.test_alerts_delivery import ingest_runpod

SECRET_HOOK = "jsons://93.184.215.14/hooks/T0p-S3cret-Path?token=abc123xyz"
RULES = "/v1/alert-rules"


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "H100 SXM under $2",
        "target": {"type": "gpu", "gpu": "H100-SXM-80GB", "pricing": "on_demand"},
        "metric": "usd_per_gpu_hour",
        "threshold": 2,
        "channel": SECRET_HOOK,
    } | overrides


@pytest.fixture
def key(engine: Engine) -> str:
    return create_key(engine, "owner").secret


@pytest.fixture
def client(live_api: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_api.url, timeout=30) as c:
        yield c


def test_keys_are_stored_hashed_and_shown_once(engine: Engine) -> None:
    new = create_key(engine, "ci")
    assert new.secret.startswith("cc_")
    assert len(new.secret) > 40
    assert new.secret.startswith(new.prefix)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT key_prefix, key_sha256 FROM api_key")).one()
        assert tuple(stored) == (new.prefix, hash_key(new.secret))
        assert verify_key(conn, new.secret) == new.id
        assert verify_key(conn, new.secret + "x") is None
        assert verify_key(conn, None) is None
    assert revoke_key(engine, new.id)
    with engine.connect() as conn:
        assert verify_key(conn, new.secret) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", RULES),
        ("POST", RULES),
        ("GET", f"{RULES}/1"),
        ("DELETE", f"{RULES}/1"),
        ("GET", f"{RULES}/1/events"),
    ],
)
def test_every_route_needs_a_valid_api_key(
    client: httpx.Client, engine: Engine, method: str, path: str
) -> None:
    kwargs: dict[str, Any] = {"json": body()} if method == "POST" else {}
    missing = client.request(method, path, **kwargs)
    assert missing.status_code == 401
    assert missing.json()["detail"] == "missing X-API-Key header"
    wrong = client.request(method, path, headers={"X-API-Key": "cc_not-a-key"}, **kwargs)
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "invalid or revoked X-API-Key"
    revoked = create_key(engine, "old")
    revoke_key(engine, revoked.id)
    gone = client.request(method, path, headers={"X-API-Key": revoked.secret}, **kwargs)
    assert gone.status_code == 401


def test_create_read_list_delete_a_rule_with_the_channel_masked(
    client: httpx.Client, key: str
) -> None:
    headers = {"X-API-Key": key}
    created = client.post(RULES, headers=headers, json=body())
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["target"] == {
        "type": "gpu",
        "gpu": "H100-SXM-80GB",
        "pricing": "on_demand",
        "provider": None,
    }
    assert (rule["metric"], rule["threshold"], rule["direction"]) == (
        "usd_per_gpu_hour",
        2,
        "below",
    )
    assert rule["channel"] == "jsons://93.184.215.14/****"
    assert (rule["current_value"], rule["state"], rule["events"]) == (None, "no_data", 0)

    for response in (
        created,
        client.get(f"{RULES}/{rule['id']}", headers=headers),
        client.get(RULES, headers=headers),
    ):
        assert response.status_code in (200, 201)
        for secret in ("T0p-S3cret", "abc123xyz", "hooks/"):
            assert secret not in response.text
    assert [r["id"] for r in client.get(RULES, headers=headers).json()["items"]] == [rule["id"]]

    deleted = client.delete(f"{RULES}/{rule['id']}", headers=headers)
    assert deleted.status_code == 204
    assert client.get(f"{RULES}/{rule['id']}", headers=headers).status_code == 404
    assert client.get(RULES, headers=headers).json()["items"] == []
    assert client.delete(f"{RULES}/{rule['id']}", headers=headers).status_code == 404


def test_another_key_can_neither_see_nor_delete_a_rule(
    client: httpx.Client, engine: Engine, key: str
) -> None:
    rule_id = client.post(RULES, headers={"X-API-Key": key}, json=body()).json()["id"]
    other = {"X-API-Key": create_key(engine, "someone else").secret}
    for method, path in (
        ("GET", f"{RULES}/{rule_id}"),
        ("GET", f"{RULES}/{rule_id}/events"),
        ("DELETE", f"{RULES}/{rule_id}"),
    ):
        response = client.request(method, path, headers=other)
        assert response.status_code == 404
        assert response.json()["detail"] == f"alert rule {rule_id} not found"
    assert client.get(RULES, headers=other).json()["items"] == []
    assert client.get(f"{RULES}/{rule_id}", headers={"X-API-Key": key}).status_code == 200


def test_rule_shows_the_current_value_and_state(
    client: httpx.Client, engine: Engine, key: str
) -> None:
    ingest_runpod(engine, "2026-08-03")  # H100 SXM on demand 2.99
    above = client.post(
        RULES, headers={"X-API-Key": key}, json=body(threshold="3", direction="above")
    ).json()
    below = client.post(RULES, headers={"X-API-Key": key}, json=body(threshold="3")).json()
    assert (above["current_value"], above["state"]) == (2.99, "armed")
    assert (below["current_value"], below["state"]) == (2.99, "triggered")


@pytest.mark.parametrize(
    ("overrides", "parameter", "message"),
    [
        (
            {"target": {"type": "model", "model": "gpt-9-ultra"}, "metric": "output"},
            "target.model.model",
            "unknown model 'gpt-9-ultra'",
        ),
        ({"target": {"type": "gpu", "gpu": "H900-SXM-1TB"}}, "target.gpu.gpu", "unknown GPU"),
        ({"threshold": -1}, "threshold", "greater than or equal to 0"),
        ({"metric": "blended"}, "metric", "not valid for a gpu target; use usd_per_gpu_hour"),
        ({"direction": "sideways"}, "direction", "below"),
        ({"channel": "not a url"}, "channel", "must be an Apprise URL"),
        ({"channel": "foo://bar/baz"}, "channel", "Apprise cannot use this foo:// URL"),
    ],
)
def test_invalid_rules_get_a_422_saying_what_is_wrong(
    client: httpx.Client, key: str, overrides: dict[str, Any], parameter: str, message: str
) -> None:
    response = client.post(RULES, headers={"X-API-Key": key}, json=body(**overrides))
    assert response.status_code == 422
    payload = response.json()
    assert parameter in payload["detail"]
    assert message in payload["detail"]
    assert any(e["parameter"] == parameter for e in payload["errors"])


@pytest.mark.parametrize(
    "channel",
    [
        "json://127.0.0.1:8080/hook",
        "json://localhost:5432/",
        "json://169.254.169.254/latest/meta-data/iam",
        "jsons://10.0.0.7/hook",
        "json://[::1]/hook",
        "json://2130706433/hook",
    ],
)
def test_ssrf_channels_are_refused_with_a_422(
    client: httpx.Client, key: str, engine: Engine, channel: str
) -> None:
    response = client.post(RULES, headers={"X-API-Key": key}, json=body(channel=channel))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("channel: host ")
    assert "COSTCURVE_ALERTS_ALLOW_PRIVATE_TARGETS" in detail
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alert_rule")).scalar_one() == 0


def test_non_numeric_rule_id_is_a_422_naming_the_parameter(client: httpx.Client, key: str) -> None:
    response = client.get(f"{RULES}/abc", headers={"X-API-Key": key})
    assert response.status_code == 422
    assert "rule_id" in response.json()["detail"]


def test_openapi_documents_the_routes_and_the_key_header(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    assert {"post", "get"} <= set(paths[RULES])
    assert {"get", "delete"} <= set(paths[RULES + "/{rule_id}"])
    assert "get" in paths[RULES + "/{rule_id}/events"]
    assert all(op.get("summary") for p in paths if p.startswith(RULES) for op in paths[p].values())
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
