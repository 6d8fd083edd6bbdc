"""DeepSeek API docs "Models & Pricing" page (Docusaurus HTML).

The page holds one transposed table: a ``MODEL`` row names the models in its
columns, and ``PRICING`` rows give per-1M-token prices for input cache hit,
input cache miss and output. Earlier versions of the page split the pricing
rows into a standard block and an off-peak ("DISCOUNT PRICE (UTC 16:30-00:30)")
block, read here as variant ``off_peak``. A limited-time discount is shown as
the discounted price followed by the struck-out list price (``<del>``): the
struck-out price is the ``standard`` list price, the discounted one is variant
``promotion`` with ``effective_to`` = the end the page states ("... 75%
discount, extended until 2026/05/31 15:59 UTC"), so the list price is what
counts once the promotion has ended, without waiting for another scrape.

The English page quotes USD; the Chinese page quotes CNY. USD wins when a page
has both; CNY alone is converted only with an explicit rate (see ``parse``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from bs4 import Tag

from costcurve.core.offer_terms import PROMOTION
from scrapers._pagetools import convert_to_usd, money, soup_of, table_grid
from scrapers.base import LlmPrice, ParseError, SourceInfo
from scrapers.http import request_bytes

SLUG = "deepseek"
URL = "https://api-docs.deepseek.com/quick_start/pricing"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=True,
    description="DeepSeek API docs pricing table (USD per 1M tokens, off-peak discounts)",
)

_MODEL_LABELS = ("MODEL", "模型")
_OFF_PEAK_MARKS = ("OFF-PEAK", "OFF PEAK", "DISCOUNT", "优惠", "闲时")


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


@dataclass
class _Prices:
    currency: str
    values: dict[str, Decimal] = field(default_factory=dict)
    # Struck-out list prices of a promotion (only the cells that show one).
    list_values: dict[str, Decimal] = field(default_factory=dict)


_DATE = re.compile(
    r"(?P<y>\d{4})[/.-](?P<m>\d{1,2})[/.-](?P<d>\d{1,2})(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2}))?"
)
_PROMO_WORDS = ("discount", "% off", "promotion", "优惠", "折")


def promotion_end(page_text: str, model: str) -> datetime | None:
    """The end of a promotion the page states for ``model`` ("until 2026/05/31 15:59 UTC").

    Sentences naming the model come first, then any sentence about a discount;
    a date without a time ends at the end of that day (UTC).
    """
    sentences = re.split(r"(?<=[.。!])\s+|\n", page_text)
    about = [s for s in sentences if any(w in s.lower() for w in _PROMO_WORDS)]
    ranked = [s for s in about if model.lower() in s.lower()] + about
    for sentence in ranked:
        if (m := _DATE.search(sentence.split("until", 1)[-1])) is None:
            continue
        day = datetime(int(m["y"]), int(m["m"]), int(m["d"]), tzinfo=UTC)
        if m["H"] is None:
            return day + timedelta(days=1)
        return day + timedelta(hours=int(m["H"]), minutes=int(m["M"]) + 1)
    return None


def _text(cell: Tag) -> str:
    return " ".join(cell.get_text(" ").split())


def _price_kind(label: str) -> str | None:
    label = label.upper()
    # "MAX OUTPUT" and "Json Output" rows share words with price rows; only
    # price rows speak of tokens.
    if "TOKEN" not in label:
        return None
    if "CACHE HIT" in label or "缓存命中" in label:
        return "cached"
    if "INPUT" in label or "输入" in label:
        return "input"
    if "OUTPUT" in label or "输出" in label:
        return "output"
    return None


def _list_price_text(cell: Tag) -> str | None:
    struck = cell.find(["del", "s", "strike"])
    return None if struck is None else _text(struck)


def _price_text(cell: Tag) -> str:
    # Struck-out list prices and footnote markers are not the billed price.
    clone = copy.copy(cell)
    for junk in clone.find_all(["del", "s", "strike", "sup"]):
        junk.decompose()
    return _text(clone)


def _read_table(grid: list[list[Tag]]) -> dict[tuple[str, str], _Prices]:
    model_row = next((row for row in grid if row and _text(row[0]).upper() in _MODEL_LABELS), None)
    if model_row is None:
        return {}
    first = next((i for i, cell in enumerate(model_row) if cell is not model_row[0]), None)
    if first is None:
        raise ParseError(SLUG, "the MODEL row names no models")
    models = {}
    for i in range(first, len(model_row)):
        cell = model_row[i]
        for sup in cell.find_all("sup"):
            sup.decompose()
        models[i] = _text(cell)
    found: dict[tuple[str, str], _Prices] = {}
    for row in grid:
        labels = " ".join(_text(c) for c in dict.fromkeys(row[:first]))
        kind = _price_kind(labels)
        if kind is None:
            continue
        upper = labels.upper()
        variant = "off_peak" if any(m in upper for m in _OFF_PEAK_MARKS) else "standard"
        for i, model in models.items():
            if i >= len(row):
                raise ParseError(SLUG, f"pricing row {labels!r} has no cell for {model}")
            parsed = money(_price_text(row[i]))
            if parsed is None:
                raise ParseError(SLUG, f"{model}: no price in {labels!r} cell {_text(row[i])!r}")
            amount, currency = parsed
            prices = found.setdefault((model, variant), _Prices(currency))
            if prices.currency != currency:
                raise ParseError(SLUG, f"{model}: mixed currencies in one table")
            prices.values[kind] = amount
            struck = _list_price_text(row[i])
            listed = money(struck) if struck else None
            if listed is not None and listed[1] == currency:
                prices.list_values[kind] = listed[0]
    return found


def parse(
    raw: bytes, *, observed_at: datetime, usd_per_cny: Decimal | None = None
) -> list[LlmPrice]:
    """``usd_per_cny`` converts a CNY-only page (recorded as ``fx_rate``); without
    it such a page is a ParseError rather than prices in the wrong unit."""
    soup = soup_of(SLUG, raw)
    tables = [_read_table(table_grid(t)) for t in soup.find_all("table")]
    tables = [t for t in tables if t]
    if not tables:
        raise ParseError(SLUG, "no pricing table with a MODEL row and per-1M-token price rows")
    usd = [t for t in tables if all(p.currency == "USD" for p in t.values())]
    chosen = usd or tables
    page = " ".join(soup.get_text(" ").split(" "))
    out: list[LlmPrice] = []
    seen: set[tuple[str, str]] = set()
    for table in chosen:
        for (model, variant), prices in table.items():
            if (model, variant) in seen:
                continue
            seen.add((model, variant))
            context = _Context(usd_per_cny, observed_at)
            if not prices.list_values:
                out.append(_observation(model, variant, prices, context))
                continue
            listed = _Prices(prices.currency, prices.values | prices.list_values)
            out.append(_observation(model, variant, listed, context))
            end = promotion_end(page, model)
            if end is None or end > observed_at:
                promo = _Context(usd_per_cny, observed_at, effective_to=end)
                out.append(_observation(model, PROMOTION, prices, promo))
    return out


@dataclass(frozen=True)
class _Context:
    usd_per_cny: Decimal | None
    observed_at: datetime
    effective_to: datetime | None = None


def _observation(model: str, variant: str, prices: _Prices, context: _Context) -> LlmPrice:
    missing = {"input", "output"} - set(prices.values)
    if missing:
        raise ParseError(SLUG, f"{model} ({variant}): no {' or '.join(sorted(missing))} price")
    usd_per_cny = context.usd_per_cny
    rate = None if prices.currency == "USD" else usd_per_cny

    def usd(kind: str) -> Decimal | None:
        amount = prices.values.get(kind)
        if amount is None:
            return None
        return convert_to_usd(SLUG, amount, prices.currency, usd_per_cny)

    return LlmPrice(
        source=SLUG,
        provider=SLUG,
        provider_model_id=model,
        input_usd_per_mtok=usd("input"),
        output_usd_per_mtok=usd("output"),
        cached_input_usd_per_mtok=usd("cached"),
        variant=variant,
        original_currency=prices.currency,
        fx_rate=rate,
        observed_at=context.observed_at,
        effective_to=context.effective_to,
        source_url=URL,
    )
