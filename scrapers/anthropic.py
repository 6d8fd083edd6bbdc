"""Anthropic's Claude API prices.

Production reads the docs pricing page in its markdown rendering
(``docs.claude.com/.../pricing.md``): one table with base input, 5-minute and
1-hour cache writes, cache hits and output per model, a batch table and a
long-context table. The marketing page ``claude.com/pricing`` (HTML cards with
input, output and 5-minute cache write/read) is accepted too, as is the docs page
served as HTML.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import httpx

from scrapers._anthropic_cards import parse_cards
from scrapers._pricing_markdown import (
    Block,
    amount,
    blocks,
    html_to_markdown,
    is_html,
    page_text,
    slug,
    token_price,
)
from scrapers.base import LlmPrice, ParseError, SourceInfo
from scrapers.http import request_bytes

SLUG = "anthropic"
URL = "https://docs.claude.com/en/docs/about-claude/pricing.md"
CARDS_URL = "https://claude.com/pricing"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    # The docs table lists all models, but claude.com/pricing (the other accepted
    # format, e.g. the newest recorded page in replay) shows only current ones:
    # treating either as complete would withdraw models the other still lists.
    listing_complete=False,
    description="Claude API list prices: base, cache writes (5m/1h), cache hits, batch, >200k",
)

# Column header keywords of the model table -> LlmPrice field.
_COLUMNS = (
    ("base input", "input_usd_per_mtok"),
    ("1h cache write", "cache_write_1h_usd_per_mtok"),
    ("cache write", "cache_write_usd_per_mtok"),
    ("cache hit", "cached_input_usd_per_mtok"),
    ("output", "output_usd_per_mtok"),
)
_DEPRECATED = re.compile(r"\s*\((?:[^()]|\([^()]*\))*deprecated(?:[^()]|\([^()]*\))*\)", re.I)
_TIER = re.compile(r"([<>≤≥]=?)\s*(\d+)\s*K", re.I)


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def model_id(name: str) -> str:
    """ "Claude Opus 4.1" -> "claude-opus-4-1"; "Opus 4.7" (claude.com) -> "claude-opus-4-7"."""
    name = _DEPRECATED.sub("", name).strip()
    if not name.lower().startswith("claude"):
        name = f"Claude {name}"
    return slug(name, keep_dots=False)


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    text = page_text(SLUG, raw)
    if is_html(text):
        if "card_pricing_api_wrap" in text:
            return parse_cards(
                text, observed_at=observed_at, source_url=CARDS_URL, model_id=model_id
            )
        text = html_to_markdown(text)
    return _parse_docs(list(blocks(text)), observed_at)


def _parse_docs(page: list[Block], observed_at: datetime) -> list[LlmPrice]:
    tables = [b.rows for b in page if b.kind == "table" and b.rows]
    base = next((t for t in tables if "base input" in " ".join(t[0]).lower()), None)
    if base is None:
        raise ParseError(SLUG, "no model table with a 'Base Input Tokens' column found")
    out: list[LlmPrice] = []
    standard: dict[str, str] = {}  # provider_model_id -> display name, in page order
    fields = [_field(h) for h in base[0]]
    for row in base[1:]:
        if len(row) != len(fields) or not row[0]:
            raise ParseError(SLUG, f"model table row does not match its header: {row}")
        prices = {f: amount(c) for f, c in zip(fields, row, strict=True) if f}
        if prices.get("input_usd_per_mtok") is None or prices.get("output_usd_per_mtok") is None:
            raise ParseError(SLUG, f"model table row without input/output price: {row}")
        pid = model_id(row[0])
        standard[pid] = _DEPRECATED.sub("", row[0]).strip()
        out.append(_price(pid, prices, "standard", None, observed_at))
    out.extend(_batch(tables, observed_at))
    out.extend(_long_context(page, standard, observed_at))
    return out


def _field(header: str) -> str | None:
    lowered = header.lower()
    return next((f for key, f in _COLUMNS if key in lowered), None)


def _batch(tables: list[list[list[str]]], observed_at: datetime) -> list[LlmPrice]:
    table = next((t for t in tables if "batch input" in " ".join(t[0]).lower()), None)
    if table is None:
        return []
    header = [h.lower() for h in table[0]]
    i_in = next(i for i, h in enumerate(header) if "batch input" in h)
    i_out = next((i for i, h in enumerate(header) if "batch output" in h), None)
    if i_out is None:
        raise ParseError(SLUG, "batch table has no 'Batch output' column")
    out = []
    for row in table[1:]:
        prices = {
            "input_usd_per_mtok": amount(row[i_in]),
            "output_usd_per_mtok": amount(row[i_out]),
        }
        if None in prices.values():
            raise ParseError(SLUG, f"batch table row without prices: {row}")
        out.append(_price(model_id(row[0]), prices, "batch", None, observed_at))
    return out


def _long_context(
    page: list[Block], models: dict[str, str], observed_at: datetime
) -> list[LlmPrice]:
    """The long-context table names no model: the section's prose does ("When using
    Claude Sonnet 4 or Sonnet 4.5 with the 1M token context window ...")."""
    start = next(
        (i for i, b in enumerate(page) if b.kind == "heading" and "long context" in b.text.lower()),
        None,
    )
    if start is None:
        return []
    prose: list[str] = []
    for block in page[start + 1 :]:
        if block.kind == "heading":
            return []
        if block.kind == "text":
            prose.append(block.text)
            continue
        return _long_context_table(block.rows, " ".join(prose), models, observed_at)
    return []


def _long_context_table(
    rows: list[list[str]], prose: str, models: dict[str, str], observed_at: datetime
) -> list[LlmPrice]:
    tiers = [_TIER.search(h) for h in rows[0]]
    long_cols = [(i, m) for i, m in enumerate(tiers) if m and m[1] in (">", "≥", ">=")]
    if not long_cols:
        raise ParseError(SLUG, f"long context table header names no '> N K' tier: {rows[0]}")
    col, tier = long_cols[0][0], f">{long_cols[0][1][2]}k"
    prices: dict[str, Decimal | None] = {}
    for row in rows[1:]:
        label = row[col].lower() if col < len(row) else ""
        if label.startswith("input"):
            prices["input_usd_per_mtok"] = amount(label)
        elif label.startswith("output"):
            prices["output_usd_per_mtok"] = amount(label)
    if prices.get("input_usd_per_mtok") is None or prices.get("output_usd_per_mtok") is None:
        raise ParseError(SLUG, "long context table lacks 'Input: $x' / 'Output: $y' rows")
    named = [pid for pid, name in models.items() if _mentions(prose, name)]
    if not named:
        raise ParseError(SLUG, "long context section names none of the priced models")
    # Cache prices at long context follow from multipliers the page states in prose
    # only; they are left unset rather than derived.
    return [_price(pid, prices, "standard", tier, observed_at) for pid in named]


def _mentions(prose: str, name: str) -> bool:
    short = re.sub(r"^Claude\s+", "", name)
    return re.search(rf"\b{re.escape(short)}(?![.\d])", prose) is not None


def _price(
    pid: str, prices: dict[str, Decimal | None], variant: str, tier: str | None, at: datetime
) -> LlmPrice:
    return token_price(
        source=SLUG,
        provider="anthropic",
        source_url=URL,
        provider_model_id=pid,
        prices=prices,
        observed_at=at,
        variant=variant,
        context_tier=tier,
    )
