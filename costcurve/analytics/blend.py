"""Which price a curve or fit uses: input, output, or a blend of the two.

The blend follows Epoch AI (ARCHITECTURE.md): 3 parts input to 1 part output
per million tokens, because typical workloads read about three tokens for every
one they write. The ratio is configurable for workloads that differ
(e.g. 1:1 for generation-heavy use).
"""

from __future__ import annotations

from typing import Literal, get_args

import polars as pl

from costcurve.core.formulas import DEFAULT_BLEND, BlendRatio

__all__ = ["DEFAULT_RATIO", "METRICS", "BlendRatio", "Metric", "check_metric", "price_expr"]

Metric = Literal["input", "output", "blended"]
METRICS: tuple[str, ...] = get_args(Metric)

INPUT_COLUMN = "input_usd_per_mtok"
OUTPUT_COLUMN = "output_usd_per_mtok"


DEFAULT_RATIO = DEFAULT_BLEND


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
        # The weights of costcurve.core.formulas.BlendRatio, the one definition of
        # the blend, applied after the money -> float boundary.
        w_in, w_out = float(ratio.input_weight), float(ratio.output_weight)
        total = w_in + w_out
        parts = []
        if w_in:
            parts.append(inp * w_in)
        if w_out:
            parts.append(out * w_out)
        expr = (parts[0] if len(parts) == 1 else parts[0] + parts[1]) / total
    return expr.cast(pl.Float64).alias("usd_per_mtok")
