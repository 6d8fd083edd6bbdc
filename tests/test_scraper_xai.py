from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import ParseError, xai
from scrapers.registry import get_source
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("xai")
BLOCKED = fixture_files("openai", "*BLOCKED*")
WHEN = observed_at_for(Path("x_2026-05-08"))


def _parse(path: Path) -> list:
    return xai.parse(path.read_bytes(), observed_at=observed_at_for(path))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_xai_every_capture_yields_complete_non_negative_prices(path: Path) -> None:
    obs = _parse(path)
    assert len(obs) >= 3
    for o in obs:
        assert o.source == o.provider == "xai"
        assert o.provider_model_id.startswith("grok-")
        assert o.observed_at == observed_at_for(path)
        for price in (o.input_usd_per_mtok, o.output_usd_per_mtok):
            assert isinstance(price, Decimal)
            assert price >= 0
        assert o.cached_input_usd_per_mtok is None or o.cached_input_usd_per_mtok >= 0


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_xai_is_deterministic_with_unique_offering_keys(path: Path) -> None:
    first, second = _parse(path), _parse(path)
    assert first == second
    assert max(Counter(o.offering_key() for o in first).values()) == 1


def test_parse_xai_reader_markdown_reads_the_chat_model_table() -> None:
    path = next(p for p in FILES if p and "2026-05-08" in p.name)
    obs = {o.provider_model_id: o for o in _parse(path)}
    assert set(obs) == {
        "grok-4.3",
        "grok-4.20-multi-agent-0309",
        "grok-4.20-0309-reasoning",
        "grok-4.20-0309-non-reasoning",
        "grok-4-1-fast-reasoning",
        "grok-4-1-fast-non-reasoning",
    }
    assert obs["grok-4.3"].input_usd_per_mtok == Decimal("1.25")
    assert obs["grok-4.3"].output_usd_per_mtok == Decimal("2.5")
    assert obs["grok-4-1-fast-non-reasoning"].input_usd_per_mtok == Decimal("0.2")
    assert obs["grok-4-1-fast-non-reasoning"].output_usd_per_mtok == Decimal("0.5")
    # This capture lists no cached-input column and no long-context tiers.
    assert all(o.cached_input_usd_per_mtok is None for o in obs.values())
    assert all(o.context_tier is None for o in obs.values())


def test_parse_xai_skips_image_voice_and_tool_tables() -> None:
    path = next(p for p in FILES if p and "2026-05-08" in p.name)
    ids = {o.provider_model_id for o in _parse(path)}
    assert not any("imagine" in i for i in ids)


# Hand-written markdown in the docs' own .md shape (numbers invented for the test).
DOCS_MD = b"""# Models and Pricing

| Model | Modalities | Context | Pricing [in (cached in) / out] |
| --- | --- | --- | --- |
| grok-test-reasoning | text, image \xe2\x86\x92 text | 2,000,000 | \\$3.00 (\\$0.30) / \\$9.00 |
| grok-test-reasoning | text, image \xe2\x86\x92 text | 2,000,000 | \\$3.00 (\\$0.30) / \\$9.00 |
| grok-test-mini | text \xe2\x86\x92 text | 131,072 | $0.40 / $1.60 |
| grok-test-image | text \xe2\x86\x92 image | - | $0.05/image |
"""


def test_parse_xai_docs_markdown_reads_combined_in_cached_out_cells() -> None:
    obs = {o.provider_model_id: o for o in xai.parse(DOCS_MD, observed_at=WHEN)}
    assert set(obs) == {"grok-test-reasoning", "grok-test-mini"}
    r = obs["grok-test-reasoning"]
    assert (r.input_usd_per_mtok, r.cached_input_usd_per_mtok, r.output_usd_per_mtok) == (
        Decimal("3"),
        Decimal("0.3"),
        Decimal("9"),
    )
    assert obs["grok-test-mini"].cached_input_usd_per_mtok is None


def test_parse_xai_reads_a_cached_input_column() -> None:
    md = (
        b"| Model | Input | Cached input | Output |\n|---|---|---|---|\n"
        b"| grok-x | $2 | $0.5 | $8 |\n"
    )
    (o,) = xai.parse(md, observed_at=WHEN)
    assert o.cached_input_usd_per_mtok == Decimal("0.5")
    assert o.output_usd_per_mtok == Decimal("8")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"# Models and Pricing\n\nLoading models...\n",
        b"<html><title>Just a moment...</title></html>",
        b"| Model | Input | Output |\n|---|---|---|\n| grok-x | $1 | $2 |\n| grok-x | $1 | $3 |\n",
        b"| Model | Input | Output |\n|---|---|---|\n| grok-x | $1 | soon |\n",
    ],
)
def test_parse_xai_rejects_pages_without_a_consistent_price_table(raw: bytes) -> None:
    with pytest.raises(ParseError):
        xai.parse(raw, observed_at=WHEN)


@pytest.mark.parametrize("path", BLOCKED, ids=lambda p: p.name if p else "absent")
def test_parse_xai_rejects_a_recorded_cloudflare_challenge(path: Path) -> None:
    with pytest.raises(ParseError, match="Cloudflare"):
        xai.parse(path.read_bytes(), observed_at=WHEN)


def test_xai_is_registered() -> None:
    assert get_source("xai").SOURCE.url.startswith("https://docs.x.ai/")
