from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from costcurve.core.money import per_token_to_per_mtok
from costcurve.core.offer_terms import published_price
from scrapers import ParseError
from scrapers.registry import parse_source
from tests.support import fixture_files, observed_at_for, only_llm

FILES = fixture_files("openrouter")


def _entries(path: Path) -> list[dict]:
    doc = json.loads(path.read_bytes())
    return doc["data"] if isinstance(doc, dict) else doc


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_openrouter_prices_match_the_file_exactly(path: Path) -> None:
    obs = only_llm(parse_source("openrouter", path.read_bytes(), observed_at=observed_at_for(path)))
    by_id = {o.provider_model_id: o for o in obs if o.context_tier is None}
    checked = 0
    for entry in _entries(path):
        prompt = Decimal(entry["pricing"]["prompt"])
        if prompt < 0:
            assert entry["id"] not in by_id
            continue
        o = by_id[entry["id"]]
        # Exact, at the published precision (float noise such as 0.0199999995 -> 0.02).
        assert o.input_usd_per_mtok == published_price(prompt * 1_000_000)
        completion = Decimal(entry["pricing"]["completion"]) * 1_000_000
        assert o.output_usd_per_mtok == published_price(completion)
        cache = entry["pricing"].get("input_cache_read")
        assert o.cached_input_usd_per_mtok == (
            published_price(Decimal(cache) * 1_000_000) if cache is not None else None
        )
        checked += 1
    assert checked > 40
    assert all(o.observed_at == observed_at_for(path) for o in obs)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_openrouter_skips_negative_sentinel_price(path: Path) -> None:
    sentinel_ids = {e["id"] for e in _entries(path) if Decimal(e["pricing"]["prompt"]) < 0}
    obs = only_llm(parse_source("openrouter", path.read_bytes(), observed_at=observed_at_for(path)))
    assert not sentinel_ids & {o.provider_model_id for o in obs}
    for o in obs:
        for price in (o.input_usd_per_mtok, o.output_usd_per_mtok, o.cached_input_usd_per_mtok):
            assert price is None or price >= 0


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_openrouter_flags_free_models_and_is_deterministic(path: Path) -> None:
    raw = path.read_bytes()
    first = only_llm(parse_source("openrouter", raw, observed_at=observed_at_for(path)))
    second = only_llm(parse_source("openrouter", raw, observed_at=observed_at_for(path)))
    assert first == second
    keys = Counter(o.offering_key() for o in first)
    assert max(keys.values()) == 1, "offering keys must be unique within a snapshot"
    for o in first:
        if o.input_usd_per_mtok == 0 and o.output_usd_per_mtok == 0:
            assert o.free
        else:
            assert not o.free


def test_parse_openrouter_long_context_overrides_become_context_tiers() -> None:
    path = next(p for p in FILES if p and "2026-08-03" in p.name)
    obs = only_llm(parse_source("openrouter", path.read_bytes(), observed_at=observed_at_for(path)))
    tiers = {o.context_tier: o for o in obs if o.provider_model_id == "qwen/qwen3.7-flash"}
    assert set(tiers) == {None, ">32k", ">256k"}
    assert tiers[">256k"].input_usd_per_mtok == Decimal("0.2")
    assert tiers[">256k"].output_usd_per_mtok == Decimal("0.8")


@pytest.mark.parametrize(
    "raw",
    [b"<html>Just a moment...</html>", b'{"error": "rate limited"}', b'[{"name": 1}]', b"[]"],
)
def test_parse_openrouter_rejects_unexpected_documents(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_source("openrouter", raw, observed_at=observed_at_for(Path("x_2026-01-01")))


def test_per_token_conversion_is_exact() -> None:
    assert per_token_to_per_mtok("0.00000023") == Decimal("0.23")
    assert per_token_to_per_mtok("0.000015") == Decimal("15")
    assert str(per_token_to_per_mtok("0.00002")) == "20"
