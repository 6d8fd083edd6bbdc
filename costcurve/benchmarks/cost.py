"""Self-hosted $/M tokens from measured throughput and a GPU-hour price.

``usd_per_mtok = usd_per_gpu_hour / (tokens_per_s_per_gpu * 3600) * 1e6``:
a GPU rented for an hour at full load turns out ``tokens_per_s_per_gpu * 3600``
tokens. It is computed in Decimal (one division, so one rounding at 28
significant digits); throughput, a float measurement, enters via its shortest
repr so no binary noise leaks in.

Headlines follow InferenceMAX's reading of a throughput/interactivity sweep:
the cheapest point at which each user still sees at least 20 (and 50)
tokens/s, and the point of maximum throughput (cheapest, but slowest per user).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from costcurve.core.benchmark_point import BenchmarkPoint
from costcurve.core.formulas import usd_per_mtok

DEFAULT_INTERACTIVITY_FLOORS = (20, 50)
Basis = Literal["output", "total"]


@dataclass(frozen=True)
class PointCost:
    point: BenchmarkPoint
    usd_per_gpu_hour: Decimal
    # Price of a million generated tokens when the GPU bill is charged to output only.
    output_usd_per_mtok: Decimal
    # Price of a million tokens of either kind (prompt + generated).
    total_usd_per_mtok: Decimal

    def usd_per_mtok(self, basis: Basis) -> Decimal:
        return self.output_usd_per_mtok if basis == "output" else self.total_usd_per_mtok


def point_cost(point: BenchmarkPoint, usd_per_gpu_hour: Decimal) -> PointCost:
    return PointCost(
        point=point,
        usd_per_gpu_hour=usd_per_gpu_hour,
        output_usd_per_mtok=usd_per_mtok(usd_per_gpu_hour, point.output_tokens_per_s_per_gpu),
        total_usd_per_mtok=usd_per_mtok(usd_per_gpu_hour, point.total_tokens_per_s_per_gpu),
    )


def _price_for(point: BenchmarkPoint, prices: Decimal | Mapping[str, Decimal]) -> Decimal:
    if isinstance(prices, Decimal):
        return prices
    try:
        return prices[point.gpu]
    except KeyError:
        raise ValueError(f"no GPU-hour price given for {point.gpu}") from None


def headlines(
    points: Iterable[BenchmarkPoint],
    usd_per_gpu_hour: Decimal | Mapping[str, Decimal],
    *,
    interactivity_floors: Iterable[float] = DEFAULT_INTERACTIVITY_FLOORS,
    basis: Basis = "output",
) -> dict[str, PointCost | None]:
    """Headline points of a sweep, keyed ``"interactivity>=20"``, ..., ``"max_throughput"``.

    ``usd_per_gpu_hour`` is one price, or a price per canonical GPU name when
    the sweep spans GPUs. ``basis`` picks output-only or total-token $/M for
    ranking. A floor no point reaches maps to None; points without a measured
    TPOT count only for max throughput; points with zero throughput are skipped.
    """
    costs = [
        point_cost(p, _price_for(p, usd_per_gpu_hour))
        for p in points
        if p.output_tokens_per_s_per_gpu > 0 and p.total_tokens_per_s_per_gpu > 0
    ]

    def cheapest(candidates: list[PointCost]) -> PointCost | None:
        # Ties go to the point that is faster per user.
        return min(
            candidates,
            key=lambda c: (c.usd_per_mtok(basis), -(c.point.interactivity or 0.0)),
            default=None,
        )

    out: dict[str, PointCost | None] = {}
    for floor in interactivity_floors:
        label = f"interactivity>={floor:g}"
        out[label] = cheapest(
            [
                c
                for c in costs
                if c.point.interactivity is not None and c.point.interactivity >= floor
            ]
        )

    def tput(c: PointCost) -> float:
        p = c.point
        return p.output_tokens_per_s_per_gpu if basis == "output" else p.total_tokens_per_s_per_gpu

    out["max_throughput"] = max(
        costs, key=lambda c: (tput(c), -c.usd_per_mtok(basis)), default=None
    )
    return out
