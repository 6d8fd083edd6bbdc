"""OpenAI API prices from platform.openai.com/docs/pricing.

The page is a set of tabbed tables (Standard / Batch / Flex / Priority) per
section. Recorded captures are a reader service's markdown, where each tab's
table follows a line naming the tab; flagship tables have "Short context" and
"Long context" column groups, and multimodal tables list one row per modality
with the model cell spanning them (the markdown drops the spanned cell). A
direct fetch is often answered with a Cloudflare challenge: that is a
ParseError saying the page is blocked, never an empty listing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import httpx

from scrapers._pricing_markdown import (
    amount,
    blocks,
    html_to_markdown,
    is_html,
    page_text,
    token_price,
)
from scrapers.base import LlmPrice, ParseError, SourceInfo
from scrapers.http import request_bytes

SLUG = "openai"
URL = "https://platform.openai.com/docs/pricing"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    # Each section shows a selection with an "All models" link to the rest, so a
    # model missing from one snapshot has not necessarily been withdrawn.
    listing_complete=False,
    description="OpenAI API prices: standard, batch, flex, priority; cached input; modalities",
)

_VARIANTS = {"standard", "batch", "flex", "priority"}
# Fine-tuned inference is priced per base snapshot (o4-mini-2025-04-16) but is a
# different offering from the base model's tokens; tools and video are not per token.
_SKIP_SECTIONS = ("finetun", "fine-tun", "tools", "video")
_FIELDS = {"input": "input", "cached input": "cached", "output": "output"}


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    text = page_text(SLUG, raw)
    if is_html(text):
        text = html_to_markdown(text)
    started = "\n# Pricing\n" not in f"\n{text}\n"
    section, variant = "", "standard"
    out: list[LlmPrice] = []
    for block in blocks(text):
        if block.kind == "heading":
            name = block.text.strip().lower()
            if name in _VARIANTS:
                variant = name
                continue
            started = started or name == "pricing"
            section, variant = name, "standard"
        elif block.kind == "text" and block.text.lower() in _VARIANTS:
            variant = block.text.lower()
        elif block.kind == "table" and started and not section.startswith(_SKIP_SECTIONS):
            out.extend(_table(block.rows, variant, observed_at))
    if not out:
        raise ParseError(SLUG, "no price table with Model / Input / Output columns found")
    return out


def _table(rows: list[list[str]], variant: str, observed_at: datetime) -> list[LlmPrice]:
    at = next((i for i, r in enumerate(rows) if any(c.lower() == "model" for c in r)), None)
    if at is None:
        return []
    header = [c.lower() for c in rows[at]]
    columns = _columns(header)
    if not any(f == "input" for f, _ in columns.values()):
        return []
    i_model = header.index("model")
    i_modality = header.index("modality") if "modality" in header else None
    # Cells spanning rows come first in a row, so a short row lacks its leading cells.
    carried: list[str] = [""] * len(header)
    found: dict[tuple[str, str, str | None], dict[str, Decimal | None]] = {}
    for row in rows[at + 1 :]:
        if len(row) > len(header):
            raise ParseError(SLUG, f"row wider than its header {rows[at]}: {row}")
        cells = carried[: len(header) - len(row)] + row
        carried = cells
        model = cells[i_model].strip()
        modality = cells[i_modality].lower() if i_modality is not None else "text"
        if not model or not modality.isalpha():
            raise ParseError(SLUG, f"row without a model or a one-word modality: {row}")
        for i, (field, tier) in columns.items():
            entry = found.setdefault((model, modality, tier), {})
            entry[field] = _token_price(cells[i])
    return [
        token_price(
            source=SLUG,
            provider="openai",
            source_url=URL,
            provider_model_id=model,
            prices=prices,
            observed_at=observed_at,
            variant=variant,
            context_tier=tier,
            modality=modality,
        )
        for (model, modality, tier), prices in found.items()
        if prices.get("input") is not None or prices.get("output") is not None
    ]


def _columns(header: list[str]) -> dict[int, tuple[str, str | None]]:
    """Column index -> (price field, context tier); a second "Input" column starts
    the long-context group (the group names sit in a row above the header)."""
    columns: dict[int, tuple[str, str | None]] = {}
    tier: str | None = None
    for i, name in enumerate(header):
        field = _FIELDS.get(name) or ("output" if name.startswith("output") else None)
        if field is None:
            continue
        if field == "input" and any(f == "input" for f, _ in columns.values()):
            tier = "long"
        columns[i] = (field, tier)
    return columns


def _token_price(cell: str) -> Decimal | None:
    # "-" means not offered; "$0.034 / minute" is not a per-token price.
    if "/" in cell or not cell.strip().startswith("$"):
        return None
    return amount(cell)
