"""Which price a curve or fit uses: input, output, or a blend of the two.

The blend follows Epoch AI (ARCHITECTURE.md): 3 parts input to 1 part output
per million tokens, because typical workloads read about three tokens for every
one they write. The ratio is configurable for workloads that differ
(e.g. 1:1 for generation-heavy use).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import polars as pl

Metric = Literal["input", "output", "blended"]
METRICS: tuple[str, ...] = get_args(Metric)

INPUT_COLUMN = "input_usd_per_mtok"
OUTPUT_COLUMN = "output_usd_per_mtok"


@dataclass(frozen=True)
class BlendRatio:
    """Weights of input and output tokens in a blended price."""

    input_weight: float = 3.0
    output_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.input_weight < 0 or self.output_weight < 0:
            raise ValueError("blend weights must be non-negative")
        if self.input_weight + self.output_weight <= 0:
            raise ValueError("at least one blend weight must be positive")

    @property
    def label(self) -> str:
        return f"{self.input_weight:g}:{self.output_weight:g}"


DEFAULT_RATIO = BlendRatio()


def check_metric(metric: str) -> Metric:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
    return metric  # type: ignore[return-value]


def price_expr(
    metric: Metric = "blended",
    ratio: BlendRatio = DEFAULT_RATIO,
    *,
    input_col: str = INPUT_COLUMN,
    output_col: str = OUTPUT_COLUMN,
) -> pl.Expr:
    """USD per million tokens for ``metric``, as a polars expression named ``usd_per_mtok``.

    A blend is null when either side is null (a price with no output rate is
    not comparable with complete ones), unless that side's weight is zero.
    Apply it to frames already through :func:`costcurve.analytics.money.to_float_prices`.
    """
    check_metric(metric)
    inp, out = pl.col(input_col), pl.col(output_col)
    if metric == "input":
        expr = inp
    elif metric == "output":
        expr = out
    else:
        total = ratio.input_weight + ratio.output_weight
        parts = []
        if ratio.input_weight:
            parts.append(inp * ratio.input_weight)
        if ratio.output_weight:
            parts.append(out * ratio.output_weight)
        expr = (parts[0] if len(parts) == 1 else parts[0] + parts[1]) / total
    return expr.cast(pl.Float64).alias("usd_per_mtok")


def blended_price(
    input_usd_per_mtok: float, output_usd_per_mtok: float, ratio: BlendRatio = DEFAULT_RATIO
) -> float:
    """Scalar blend, e.g. ``blended_price(0.23, 0.40) == 0.2725``."""
    total = ratio.input_weight + ratio.output_weight
    return (
        ratio.input_weight * input_usd_per_mtok + ratio.output_weight * output_usd_per_mtok
    ) / total
