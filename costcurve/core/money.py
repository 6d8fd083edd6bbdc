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
        per_token = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not per_token.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return tidy(published_price(per_token * MILLION))


def tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (20, not 2E+1)."""
    value = value.normalize()
    # Past 28 digits quantize() cannot write the integer out; keep it as it is (an
    # absurd magnitude is for the plausibility screen to flag, not for us to crash on).
    integral = value == value.to_integral() and value.adjusted() < 28
    return value.quantize(Decimal(1)) if integral else value


def to_decimal(value: str | float | int | Decimal) -> Decimal:
    """Parse a price as written on a page ("$1.25", "1,000.5") into a Decimal."""
    text = str(value).strip().replace("$", "").replace(",", "").replace("\u00a0", "")
    try:
        price = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not a price: {value!r}") from exc
    if not price.is_finite():
        raise ValueError(f"not a finite price: {value!r}")
    return tidy(price)
