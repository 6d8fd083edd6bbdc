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


# Epoch AI's blend (ARCHITECTURE.md): 3 parts input to 1 part output per million tokens.
BLEND_INPUT_WEIGHT = 3
BLEND_OUTPUT_WEIGHT = 1
# The same blend as SQL over two column expressions: BLEND_SQL.format(i=..., o=...).
BLEND_SQL = (
    f"({BLEND_INPUT_WEIGHT} * {{i}} + {BLEND_OUTPUT_WEIGHT} * {{o}}) "
    f"/ {BLEND_INPUT_WEIGHT + BLEND_OUTPUT_WEIGHT}"
)
HOURS_PER_YEAR = Decimal(8760)


def owned_usd_per_gpu_hour(
    purchase_usd: Decimal,
    lifetime_years: Decimal,
    power_kw: Decimal,
    pue: Decimal,
    usd_per_kwh: Decimal,
) -> Decimal:
    """Cost of one owned GPU-hour: straight-line capex plus facility electricity.

    ``purchase_usd / (lifetime_years * 8760) + power_kw * pue * usd_per_kwh``;
    every hour of the lifetime carries its share of the purchase, used or idle
    (utilisation is applied where capacity is, as for rental).
    """
    for name, value in (
        ("purchase_usd", purchase_usd),
        ("lifetime_years", lifetime_years),
        ("power_kw", power_kw),
        ("pue", pue),
        ("usd_per_kwh", usd_per_kwh),
    ):
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise ValueError(f"{name} must be a finite non-negative Decimal, got {value!r}")
    if lifetime_years <= 0:
        raise ValueError("lifetime_years must be > 0")
    if pue < 1:
        raise ValueError(f"pue must be >= 1 (facility power over IT power), got {pue}")
    capex = purchase_usd / (lifetime_years * HOURS_PER_YEAR)
    return tidy(capex + power_kw * pue * usd_per_kwh)
