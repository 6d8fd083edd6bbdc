"""One OpenRouter endpoint record -> one per-host LlmPrice (both endpoint APIs).

OpenRouter routes each model to several upstream hosts ("endpoints"). The public
``/api/v1/models/{id}/endpoints`` API and the undocumented frontend stats API both
describe every endpoint with a display name (``provider_name``), a per-token
pricing dict, quantization and context length; the frontend records add a tag
(``provider_slug``/``tag``: ``deepinfra/turbo``, ``google-vertex/us-central1``)
that tells two endpoints of one host apart. Here:

* ``provider`` is the host as OpenRouter names it, slugified
  ("SambaNova" -> ``sambanova``, "Google AI Studio" -> ``google-ai-studio``);
* ``endpoint`` is the tag (part of the offering identity), ``region`` the
  endpoint's region when OpenRouter states one;
* ``variant`` is OpenRouter's variant (``standard`` unless it says ``free``,
  ``nitro``...), so per-host list prices count as standard prices; a record that
  says nothing, or ``standard``, under a suffixed id (``x:thinking``, ``x:batch``)
  takes the suffix's variant, the rule of the models listing
  (``costcurve.core.offer_terms.suffix_variant``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from costcurve.core.money import per_token_to_per_mtok
from costcurve.core.offer_terms import STANDARD, normal_variant, suffix_variant
from scrapers.base import LlmPrice, ParseError

_NON_SLUG = re.compile(r"[^a-z0-9]+")
# "unknown" is OpenRouter's placeholder, not a quantization.
_NO_QUANTIZATION = {None, "", "unknown"}


def _tag(endpoint: dict[str, Any]) -> str | None:
    tag = endpoint.get("provider_slug") or endpoint.get("tag")
    return str(tag) if tag else None


def tagged(endpoints: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Each endpoint with its identity tag.

    A host can serve one model through two endpoints under one tag (Vertex with
    two adapters in one region); those are told apart by the host's own model id
    (``google-vertex/us-south1:qwen3-235b-a22b-instruct-2507-maas``).
    """
    counts = Counter(_tag(e) for e in endpoints)
    for endpoint in endpoints:
        tag = _tag(endpoint)
        if tag is not None and counts[tag] > 1 and endpoint.get("provider_model_id"):
            tag = f"{tag}:{endpoint['provider_model_id']}"
        yield endpoint, tag


def host_slug(name: str) -> str:
    slug = _NON_SLUG.sub("-", name.strip().lower()).strip("-")
    if not slug:
        raise ValueError(f"empty host name {name!r}")
    return slug


def _price(source: str, pricing: dict[str, Any], key: str) -> Any:
    try:
        value = per_token_to_per_mtok(pricing.get(key))
    except ValueError as exc:
        raise ParseError(source, f"pricing {key} is not a number: {pricing.get(key)!r}") from exc
    # Negative values are OpenRouter sentinels (routed, price depends on the target).
    return None if value is None or value < 0 else value


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _variant(model_id: str, endpoint: dict[str, Any]) -> str:
    stated = endpoint.get("variant")
    if isinstance(stated, str) and stated.strip() and stated.strip().lower() != STANDARD:
        return normal_variant(stated)
    return suffix_variant(model_id)[1]


def endpoint_price(
    source: str,
    model_id: str,
    endpoint: dict[str, Any],
    *,
    tag: str | None,
    observed_at: datetime,
    source_url: str,
    extra: dict[str, Any] | None = None,
) -> LlmPrice:
    """The LlmPrice of one endpoint record; ``extra`` adds fields (performance)."""
    name = endpoint.get("provider_name")
    pricing = endpoint.get("pricing")
    if not isinstance(name, str) or not isinstance(pricing, dict):
        raise ParseError(source, f"{model_id}: endpoint without provider_name/pricing")
    input_price = _price(source, pricing, "prompt")
    output_price = _price(source, pricing, "completion")
    if input_price is None and output_price is None:
        raise ParseError(source, f"{model_id} at {name}: pricing lacks prompt/completion")
    quantization = endpoint.get("quantization")
    return LlmPrice(
        source=source,
        provider=host_slug(name),
        provider_model_id=model_id,
        input_usd_per_mtok=input_price,
        output_usd_per_mtok=output_price,
        cached_input_usd_per_mtok=_price(source, pricing, "input_cache_read"),
        cache_write_usd_per_mtok=_price(source, pricing, "input_cache_write"),
        variant=_variant(model_id, endpoint),
        free=bool(endpoint.get("is_free")) or (input_price == 0 and output_price == 0),
        endpoint=tag,
        region=endpoint.get("provider_region") or None,
        quantization=None if quantization in _NO_QUANTIZATION else str(quantization),
        context_length=_int_or_none(endpoint.get("context_length")),
        observed_at=observed_at,
        source_url=source_url,
        **(extra or {}),
    )
