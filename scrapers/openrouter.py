"""OpenRouter ``GET /api/v1/models``: the aggregator's full model listing.

An id with a route suffix (``google/gemini-2.5-pro:batch``, ``:free``,
``:nitro``, ``:thinking``, ...) or a display name marked "(batch)" is the same
model sold on other terms: the listing keeps its id and gets that ``variant``
(``costcurve.core.offer_terms``), and its canonical model is the base id's.

Accepts the bare API response (``{"data": [...]}``), the bare ``data`` array
that some collectors store, and the collector wrapper
``{source, fetched_at, api_url, model_count, data}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import httpx

from costcurve.catalog import resolve_model
from costcurve.core.offer_terms import listing_variant
from scrapers.base import LlmPrice, ParseError, SourceInfo, load_json, per_token_to_per_mtok
from scrapers.http import request_bytes

URL = "https://openrouter.ai/api/v1/models"
SOURCE = SourceInfo(
    slug="openrouter",
    kind="llm_price",
    url=URL,
    listing_complete=True,
    description="OpenRouter model listing (aggregator prices, one per model)",
)


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _models(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        return cast(list[dict[str, Any]], doc["data"])
    if isinstance(doc, list):
        return doc
    raise ParseError(
        "openrouter",
        "expected {'data': [...]} or a bare array of model objects from /api/v1/models",
    )


# The one documented sentinel: "-1" per token means "routed, the price depends on
# the target" (router pseudo-models such as openrouter/auto). It arrives scaled.
ROUTED_SENTINEL = Decimal(-1_000_000)


def _price(pricing: dict[str, Any], key: str) -> Decimal | None:
    value = per_token_to_per_mtok(pricing.get(key))
    if value is None or value == ROUTED_SENTINEL:
        return None
    if value < 0:
        raise ParseError("openrouter", f"negative price pricing.{key}={pricing.get(key)!r}")
    return value


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    models = _models(load_json("openrouter", raw))
    out: list[LlmPrice] = []
    for entry in models:
        if not isinstance(entry, dict) or "id" not in entry or "pricing" not in entry:
            raise ParseError("openrouter", f"model entry without id/pricing: {str(entry)[:120]}")
        pricing = entry["pricing"]
        prompt = per_token_to_per_mtok(pricing.get("prompt"))
        completion = per_token_to_per_mtok(pricing.get("completion"))
        if prompt is None or completion is None:
            raise ParseError("openrouter", f"{entry['id']}: pricing lacks prompt/completion")
        if ROUTED_SENTINEL in (prompt, completion):
            continue  # router pseudo-models (openrouter/auto): no price of their own
        if prompt < 0 or completion < 0:
            raise ParseError(
                "openrouter",
                f"{entry['id']}: negative price {pricing.get('prompt')!r}/"
                f"{pricing.get('completion')!r} (only -1 is a documented sentinel)",
            )
        listing = _Listing(entry["id"], entry.get("name"), observed_at)
        out.append(_observation(listing, pricing, None))
        for override in pricing.get("overrides") or []:
            tokens = int(override["min_prompt_tokens"])
            tier = f">{tokens // 1000}k" if tokens % 1000 == 0 else f">{tokens}"
            merged = {**pricing, **override}
            out.append(_observation(listing, merged, tier))
    return out


@dataclass(frozen=True)
class _Listing:
    model_id: str
    name: str | None
    observed_at: datetime


def _observation(listing: _Listing, pricing: dict[str, Any], context_tier: str | None) -> LlmPrice:
    input_price = _price(pricing, "prompt")
    output_price = _price(pricing, "completion")
    base_id, variant = listing_variant(listing.model_id, listing.name)
    return LlmPrice(
        source="openrouter",
        provider="openrouter",
        provider_model_id=listing.model_id,
        model=resolve_model("openrouter", base_id),
        variant=variant,
        input_usd_per_mtok=input_price,
        output_usd_per_mtok=output_price,
        cached_input_usd_per_mtok=_price(pricing, "input_cache_read"),
        cache_write_usd_per_mtok=_price(pricing, "input_cache_write"),
        cache_write_1h_usd_per_mtok=_price(pricing, "input_cache_write_1h"),
        context_tier=context_tier,
        free=input_price == 0 and output_price == 0,
        observed_at=listing.observed_at,
        source_url=URL,
    )
