"""groq and novita pricing pages (each verified on its one recorded capture only)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from scrapers import ParseError, groq, novita
from scrapers.registry import get_source
from tests.support import fixture_files, observed_at_for, parse_recorded

GROQ = fixture_files("groq")
NOVITA = fixture_files("novita")


@pytest.mark.parametrize("path", GROQ, ids=lambda p: p.name if p else "absent")
def test_groq_prices_match_the_page_text(path: Path) -> None:
    obs = parse_recorded("groq", path)
    text = re.sub(r"\s+", " ", path.read_text())
    entries = re.findall(
        r"\(([\d,]+K?) Context Length\) ~[\d,]+ tokens/s \$([\d.]+)/\$([\d.]+)", text
    )
    assert len(obs) == len(entries) >= 3
    for o, (context, price_in, price_out) in zip(obs, entries, strict=True):
        assert (o.input_usd_per_mtok, o.output_usd_per_mtok) == (
            Decimal(price_in),
            Decimal(price_out),
        )
        assert o.context_length == (
            int(context[:-1]) * 1024 if context.endswith("K") else int(context)
        )
        assert o.provider == "groq"
        assert o.model is not None


@pytest.mark.parametrize("path", NOVITA, ids=lambda p: p.name if p else "absent")
def test_novita_rows_match_the_markdown_tables(path: Path) -> None:
    obs = {o.provider_model_id: o for o in parse_recorded("novita", path)}
    rows = [
        line
        for line in path.read_text().splitlines()
        if line.startswith("| [") and line.count("/Mt") >= 2
    ]
    assert len(obs) == len(rows) > 50
    for line in rows:
        cells = [c.strip() for c in line.strip("| ").split("|")]
        model_id = re.match(r"\[([^\]]+)\]", cells[0])[1]  # type: ignore[index]
        prices = re.findall(r"\$([\d.]+) /Mt", cells[2])
        o = obs[model_id]
        assert o.input_usd_per_mtok == Decimal(prices[0])
        assert o.cached_input_usd_per_mtok == (Decimal(prices[1]) if len(prices) > 1 else None)
        assert o.output_usd_per_mtok == Decimal(re.findall(r"\$([\d.]+) /Mt", cells[3])[0])
        assert o.context_length == int(cells[1].replace(",", ""))
    assert sum(o.model is not None for o in obs.values()) / len(obs) > 0.9


def test_novita_tiered_rows_are_left_out() -> None:
    path = NOVITA[0]
    tiered = re.findall(r"^\| \[([^\]]+)\][^\n]*Tiered pricing", path.read_text(), re.M)
    assert tiered
    assert not set(tiered) & {o.provider_model_id for o in parse_recorded("novita", path)}


@pytest.mark.parametrize("module", [groq, novita])
@pytest.mark.parametrize(
    "raw", [b"<html><title>Just a moment...</title></html>", b"<html><body>Pricing</body></html>"]
)
def test_a_blocked_or_changed_page_is_a_parse_error(module: object, raw: bytes) -> None:
    with pytest.raises(ParseError):
        module.parse(raw, observed_at=observed_at_for(Path("x_2026-01-01")))  # type: ignore[attr-defined]


@pytest.mark.parametrize("slug", ["groq", "novita"])
def test_sources_say_which_captures_they_are_verified_on(slug: str) -> None:
    assert "capture" in get_source(slug).SOURCE.verified_only_on


@pytest.mark.parametrize("module", [groq, novita])
def test_fetch_reads_the_pricing_page(module: object) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"page")

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert module.fetch(client) == b"page"  # type: ignore[attr-defined]
