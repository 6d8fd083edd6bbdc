from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from costcurve.core.observations import LlmPrice
from scrapers import ParseError
from scrapers.registry import parse_source
from tests.support import (
    fixture_files,
    input_cached_output,
    llm_by_key,
    observed_at_for,
    parse_recorded,
)

FILES = fixture_files("openai")
PAGES = fixture_files("openai", "*_jina_md_*.md")
BLOCKED = fixture_files("openai", "*BLOCKED*")
D = Decimal

Key = tuple[str, str, str | None, str]


def _parse(path: Path) -> list[LlmPrice]:
    obs = parse_recorded("openai", path)
    assert all(isinstance(o, LlmPrice) for o in obs)
    return obs


def _by_key(path: Path) -> dict[Key, LlmPrice]:
    return llm_by_key(_parse(path))


_ico = input_cached_output


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_openai_every_file_prices_or_says_blocked(path: Path) -> None:
    if "BLOCKED" in path.name:
        with pytest.raises(ParseError, match="blocked"):
            _parse(path)
        return
    first = _parse(path)
    assert first == _parse(path)
    assert max(Counter(o.offering_key() for o in first).values()) == 1
    for o in first:
        assert o.provider == "openai"
        assert o.observed_at == observed_at_for(path)
        for price in _ico(o):
            assert price is None or (isinstance(price, Decimal) and price >= 0)


@pytest.mark.parametrize("path", BLOCKED, ids=lambda p: p.name if p else "absent")
def test_parse_openai_cloudflare_challenge_is_a_blocked_parse_error(path: Path) -> None:
    with pytest.raises(ParseError) as info:
        _parse(path)
    message = str(info.value).lower()
    assert "blocked" in message
    assert "challenge" in message


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name if p else "absent")
def test_parse_openai_reads_standard_and_long_context_prices(path: Path) -> None:
    got = _by_key(path)
    assert _ico(got[("gpt-5.5", "standard", None, "text")]) == (D("5.00"), D("0.50"), D("30.00"))
    assert _ico(got[("gpt-5.5", "standard", "long", "text")]) == (
        D("10.00"),
        D("1.00"),
        D("45.00"),
    )
    assert _ico(got[("gpt-5.4-mini", "standard", None, "text")]) == (
        D("0.75"),
        D("0.075"),
        D("4.50"),
    )
    # "-": no cached input for the pro models, and no long context for the mini
    assert _ico(got[("gpt-5.5-pro", "standard", None, "text")]) == (D("30.00"), None, D("180.00"))
    assert ("gpt-5.4-mini", "standard", "long", "text") not in got


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name if p else "absent")
def test_parse_openai_reads_batch_flex_and_priority_tiers(path: Path) -> None:
    got = _by_key(path)
    assert _ico(got[("gpt-5.4-mini", "batch", None, "text")]) == (
        D("0.375"),
        D("0.0375"),
        D("2.25"),
    )
    assert _ico(got[("gpt-5.4", "batch", "long", "text")]) == (D("2.50"), D("0.25"), D("11.25"))
    assert _ico(got[("gpt-5.4-nano", "flex", None, "text")]) == (D("0.10"), D("0.01"), D("0.625"))
    assert _ico(got[("gpt-5.5", "priority", None, "text")]) == (D("12.50"), D("1.25"), D("75.00"))
    assert ("gpt-5.4-nano", "priority", None, "text") not in got
    assert _ico(got[("gpt-5.3-codex", "priority", None, "text")]) == (
        D("3.50"),
        D("0.35"),
        D("28.00"),
    )
    assert _ico(got[("o3-deep-research", "batch", None, "text")]) == (D("5.00"), None, D("20.00"))


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name if p else "absent")
def test_parse_openai_keeps_audio_and_image_tokens_apart_from_text(path: Path) -> None:
    got = _by_key(path)
    assert _ico(got[("gpt-realtime-2", "standard", None, "audio")]) == (
        D("32.00"),
        D("0.40"),
        D("64.00"),
    )
    assert _ico(got[("gpt-realtime-2", "standard", None, "text")]) == (
        D("4.00"),
        D("0.40"),
        D("24.00"),
    )
    assert _ico(got[("gpt-realtime-2", "standard", None, "image")]) == (D("5.00"), D("0.50"), None)
    assert _ico(got[("gpt-image-1.5", "batch", None, "image")]) == (
        D("4.00"),
        D("1.00"),
        D("16.00"),
    )
    assert _ico(got[("gpt-image-1.5", "batch", None, "text")]) == (D("2.50"), D("0.63"), D("5.00"))
    ids = {pid for pid, _, _, _ in got}
    # priced per minute / per second / fine-tuned inference: not per-token list prices
    assert not ids & {"gpt-realtime-translate", "sora-2", "o4-mini-2025-04-16"}


@pytest.mark.parametrize(
    "raw",
    [
        b"Title: Pricing\n\n# Pricing\n\nNothing here.\n",
        b"<!doctype html><html><body><h1>Pricing</h1><p>soon</p></body></html>",
        b"<html><head><title>Just a moment...</title></head><body></body></html>",
    ],
)
def test_parse_openai_rejects_pages_without_price_tables(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_source("openai", raw, observed_at=observed_at_for(Path("x_2026-01-01")))
