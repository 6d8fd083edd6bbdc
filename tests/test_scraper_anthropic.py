from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from costcurve.core.observations import LlmPrice
from scrapers import ParseError
from scrapers.anthropic import model_id
from scrapers.registry import parse_source
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("anthropic")
DOCS = fixture_files("anthropic", "docs_*.md")
CARDS = fixture_files("anthropic", "claude_com_*.html")
D = Decimal


def _parse(path: Path) -> list[LlmPrice]:
    obs = parse_source("anthropic", path.read_bytes(), observed_at=observed_at_for(path))
    assert all(isinstance(o, LlmPrice) for o in obs)
    return obs  # type: ignore[return-value]


def _by_key(obs: list[LlmPrice]) -> dict[tuple[str, str, str | None], LlmPrice]:
    return {(o.provider_model_id, o.variant, o.context_tier): o for o in obs}


def _prices(o: LlmPrice) -> tuple[Decimal | None, ...]:
    return (
        o.input_usd_per_mtok,
        o.output_usd_per_mtok,
        o.cache_write_usd_per_mtok,
        o.cache_write_1h_usd_per_mtok,
        o.cached_input_usd_per_mtok,
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_anthropic_every_file_is_deterministic_with_unique_keys(path: Path) -> None:
    first = _parse(path)
    assert first == _parse(path)
    assert len(first) >= 18
    assert max(Counter(o.offering_key() for o in first).values()) == 1
    for o in first:
        assert o.source == "anthropic"
        assert o.provider == "anthropic"
        assert o.observed_at == observed_at_for(path)
        assert o.modality == "text"
        assert not o.free
        for price in _prices(o):
            assert price is None or (isinstance(price, Decimal) and price >= 0)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name if p else "absent")
def test_parse_anthropic_docs_reads_base_and_cache_prices(path: Path) -> None:
    got = _by_key(_parse(path))
    # base input, output, 5m cache write, 1h cache write, cache hit
    assert _prices(got[("claude-opus-4-1", "standard", None)]) == (
        D("15"),
        D("75"),
        D("18.75"),
        D("30"),
        D("1.50"),
    )
    assert _prices(got[("claude-sonnet-4-5", "standard", None)]) == (
        D("3"),
        D("15"),
        D("3.75"),
        D("6"),
        D("0.30"),
    )
    assert _prices(got[("claude-haiku-3-5", "standard", None)]) == (
        D("0.80"),
        D("4"),
        D("1"),
        D("1.6"),
        D("0.08"),
    )
    assert _prices(got[("claude-haiku-3", "standard", None)]) == (
        D("0.25"),
        D("1.25"),
        D("0.30"),
        D("0.50"),
        D("0.03"),
    )
    assert all(o.source_url.endswith("/pricing.md") for o in got.values())


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name if p else "absent")
def test_parse_anthropic_docs_reads_batch_prices(path: Path) -> None:
    got = _by_key(_parse(path))
    batch = {pid: o for (pid, variant, _), o in got.items() if variant == "batch"}
    standard = {pid for (pid, variant, tier) in got if variant == "standard" and tier is None}
    assert set(batch) == standard
    assert _prices(batch["claude-opus-4-1"])[:2] == (D("7.50"), D("37.50"))
    assert _prices(batch["claude-haiku-4-5"])[:2] == (D("0.50"), D("2.50"))
    assert _prices(batch["claude-haiku-3"])[:2] == (D("0.125"), D("0.625"))


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name if p else "absent")
def test_parse_anthropic_docs_long_context_tier_for_the_models_the_section_names(
    path: Path,
) -> None:
    got = _by_key(_parse(path))
    long = {pid: o for (pid, _, tier), o in got.items() if tier == ">200k"}
    assert set(long) == {"claude-sonnet-4", "claude-sonnet-4-5"}
    for o in long.values():
        assert (o.variant, o.input_usd_per_mtok, o.output_usd_per_mtok) == (
            "standard",
            D("6"),
            D("22.50"),
        )


def test_parse_anthropic_docs_keeps_deprecated_models_until_the_page_drops_them() -> None:
    october = next(p for p in DOCS if p and "2025-10-20" in p.name)
    november = next(p for p in DOCS if p and "2025-11-20" in p.name)
    before = {o.provider_model_id for o in _parse(october)}
    after = {o.provider_model_id for o in _parse(november)}
    assert {"claude-sonnet-3-5", "claude-opus-3", "claude-sonnet-3-7"} <= before
    assert "claude-sonnet-3-5" not in after
    assert {"claude-opus-3", "claude-sonnet-3-7"} <= after


@pytest.mark.parametrize("path", CARDS, ids=lambda p: p.name if p else "absent")
def test_parse_anthropic_claude_com_cards_read_prices_and_batch_toggle(path: Path) -> None:
    obs = _parse(path)
    got = _by_key(obs)
    assert {pid for pid, _, _ in got} == {
        "claude-opus-4-7",
        "claude-sonnet-4-6",
        "claude-haiku-4-5",
        "claude-opus-4-6",
        "claude-sonnet-4-5",
        "claude-opus-4-5",
        "claude-opus-4-1",
        "claude-sonnet-4",
        "claude-opus-4",
    }
    # the card shows no 1-hour cache write
    assert _prices(got[("claude-opus-4-7", "standard", None)]) == (
        D("5"),
        D("25"),
        D("6.25"),
        None,
        D("0.50"),
    )
    assert _prices(got[("claude-opus-4-1", "standard", None)]) == (
        D("15"),
        D("75"),
        D("18.75"),
        None,
        D("1.50"),
    )
    assert _prices(got[("claude-haiku-4-5", "standard", None)]) == (
        D("1"),
        D("5"),
        D("1.25"),
        None,
        D("0.10"),
    )
    # "Save 50% with batch processing": the toggle halves every listed price
    assert _prices(got[("claude-opus-4-7", "batch", None)]) == (
        D("2.5"),
        D("12.5"),
        D("3.125"),
        None,
        D("0.25"),
    )
    assert all(o.source_url == "https://claude.com/pricing" for o in obs)


def test_anthropic_model_id_is_a_stable_slug_of_the_page_name() -> None:
    assert model_id("Claude Opus 4.1") == "claude-opus-4-1"
    assert model_id("Claude Sonnet 3.5 (deprecated)") == "claude-sonnet-3-5"
    assert model_id("Opus 4.7") == "claude-opus-4-7"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name if p else "absent")
def test_parse_anthropic_docs_page_served_as_html_gives_the_same_prices(path: Path) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    text = path.read_text()
    html = "<!doctype html><html><body>"
    html += markdown_it.MarkdownIt("commonmark").enable("table").render(text)
    html += "</body></html>"
    assert _parse(path) == parse_source(
        "anthropic", html.encode(), observed_at=observed_at_for(path)
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html><head><title>Just a moment...</title></head></html>", "blocked"),
        (b"<!doctype html><html><body><p>Maintenance</p></body></html>", "Base Input"),
        (b"# Pricing\n\nNo tables today.\n", "Base Input"),
        (b"\xff\xfe\x00garbage", "UTF-8"),
    ],
)
def test_parse_anthropic_rejects_blocked_and_unexpected_pages(raw: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_source("anthropic", raw, observed_at=observed_at_for(Path("x_2026-01-01")))
