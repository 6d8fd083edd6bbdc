"""LiteLLM's ``model_prices_and_context_window.json``: a community-maintained
price map covering many providers (OpenAI, Azure, Bedrock, Vertex, Groq, ...).

Keys are model names, values carry USD-per-token prices and the seller in
``litellm_provider``. Suffixed keys carry the other offerings of a model:
``*_above_200k_tokens`` (long-context tiers, any ``_above_<N>k_tokens``),
``*_batches``, ``*_flex`` and ``*_priority`` (service tiers). Collectors that
mirror the file may add top-level non-dict values (``"last_updated"``).
An OpenRouter entry's route suffix (``openrouter/z-ai/glm-4.6:exacto``) is
its variant, as in the OpenRouter source (``core.offer_terms``).
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from costcurve.core.offer_terms import STANDARD, suffix_variant
from scrapers.base import (
    LlmPrice,
    ParseError,
    SourceInfo,
    load_json,
    per_token_to_per_mtok,
)
from scrapers.http import request_bytes

SLUG = "litellm"
URL = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=True,
    verified_against_recording=True,
    description="LiteLLM model price map (many providers, USD per token)",
)

log = logging.getLogger(__name__)

# "completion" (legacy text completion) and "responses" (OpenAI Responses-only
# models such as o1-pro) are still text-in/text-out token-priced LLMs.
CHAT_MODES = frozenset({"chat", "completion", "responses"})
NON_CHAT_MODES = frozenset(
    {
        "embedding",
        "image_generation",
        "image_edit",
        "video_generation",
        "audio_transcription",
        "audio_speech",
        "realtime",
        "rerank",
        "moderation",
        "moderations",
        "search",
        "ocr",
        "vector_store",
    }
)

_PRICE_KEY = re.compile(
    r"^(?P<field>input_cost_per_token|output_cost_per_token|cache_read_input_token_cost"
    r"|cache_creation_input_token_cost(?:_above_1hr)?)"
    r"(?:_above_(?P<k>\d+)k_tokens)?(?:_(?P<tier>batches|flex|priority))?$"
)
_FIELDS = {
    "input_cost_per_token": "input_usd_per_mtok",
    "output_cost_per_token": "output_usd_per_mtok",
    "cache_read_input_token_cost": "cached_input_usd_per_mtok",
    "cache_creation_input_token_cost": "cache_write_usd_per_mtok",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h_usd_per_mtok",
}
_VARIANTS = {None: "standard", "batches": "batch", "flex": "flex", "priority": "priority"}

Offer = tuple[str, str | None]  # (variant, context_tier)


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _document(raw: bytes) -> dict[str, Any]:
    doc = load_json(SLUG, raw, expected="the price map JSON object", decimals=True)
    if not isinstance(doc, dict) or not any(isinstance(v, dict) for v in doc.values()):
        raise ParseError(SLUG, "expected a JSON object mapping model names to price entries")
    return doc


def _per_mtok(value: Any, key: str, name: str) -> Decimal | None:
    """USD per million tokens, or None when the value is not a plain number."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    price = per_token_to_per_mtok(value)
    if price is not None and price < 0:
        raise ParseError(SLUG, f"{name}: negative {key}: {value}")
    return price


def _offers(name: str, entry: dict[str, Any]) -> dict[Offer, dict[str, Decimal]]:
    offers: dict[Offer, dict[str, Decimal]] = defaultdict(dict)
    for key, value in entry.items():
        match = _PRICE_KEY.match(key)
        if not match or (price := _per_mtok(value, key, name)) is None:
            continue
        tier = f">{match['k']}k" if match["k"] else None
        offers[(_VARIANTS[match["tier"]], tier)][_FIELDS[match["field"]]] = price
    standard = offers.get(("standard", None))
    # DeepSeek-style entries name the cached-input price "cache hit".
    hit = _per_mtok(entry.get("input_cost_per_token_cache_hit"), "cache_hit", name)
    if standard is not None and hit is not None:
        standard.setdefault("cached_input_usd_per_mtok", hit)
    # An offering needs both token prices: entries priced per second of video on
    # input, or a priority tier listing only its input price, are incomplete.
    return {
        offer: fields
        for offer, fields in offers.items()
        if "input_usd_per_mtok" in fields and "output_usd_per_mtok" in fields
    }


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    out: list[LlmPrice] = []
    unknown_modes: set[str] = set()
    for name, entry in _document(raw).items():
        # "sample_spec" documents the schema; non-dict values are collector metadata.
        if name == "sample_spec" or not isinstance(entry, dict):
            continue
        mode = entry.get("mode")
        if mode not in CHAT_MODES:
            # No mode: Fireworks size-band pseudo-entries ("fireworks-ai-up-to-4b").
            if mode is not None and mode not in NON_CHAT_MODES:
                unknown_modes.add(str(mode))
            continue
        offers = _offers(name, entry)
        if ("standard", None) not in offers:
            continue  # no numeric per-token prices (priced per second, per image, ...)
        provider = entry.get("litellm_provider")
        if not isinstance(provider, str) or not provider.strip():
            raise ParseError(SLUG, f"{name}: chat entry without litellm_provider")
        provider = provider.strip().lower()
        route = suffix_variant(name)[1] if provider == "openrouter" else STANDARD
        for (variant, tier), fields in sorted(
            offers.items(), key=lambda o: (o[0][0], o[0][1] or "")
        ):
            out.append(
                LlmPrice(
                    source=SLUG,
                    provider=provider,
                    provider_model_id=name,
                    variant=route if variant == STANDARD else variant,
                    context_tier=tier,
                    free=fields["input_usd_per_mtok"] == 0 and fields["output_usd_per_mtok"] == 0,
                    observed_at=observed_at,
                    source_url=URL,
                    **fields,
                )
            )
    if unknown_modes:
        log.warning("litellm: skipped entries with unknown modes %s", sorted(unknown_modes))
    return out
