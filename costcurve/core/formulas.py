"""The price formulas, each defined once (issue: one definition per rule).

Every layer that needs a blended price, a self-hosted $/M or a per-GPU price
calls these (or, in polars, the expressions in ``costcurve.analytics`` that are
built from the same constants), so the rule cannot drift between the API, the
alerts and the analytics.
"""

from __future__ import annotations

from decimal import Decimal

from costcurve.core.money import MILLION, tidy

SECONDS_PER_HOUR = Decimal(3600)


def _decimal(value: Decimal | float | int, what: str) -> Decimal:
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number, got {value!r}")
    result = value if isinstance(value, Decimal) else Decimal(repr(value))
    if not result.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}")
    return result


def usd_per_mtok(usd_per_gpu_hour: Decimal, tokens_per_s_per_gpu: Decimal | float | int) -> Decimal:
    """USD per million tokens for one GPU at ``usd_per_gpu_hour`` producing that rate."""
    if not isinstance(usd_per_gpu_hour, Decimal):
        raise TypeError(f"usd_per_gpu_hour must be a Decimal (money), got {usd_per_gpu_hour!r}")
    if usd_per_gpu_hour < 0:
        raise ValueError(f"usd_per_gpu_hour must be >= 0, got {usd_per_gpu_hour}")
    rate = _decimal(tokens_per_s_per_gpu, "tokens_per_s_per_gpu")
    if rate <= 0:
        raise ValueError(f"tokens_per_s_per_gpu must be > 0, got {tokens_per_s_per_gpu}")
    return tidy(usd_per_gpu_hour * MILLION / (rate * SECONDS_PER_HOUR))


# Epoch AI's blended price: three input tokens per output token (ARCHITECTURE.md).
BLEND_INPUT_WEIGHT = Decimal(3)
BLEND_OUTPUT_WEIGHT = Decimal(1)


def blended_usd_per_mtok(input_usd: Decimal | None, output_usd: Decimal | None) -> Decimal | None:
    """(3 x input + 1 x output) / 4 USD per million tokens; None without both prices."""
    if input_usd is None or output_usd is None:
        return None
    total = BLEND_INPUT_WEIGHT + BLEND_OUTPUT_WEIGHT
    return tidy((BLEND_INPUT_WEIGHT * input_usd + BLEND_OUTPUT_WEIGHT * output_usd) / total)
