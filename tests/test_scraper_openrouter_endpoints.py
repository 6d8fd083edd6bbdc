"""openrouter_endpoints: one price per upstream host, from raw bodies and HTTP cassettes."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import brotli
import httpx
import pytest

from scrapers import ParseError
from scrapers import openrouter_endpoints as source
from tests.support import fixture_files, observed_at_for, parse_recorded

FILES = fixture_files("openrouter_endpoints")
RAW = [p for p in FILES if p is None or "cassette" not in p.name]


def _response(path: Path) -> dict:
    doc = json.loads(path.read_bytes())
    if isinstance(doc, list):  # nock cassette: hex brotli body
        doc = json.loads(brotli.decompress(bytes.fromhex("".join(doc[0]["response"]))))
    return doc["data"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_every_endpoint_becomes_one_host_price_matching_the_file(path: Path) -> None:
    obs = parse_recorded("openrouter_endpoints", path)
    data = _response(path)
    assert len(obs) == len(data["endpoints"]) >= 1
    assert max(Counter(o.offering_key() for o in obs).values()) == 1
    for o, endpoint in zip(obs, data["endpoints"], strict=True):
        pricing = endpoint["pricing"]
        assert o.provider_model_id == data["id"]
        assert o.input_usd_per_mtok == Decimal(pricing["prompt"]) * 1_000_000
        assert o.output_usd_per_mtok == Decimal(pricing["completion"]) * 1_000_000
        assert o.cached_input_usd_per_mtok == Decimal(pricing["input_cache_read"]) * 1_000_000
        assert o.context_length == endpoint["context_length"]
        assert o.endpoint == endpoint.get("tag")  # the 2025-05-12 API had no tags yet
        assert o.provider == endpoint["provider_name"].lower().replace(" ", "-")
        assert o.model is not None  # every recorded model resolves to the catalog


@pytest.mark.parametrize("path", RAW, ids=lambda p: p.name if p else "absent")
def test_the_cassette_and_the_raw_body_of_one_day_parse_identically(path: Path) -> None:
    cassette = path.with_name(path.name.replace("_endpoints_", "_endpoints_nock-cassette_"))
    assert parse_recorded("openrouter_endpoints", path) == [
        o.model_copy(update={"observed_at": observed_at_for(path)})
        for o in parse_recorded("openrouter_endpoints", cassette)
    ]


def test_hosts_are_slugified_as_openrouter_names_them() -> None:
    from scrapers._openrouter_hosts import host_slug

    assert host_slug("SambaNova") == "sambanova"
    assert host_slug("Google AI Studio") == "google-ai-studio"
    assert host_slug("Fireworks") == "fireworks"


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Just a moment...</title></html>",
        b'{"error": {"code": 404}}',
        b'{"data": {"id": "x/y", "endpoints": []}}',
        b'{"data": {"id": "x/y", "endpoints": [{"provider_name": "A"}]}}',
        b'[{"scope": "https://openrouter.ai", "status": 200, "response": ["zz"]}]',
    ],
)
def test_unexpected_documents_are_parse_errors(raw: bytes) -> None:
    with pytest.raises(ParseError):
        source.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))


def test_fetch_reads_every_listed_model_into_one_json_lines_snapshot() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/api/v1/models":
            ids = [{"id": "a/one"}, {"id": "a/one:free"}, {"id": "b/two"}, {"id": "c/gone"}]
            return httpx.Response(200, json={"data": ids})
        if request.url.path == "/api/v1/models/c/gone/endpoints":
            return httpx.Response(404, json={"error": "not found"})
        model = request.url.path.removeprefix("/api/v1/models/").removesuffix("/endpoints")
        endpoint = {"provider_name": "Groq", "tag": "groq", "context_length": 8192}
        endpoint["pricing"] = {"prompt": "0.0000001", "completion": "0.0000002"}
        return httpx.Response(200, json={"data": {"id": model, "endpoints": [endpoint]}})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        raw = source.fetch(client)
    assert seen == [
        "/api/v1/models",
        "/api/v1/models/a/one/endpoints",
        "/api/v1/models/b/two/endpoints",
        "/api/v1/models/c/gone/endpoints",
    ]
    obs = source.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))
    assert [(o.provider_model_id, o.provider, o.input_usd_per_mtok) for o in obs] == [
        ("a/one", "groq", Decimal("0.1")),
        ("b/two", "groq", Decimal("0.1")),
    ]


@pytest.mark.parametrize("path", RAW[:1], ids=lambda p: p.name if p else "absent")
def test_a_suffixed_model_id_gives_its_hosts_the_suffix_variant(path: Path) -> None:
    """As in the models listing: ``x:thinking`` is model x sold on other terms."""
    if path is None:
        pytest.skip("recorded files absent")
    data = _response(path)
    suffixed = {"data": data | {"id": data["id"] + ":thinking"}}
    obs = source.parse(json.dumps(suffixed).encode(), observed_at=observed_at_for(path))
    assert {o.variant for o in obs} == {"thinking"}
    assert {o.provider_model_id for o in obs} == {data["id"] + ":thinking"}
    # A variant the endpoint record states wins over the id's suffix.
    stated = [e | {"variant": "free"} for e in data["endpoints"]]
    body = {"data": data | {"id": data["id"] + ":thinking", "endpoints": stated}}
    obs = source.parse(json.dumps(body).encode(), observed_at=observed_at_for(path))
    assert {o.variant for o in obs} == {"free"}
