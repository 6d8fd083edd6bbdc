"""cerebras.ai/pricing: the developer-tier per-token price table.

The page is a Next.js site fed by a Sanity CMS. Its price table is not in the
HTML markup: it travels in the RSC flight payload as a portable-text block
``{"_type": "table", "rows": [{"_type": "tableRow", "cells": [...]}, ...]}``
with a ``Model | Speed | Input | Output`` header and cells like
``$2.25/M tokens``. A rendered ``<table>`` with the same header is read too, in
case the page stops shipping the payload.

Model cells are display names with a vendor tag and footnote stars
(``[ZAI]ZAI GLM 4.7*``: preview; ``**``: to be deprecated). The page gives no
API ids, so offerings are keyed by a slug of the display name (``zai-glm-4.7``).
Subscription plans (Cerebras Code, monthly) are not per-token prices.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import httpx

from scrapers._pagetools import (
    flight_string,
    flight_values,
    html_tables,
    iter_dicts,
    money,
    slugify,
    soup_of,
)
from scrapers.base import LlmPrice, ParseError, SourceInfo
from scrapers.http import request_bytes

SLUG = "cerebras"
URL = "https://www.cerebras.ai/pricing"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=True,
    description="Cerebras Inference developer-tier prices (USD per 1M tokens)",
)

_VENDOR_TAG = re.compile(r"^\s*\[[^\]]*\]\s*")
_PER_MTOK = re.compile(r"/\s*(1\s*)?M\b|per\s*(1\s*)?M(illion)?\b", re.IGNORECASE)


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _payload_tables(values: list[object]) -> list[list[list[str]]]:
    tables = []
    for value in values:
        for entry in iter_dicts(value):
            if entry.get("_type") != "table" or not isinstance(entry.get("rows"), list):
                continue
            rows = [
                [flight_string(c) for c in row.get("cells") or []]
                for row in entry["rows"]
                if isinstance(row, dict)
            ]
            tables.append(rows)
    return tables


def _price(model: str, text: str) -> Decimal:
    parsed = money(text)
    if parsed is None or parsed[1] != "USD" or not _PER_MTOK.search(text):
        raise ParseError(SLUG, f"{model}: expected a '$x/M tokens' price, got {text!r}")
    return parsed[0]


def _read(table: list[list[str]]) -> list[tuple[str, Decimal, Decimal]]:
    if not table:
        return []
    header = [h.strip().lower() for h in table[0]]
    if not header or header[0] != "model" or "input" not in header or "output" not in header:
        return []
    i_in, i_out = header.index("input"), header.index("output")
    rows = []
    for row in table[1:]:
        if len(row) <= max(i_in, i_out):
            raise ParseError(SLUG, f"price row with missing cells: {row!r}")
        name = _VENDOR_TAG.sub("", row[0]).rstrip("* ").strip()
        if not name:
            raise ParseError(SLUG, f"price row without a model name: {row!r}")
        rows.append((slugify(name), _price(name, row[i_in]), _price(name, row[i_out])))
    return rows


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    soup = soup_of(SLUG, raw)
    tables = _payload_tables(flight_values(soup)) + html_tables(soup)
    found: dict[str, tuple[Decimal, Decimal]] = {}
    for table in tables:
        for model, input_price, output_price in _read(table):
            if found.setdefault(model, (input_price, output_price)) != (input_price, output_price):
                raise ParseError(SLUG, f"{model} is listed twice with different prices")
    if not found:
        raise ParseError(SLUG, "no 'Model | ... | Input | Output' price table in the page")
    return [
        LlmPrice(
            source=SLUG,
            provider=SLUG,
            provider_model_id=model,
            input_usd_per_mtok=input_price,
            output_usd_per_mtok=output_price,
            observed_at=observed_at,
            source_url=URL,
        )
        for model, (input_price, output_price) in found.items()
    ]
