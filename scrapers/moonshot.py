"""Moonshot AI (Kimi API platform) model pricing docs (Mintlify, Next.js).

``/docs/pricing/chat`` is an overview: it explains billing and links one page
per model family (``/docs/pricing/chat-k26``, ``chat-k2``, ``chat-v1``, ...),
and only those pages hold price tables of the form
``Model | Unit | Input Price (Cache Hit) | Input Price (Cache Miss) | Output Price
| Context Window``. ``fetch`` therefore reads the overview, follows its links
and returns the family pages' markdown renderings concatenated; ``parse`` reads every such table in
what it gets (HTML, or the docs' markdown rendering) and refuses the overview
alone with a ParseError that says where the prices are.

The only recording is the overview page, so the table reading is checked
against hand-written pages of that documented shape, not against a capture.
The international platform quotes USD; the Chinese one (platform.moonshot.cn)
quotes CNY, converted only with an explicit rate (see ``parse``).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import httpx

from scrapers._pagetools import convert_to_usd, html_tables, markdown_tables, money, soup_of
from scrapers.base import LlmPrice, ParseError, SourceInfo
from scrapers.http import request_bytes

SLUG = "moonshot"
URL = "https://platform.kimi.ai/docs/pricing/chat"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=True,
    verified_against_recording=False,
    description="Kimi API platform per-model pricing pages (USD per 1M tokens, cache hits)",
)

_FAMILY_LINK = re.compile(r'href="((?:https://platform\.kimi\.ai)?/docs/pricing/chat-[a-z0-9-]+)"')
_HOST = "https://platform.kimi.ai"
_Prices = tuple[Decimal, Decimal | None, Decimal]


def fetch(client: httpx.Client) -> bytes:
    overview = request_bytes(client, URL)
    links = dict.fromkeys(_FAMILY_LINK.findall(overview.decode("utf-8", errors="replace")))
    # The docs serve each page's markdown at "<page>.md": plain pipe tables, no
    # client-side rendering to depend on.
    pages = [
        request_bytes(client, f"{link if link.startswith('http') else _HOST + link}.md")
        for link in links
    ]
    return b"\n".join(pages) if pages else overview


def _columns(header: list[str]) -> dict[str, int] | None:
    cols: dict[str, int] = {}
    for i, raw_name in enumerate(header):
        name = raw_name.lower()
        if name in {"model", "模型"}:
            cols["model"] = i
        elif name in {"unit", "计费单位", "单位"}:
            cols["unit"] = i
        elif ("input" in name or "输入" in name) and ("hit" in name or "缓存命中" in name):
            cols["cached"] = i
        elif "input" in name or "输入" in name:
            cols["input"] = i
        elif "output" in name or "输出" in name:
            cols["output"] = i
    return cols if {"model", "input", "output"} <= set(cols) else None


def _cell(model: str, text: str) -> tuple[Decimal, str]:
    parsed = money(text)
    if parsed is None:
        raise ParseError(SLUG, f"{model}: no price in cell {text!r}")
    return parsed


def _read(table: list[list[str]], usd_per_cny: Decimal | None) -> dict[str, tuple[_Prices, str]]:
    cols = _columns(table[0]) if table else None
    if cols is None:
        return {}
    found: dict[str, tuple[_Prices, str]] = {}
    for row in table[1:]:
        if len(row) <= max(cols.values()):
            raise ParseError(SLUG, f"price row with missing cells: {row!r}")
        model = row[cols["model"]].split()[0] if row[cols["model"]].strip() else ""
        if not model:
            raise ParseError(SLUG, f"price row without a model id: {row!r}")
        unit = row[cols["unit"]] if "unit" in cols else "1M tokens"
        if not re.search(r"1\s*M\b|百万", unit):
            raise ParseError(SLUG, f"{model}: prices are per {unit!r}, expected per 1M tokens")
        cells = {
            key: _cell(model, row[cols[key]])
            for key in ("input", "cached", "output")
            if key in cols
        }
        currencies = {currency for _, currency in cells.values()}
        if len(currencies) != 1:
            raise ParseError(SLUG, f"{model}: mixed currencies in one row")
        currency = currencies.pop()
        usd = {
            key: convert_to_usd(SLUG, amount, currency, usd_per_cny)
            for key, (amount, _) in cells.items()
        }
        found[model] = ((usd["input"], usd.get("cached"), usd["output"]), currency)
    return found


def parse(
    raw: bytes, *, observed_at: datetime, usd_per_cny: Decimal | None = None
) -> list[LlmPrice]:
    """``usd_per_cny`` converts CNY prices (recorded as ``fx_rate``); without it
    a CNY page is a ParseError rather than prices in the wrong unit."""
    soup = soup_of(SLUG, raw)
    text = raw.decode("utf-8", errors="replace")
    found: dict[str, tuple[_Prices, str]] = {}
    for table in html_tables(soup) + markdown_tables(text):
        for model, entry in _read(table, usd_per_cny).items():
            if found.setdefault(model, entry) != entry:
                raise ParseError(SLUG, f"{model} is listed twice with different prices")
    if not found:
        families = sorted(set(_FAMILY_LINK.findall(text)))
        if families:
            raise ParseError(
                SLUG,
                "this is the pricing overview page, which holds no prices; they are on "
                f"the per-model pages it links: {', '.join(families)}",
            )
        raise ParseError(SLUG, "no 'Model | Unit | Input Price ... | Output Price' table found")
    return [
        LlmPrice(
            source=SLUG,
            provider=SLUG,
            provider_model_id=model,
            input_usd_per_mtok=input_price,
            output_usd_per_mtok=output_price,
            cached_input_usd_per_mtok=cached,
            original_currency=currency,
            fx_rate=None if currency == "USD" else usd_per_cny,
            observed_at=observed_at,
            source_url=URL,
        )
        for model, ((input_price, cached, output_price), currency) in found.items()
    ]
