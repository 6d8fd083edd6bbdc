from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from costcurve.core.money import per_token_to_per_mtok
from costcurve.core.observations import LlmPrice, Observation
from costcurve.core.offer_terms import published_price, suffix_variant
from scrapers import ParseError
from scrapers.http import USER_AGENT, make_client
from scrapers.litellm import CHAT_MODES, URL, fetch
from scrapers.registry import get_source, parse_source
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("litellm")
ids = lambda p: p.name if p else "absent"  # noqa: E731


def _llm(obs: list[Observation]) -> list[LlmPrice]:
    prices = [o for o in obs if isinstance(o, LlmPrice)]
    assert len(prices) == len(obs)
    return prices


Key = tuple[str, str, str | None]  # (model name, variant, context tier)


def _parse(path: Path) -> list[LlmPrice]:
    obs = parse_source("litellm", path.read_bytes(), observed_at=observed_at_for(path))
    return _llm(obs)


def _index(path: Path) -> dict[Key, LlmPrice]:
    return {(o.provider_model_id, o.variant, o.context_tier): o for o in _parse(path)}


def _snapshot(day: str) -> Path:
    path = next((p for p in FILES if p and day in p.name), None)
    if path is None:
        pytest.skip(f"no litellm snapshot of {day}")
    return path


# Values read in each snapshot, converted to USD per million tokens:
# (model, variant, tier) -> (provider, input, output, cached input, cache write, 1h write)
EXPECTED: dict[str, dict[Key, tuple[str, str, str, str | None, str | None, str | None]]] = {
    "2025-02-14": {
        ("gpt-4o-mini", "standard", None): ("openai", "0.15", "0.6", "0.075", None, None),
        ("gpt-4o-mini", "batch", None): ("openai", "0.075", "0.3", None, None, None),
        ("claude-3-5-sonnet-20241022", "standard", None): (
            "anthropic",
            "3",
            "15",
            "0.3",
            "3.75",
            None,
        ),
        ("gemini/gemini-1.5-pro", "standard", ">128k"): ("gemini", "7", "21", None, None, None),
        ("deepseek/deepseek-chat", "standard", None): (
            "deepseek",
            "0.27",
            "1.1",
            "0.07",
            "0",
            None,
        ),
        ("azure/gpt-4o", "standard", None): ("azure", "5", "15", "1.25", None, None),
    },
    "2025-06-15": {
        ("azure/gpt-4o", "standard", None): ("azure", "2.5", "10", "1.25", None, None),
        ("gpt-4o-mini", "batch", None): ("openai", "0.075", "0.3", None, None, None),
        ("gemini/gemini-1.5-pro", "standard", None): ("gemini", "3.5", "10.5", None, None, None),
        ("mistral/mistral-large-latest", "standard", None): ("mistral", "2", "6", None, None, None),
    },
    "2025-10-13": {
        ("gpt-4o-mini", "priority", None): ("openai", "0.25", "1", "0.125", None, None),
        ("gpt-4o-mini", "batch", None): ("openai", "0.075", "0.3", None, None, None),
        ("claude-3-5-sonnet-20241022", "standard", None): (
            "anthropic",
            "3",
            "15",
            "0.3",
            "3.75",
            "6",
        ),
        ("claude-sonnet-4-5", "standard", ">200k"): ("anthropic", "6", "22.5", "0.6", "7.5", None),
        ("gemini-2.5-pro", "standard", None): (
            "vertex_ai-language-models",
            "1.25",
            "10",
            "0.3125",
            None,
            None,
        ),
        ("gemini-2.5-pro", "standard", ">200k"): (
            "vertex_ai-language-models",
            "2.5",
            "15",
            None,
            None,
            None,
        ),
    },
    "2026-01-14": {
        ("deepseek/deepseek-chat", "standard", None): (
            "deepseek",
            "0.28",
            "0.42",
            "0.028",
            "0",
            None,
        ),
        ("gemini-2.5-pro", "standard", None): (
            "vertex_ai-language-models",
            "1.25",
            "10",
            "0.125",
            None,
            None,
        ),
        ("gemini-2.5-pro", "standard", ">200k"): (
            "vertex_ai-language-models",
            "2.5",
            "15",
            "0.25",
            "0.25",
            None,
        ),
        ("mistral/mistral-large-latest", "standard", None): ("mistral", "2", "6", None, None, None),
        ("gpt-4o-mini", "batch", None): ("openai", "0.075", "0.3", None, None, None),
    },
    "2026-04-14": {
        ("mistral/mistral-large-latest", "standard", None): (
            "mistral",
            "0.5",
            "1.5",
            None,
            None,
            None,
        ),
        ("claude-sonnet-4-5", "standard", ">200k"): ("anthropic", "6", "22.5", "0.6", "7.5", None),
        ("gpt-5-nano", "flex", None): ("openai", "0.025", "0.2", "0.0025", None, None),
        ("gpt-5-nano", "standard", None): ("openai", "0.05", "0.4", "0.005", None, None),
        ("gpt-4o-mini", "batch", None): ("openai", "0.075", "0.3", None, None, None),
        # cached price only under DeepSeek's "input_cost_per_token_cache_hit" name
        ("deepseek/deepseek-coder", "standard", None): (
            "deepseek",
            "0.14",
            "0.28",
            "0.014",
            None,
            None,
        ),
    },
}


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_litellm_reads_cached_batch_and_long_context_prices(path: Path) -> None:
    index = _index(path)
    expected = next(v for k, v in EXPECTED.items() if k in path.name)
    for key, (provider, inp, out, cached, write, write_1h) in expected.items():
        o = index[key]
        assert o.provider == provider, key
        assert o.input_usd_per_mtok == Decimal(inp), key
        assert o.output_usd_per_mtok == Decimal(out), key
        assert o.cached_input_usd_per_mtok == _dec(cached), key
        assert o.cache_write_usd_per_mtok == _dec(write), key
        assert o.cache_write_1h_usd_per_mtok == _dec(write_1h), key
        assert o.source == "litellm"
        assert not o.free
    assert all(o.observed_at == observed_at_for(path) for o in index.values())


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_litellm_converts_every_chat_entry_per_token_exactly(path: Path) -> None:
    doc = json.loads(path.read_bytes(), parse_float=Decimal)
    index = _index(path)
    checked = 0
    for name, entry in doc.items():
        if not isinstance(entry, dict) or name == "sample_spec":
            continue
        inp, out = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
        if entry.get("mode") not in CHAT_MODES or inp is None or out is None:
            assert (name, "standard", None) not in index, name
            continue
        o = index.get((name, "standard", None)) or index[(name, _route(name, entry), None)]
        assert o.provider == entry["litellm_provider"].lower()
        assert o.input_usd_per_mtok == published_price(Decimal(str(inp)) * 1_000_000)
        assert o.output_usd_per_mtok == published_price(Decimal(str(out)) * 1_000_000)
        cache = entry.get("cache_read_input_token_cost")
        if cache is not None:
            expected = published_price(Decimal(str(cache)) * 1_000_000)
            assert o.cached_input_usd_per_mtok == expected
        assert o.free == (inp == 0 and out == 0)
        checked += 1
    assert checked > 500


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_litellm_skips_sample_spec_metadata_and_non_chat_modes(path: Path) -> None:
    doc = json.loads(path.read_bytes())
    assert not isinstance(doc["last_updated"], dict)  # the collector's addition
    names = {o.provider_model_id for o in _parse(path)}
    assert "sample_spec" not in names
    assert "last_updated" not in names
    skipped = {n for n, e in doc.items() if isinstance(e, dict) and e.get("mode") not in CHAT_MODES}
    modes = {doc[n].get("mode") for n in skipped}
    assert {"embedding", "image_generation", "audio_transcription", "rerank"} <= modes
    assert not skipped & names


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_litellm_is_deterministic_with_unique_non_negative_offerings(path: Path) -> None:
    raw = path.read_bytes()
    first = parse_source("litellm", raw, observed_at=observed_at_for(path))
    assert first == parse_source("litellm", raw, observed_at=observed_at_for(path))
    assert max(Counter(o.offering_key() for o in first).values()) == 1
    for o in first:
        assert isinstance(o, LlmPrice)
        assert o.variant in {"standard", "batch", "flex", "priority"} or (
            o.provider == "openrouter" and o.variant == suffix_variant(o.provider_model_id)[1]
        )
        for price in (
            o.input_usd_per_mtok,
            o.output_usd_per_mtok,
            o.cached_input_usd_per_mtok,
            o.cache_write_usd_per_mtok,
        ):
            assert price is None or (isinstance(price, Decimal) and price >= 0)


@pytest.mark.parametrize("path", FILES, ids=ids)
def test_parse_litellm_flags_zero_priced_entries_as_free(path: Path) -> None:
    o = _index(path)[("ollama/llama2", "standard", None)]
    assert o.free
    assert o.input_usd_per_mtok == 0
    assert o.output_usd_per_mtok == 0


def test_parse_litellm_sees_mistral_large_price_cut_between_snapshots() -> None:
    before = _index(_snapshot("2026-01-14"))[("mistral/mistral-large-latest", "standard", None)]
    after = _index(_snapshot("2026-04-14"))[("mistral/mistral-large-latest", "standard", None)]
    assert (before.input_usd_per_mtok, before.output_usd_per_mtok) == (Decimal(2), Decimal(6))
    assert (after.input_usd_per_mtok, after.output_usd_per_mtok) == (
        Decimal("0.5"),
        Decimal("1.5"),
    )
    assert before.offering_key() == after.offering_key()


def test_parse_litellm_normalises_float_noise_to_the_published_price() -> None:
    # The 2026-01-14 file holds 0.0000029999900000000002 (a DBU conversion) for
    # this entry: the provider publishes $3, and that is what is stored.
    o = _index(_snapshot("2026-01-14"))[
        ("databricks/databricks-claude-3-7-sonnet", "standard", None)
    ]
    assert o.input_usd_per_mtok == Decimal("3")


def _route(name: str, entry: dict[str, object]) -> str:
    return suffix_variant(name)[1] if entry.get("litellm_provider") == "openrouter" else "standard"


def test_parse_litellm_skips_incomplete_service_tier() -> None:
    # gpt-5-nano lists input_cost_per_token_priority without an output price.
    index = _index(_snapshot("2026-04-14"))
    assert ("gpt-5-nano", "priority", None) not in index


def test_per_token_to_per_mtok_is_exact_on_litellm_notation() -> None:
    assert per_token_to_per_mtok(Decimal("3.125E-7")) == Decimal("0.3125")
    assert per_token_to_per_mtok(Decimal("7.5E-8")) == Decimal("0.075")
    assert per_token_to_per_mtok(Decimal("0.0000225")) == Decimal("22.5")
    assert str(per_token_to_per_mtok(Decimal("0.000015"))) == "15"
    assert str(per_token_to_per_mtok(Decimal("2.5E-9"))) == "0.0025"


def test_parse_litellm_ignores_unknown_modes() -> None:
    # CONSTRUCTED body (not recorded): a mode LiteLLM might add later.
    constructed = {
        "last_updated": "2026-01-01T00:00:00+00:00",
        "x/new-thing": {
            "mode": "music_generation",
            "litellm_provider": "x",
            "input_cost_per_token": 1e-6,
            "output_cost_per_token": 1e-6,
        },
        "x/chat": {
            "mode": "chat",
            "litellm_provider": "X",
            "input_cost_per_token": 1e-6,
            "output_cost_per_token": 2e-6,
        },
    }
    obs = parse_source(
        "litellm",
        json.dumps(constructed).encode(),
        observed_at=observed_at_for(Path("x_2026-01-01")),
    )
    assert [(o.provider, o.provider_model_id, o.output_usd_per_mtok) for o in _llm(obs)] == [
        ("x", "x/chat", Decimal(2))
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"<html><title>Just a moment...</title></html>",
        b"404: Not Found",
        b"[]",
        b'{"last_updated": "2026-01-01"}',
        b'{"m": {"mode": "embedding", "input_cost_per_token": 1e-7}}',
        b'{"m": {"mode": "chat", "input_cost_per_token": 1e-7, "output_cost_per_token": 1e-7}}',
        b'{"m": {"mode": "chat", "litellm_provider": "p", "input_cost_per_token": -1e-7,'
        b' "output_cost_per_token": 1e-7}}',
    ],
)
def test_parse_litellm_rejects_unexpected_documents(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_source("litellm", raw, observed_at=observed_at_for(Path("x_2026-01-01")))


def test_fetch_litellm_gets_the_raw_price_map() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"{}")

    with make_client(transport=httpx.MockTransport(handler)) as client:
        assert fetch(client) == b"{}"
    (request,) = seen
    assert request.method == "GET"
    assert str(request.url) == URL
    assert request.url.host == "raw.githubusercontent.com"
    assert request.url.path == "/BerriAI/litellm/main/model_prices_and_context_window.json"
    assert request.headers["user-agent"] == USER_AGENT
    info = get_source("litellm").SOURCE
    assert info.listing_complete
    assert info.verified_against_recording
