"""Together AI ``GET /v1/models``: the serverless model listing with per-token prices.

The response is a bare JSON array of model objects whose ``pricing`` block
(``input``, ``output``, ``hourly``, ``base``, ``finetune``) is already in USD
per million tokens. Only ``chat`` and ``language`` models are token-priced
LLMs; image, video, audio, embedding, rerank, moderation and transcription
models are priced in other units or are not LLM APIs, so they are left out.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from scrapers.base import LlmPrice, ParseError, SourceInfo, json_float_usd, load_json
from scrapers.http import request_bytes

SLUG = "together"
URL = "https://api.together.xyz/v1/models"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=True,
    verified_against_recording=True,
    description="Together AI serverless model listing (USD per 1M tokens, needs an API key)",
)

LLM_TYPES = frozenset({"chat", "language"})
# The API serialises prices as binary floats (0.18000000000000002); a millionth
# of a dollar per million tokens is far below any real price step.
_FREE_MARK = re.compile(r"\bfree\b", re.IGNORECASE)


def fetch(client: httpx.Client) -> bytes:
    """Fetch the listing. The endpoint answers 401 without an API key: the caller
    builds ``client`` with ``Authorization: Bearer <TOGETHER_API_KEY>`` among its
    default headers (scrapers never read settings or the environment)."""
    return request_bytes(client, URL)


def _models(raw: bytes) -> list[dict[str, Any]]:
    doc = load_json(SLUG, raw, expected="a JSON array from /v1/models", decimals=True)
    # Together answers with a bare array; an OpenAI-style {"data": [...]} is accepted
    # too in case the endpoint is aligned with the OpenAI schema later.
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        doc = doc["data"]
    if not isinstance(doc, list) or not doc:
        raise ParseError(SLUG, "expected a non-empty JSON array of model objects")
    return doc


def _usd(value: Any, model_id: str, field: str) -> Decimal:
    return json_float_usd(SLUG, value, f"{model_id}: pricing.{field}")


def _listed_as_free(entry: dict[str, Any]) -> bool:
    # Zero is not "free" in this listing: every image and video model and the
    # MoA composites (billed as the sum of the models they call) carry 0/0
    # because they are not priced per token. Together names its genuinely free
    # serverless endpoints with a "Free" suffix (e.g. "...-Instruct-Turbo-Free"),
    # so only those are kept as free; other zero-priced models are skipped.
    names = f"{entry.get('id', '')} {entry.get('display_name') or ''}"
    return _FREE_MARK.search(names) is not None


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    out: list[LlmPrice] = []
    for entry in _models(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise ParseError(SLUG, f"model entry without a string id: {str(entry)[:120]}")
        model_id = entry["id"]
        if entry.get("type") not in LLM_TYPES:
            continue
        pricing = entry.get("pricing")
        if not isinstance(pricing, dict) or "input" not in pricing or "output" not in pricing:
            raise ParseError(SLUG, f"{model_id}: expected pricing{{input, output}} in USD/1M")
        input_price = _usd(pricing["input"], model_id, "input")
        output_price = _usd(pricing["output"], model_id, "output")
        free = input_price == 0 and output_price == 0
        if free and not _listed_as_free(entry):
            continue
        if not free and (input_price == 0 or output_price == 0):
            # One side zero means that side is billed some other way; skip
            # rather than record a misleading zero.
            continue
        out.append(
            LlmPrice(
                source=SLUG,
                provider=SLUG,
                provider_model_id=model_id,
                input_usd_per_mtok=input_price,
                output_usd_per_mtok=output_price,
                free=free,
                observed_at=observed_at,
                source_url=URL,
            )
        )
    return out
