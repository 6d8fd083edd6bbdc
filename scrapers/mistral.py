"""mistral.ai/pricing: the Next.js page's model catalogue, read from its RSC payload.

The visible price cards are rendered client-side, so the page HTML has no price
tables. The server-rendered flight payload carries the CMS records instead: one
object per model card with ``name``, ``api_endpoint`` and a ``price`` list of
``{"value": "Input (/M tokens)", "price_dollar": "<p>$0.5</p>", ...}`` rows,
and for fine-tunable models a ``fine_tuning`` list priced the same way (the
per-token price of running a fine-tuned model, variant ``fine_tuned``). A hero
grid repeats a few cards with an ``api`` key; the catalogue is complete, so the
grid is not read.

Cards priced per page, per minute of audio, per character or per call (OCR,
transcription, TTS, tools) carry no per-token price and are left out, as are
the classifier cards, which name no API endpoint (they price training custom
classifiers). When two cards share an endpoint alias at different prices (an
alias moved to a newer model while the old card stayed up), neither price can be
pinned to the alias, so both cards are keyed by their display names.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from scrapers._pagetools import (
    flight_string,
    flight_values,
    html_text,
    iter_dicts,
    money,
    slugify,
    soup_of,
)
from scrapers.base import LlmPrice, ParseError, SourceInfo
from scrapers.http import request_bytes

SLUG = "mistral"
URL = "https://mistral.ai/pricing"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=True,
    description="Mistral AI API pricing (model catalogue in the Next.js page payload)",
)

_TOKEN_UNIT = re.compile(r"/\s*M\s*tok|per\s*M\s*tok", re.IGNORECASE)
# "Input (per min / per M tok)": "$0.004 (audio) / $0.1 (text)" -> the text price.
_TEXT_PART = re.compile(r"([$€]\s*[\d.,]+|[\d.,]+\s*[$€])\s*\(text\)", re.IGNORECASE)


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


@dataclass(frozen=True)
class _Card:
    name: str
    endpoint: str
    variant: str
    input: Decimal | None
    output: Decimal | None
    free: bool


def _amount(label: str, cell: Any) -> Decimal | None:
    text = html_text(flight_string(cell))
    if m := _TEXT_PART.search(text):
        text = m.group(1)
    parsed = money(text)
    if parsed is None:
        raise ParseError(SLUG, f"{label!r}: no dollar price in {text!r}")
    amount, currency = parsed
    if currency != "USD":
        raise ParseError(SLUG, f"{label!r}: expected a USD price, got {text!r}")
    return amount


def _token_prices(rows: Any) -> tuple[Decimal | None, Decimal | None, bool]:
    input_price = output_price = None
    free = False
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        label = str(row.get("value") or "")
        cell = row.get("price_dollar")
        if html_text(flight_string(cell)).strip().lower() == "free":
            free = True
        elif _TOKEN_UNIT.search(label) and label.lower().startswith("input"):
            input_price = _amount(label, cell)
        elif _TOKEN_UNIT.search(label) and label.lower().startswith("output"):
            output_price = _amount(label, cell)
    return input_price, output_price, free


def _cards(soup_values: list[Any]) -> list[_Card]:
    cards: list[_Card] = []
    for value in soup_values:
        for entry in iter_dicts(value):
            if "api_endpoint" not in entry or not isinstance(entry.get("price"), list):
                continue
            endpoint = flight_string(entry.get("api_endpoint")).strip()
            name = html_text(flight_string(entry.get("name")))
            if not endpoint or not name:
                continue
            variants = (("standard", entry["price"]), ("fine_tuned", entry.get("fine_tuning")))
            for variant, rows in variants:
                input_price, output_price, free = _token_prices(rows)
                if free and input_price is None and output_price is None:
                    input_price = output_price = Decimal(0)
                if input_price is None and output_price is None:
                    continue
                cards.append(_Card(name, endpoint, variant, input_price, output_price, free))
    # The payload may carry a record twice (a second render); same content, one card.
    return list(dict.fromkeys(cards))


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    soup = soup_of(SLUG, raw)
    values = flight_values(soup)
    if not values:
        raise ParseError(SLUG, "no Next.js flight payload (self.__next_f.push scripts) in page")
    cards = _cards(values)
    if not cards:
        raise ParseError(
            SLUG, "flight payload has no model records with api_endpoint and per-token prices"
        )
    names_per_endpoint: dict[str, set[str]] = defaultdict(set)
    for card in cards:
        names_per_endpoint[card.endpoint].add(card.name)
    out: list[LlmPrice] = []
    keys: set[tuple[str, str]] = set()
    for card in cards:
        shared = len(names_per_endpoint[card.endpoint]) > 1
        model_id = slugify(card.name) if shared else card.endpoint
        if (model_id, card.variant) in keys:
            raise ParseError(SLUG, f"{model_id} ({card.variant}) is priced twice differently")
        keys.add((model_id, card.variant))
        out.append(
            LlmPrice(
                source=SLUG,
                provider=SLUG,
                provider_model_id=model_id,
                input_usd_per_mtok=card.input,
                output_usd_per_mtok=card.output,
                variant=card.variant,
                free=card.free,
                observed_at=observed_at,
                source_url=URL,
            )
        )
    return out
