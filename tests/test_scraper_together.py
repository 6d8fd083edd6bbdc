from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from costcurve.core.observations import LlmPrice, Observation
from scrapers import ParseError
from scrapers.http import USER_AGENT, make_client
from scrapers.registry import get_source, parse_source
from scrapers.together import URL, fetch
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("together")
ids = lambda p: p.name if p else "absent"  # noqa: E731


def _llm(obs: list[Observation]) -> list[LlmPrice]:
    prices = [o for o in obs if isinstance(o, LlmPrice)]
    assert len(prices) == len(obs)
    return prices


def _parse(path: Path) -> list[LlmPrice]:
    obs = parse_source("together", path.read_bytes(), observed_at=observed_at_for(path))
    return _llm(obs)


def _by_id(path: Path) -> dict[str, LlmPrice]:
    return {o.provider_model_id: o for o in _parse(path)}


# (model id, input, output) read in api_v1_models_2026-01.json; float noise in the
# file (0.18000000000000002) must come out as the listed price.
EXPECTED = {
    "2026-01": [
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "0.88", "0.88"),
        ("deepseek-ai/DeepSeek-R1-0528-tput", "0.55", "2.19"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "0.18", "0.59"),
        ("arcee-ai/trinity-mini", "0.045", "0.15"),
        ("zai-org/GLM-4.7", "0.45", "2"),
        ("moonshotai/Kimi-K2-Thinking", "1.2", "4"),
        ("openai/gpt-oss-120b", "0.15", "0.6"),
        ("meta-llama/Llama-3-70b-hf", "0.9", "0.9"),  # type "language"
    ]
}


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_together_reads_listed_prices_exactly(path: Path) -> None:
    by_id = _by_id(path)
    expected = next(v for k, v in EXPECTED.items() if k in path.name)
    for model_id, input_price, output_price in expected:
        o = by_id[model_id]
        assert o.input_usd_per_mtok == Decimal(input_price), model_id
        assert o.output_usd_per_mtok == Decimal(output_price), model_id
        assert o.cached_input_usd_per_mtok is None
        assert o.provider == "together"
        assert o.source == "together"
        assert o.variant == "standard"
        assert o.context_tier is None
        assert not o.free
    assert all(o.observed_at == observed_at_for(path) for o in by_id.values())


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_together_keeps_every_priced_chat_model_within_float_noise(path: Path) -> None:
    by_id = _by_id(path)
    priced = [
        e
        for e in json.loads(path.read_bytes())
        if e["type"] in ("chat", "language") and e["pricing"]["input"] > 0
    ]
    assert len(priced) > 40
    assert len(by_id) == len(priced)
    for e in priced:
        o = by_id[e["id"]]
        for got, raw in (
            (o.input_usd_per_mtok, e["pricing"]["input"]),
            (o.output_usd_per_mtok, e["pricing"]["output"]),
        ):
            assert got is not None
            assert abs(got - Decimal(str(raw))) < Decimal("0.000001")
            assert got.as_tuple().exponent >= -6  # type: ignore[operator]


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_together_leaves_out_non_llm_and_zero_priced_models(path: Path) -> None:
    by_id = _by_id(path)
    entries = json.loads(path.read_bytes())
    non_llm = {e["id"] for e in entries if e["type"] not in ("chat", "language")}
    assert {"BAAI/bge-large-en-v1.5", "black-forest-labs/FLUX.1-schnell"} <= non_llm
    assert not non_llm & set(by_id)
    # MoA composites and the Apriel models carry 0/0 but are not named as free
    # endpoints, just like every image and video model: not an observation.
    for model_id in ("togethercomputer/MoA-1", "ServiceNow-AI/Apriel-1.5-15b-Thinker"):
        assert model_id not in by_id
    assert not any(o.free for o in by_id.values())


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_together_is_deterministic_with_unique_keys(path: Path) -> None:
    raw = path.read_bytes()
    first = parse_source("together", raw, observed_at=observed_at_for(path))
    assert first == parse_source("together", raw, observed_at=observed_at_for(path))
    assert max(Counter(o.offering_key() for o in first).values()) == 1
    for o in first:
        assert isinstance(o, LlmPrice)
        for price in (o.input_usd_per_mtok, o.output_usd_per_mtok):
            assert isinstance(price, Decimal)
            assert price >= 0


def test_parse_together_flags_endpoints_named_free() -> None:
    # CONSTRUCTED body (not recorded): no recorded snapshot lists a "-Free" endpoint.
    constructed = [
        {
            "id": "meta-llama/Llama-3.3-70B-Instruct-Turbo-Free",
            "type": "chat",
            "display_name": "Meta Llama 3.3 70B Instruct Turbo Free",
            "pricing": {"hourly": 0, "input": 0, "output": 0, "base": 0, "finetune": 0},
        },
        {
            "id": "togethercomputer/MoA-1",
            "type": "chat",
            "pricing": {"hourly": 0, "input": 0, "output": 0, "base": 0, "finetune": 0},
        },
    ]
    obs = parse_source(
        "together",
        json.dumps(constructed).encode(),
        observed_at=observed_at_for(Path("x_2026-01-01")),
    )
    assert [(o.provider_model_id, o.free) for o in _llm(obs)] == [
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo-Free", True)
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Just a moment...</title></html>",
        b'{"error": {"message": "Invalid API key provided"}}',
        b"[]",
        b'[{"name": "no id"}]',
        b'[{"id": "a/b", "type": "chat"}]',
        b'[{"id": "a/b", "type": "chat", "pricing": {"input": "n/a", "output": 1}}]',
        b'[{"id": "img", "type": "image", "pricing": {"input": 0, "output": 0}}]',
    ],
)
def test_parse_together_rejects_unexpected_documents(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_source("together", raw, observed_at=observed_at_for(Path("x_2026-01-01")))


def test_fetch_together_gets_models_with_client_headers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"[]")

    transport = httpx.MockTransport(handler)
    with make_client(transport=transport, headers={"Authorization": "Bearer k"}) as client:
        assert fetch(client) == b"[]"
    (request,) = seen
    assert request.method == "GET"
    assert str(request.url) == URL == "https://api.together.xyz/v1/models"
    assert request.headers["user-agent"] == USER_AGENT
    # The API key is the caller's: configured on the client, passed through as is.
    assert request.headers["authorization"] == "Bearer k"
    info = get_source("together").SOURCE
    assert info.verified_against_recording
    assert info.kind == "llm_price"
