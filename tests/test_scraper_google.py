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

FILES = fixture_files("google")
GEMINI = fixture_files("google", "gemini_pricing_*.md")
VERTEX = fixture_files("google", "cloud_google_com_vertex_*.html")
D = Decimal

Key = tuple[str, str, str | None, str]


def _parse(path: Path) -> list[LlmPrice]:
    obs = parse_recorded("google", path)
    assert all(isinstance(o, LlmPrice) for o in obs)
    return obs


def _by_key(path: Path) -> dict[Key, LlmPrice]:
    return llm_by_key(_parse(path))


_ico = input_cached_output


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_google_every_file_is_deterministic_with_unique_keys(path: Path) -> None:
    first = _parse(path)
    assert first == _parse(path)
    assert len(first) > 60
    assert max(Counter(o.offering_key() for o in first).values()) == 1
    provider = "google-vertex" if "cloud_google_com" in path.name else "google"
    for o in first:
        assert o.provider == provider
        assert o.observed_at == observed_at_for(path)
        assert o.variant in {"standard", "batch", "flex", "priority"}
        assert o.context_tier in {None, "<=200k", ">200k"}
        prices = (*_ico(o), o.cache_write_usd_per_mtok, o.cache_write_1h_usd_per_mtok)
        assert any(p is not None for p in prices)
        for price in prices:
            assert price is None or (isinstance(price, Decimal) and price >= 0)


@pytest.mark.parametrize("path", GEMINI, ids=lambda p: p.name if p else "absent")
def test_parse_google_gemini_api_reads_context_tiers_per_service_tier(path: Path) -> None:
    got = _by_key(path)
    pro = "gemini-2.5-pro"
    assert _ico(got[(pro, "standard", "<=200k", "text")]) == (D("1.25"), D("0.125"), D("10.00"))
    assert _ico(got[(pro, "standard", ">200k", "text")]) == (D("2.50"), D("0.25"), D("15.00"))
    assert _ico(got[(pro, "batch", "<=200k", "text")]) == (D("0.625"), D("0.125"), D("5.00"))
    assert _ico(got[(pro, "priority", ">200k", "text")]) == (D("4.50"), D("0.45"), D("27.00"))
    assert (pro, "standard", None, "text") not in got
    # both ids the section names share its prices
    for pid in ("gemini-3.1-pro-preview", "gemini-3.1-pro-preview-customtools"):
        assert _ico(got[(pid, "flex", ">200k", "text")]) == (D("2.00"), D("0.40"), D("9.00"))


@pytest.mark.parametrize("path", GEMINI, ids=lambda p: p.name if p else "absent")
def test_parse_google_gemini_api_splits_text_and_audio_prices(path: Path) -> None:
    got = _by_key(path)
    flash = "gemini-2.5-flash"
    assert _ico(got[(flash, "standard", None, "text")]) == (D("0.30"), D("0.03"), D("2.50"))
    assert _ico(got[(flash, "standard", None, "audio")]) == (D("1.00"), D("0.1"), None)
    assert _ico(got[(flash, "flex", None, "text")]) == (D("0.15"), D("0.03"), D("1.25"))
    assert _ico(got[("gemini-2.0-flash", "standard", None, "audio")]) == (
        D("0.70"),
        D("0.175"),
        None,
    )
    tts = "gemini-3.1-flash-tts-preview"
    assert _ico(got[(tts, "standard", None, "text")]) == (D("1.00"), None, None)
    assert _ico(got[(tts, "batch", None, "audio")]) == (None, None, D("10.00"))
    assert _ico(got[("gemini-embedding-001", "batch", None, "text")]) == (D("0.075"), None, None)


@pytest.mark.parametrize("path", GEMINI, ids=lambda p: p.name if p else "absent")
def test_parse_google_gemini_api_skips_per_image_and_storage_amounts(path: Path) -> None:
    got = _by_key(path)
    image = "gemini-3-pro-image-preview" if "05-07" in path.name else "gemini-3-pro-image"
    assert _ico(got[(image, "standard", None, "image")]) == (None, None, D("120.00"))
    assert _ico(got[(image, "standard", None, "text")]) == (D("2.00"), None, D("12.00"))
    # batch lists only "$0.0006 (image)*" and "$0.067 per 1K/2K image" for images
    assert (image, "batch", None, "image") not in got
    # "$0.039 per image" is the only output price of 2.5 Flash Image
    assert _ico(got[("gemini-2.5-flash-image", "standard", None, "text")]) == (
        D("0.30"),
        None,
        None,
    )
    # "$1.00 / 1,000,000 tokens per hour (storage price)" is not a cache-hit price
    assert got[("gemini-3-flash-preview", "standard", None, "text")].cached_input_usd_per_mtok == D(
        "0.05"
    )


def test_parse_google_gemini_api_later_capture_adds_gemini_3_5_flash() -> None:
    june = next(p for p in GEMINI if p and "2026-06-05" in p.name)
    got = _by_key(june)
    assert _ico(got[("gemini-3.5-flash", "standard", None, "text")]) == (
        D("1.50"),
        D("0.15"),
        D("9.00"),
    )
    assert _ico(got[("gemini-3.5-flash", "batch", None, "text")]) == (
        D("0.75"),
        D("0.075"),
        D("4.50"),
    )
    assert _ico(got[("gemini-3.5-flash", "flex", None, "text")]) == (
        D("0.75"),
        D("0.08"),
        D("4.50"),
    )
    may = next(p for p in GEMINI if p and "2026-05-07" in p.name)
    assert not any(pid == "gemini-3.5-flash" for pid, _, _, _ in _by_key(may))


@pytest.mark.parametrize("path", VERTEX, ids=lambda p: p.name if p else "absent")
def test_parse_google_vertex_reads_gemini_tiers_and_global_prices(path: Path) -> None:
    got = _by_key(path)
    pro = "gemini-2.5-pro"
    assert _ico(got[(pro, "standard", "<=200k", "text")]) == (D("1.25"), D("0.13"), D("10"))
    assert _ico(got[(pro, "standard", ">200k", "text")]) == (D("2.50"), D("0.25"), D("15"))
    assert _ico(got[(pro, "priority", "<=200k", "text")]) == (D("2.25"), D("0.23"), D("18"))
    # one "Flex/Batch" table prices both tiers
    for variant in ("flex", "batch"):
        assert _ico(got[(pro, variant, ">200k", "text")]) == (D("1.25"), None, D("7.5"))
    # equal short/long columns: the price does not depend on context
    assert _ico(got[("gemini-2.5-flash", "priority", None, "text")]) == (
        D("0.54"),
        D("0.05"),
        D("4.50"),
    )
    assert _ico(got[("gemini-2.5-flash", "standard", None, "audio")]) == (D("1"), D("0.10"), None)
    # "$0.25 (Global) $0.275 (Non-global)*"
    assert _ico(got[("gemini-3.1-flash-lite", "standard", None, "text")]) == (
        D("0.25"),
        D("0.025"),
        D("1.5"),
    )
    assert _ico(got[("gemini-2.0-flash", "batch", None, "text")]) == (D("0.075"), None, D("0.30"))
    assert _ico(got[("gemini-3-pro-image-preview", "standard", None, "image")]) == (
        None,
        None,
        D("120"),
    )


@pytest.mark.parametrize("path", VERTEX, ids=lambda p: p.name if p else "absent")
def test_parse_google_vertex_reads_partner_models_with_cache_and_batch(path: Path) -> None:
    got = _by_key(path)
    opus = got[("claude-opus-4.7", "standard", None, "text")]
    assert _ico(opus) == (D("5.00"), D("0.50"), D("25.00"))
    assert (opus.cache_write_usd_per_mtok, opus.cache_write_1h_usd_per_mtok) == (
        D("6.25"),
        D("10.00"),
    )
    opus_batch = got[("claude-opus-4.7", "batch", None, "text")]
    assert _ico(opus_batch) == (D("2.50"), D("0.25"), D("12.50"))
    assert (opus_batch.cache_write_usd_per_mtok, opus_batch.cache_write_1h_usd_per_mtok) == (
        D("3.125"),
        D("5.00"),
    )
    # Global tab, not the regional surcharge ($3.30) tabs
    assert _ico(got[("claude-sonnet-4.5", "standard", "<=200k", "text")]) == (
        D("3.00"),
        D("0.30"),
        D("15.00"),
    )
    assert _ico(got[("claude-sonnet-4.5", "standard", ">200k", "text")]) == (
        D("6.00"),
        D("0.60"),
        D("22.50"),
    )
    assert _ico(got[("deepseek-v3.2", "standard", None, "text")]) == (
        D("0.56"),
        D("0.056"),
        D("1.68"),
    )
    assert _ico(got[("deepseek-v3.2", "batch", None, "text")]) == (D("0.28"), None, D("0.84"))
    assert _ico(got[("gemma-4-26b", "standard", None, "text")]) == (
        D("0.15"),
        D("0.015"),
        D("0.60"),
    )
    ids = {pid for pid, _, _, _ in got}
    # OCR models are billed per page
    assert not ids & {"mistral-ocr-25.05", "deepseek-ocr"}


@pytest.mark.parametrize("path", GEMINI, ids=lambda p: p.name if p else "absent")
def test_parse_google_gemini_api_page_served_as_html_gives_the_same_prices(path: Path) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    html = "<!doctype html><html><body>"
    html += markdown_it.MarkdownIt("commonmark").enable("table").render(path.read_text())
    html += "</body></html>"
    assert _parse(path) == parse_source("google", html.encode(), observed_at=observed_at_for(path))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html><body><div id='cf-chl-widget'></div></body></html>", "blocked"),
        (b"<!doctype html><html><body><h2>Gemini</h2><p>soon</p></body></html>", "Paid Tier"),
        (b"# Gemini Developer API pricing\n\n## Gemini 9\n\nNo table.\n", "Paid Tier"),
    ],
)
def test_parse_google_rejects_blocked_and_unexpected_pages(raw: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_source("google", raw, observed_at=observed_at_for(Path("x_2026-01-01")))
