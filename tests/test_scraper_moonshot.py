from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import ParseError, moonshot
from scrapers.registry import get_source
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("moonshot")
BLOCKED = fixture_files("openai", "*BLOCKED*")
WHEN = observed_at_for(Path("x_2026-05-08"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_moonshot_overview_capture_is_refused_with_the_family_page_links(
    path: Path,
) -> None:
    # The recorded page is the pricing overview: it links the per-model pages and
    # lists no price at all, so zero prices must not pass as a snapshot.
    with pytest.raises(ParseError, match="overview") as err:
        moonshot.parse(path.read_bytes(), observed_at=observed_at_for(path))
    for family in ("chat-k26", "chat-k25", "chat-k2", "chat-v1"):
        assert f"/docs/pricing/{family}" in str(err.value)


# Hand-written family pages in the documented table shape (numbers invented).
HEADER = (
    "<tr><th>Model</th><th>Unit</th><th>Input Price (Cache Hit)</th>"
    "<th>Input Price (Cache Miss)</th><th>Output Price</th><th>Context Window</th></tr>"
)


def _family_page(rows: str) -> bytes:
    return f"<html><body><h2>Pricing</h2><table>{HEADER}{rows}</table></body></html>".encode()


K2 = _family_page(
    "<tr><td>kimi-test-k2</td><td>1M tokens</td><td>$0.15</td><td>$0.60</td><td>$2.50</td>"
    "<td>262,144 tokens</td></tr>"
    "<tr><td>kimi-test-k2-turbo</td><td>1M tokens</td><td>$0.15</td><td>$1.15</td>"
    "<td>$8.00</td><td>262,144 tokens</td></tr>"
)
V1 = (
    b"| Model | Unit | Input Price | Output Price | Context Window |\n"
    b"| --- | --- | --- | --- | --- |\n"
    b"| moonshot-test-8k | 1M tokens | $0.20 | $2.00 | 8,192 tokens |\n"
)


def test_parse_moonshot_reads_cache_hit_miss_and_output_from_family_pages() -> None:
    obs = {o.provider_model_id: o for o in moonshot.parse(K2 + b"\n" + K2, observed_at=WHEN)}
    assert set(obs) == {"kimi-test-k2", "kimi-test-k2-turbo"}
    k2 = obs["kimi-test-k2"]
    assert k2.cached_input_usd_per_mtok == Decimal("0.15")
    assert k2.input_usd_per_mtok == Decimal("0.6")
    assert k2.output_usd_per_mtok == Decimal("2.5")
    assert obs["kimi-test-k2-turbo"].output_usd_per_mtok == Decimal("8")
    assert all(o.source == o.provider == "moonshot" and o.fx_rate is None for o in obs.values())


def test_parse_moonshot_reads_markdown_tables_without_a_cache_column() -> None:
    (o,) = moonshot.parse(V1, observed_at=WHEN)
    assert o.provider_model_id == "moonshot-test-8k"
    assert o.cached_input_usd_per_mtok is None
    assert (o.input_usd_per_mtok, o.output_usd_per_mtok) == (Decimal("0.2"), Decimal("2"))


def test_parse_moonshot_is_deterministic_with_unique_offering_keys() -> None:
    first = moonshot.parse(K2 + b"\n" + V1, observed_at=WHEN)
    assert first == moonshot.parse(K2 + b"\n" + V1, observed_at=WHEN)
    keys = [o.offering_key() for o in first]
    assert len(keys) == len(set(keys)) == 3


def test_parse_moonshot_cny_page_needs_an_explicit_rate_and_keeps_it() -> None:
    page = _family_page(
        "<tr><td>kimi-test-cn</td><td>1M tokens</td><td>¥1.00</td><td>¥4.00</td>"
        "<td>¥16.00</td><td>262,144 tokens</td></tr>"
    )
    with pytest.raises(ParseError, match="CNY"):
        moonshot.parse(page, observed_at=WHEN)
    (o,) = moonshot.parse(page, observed_at=WHEN, usd_per_cny=Decimal("0.14"))
    assert o.input_usd_per_mtok == Decimal("0.56")
    assert o.original_currency == "CNY"
    assert o.fx_rate == Decimal("0.14")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"<html><body><h1>Model Inference Pricing Explanation</h1></body></html>",
        b"<html><title>Just a moment...</title></html>",
        _family_page(
            "<tr><td>kimi-x</td><td>1K tokens</td><td>$1</td><td>$2</td><td>$3</td><td>8k</td></tr>"
        ),
        _family_page(
            "<tr><td>kimi-x</td><td>1M tokens</td><td>$1</td><td>TBD</td><td>$3</td></tr>"
        ),
    ],
)
def test_parse_moonshot_rejects_pages_without_a_usable_price_table(raw: bytes) -> None:
    with pytest.raises(ParseError):
        moonshot.parse(raw, observed_at=WHEN)


@pytest.mark.parametrize("path", BLOCKED, ids=lambda p: p.name if p else "absent")
def test_parse_moonshot_rejects_a_recorded_cloudflare_challenge(path: Path) -> None:
    with pytest.raises(ParseError, match="Cloudflare"):
        moonshot.parse(path.read_bytes(), observed_at=WHEN)


def test_moonshot_is_registered_as_unverified_against_a_recording() -> None:
    source = get_source("moonshot").SOURCE
    assert source.url == "https://platform.kimi.ai/docs/pricing/chat"
    assert source.verified_against_recording is False
