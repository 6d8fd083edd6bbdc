"""API or self-hosting: which is cheaper for a monthly token volume (seed 003, section 6).

    api cost      = volume / 1e6 * api_usd_per_mtok (the blended price)
    capacity/GPU  = tokens_per_s_per_gpu * 3600 * hours_per_month * utilization
    replica       = gpus_per_replica GPUs serving one copy of the model (the
                    deployment: a 397B model on TP8 is 8 GPUs, never 1)
    replicas      = max(1, ceil(volume / (capacity per GPU * gpus_per_replica)))
    GPUs needed   = replicas * gpus_per_replica
    self-host     = GPUs * usd_per_gpu_hour * billed hours

Billing (``SelfHostPlan.billing``):

* ``always_on`` (default): the GPUs are rented 24/7, so every one of
  ``hours_per_month`` is billed whatever the load; utilization only derates
  capacity (idle time, headroom for peaks). This is the seed's "RunPod H100
  (24/7)" column.
* ``utilized``: GPUs run only while there is work (stopped or scaled to zero
  when idle), so only ``hours_per_month * utilization`` hours are billed. This
  is the seed's "at 50% utilization" table.

``hours_per_month`` defaults to 730 (8,760 h / 12); the seed uses 720 (30
days), which tests pass explicitly to reproduce its $1,793.

Break-even volume: with ``C`` = one replica's monthly bill and ``K`` = one
replica's capacity, self-hosting first costs no more than the API at
``V* = C / price`` (1 replica), provided ``V* <= K``; otherwise the GPUs cannot
produce tokens as cheaply as the API sells them and there is no break-even
(``None``). Above ``V*`` each extra replica is added at a volume where the API already costs more
than the GPUs so far, but just past a capacity step self-hosting can briefly
cost more again, so ``compare`` gives the answer for a given volume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import polars as pl

from costcurve.analytics._frames import require_columns
from costcurve.analytics.blend import DEFAULT_RATIO, BlendRatio, price_expr
from costcurve.analytics.money import to_float, to_float_prices

Billing = Literal["always_on", "utilized"]
HOURS_PER_MONTH = 730.0
SECONDS_PER_HOUR = 3600.0

Number = Decimal | float | int


@dataclass(frozen=True)
class SelfHostPlan:
    """A way to self-host: one GPU type at a rate, serving at a throughput.

    Fields accept Decimal (money as stored) and hold floats after construction.
    """

    usd_per_gpu_hour: Number
    tokens_per_s_per_gpu: Number
    utilization: Number = 1.0
    hours_per_month: Number = HOURS_PER_MONTH
    billing: Billing = "always_on"
    gpus_per_replica: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.gpus_per_replica, bool) or self.gpus_per_replica < 1:
            raise ValueError("gpus_per_replica must be an integer >= 1")
        for name in ("usd_per_gpu_hour", "tokens_per_s_per_gpu", "utilization", "hours_per_month"):
            object.__setattr__(self, name, to_float(getattr(self, name)))
        if self.usd_per_gpu_hour < 0:
            raise ValueError("usd_per_gpu_hour must be non-negative")
        if self.tokens_per_s_per_gpu <= 0:
            raise ValueError("tokens_per_s_per_gpu must be positive")
        if not 0 < self.utilization <= 1:
            raise ValueError("utilization must be in (0, 1]")
        if self.hours_per_month <= 0:
            raise ValueError("hours_per_month must be positive")
        if self.billing not in ("always_on", "utilized"):
            raise ValueError("billing must be 'always_on' or 'utilized'")

    @property
    def tokens_per_gpu_month(self) -> float:
        """Capacity of one GPU in a month at this utilization."""
        hours = float(self.hours_per_month) * float(self.utilization)
        return float(self.tokens_per_s_per_gpu) * SECONDS_PER_HOUR * hours

    @property
    def billed_hours(self) -> float:
        if self.billing == "always_on":
            return float(self.hours_per_month)
        return float(self.hours_per_month) * float(self.utilization)

    @property
    def usd_per_gpu_month(self) -> float:
        return float(self.usd_per_gpu_hour) * self.billed_hours

    @property
    def tokens_per_replica_month(self) -> float:
        return self.tokens_per_gpu_month * self.gpus_per_replica

    @property
    def usd_per_replica_month(self) -> float:
        return self.usd_per_gpu_month * self.gpus_per_replica


def _volume(monthly_tokens: Number) -> float:
    volume = to_float(monthly_tokens)
    if volume is None or volume < 0:
        raise ValueError("monthly token volume must be a non-negative number")
    return volume


def api_monthly_cost(monthly_tokens: Number, api_usd_per_mtok: Number) -> float:
    price = to_float(api_usd_per_mtok)
    if price is None or price < 0:
        raise ValueError("the API price must be a non-negative number")
    return _volume(monthly_tokens) / 1e6 * price


def replicas_needed(monthly_tokens: Number, plan: SelfHostPlan) -> int:
    return max(1, math.ceil(_volume(monthly_tokens) / plan.tokens_per_replica_month))


def gpus_needed(monthly_tokens: Number, plan: SelfHostPlan) -> int:
    return replicas_needed(monthly_tokens, plan) * plan.gpus_per_replica


def selfhost_monthly_cost(monthly_tokens: Number, plan: SelfHostPlan) -> float:
    return gpus_needed(monthly_tokens, plan) * plan.usd_per_gpu_month


def breakeven_volume(api_usd_per_mtok: Number, plan: SelfHostPlan) -> float | None:
    """Smallest monthly volume at which self-hosting costs no more than the API (module doc)."""
    price = to_float(api_usd_per_mtok)
    if price is None or price < 0:
        raise ValueError("the API price must be a non-negative number")
    if price == 0:
        return None
    volume = plan.usd_per_replica_month / price * 1e6
    return volume if volume <= plan.tokens_per_replica_month else None


@dataclass(frozen=True)
class Comparison:
    monthly_tokens: float
    api_usd_per_mtok: float
    api_usd_per_month: float
    selfhost_usd_per_month: float
    gpus: int
    replicas: int
    # "api" or "selfhost"; a tie goes to the API (nothing to operate).
    cheaper: Literal["api", "selfhost"]
    breakeven_monthly_tokens: float | None
    plan: SelfHostPlan


def compare(monthly_tokens: Number, api_usd_per_mtok: Number, plan: SelfHostPlan) -> Comparison:
    api = api_monthly_cost(monthly_tokens, api_usd_per_mtok)
    selfhost = selfhost_monthly_cost(monthly_tokens, plan)
    return Comparison(
        monthly_tokens=_volume(monthly_tokens),
        api_usd_per_mtok=float(api_usd_per_mtok),
        api_usd_per_month=api,
        selfhost_usd_per_month=selfhost,
        gpus=gpus_needed(monthly_tokens, plan),
        replicas=replicas_needed(monthly_tokens, plan),
        cheaper="selfhost" if selfhost < api else "api",
        breakeven_monthly_tokens=breakeven_volume(api_usd_per_mtok, plan),
        plan=plan,
    )


@dataclass(frozen=True)
class ApiOffer:
    provider: str
    model: str
    usd_per_mtok: float


def cheapest_api(prices: pl.DataFrame, ratio: BlendRatio = DEFAULT_RATIO) -> ApiOffer:
    """The lowest blended price among current API offers.

    ``prices`` has provider, model, input_usd_per_mtok, output_usd_per_mtok and
    optionally ``free``; free listings and offers missing a side are skipped
    (a free tier is rate-limited, not a price one can run a workload on).
    Ties go to the alphabetically first (provider, model).
    """
    require_columns(
        prices,
        ("provider", "model", "input_usd_per_mtok", "output_usd_per_mtok"),
        "the API price frame",
    )
    frame = to_float_prices(prices).with_columns(usd_per_mtok=price_expr("blended", ratio))
    if "free" in frame.columns:
        frame = frame.filter(~pl.col("free").fill_null(False))
    frame = frame.filter(pl.col("usd_per_mtok").is_not_null()).sort(
        "usd_per_mtok", "provider", "model"
    )
    if frame.is_empty():
        raise ValueError("no priced API offer to compare with")
    row = frame.row(0, named=True)
    return ApiOffer(row["provider"], row["model"], row["usd_per_mtok"])
