"""Novita AI pricing page (serverless LLM prices per million tokens).

VERIFIED ONLY ON THE CAPTURE WE HAVE: the 2026-05-09 page as reader markdown,
where each vendor section has a table "| Model Name | Context | Input | Output |
Actions |" and cells like "$0.269 /Mt· Cache Read $0.1345 /Mt". Rows whose price
is not a flat per-token figure ("Tiered pricing", "Omnimodal") and tables
without an Output column (embeddings, images, video) are left out. The page's
"batch at 50% off" banner is not turned into batch prices: it names no models.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import httpx

from scrapers.base import LlmPrice, ParseError, SourceInfo, looks_blocked, to_decimal
from scrapers.http import request_bytes

SLUG = "novita"
URL = "https://novita.ai/pricing"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=True,
    verified_only_on="the 2026-05-09 reader-markdown capture",
    description="Novita AI pricing page (verified on the 2026-05-09 capture only)",
)
_PER_MTOK = re.compile(r"\$\s*([\d.,]+)\s*/\s*Mt", re.I)
_CACHE_READ = re.compile(r"Cache Read\s*\$\s*([\d.,]+)\s*/\s*Mt", re.I)
_LINK = re.compile(r"^\[([^\]]+)\]\([^)]*\)$")


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _price(cell: str) -> Decimal | None:
    match = _PER_MTOK.search(_CACHE_READ.sub("", cell))
    return to_decimal(match[1]) if match else None


def _row(cells: list[str], columns: dict[str, int], observed_at: datetime) -> LlmPrice | None:
    name = cells[columns["model name"]]
    link = _LINK.match(name)
    model_id = link[1] if link else name
    price_in = _price(cells[columns["input"]])
    price_out = _price(cells[columns["output"]])
    if price_in is None or price_out is None:
        return None  # tiered or multimodal pricing: no single per-token price
    cache = _CACHE_READ.search(cells[columns["input"]])
    context = cells[columns["context"]].replace(",", "") if "context" in columns else ""
    return LlmPrice(
        source=SLUG,
        provider="novita",
        provider_model_id=model_id,
        input_usd_per_mtok=price_in,
        output_usd_per_mtok=price_out,
        cached_input_usd_per_mtok=to_decimal(cache[1]) if cache else None,
        context_length=int(context) if context.isdigit() and int(context) > 0 else None,
        observed_at=observed_at,
        source_url=URL,
    )


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    if reason := looks_blocked(raw):
        raise ParseError(SLUG, f"expected the pricing page, got a {reason}")
    out: list[LlmPrice] = []
    columns: dict[str, int] | None = None
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = _cells(line)
        lowered = [c.lower() for c in cells]
        if "model name" in lowered:
            columns = {c: i for i, c in enumerate(lowered)}
            columns = columns if {"input", "output"} <= set(columns) else None
            continue
        if columns is None or set(line) <= set("|- ") or len(cells) < len(columns):
            continue
        if (obs := _row(cells, columns, observed_at)) is not None:
            out.append(obs)
    if not out:
        raise ParseError(
            SLUG, "no '| Model Name | Context | Input | Output |' rows with $/Mt prices"
        )
    return out
