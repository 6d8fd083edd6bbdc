from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import ParseError, mistral
from scrapers.registry import get_source
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("mistral")
BLOCKED = fixture_files("openai", "*BLOCKED*")
WHEN = observed_at_for(Path("x_2026-05-08"))


def _parse(path: Path) -> list:
    return mistral.parse(path.read_bytes(), observed_at=observed_at_for(path))


def _by_key(path: Path) -> dict:
    return {(o.provider_model_id, o.variant): o for o in _parse(path)}


def _may_2026() -> Path:
    return next(p for p in FILES if p and "2026-05-08" in p.name)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_mistral_every_capture_yields_non_negative_usd_prices(path: Path) -> None:
    obs = _parse(path)
    assert len(obs) >= 15
    for o in obs:
        assert o.source == o.provider == "mistral"
        assert o.observed_at == observed_at_for(path)
        assert o.input_usd_per_mtok is not None or o.output_usd_per_mtok is not None
        for price in (o.input_usd_per_mtok, o.output_usd_per_mtok):
            assert price is None or (isinstance(price, Decimal) and price >= 0)
        assert o.variant in {"standard", "fine_tuned"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_mistral_is_deterministic_with_unique_offering_keys(path: Path) -> None:
    first, second = _parse(path), _parse(path)
    assert first == second
    assert max(Counter(o.offering_key() for o in first).values()) == 1


def test_parse_mistral_reads_catalogue_prices_from_the_flight_payload() -> None:
    obs = _by_key(_may_2026())
    expected = {
        "mistral-large-latest": ("0.5", "1.5"),
        "mistral-medium-latest": ("1.5", "7.5"),
        "devstral-medium-latest": ("0.4", "2"),
        "codestral-latest": ("0.3", "0.9"),
        "magistral-medium-latest": ("2", "5"),
        "ministral-8b-latest": ("0.15", "0.15"),
        "open-mixtral-8x22b": ("2", "6"),
    }
    for model, (input_price, output_price) in expected.items():
        o = obs[model, "standard"]
        assert o.input_usd_per_mtok == Decimal(input_price), model
        assert o.output_usd_per_mtok == Decimal(output_price), model


def test_parse_mistral_reads_fine_tuned_model_prices_as_a_variant() -> None:
    obs = _by_key(_may_2026())
    tuned = obs["codestral-latest", "fine_tuned"]
    assert tuned.input_usd_per_mtok == Decimal("0.2")
    assert tuned.output_usd_per_mtok == Decimal("0.6")
    assert ("mistral-large-latest", "fine_tuned") not in obs


def test_parse_mistral_keys_cards_sharing_an_alias_by_display_name() -> None:
    obs = _by_key(_may_2026())
    # Mistral Small 4 and Small 3.2 both name mistral-small-latest at different prices.
    assert ("mistral-small-latest", "standard") not in obs
    assert obs["mistral-small-4", "standard"].output_usd_per_mtok == Decimal("0.6")
    assert obs["mistral-small-3.2", "standard"].output_usd_per_mtok == Decimal("0.3")


def test_parse_mistral_takes_the_text_price_of_audio_chat_models() -> None:
    voxtral = _by_key(_may_2026())["voxtral-small-latest", "standard"]
    assert voxtral.input_usd_per_mtok == Decimal("0.1")
    assert voxtral.output_usd_per_mtok == Decimal("0.3")


def test_parse_mistral_keeps_input_only_and_free_listings_flagged() -> None:
    obs = _by_key(_may_2026())
    embed = obs["mistral-embed", "standard"]
    assert embed.input_usd_per_mtok == Decimal("0.1")
    assert embed.output_usd_per_mtok is None
    free = obs["labs-leanstral-2603", "standard"]
    assert free.free
    assert free.input_usd_per_mtok == 0
    assert free.output_usd_per_mtok == 0
    assert sum(o.free for o in obs.values()) == 1


def test_parse_mistral_leaves_out_cards_priced_per_page_minute_or_call() -> None:
    ids = {model for model, _ in _by_key(_may_2026())}
    assert "mistral-ocr-latest" not in ids
    assert "voxtral-mini-tts-2603" not in ids
    assert not any("classifier" in i or "search" in i for i in ids)


def _flight_page(records: list[dict]) -> bytes:
    row = "1:" + json.dumps(["$", "$L2", None, {"items": records}]) + "\n"
    script = "self.__next_f.push(" + json.dumps([1, row]) + ")"
    return f"<html><body><script>{script}</script></body></html>".encode()


def test_parse_mistral_unescapes_flight_dollar_signs() -> None:
    record = {
        "name": "Test Model",
        "api_endpoint": "test-model-latest",
        "price": [
            {"value": "Input (/M tokens)", "price_dollar": "$$1.25"},
            {"value": "Output (/M tokens)", "price_dollar": "<p>3$</p>"},
        ],
    }
    (o,) = mistral.parse(_flight_page([record]), observed_at=WHEN)
    assert (o.input_usd_per_mtok, o.output_usd_per_mtok) == (Decimal("1.25"), Decimal("3"))


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"<html><body><h1>Pricing</h1></body></html>",
        b"<html><title>Just a moment...</title></html>",
        _flight_page([{"name": "x", "api": "x"}]),
        _flight_page(
            [
                {
                    "name": "Euro Only",
                    "api_endpoint": "e",
                    "price": [{"value": "Input (/M tokens)", "price_dollar": "<p>n/a</p>"}],
                }
            ]
        ),
    ],
)
def test_parse_mistral_rejects_pages_without_the_model_catalogue(raw: bytes) -> None:
    with pytest.raises(ParseError):
        mistral.parse(raw, observed_at=WHEN)


@pytest.mark.parametrize("path", BLOCKED, ids=lambda p: p.name if p else "absent")
def test_parse_mistral_rejects_a_recorded_cloudflare_challenge(path: Path) -> None:
    with pytest.raises(ParseError, match="Cloudflare"):
        mistral.parse(path.read_bytes(), observed_at=WHEN)


def test_mistral_is_registered() -> None:
    assert get_source("mistral").SOURCE.url == "https://mistral.ai/pricing"
