"""The source contract shared by every scraper module.

A source module exposes ``SOURCE`` (a :class:`SourceInfo`), ``fetch(client)``
(network only) and ``parse(raw, *, observed_at)`` (pure). Nothing here touches
a database or reads settings, so parsers stay testable on recorded bytes. The
observation types themselves live in :mod:`costcurve.core.observations`.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from costcurve.core.money import MILLION, per_token_to_per_mtok, tidy, to_decimal
from costcurve.core.observations import (
    GpuPricing,
    GpuRate,
    LlmPrice,
    Observation,
    ParseError,
    SourceInfo,
    date_from_filename,
    utc,
)
from costcurve.core.offer_terms import published_price

__all__ = [
    "FLOAT_PRICE_STEP",
    "MILLION",
    "GpuPricing",
    "GpuRate",
    "LlmPrice",
    "Observation",
    "ParseError",
    "SourceInfo",
    "date_from_filename",
    "json_float_usd",
    "load_json",
    "looks_blocked",
    "per_token_to_per_mtok",
    "tidy",
    "to_decimal",
    "utc",
]


# APIs that send prices as JSON floats carry binary noise (0.0799999993 for 0.08);
# a millionth of a dollar per million tokens is far below any real price step.
FLOAT_PRICE_STEP = Decimal("0.000001")


def json_float_usd(source: str, value: object, where: str) -> Decimal:
    """A price parsed from JSON with ``parse_float=Decimal``, rounded off float noise."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ParseError(source, f"{where} is not a number: {value!r}")
    price = Decimal(value).quantize(FLOAT_PRICE_STEP, rounding=ROUND_HALF_EVEN)
    if price < 0:
        raise ParseError(source, f"negative {where}: {value}")
    return tidy(published_price(price))


def load_json(
    source: str, raw: bytes, *, expected: str = "a JSON document", decimals: bool = False
) -> Any:
    """Decode a JSON response; ``decimals`` reads JSON floats as exact Decimals.

    Anything else is a ParseError saying what was ``expected`` and what came
    instead (naming a block or challenge page when it is one).
    """
    try:
        return json.loads(raw, parse_float=Decimal) if decimals else json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = looks_blocked(raw)
        got = f"a {reason}" if reason else f"invalid JSON ({exc})"
        raise ParseError(source, f"expected {expected}, got {got}") from exc


def looks_blocked(raw: bytes) -> str | None:
    """Return a reason when ``raw`` is a bot-challenge or block page, else None."""
    head = raw[:20000].lower()
    markers = {
        b"cf-chl": "Cloudflare challenge page",
        b"challenge-platform": "Cloudflare challenge page",
        b"just a moment...": "Cloudflare challenge page",
        b"attention required! | cloudflare": "Cloudflare block page",
        b"access denied": "access denied page",
        b"captcha": "CAPTCHA page",
    }
    for marker, reason in markers.items():
        if marker in head:
            return reason
    return None
