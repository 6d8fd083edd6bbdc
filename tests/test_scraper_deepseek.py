from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from scrapers import ParseError, deepseek
from scrapers.registry import get_source
from tests.support import fixture_files, observed_at_for

FILES = fixture_files("deepseek")
BLOCKED = fixture_files("openai", "*BLOCKED*")
WHEN = observed_at_for(Path("x_2026-05-08"))


def _parse(path: Path) -> list:
    return deepseek.parse(path.read_bytes(), observed_at=observed_at_for(path))


def _by_model(path: Path) -> dict:
    return {(o.provider_model_id, o.variant): o for o in _parse(path)}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_deepseek_every_capture_has_complete_non_negative_prices(path: Path) -> None:
    obs = _parse(path)
    assert len(obs) >= 2
    for o in obs:
        assert o.source == o.provider == "deepseek"
        assert o.model is None  # the registry resolves canonical slugs afterwards
        assert o.observed_at == observed_at_for(path)
        for price in (o.input_usd_per_mtok, o.output_usd_per_mtok):
            assert isinstance(price, Decimal)
            assert price >= 0
        assert o.cached_input_usd_per_mtok is None or o.cached_input_usd_per_mtok >= 0
        assert o.currency == "USD"
        assert o.original_currency == "USD"
        assert o.fx_rate is None


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name if p else "absent")
def test_parse_deepseek_is_deterministic_with_unique_offering_keys(path: Path) -> None:
    first, second = _parse(path), _parse(path)
    assert first == second
    assert max(Counter(o.offering_key() for o in first).values()) == 1


def test_parse_deepseek_2026_05_reads_cache_hit_miss_and_output_prices() -> None:
    path = next(p for p in FILES if p and "2026-05-08" in p.name)
    obs = _by_model(path)
    assert set(obs) == {
        ("deepseek-v4-flash", "standard"),
        ("deepseek-v4-pro", "standard"),
        ("deepseek-v4-pro", "promotion"),
    }
    flash = obs["deepseek-v4-flash", "standard"]
    assert flash.input_usd_per_mtok == Decimal("0.14")
    assert flash.cached_input_usd_per_mtok == Decimal("0.0028")
    assert flash.output_usd_per_mtok == Decimal("0.28")


def test_parse_deepseek_keeps_the_struck_list_price_standard_and_the_discount_a_promotion() -> None:
    path = next(p for p in FILES if p and "2026-05-08" in p.name)
    obs = _by_model(path)
    listed, promo = obs["deepseek-v4-pro", "standard"], obs["deepseek-v4-pro", "promotion"]
    assert (listed.input_usd_per_mtok, listed.output_usd_per_mtok) == (
        Decimal("1.74"),
        Decimal("3.48"),
    )
    assert listed.cached_input_usd_per_mtok == Decimal("0.0145")
    assert listed.effective_to is None
    assert promo.input_usd_per_mtok == Decimal("0.435")
    assert promo.cached_input_usd_per_mtok == Decimal("0.003625")
    assert promo.output_usd_per_mtok == Decimal("0.87")
    # "... 75% discount, extended until 2026/05/31 15:59 UTC": over at 16:00.
    assert promo.effective_to == datetime(2026, 5, 31, 16, 0, tzinfo=UTC)
    assert obs["deepseek-v4-flash", "standard"].effective_to is None


# Hand-written pages in the shape of the older off-peak and Chinese-docs tables
# (model names and numbers invented for the test).
def _page(currency: str, standard: tuple[str, str, str], off_peak: tuple[str, str, str]) -> bytes:
    def rows(title: str, prices: tuple[str, str, str]) -> str:
        labels = ["1M TOKENS INPUT (CACHE HIT)", "1M TOKENS INPUT (CACHE MISS)", "1M TOKENS OUTPUT"]
        out = ""
        for i, (label, price) in enumerate(zip(labels, prices, strict=True)):
            head = f'<td rowspan="3">{title}</td>' if i == 0 else ""
            out += f"<tr>{head}<td>{label}</td><td>{currency}{price}</td>"
            out += f"<td>{currency}{price}0(50% OFF)</td></tr>"
        return out

    return (
        '<html><body><table><tr><td colspan="2">MODEL</td><td>model-a</td><td>model-b</td></tr>'
        '<tr><td colspan="2">MAX OUTPUT</td><td colspan="2">8K</td></tr>'
        + rows("STANDARD PRICE (UTC 00:30-16:30)", standard)
        + rows("DISCOUNT PRICE (UTC 16:30-00:30)", off_peak)
        + "</table></body></html>"
    ).encode()


def test_parse_deepseek_reads_off_peak_block_as_its_own_variant() -> None:
    raw = _page("$", ("0.07", "0.27", "1.1"), ("0.035", "0.135", "0.55"))
    obs = {(o.provider_model_id, o.variant): o for o in deepseek.parse(raw, observed_at=WHEN)}
    assert set(obs) == {
        ("model-a", "standard"),
        ("model-b", "standard"),
        ("model-a", "off_peak"),
        ("model-b", "off_peak"),
    }
    assert obs["model-a", "off_peak"].input_usd_per_mtok == Decimal("0.135")
    assert obs["model-a", "off_peak"].cached_input_usd_per_mtok == Decimal("0.035")
    assert obs["model-a", "standard"].output_usd_per_mtok == Decimal("1.1")
    assert obs["model-b", "off_peak"].output_usd_per_mtok == Decimal("0.550")


def test_parse_deepseek_cny_table_needs_an_explicit_rate_and_keeps_it() -> None:
    raw = _page("¥", ("0.5", "2", "8"), ("0.25", "1", "4"))
    with pytest.raises(ParseError, match="CNY"):
        deepseek.parse(raw, observed_at=WHEN)
    obs = deepseek.parse(raw, observed_at=WHEN, usd_per_cny=Decimal("0.14"))
    a = next(o for o in obs if o.provider_model_id == "model-a" and o.variant == "standard")
    assert a.input_usd_per_mtok == Decimal("0.28")
    assert a.original_currency == "CNY"
    assert a.fx_rate == Decimal("0.14")


def test_parse_deepseek_prefers_the_usd_table_over_a_cny_one() -> None:
    usd = _page("$", ("0.07", "0.27", "1.1"), ("0.035", "0.135", "0.55"))
    cny = _page("¥", ("0.5", "2", "8"), ("0.25", "1", "4"))
    obs = deepseek.parse(cny + usd, observed_at=WHEN)
    assert {o.original_currency for o in obs} == {"USD"}
    assert len(obs) == 4


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"<html><body><p>Models &amp; Pricing</p></body></html>",
        b"<html><title>Just a moment...</title></html>",
        b"<table><tr><td>MODEL</td><td>m</td></tr><tr><td>1M INPUT TOKENS</td><td>n/a</td></tr>"
        b"</table>",
    ],
)
def test_parse_deepseek_rejects_pages_without_a_price_table(raw: bytes) -> None:
    with pytest.raises(ParseError):
        deepseek.parse(raw, observed_at=WHEN)


@pytest.mark.parametrize("path", BLOCKED, ids=lambda p: p.name if p else "absent")
def test_parse_deepseek_rejects_a_recorded_cloudflare_challenge(path: Path) -> None:
    with pytest.raises(ParseError, match="Cloudflare"):
        deepseek.parse(path.read_bytes(), observed_at=WHEN)


def test_deepseek_is_registered() -> None:
    assert get_source("deepseek").SOURCE.url.startswith("https://api-docs.deepseek.com/")
