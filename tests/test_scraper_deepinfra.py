from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from costcurve.core.observations import LlmPrice, Observation
from scrapers import ParseError
from scrapers.deepinfra import URL, fetch
from scrapers.http import USER_AGENT, make_client
from scrapers.registry import get_source, parse_source
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("deepinfra")
ids = lambda p: p.name if p else "absent"  # noqa: E731


def _llm(obs: list[Observation]) -> list[LlmPrice]:
    prices = [o for o in obs if isinstance(o, LlmPrice)]
    assert len(prices) == len(obs)
    return prices


def _by_id(path: Path) -> dict[str, LlmPrice]:
    obs = parse_source("deepinfra", path.read_bytes(), observed_at=observed_at_for(path))
    return {o.provider_model_id: o for o in _llm(obs)}


# (model id, input, output, cached input) read in v1_openai_models_2026-03-01.json.
# Several carry float noise in the file (0.7899999999999999, 0.1300000002,
# 0.0799999993) that must come out as the listed price.
EXPECTED = {
    "2026-03-01": [
        ("ByteDance/Seed-2.0-mini", "0.1", "0.4", "0.02"),
        ("deepseek-ai/DeepSeek-V3.1-Terminus", "0.21", "0.79", "0.13"),
        ("zai-org/GLM-4.6", "0.43", "1.74", "0.08"),
        ("Qwen/Qwen3-Max", "1.2", "6", "0.24"),
        ("MiniMaxAI/MiniMax-M2.5", "0.27", "0.95", "0.03"),
        ("openai/gpt-oss-120b", "0.039", "0.19", None),
        ("google/gemini-1.5-flash-8b", "0.0375", "0.15", None),
        ("anthropic/claude-4-opus", "16.5", "82.5", None),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "0.1", "0.32", None),
    ]
}


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_deepinfra_reads_listed_and_cached_prices_exactly(path: Path) -> None:
    by_id = _by_id(path)
    expected = next(v for k, v in EXPECTED.items() if k in path.name)
    for model_id, input_price, output_price, cached in expected:
        o = by_id[model_id]
        assert o.input_usd_per_mtok == Decimal(input_price), model_id
        assert o.output_usd_per_mtok == Decimal(output_price), model_id
        assert o.cached_input_usd_per_mtok == (Decimal(cached) if cached else None), model_id
        assert o.provider == "deepinfra"
        assert o.variant == "standard"
        assert o.context_tier is None
        assert not o.free
    assert all(o.observed_at == observed_at_for(path) for o in by_id.values())


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_deepinfra_keeps_every_token_priced_model_within_float_noise(path: Path) -> None:
    by_id = _by_id(path)
    entries = json.loads(path.read_bytes())["data"]
    priced = [e for e in entries if (e.get("metadata") or {}).get("pricing")]
    assert len(priced) > 50
    assert set(by_id) == {e["id"] for e in priced}
    for e in priced:
        o, pricing = by_id[e["id"]], e["metadata"]["pricing"]
        pairs = [
            (o.input_usd_per_mtok, pricing["input_tokens"]),
            (o.output_usd_per_mtok, pricing["output_tokens"]),
        ]
        if "cache_read_tokens" in pricing:
            pairs.append((o.cached_input_usd_per_mtok, pricing["cache_read_tokens"]))
        else:
            assert o.cached_input_usd_per_mtok is None
        for got, raw in pairs:
            assert got is not None
            assert got >= 0
            assert abs(got - Decimal(str(raw))) < Decimal("0.000001")


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_deepinfra_skips_models_without_token_pricing(path: Path) -> None:
    by_id = _by_id(path)
    for model_id in ("BAAI/bge-m3", "black-forest-labs/FLUX-1-dev", "Bria/enhance"):
        assert model_id not in by_id


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_deepinfra_is_deterministic_with_unique_keys(path: Path) -> None:
    raw = path.read_bytes()
    first = parse_source("deepinfra", raw, observed_at=observed_at_for(path))
    assert first == parse_source("deepinfra", raw, observed_at=observed_at_for(path))
    assert max(Counter(o.offering_key() for o in first).values()) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Attention Required! | Cloudflare</title></html>",
        b'{"detail": "Not Found"}',
        b'{"object": "list", "data": []}',
        b'{"object": "list", "data": [{"object": "model"}]}',
        b'{"object": "list", "data": [{"id": "x", "metadata": {"tags": []}}]}',
        b'{"object": "list", "data": [{"id": "x", "metadata": null}]}',
        b'{"data": [{"id": "x", "metadata": {"pricing": {"input_tokens": "1",'
        b' "output_tokens": 2}}}]}',
    ],
)
def test_parse_deepinfra_rejects_unexpected_documents(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_source("deepinfra", raw, observed_at=observed_at_for(Path("x_2026-01-01")))


def test_fetch_deepinfra_gets_openai_models_listing() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b'{"object": "list", "data": []}')

    with make_client(transport=httpx.MockTransport(handler)) as client:
        assert fetch(client) == b'{"object": "list", "data": []}'
    (request,) = seen
    assert request.method == "GET"
    assert str(request.url) == URL == "https://api.deepinfra.com/v1/openai/models"
    assert request.headers["user-agent"] == USER_AGENT
    assert get_source("deepinfra").SOURCE.verified_against_recording
