"""Exact money helpers: prices stay Decimal from the page to the database."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from costcurve.core.offer_terms import published_price

MILLION = Decimal(1_000_000)


def per_token_to_per_mtok(value: str | float | int | Decimal | None) -> Decimal | None:
    """Convert a USD-per-token price to USD per million tokens, at published precision.

    Per-token floats (LiteLLM's 1.24999e-06) carry noise below the precision a
    provider publishes; ``published_price`` snaps them (1.24999 -> 1.25) and
    leaves exact values as they are.
    """
    if value is None:
        return None
    try:
        # str() first: a float literal must not leak binary noise into Decimal.
        result = Decimal(str(value)) * MILLION
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    return tidy(published_price(result))


def tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (20, not 2E+1)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


def to_decimal(value: str | float | int | Decimal) -> Decimal:
    """Parse a price as written on a page ("$1.25", "1,000.5") into a Decimal."""
    text = str(value).strip().replace("$", "").replace(",", "").replace("\u00a0", "")
    try:
        return tidy(Decimal(text))
    except InvalidOperation as exc:
        raise ValueError(f"not a price: {value!r}") from exc
