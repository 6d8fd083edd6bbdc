"""DeepInfra ``GET /v1/openai/models``: OpenAI-style listing with prices.

``{"object": "list", "data": [...]}``; each token-priced model carries
``metadata.pricing`` with ``input_tokens``, ``output_tokens`` and optionally
``cache_read_tokens``, all in USD per million tokens. Models without
``metadata`` (embeddings, image generation and editing) are not token-priced
LLMs and are left out.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import httpx

from scrapers.base import LlmPrice, ParseError, SourceInfo, json_float_usd, load_json
from scrapers.http import request_bytes

SLUG = "deepinfra"
URL = "https://api.deepinfra.com/v1/openai/models"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=True,
    verified_against_recording=True,
    description="DeepInfra OpenAI-compatible model listing (USD per 1M tokens)",
)

# Prices arrive as binary floats, some with conversion noise well below a cent
# (0.0799999993, 0.1300000002); a millionth of a dollar per million tokens is
# far below any real price step, so rounding there recovers the listed price.


def fetch(client: httpx.Client) -> bytes:
    # Sent without credentials; should DeepInfra start requiring a key, the caller
    # configures the Authorization header on ``client`` (scrapers read no settings).
    return request_bytes(client, URL)


def _models(raw: bytes) -> list[dict[str, Any]]:
    doc = load_json(SLUG, raw, expected="a JSON document", decimals=True)
    if isinstance(doc, dict) and isinstance(doc.get("data"), list) and doc["data"]:
        return cast(list[dict[str, Any]], doc["data"])
    if isinstance(doc, list) and doc:
        return doc  # a collector that kept only the "data" array
    raise ParseError(SLUG, 'expected {"object": "list", "data": [...]} with model objects')


def _usd(value: Any, model_id: str, field: str) -> Decimal:
    return json_float_usd(SLUG, value, f"{model_id}: pricing.{field}")


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    out: list[LlmPrice] = []
    for entry in _models(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise ParseError(SLUG, f"model entry without a string id: {str(entry)[:120]}")
        model_id = entry["id"]
        metadata = entry.get("metadata")
        if metadata is None:
            continue
        if not isinstance(metadata, dict):
            raise ParseError(SLUG, f"{model_id}: metadata is not an object")
        pricing = metadata.get("pricing")
        if not isinstance(pricing, dict):
            raise ParseError(SLUG, f"{model_id}: metadata without a pricing object")
        if "input_tokens" not in pricing or "output_tokens" not in pricing:
            # Priced per image, per second or per input token only: not a chat LLM.
            continue
        input_price = _usd(pricing["input_tokens"], model_id, "input_tokens")
        output_price = _usd(pricing["output_tokens"], model_id, "output_tokens")
        cached = pricing.get("cache_read_tokens")
        out.append(
            LlmPrice(
                source=SLUG,
                provider=SLUG,
                provider_model_id=model_id,
                input_usd_per_mtok=input_price,
                output_usd_per_mtok=output_price,
                cached_input_usd_per_mtok=(
                    None if cached is None else _usd(cached, model_id, "cache_read_tokens")
                ),
                free=input_price == 0 and output_price == 0,
                observed_at=observed_at,
                source_url=URL,
            )
        )
    return out
