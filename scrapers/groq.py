"""Groq pricing page (GroqCloud API prices per million tokens).

VERIFIED ONLY ON THE CAPTURE WE HAVE: the 2024-03-31 page text (reader-text
conversion of wow.groq.com, "Model / Current Speed / Price per 1M Tokens
(Input/Output)" with entries like "Llama 2 70B (4096 Context Length) ~300
tokens/s $0.70/$0.80"). Later Groq pages use other layouts; a page without
such entries is a ParseError, never an empty listing. The vendor's "current
speed" claim is not stored as performance: it is a marketing figure, not a
measured percentile.
"""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from scrapers.base import LlmPrice, ParseError, SourceInfo, looks_blocked, to_decimal
from scrapers.http import request_bytes

SLUG = "groq"
URL = "https://groq.com/pricing/"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=True,
    verified_only_on="the 2024-03-31 page-text capture",
    description="Groq pricing page (verified on the 2024-03-31 capture only)",
)
_ENTRY = re.compile(
    r"(?P<name>[A-Z][\w.,\- ]*?)\s*\((?P<ctx>[\d,]+K?) Context Length\)\s*"
    r"~?[\d,]+ tokens/s\s*\$(?P<input>[\d.]+)\s*/\s*\$(?P<output>[\d.]+)"
)


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _context(text: str) -> int:
    text = text.replace(",", "")
    return int(text[:-1]) * 1024 if text.endswith("K") else int(text)


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    if reason := looks_blocked(raw):
        raise ParseError(SLUG, f"expected the pricing page, got a {reason}")
    text = re.sub(r"\s+", " ", raw.decode("utf-8", errors="replace"))
    start = text.find("Price per 1M Tokens")
    if start < 0:
        raise ParseError(SLUG, "no 'Price per 1M Tokens' table: the page layout has changed")
    out = []
    for match in _ENTRY.finditer(text, start):
        price_in, price_out = to_decimal(match["input"]), to_decimal(match["output"])
        out.append(
            LlmPrice(
                source=SLUG,
                provider="groq",
                provider_model_id=match["name"].strip(),
                input_usd_per_mtok=price_in,
                output_usd_per_mtok=price_out,
                context_length=_context(match["ctx"]),
                observed_at=observed_at,
                source_url=URL,
            )
        )
    if not out:
        raise ParseError(SLUG, "the price table has no 'model (context) speed $in/$out' entries")
    return out
