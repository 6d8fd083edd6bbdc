"""The price formulas, each defined once (issue: one definition per rule).

Every layer that needs a blended price, a self-hosted $/M or a per-GPU price
calls these (or, in polars, the expressions in ``costcurve.analytics`` that are
built from the same constants), so the rule cannot drift between the API, the
alerts and the analytics.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def usd_per_gpu_hour(usd_per_instance_hour: Decimal, gpu_count: int) -> Decimal:
    """The per-GPU price of an instance: its hourly price spread over its GPUs."""
    if gpu_count < 1:
        raise ValueError(f"gpu_count must be >= 1, got {gpu_count}")
    return tidy(usd_per_instance_hour / gpu_count)


# The default blend (ARCHITECTURE.md, Epoch AI / Artificial Analysis): 3 input : 1 output.
INPUT_WEIGHT = Decimal(3)
OUTPUT_WEIGHT = Decimal(1)


@dataclass(frozen=True)
class BlendRatio:
    """Weights of input and output tokens in a blended price (ARCHITECTURE.md).

    3:1 is Epoch AI's and Artificial Analysis's convention (typical workloads
    read about three tokens for every one they write); 1:1 is a16z's.
    """

    input_weight: Decimal = INPUT_WEIGHT
    output_weight: Decimal = OUTPUT_WEIGHT

    def __post_init__(self) -> None:
        for name in ("input_weight", "output_weight"):
            value = getattr(self, name)
            if not isinstance(value, Decimal):
                object.__setattr__(self, name, _decimal(value, name))
        if self.input_weight < 0 or self.output_weight < 0:
            raise ValueError("blend weights must be non-negative")
        if self.input_weight + self.output_weight <= 0:
            raise ValueError("at least one blend weight must be positive")

    @property
    def label(self) -> str:
        return f"{self.input_weight.normalize():f}:{self.output_weight.normalize():f}"

    @classmethod
    def parse(cls, text: str) -> BlendRatio:
        """``"3:1"`` -> BlendRatio(3, 1); a clear ValueError for anything else."""
        parts = text.split(":")
        if len(parts) != 2:
            raise ValueError(f"blend must look like 3:1, got {text!r}")
        try:
            return cls(Decimal(parts[0]), Decimal(parts[1]))
        except ArithmeticError:
            raise ValueError(f"blend must look like 3:1, got {text!r}") from None

    def blend(self, input_usd_per_mtok: Decimal, output_usd_per_mtok: Decimal) -> Decimal:
        """Exact blended USD per million tokens, e.g. 3:1 of 0.23 and 0.40 is 0.2725."""
        total = self.input_weight + self.output_weight
        weighted = self.input_weight * input_usd_per_mtok + self.output_weight * output_usd_per_mtok
        return weighted / total

    def sql(self, input_column: str, output_column: str) -> str:
        """The same blend as a SQL expression over NUMERIC columns."""
        total = self.input_weight + self.output_weight
        return (
            f"(({self.input_weight:f} * {input_column} + {self.output_weight:f} * {output_column})"
            f" / {total:f})"
        )


DEFAULT_BLEND = BlendRatio()


def blended_usd_per_mtok(
    input_usd_per_mtok: Decimal, output_usd_per_mtok: Decimal, ratio: BlendRatio = DEFAULT_BLEND
) -> Decimal:
    """The blended price: (3 x input + 1 x output) / 4 with the default weights."""
    return ratio.blend(input_usd_per_mtok, output_usd_per_mtok)


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
