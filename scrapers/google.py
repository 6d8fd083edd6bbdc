"""Google's Gemini prices: the Gemini Developer API page (ai.google.dev, provider
"google") and the Google Cloud Vertex AI / Agent Platform generative AI page
(cloud.google.com, provider "google-vertex"), told apart by their content.

On ai.google.dev each model has a "## <name>" section with its API ids in
backticks and one table per service tier (Standard, Batch, Flex, Priority) in
the order of the section's tab list. A paid-tier cell packs several prices:
"$0.30 (text / image / video) $1.00 (audio)" splits by modality and
"$1.25, prompts <= 200k tokens $2.50, prompts > 200k tokens" by context tier;
per-image, per-minute and storage (per hour) amounts are not token prices.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import httpx

from scrapers._google_vertex import looks_like_vertex, parse_vertex
from scrapers._pricing_markdown import (
    Block,
    blocks,
    html_to_markdown,
    is_html,
    modality_of,
    page_text,
    slug,
    token_price,
)
from scrapers.base import LlmPrice, ParseError, SourceInfo, to_decimal
from scrapers.http import request_bytes

SLUG = "google"
URL = "https://ai.google.dev/gemini-api/docs/pricing"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    # Two different pages (Gemini API, Vertex) share this source, so one page's
    # snapshot must never withdraw the other page's offerings.
    listing_complete=False,
    description="Gemini API (ai.google.dev) and Vertex AI generative AI list prices",
)

_VARIANTS = ("standard", "batch", "flex", "priority")
_TAB = re.compile(r"\[(Standard|Batch|Flex|Priority)\]\(", re.I)
# The same tab list as plain text once links are gone (HTML or rendered page).
_TAB_TEXT = re.compile(r"(?:(?:Standard|Batch|Flex|Priority)\s*)+(?:More)?", re.I)
_IDS_LINE = re.compile(r"^_?\s*`[^`]+`(?:\s*(?:,|and)\s*`[^`]+`)*\s*_?$")
_AMOUNT = re.compile(r"\$\s*(\d[\d,]*(?:\.\d+)?)")
_PER_MINUTE_ALT = re.compile(r"\s+or\s+\$\s*[\d.,]+\s*/\s*min\b", re.I)
_NOT_TOKENS = re.compile(r"\bper\b|/\s*min\b|/\s*page\b", re.I)
_TIER = re.compile(r"prompts\s*(<=|>=|<|>)\s*(\d+)\s*k", re.I)
_FIELD_OF_ROW = (
    ("context caching price", "cached"),
    ("output price", "output"),
    ("input price", "input"),
)


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    text = page_text(SLUG, raw)
    if is_html(text):
        if looks_like_vertex(text):
            return parse_vertex(text, observed_at=observed_at)
        text = html_to_markdown(text)
    out: list[LlmPrice] = []
    for heading, body in _sections(list(blocks(text))):
        out.extend(_model_section(heading, body, observed_at))
    if not out:
        raise ParseError(
            SLUG, "no model section with a 'Paid Tier, per 1M tokens' price table found"
        )
    return out


def _sections(page: list[Block]) -> list[tuple[str, list[Block]]]:
    sections: list[tuple[str, list[Block]]] = []
    for block in page:
        if block.kind == "heading" and block.level <= 2:
            sections.append((block.text, []))
        elif sections:
            sections[-1][1].append(block)
    return sections


def _model_section(heading: str, body: list[Block], observed_at: datetime) -> list[LlmPrice]:
    ids: list[str] = []
    tabs: list[str] = []
    explicit: str | None = None
    tables: list[tuple[str | None, list[list[str]]]] = []
    for block in body:
        if block.kind == "text" and not ids and _IDS_LINE.match(block.text):
            ids = [i.strip() for i in re.findall(r"`([^`]+)`", block.text)]
        elif block.kind == "text" and (found := _TAB.findall(block.text)):
            tabs = [t.lower() for t in found]
        elif block.kind == "text" and _TAB_TEXT.fullmatch(block.text):
            tabs = [t for t in block.text.lower().split() if t in _VARIANTS]
        elif block.kind == "heading" and block.text.lower() in _VARIANTS:
            explicit = block.text.lower()  # devsite tab panels are titled (as on Vertex)
        elif block.kind == "table" and _paid_column(block.rows[0]) is not None:
            tables.append((explicit, block.rows))
            explicit = None
    if not tables:
        return []
    if len(tables) > max(len(tabs), 1) and not all(v for v, _ in tables):
        raise ParseError(SLUG, f"{heading}: {len(tables)} price tables but tabs {tabs or ['none']}")
    out: list[LlmPrice] = []
    for k, (named, rows) in enumerate(tables):
        variant = named or (tabs[k] if tabs else "standard")
        for (tier, modality), prices in _table_prices(heading, rows).items():
            for pid in ids or [slug(re.sub(r"[^\w\s.-]", "", heading))]:
                out.append(
                    token_price(
                        source=SLUG,
                        provider="google",
                        source_url=URL,
                        provider_model_id=pid,
                        prices=prices,
                        observed_at=observed_at,
                        variant=variant,
                        context_tier=tier,
                        modality=modality,
                    )
                )
    return out


def _paid_column(header: list[str]) -> int | None:
    return next(
        (i for i, c in enumerate(header) if "paid" in c.lower() and "per 1m tokens" in c.lower()),
        None,
    )


def _table_prices(
    heading: str, rows: list[list[str]]
) -> dict[tuple[str | None, str], dict[str, Decimal]]:
    paid = _paid_column(rows[0])
    assert paid is not None
    cells: list[tuple[str, Decimal, str | None, str]] = []  # field, price, tier, modality
    for row in rows[1:]:
        label = row[0].lower()
        field = next((f for key, f in _FIELD_OF_ROW if key in label), None)
        if field is None or paid >= len(row):
            continue
        # "Audio input price" (embeddings) names the modality in the row label.
        default = modality_of(label.split("input price")[0]) if field == "input" else "text"
        for price, tier, modality in _cell_prices(row[paid]):
            cells.append((field, price, tier, modality or default))
    tiers: set[str | None] = {tier for _, _, tier, _ in cells if tier} or {None}
    out: dict[tuple[str | None, str], dict[str, Decimal]] = {}
    for field, price, cell_tier, modality in cells:
        for tier in [cell_tier] if cell_tier else tiers:
            prices = out.setdefault((tier, modality), {})
            if prices.get(field, price) != price:
                raise ParseError(
                    SLUG,
                    f"{heading}: two {modality} {field} prices for tier {tier}: "
                    f"{prices[field]} and {price}",
                )
            prices[field] = price
    return out


def _cell_prices(cell: str) -> list[tuple[Decimal, str | None, str | None]]:
    """(price, context tier, modality or None) for each per-token amount in a cell."""
    cell = _PER_MINUTE_ALT.sub("", re.sub(r"_[^_]*_", " ", cell))
    starts = list(_AMOUNT.finditer(cell))
    out = []
    for m, nxt in zip(starts, [*starts[1:], None], strict=False):
        qualifier = cell[m.end() : nxt.start() if nxt else len(cell)]
        # A trailing footnote star marks a per-image equivalent ("$0.0006 (image)*").
        if _NOT_TOKENS.search(qualifier) or qualifier.rstrip().endswith("*"):
            continue
        tier = _TIER.search(qualifier)
        label = re.search(r"\(([^)]*)\)", qualifier)
        out.append(
            (
                to_decimal(m[1]),
                f"{tier[1]}{tier[2]}k" if tier else None,
                modality_of(label[1]) if label else None,
            )
        )
    return out
