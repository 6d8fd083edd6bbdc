"""openrouter_frontend: per-host prices plus endpoint performance from the frontend stats."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from scrapers import ParseError
from scrapers import openrouter_frontend as source
from tests.support import fixture_files, observed_at_for, parse_recorded

FILES = fixture_files("openrouter_frontend")


def _endpoints(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [e for line in text.splitlines() for e in json.loads(line)["endpoints"]]
    return json.loads(text)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_every_endpoint_record_becomes_a_host_price_with_its_speed(path: Path) -> None:
    obs = parse_recorded("openrouter_frontend", path)
    records = _endpoints(path)
    assert len(obs) == len(records) >= 1
    assert max(Counter(o.offering_key() for o in obs).values()) == 1
    for o, record in zip(obs, records, strict=True):
        assert o.input_usd_per_mtok == Decimal(record["pricing"]["prompt"]) * 1_000_000
        assert o.output_usd_per_mtok == Decimal(record["pricing"]["completion"]) * 1_000_000
        assert o.provider_model_id == record["model_variant_slug"]
        assert o.context_length == record["context_length"]
        assert o.endpoint is not None
        assert o.endpoint.startswith(record["provider_slug"])
        quantization = record["quantization"]
        assert o.quantization == (None if quantization == "unknown" else quantization)
        stats = record.get("stats")
        if not isinstance(stats, dict):  # the 2026-07-17 sample records carry no stats
            assert o.performance is None
            continue
        assert o.performance is not None
        assert o.performance.p50_throughput_tps == Decimal(str(stats["p50_throughput"]))
        assert o.performance.p90_latency_ms == pytest.approx(
            Decimal(str(stats["p90_latency"])), abs=Decimal("0.001")
        )
        assert o.performance.request_count == stats["request_count"]
        assert o.performance.status == record["status"]
        assert o.model is not None


def test_two_endpoints_of_one_host_under_one_tag_stay_apart() -> None:
    path = next(p for p in FILES if p and p.name.startswith("qwen__"))
    obs = parse_recorded("openrouter_frontend", path)
    tagged = [o for o in obs if o.endpoint and o.endpoint.startswith("google-vertex/us-south1")]
    assert len(tagged) == 2
    assert len({o.endpoint for o in tagged}) == 2
    assert {o.region for o in tagged} == {"us-south1"}


def test_the_daily_series_shows_the_host_set_changing() -> None:
    days = [p for p in FILES if p and p.name.startswith("meta-llama__")]
    hosts = [frozenset(o.endpoint for o in parse_recorded("openrouter_frontend", p)) for p in days]
    assert len(days) >= 20
    assert sum(a != b for a, b in itertools.pairwise(hosts)) >= 1


@pytest.mark.parametrize(
    "raw",
    [
        b"<html>Just a moment...</html>",
        b'{"error": "unauthorized"}',
        b"[]",
        b'[{"provider_name": "A", "pricing": {"prompt": "1", "completion": "1"}}]',
        b'{"model_slug": "a"}\n{"model_slug": "b", "endpoints": 3}',
    ],
)
def test_unexpected_documents_are_parse_errors(raw: bytes) -> None:
    with pytest.raises(ParseError):
        source.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))


def test_fetch_writes_one_stats_line_per_listed_model() -> None:
    record = {
        "provider_name": "Groq",
        "provider_slug": "groq",
        "model_variant_slug": "a/one",
        "pricing": {"prompt": "0.0000001", "completion": "0.0000002"},
        "stats": {"p50_throughput": 500, "p50_latency": 120.5},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/models":
            return httpx.Response(200, json={"data": [{"id": "a/one"}]})
        assert request.url.params["permaslug"] == "a/one"
        return httpx.Response(200, json={"data": [record]})

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        raw = source.fetch(client)
    (o,) = source.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))
    assert (o.provider, o.endpoint, o.input_usd_per_mtok) == ("groq", "groq", Decimal("0.1"))
    assert o.performance is not None
    assert o.performance.p50_throughput_tps == 500


def test_most_recorded_endpoints_carry_performance() -> None:
    with_speed = [
        o.performance is not None
        for p in FILES
        if p and p.suffix == ".json"
        for o in parse_recorded("openrouter_frontend", p)
    ]
    assert sum(with_speed) / len(with_speed) > 0.9
