"""The costcurve GPU price index: one print per GPU, tenor, segment and period.

Pure functions over a frame of GPU rate versions (``db.gpu_index_inputs.gpu_index_inputs``);
docs/gpu-index.md states every rule and parameter and is versioned with
:data:`METHOD_VERSION`. In order:

1. **Offers in a period.** A version contributes to the period ending at ``c``
   when it is in effect just before ``c`` (``valid_from < c <= valid_to``) and
   is fresh there: ``c <= last_seen_at + horizon`` of its source
   (:attr:`IndexMethod.freshness`, default :attr:`IndexMethod.default_freshness`).
   Hourly prints use only sources whose horizon is at most
   :attr:`IndexMethod.hourly_max_freshness` (a daily source would only repeat
   itself every hour).
2. **One representative price per provider**: the median of its offers in the
   period (over regions, instance sizes and sources), with its listing count.
3. **Outlier screen**: a provider more than :attr:`IndexMethod.outlier_factor`
   times above or below the median of the representatives is excluded (listed
   with the reason).
4. **Minimum contributors**: fewer than :attr:`IndexMethod.min_contributors`
   providers left: the print is withheld with the reason, never invented.
5. **Cross-provider statistic**: the weighted median of the representatives,
   weights proportional to listing counts, each provider capped at
   ``max(max_provider_weight, 1 / n)`` of the total (excess spread pro rata).
6. **Dispersion**: p10 and p90 (linear interpolation) of the kept representatives.

Segments: ``all`` and the ``hyperscaler`` / ``neocloud`` / ``marketplace``
sub-indices, each computed with the same rules over its providers only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import polars as pl

from costcurve.analytics.money import to_float_prices

METHOD_VERSION = "1.0.0"
Interval = Literal["hour", "day"]
INTERVALS: dict[str, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
_TRUNCATE = {"hour": "1h", "day": "1d"}
SEGMENTS = ("all", "hyperscaler", "neocloud", "marketplace")
HYPERSCALERS = frozenset({"aws", "gcp", "azure", "oracle"})
# Peer-to-peer or resale markets: the seller is not the operator of the hardware.
MARKETPLACES = frozenset({"vastai", "tensordock", "sfcompute", "primecompute"})
PRICE_DECIMALS = 4
_UTC = pl.Datetime("us", "UTC")
# Until sources carry their own horizon (issue 13), the index states its own:
# a daily tracker confirms an offer once a day, the marketplace every 0.5-4 h.
DEFAULT_FRESHNESS_HORIZON = timedelta(hours=48)
SOURCE_FRESHNESS_HORIZONS: Mapping[str, timedelta] = {"gpu-marketplace": timedelta(hours=6)}


def segment_of(provider: str) -> str:
    if provider in HYPERSCALERS:
        return "hyperscaler"
    if provider in MARKETPLACES or provider.startswith("dc_"):
        return "marketplace"
    return "neocloud"


@dataclass(frozen=True)
class IndexMethod:
    version: str = METHOD_VERSION
    min_contributors: int = 3
    max_provider_weight: float = 0.25
    outlier_factor: float = 3.0
    default_freshness: timedelta = DEFAULT_FRESHNESS_HORIZON
    freshness: Mapping[str, timedelta] = field(
        default_factory=lambda: dict(SOURCE_FRESHNESS_HORIZONS)
    )
    hourly_max_freshness: timedelta = timedelta(hours=6)

    def horizon(self, source: str) -> timedelta:
        return self.freshness.get(source, self.default_freshness)

    def longest_horizon(self) -> timedelta:
        return max([self.default_freshness, *self.freshness.values()])


@dataclass(frozen=True)
class ProviderPrice:
    provider: str
    usd_per_gpu_hour: float
    offers: int
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndexPrint:
    gpu: str
    tenor: str
    segment: str
    interval: str
    period_start: datetime
    value: Decimal | None
    contributor_count: int
    p10: Decimal | None
    p90: Decimal | None
    contributors: list[dict[str, Any]]
    excluded: list[dict[str, Any]]
    withheld_reason: str | None
    method_version: str

    def key(self) -> tuple[str, str, str, str, datetime]:
        return (self.gpu, self.tenor, self.segment, self.interval, self.period_start)

    def published_fields(self) -> dict[str, Any]:
        """What a print publishes (compared field by field by ``verify``)."""
        return {
            "value": self.value,
            "contributor_count": self.contributor_count,
            "p10": self.p10,
            "p90": self.p90,
            "contributors": self.contributors,
            "excluded": self.excluded,
            "withheld_reason": self.withheld_reason,
            "method_version": self.method_version,
        }


def money(value: float) -> Decimal:
    """A published price: rounded half-even to PRICE_DECIMALS places."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-PRICE_DECIMALS))


# --- 1-2: offers in each period, one price per provider ------------------------------------


def period_offers(
    versions: pl.DataFrame,
    interval: Interval,
    start: datetime,
    end: datetime,
    method: IndexMethod,
) -> pl.DataFrame:
    """One row per (period_start, version) for every period in [start, end) it is part of."""
    step = INTERVALS[interval]
    frame = to_float_prices(versions, ["usd_per_gpu_hour"])
    horizons = pl.DataFrame(
        {
            "source": frame["source"].unique(),
        }
    ).with_columns(
        horizon=pl.col("source").map_elements(
            lambda s: method.horizon(s), return_dtype=pl.Duration("us")
        )
    )
    frame = frame.join(horizons, on="source", how="left")
    if interval == "hour":
        frame = frame.filter(pl.col("horizon") <= method.hourly_max_freshness)
    fresh_until = pl.col("last_seen_at") + pl.col("horizon")
    ends = pl.min_horizontal(pl.col("valid_to").fill_null(fresh_until), fresh_until)
    frame = frame.with_columns(
        first=pl.col("valid_from").dt.truncate(_TRUNCATE[interval]),
        last=(ends - step).dt.truncate(_TRUNCATE[interval]),
    ).with_columns(
        first=pl.max_horizontal(pl.col("first"), pl.lit(start, dtype=_UTC)),
        last=pl.min_horizontal(pl.col("last"), pl.lit(end - step, dtype=_UTC)),
    )
    frame = frame.filter(pl.col("first") <= pl.col("last"))
    if frame.is_empty():
        return frame.with_columns(period_start=pl.col("first")).drop("first", "last")
    return (
        frame.with_columns(
            period_start=pl.datetime_ranges("first", "last", interval=_TRUNCATE[interval])
        )
        .explode("period_start")
        .drop("first", "last")
    )


def provider_prices(offers: pl.DataFrame) -> pl.DataFrame:
    """Median price and listing count per (period, GPU, tenor, provider)."""
    return (
        offers.group_by("period_start", "gpu", "pricing", "provider")
        .agg(
            usd_per_gpu_hour=pl.col("usd_per_gpu_hour").median(),
            offers=pl.col("offer_count").sum(),
            sources=pl.col("source").unique().sort(),
        )
        .with_columns(segment=pl.col("provider").map_elements(segment_of, return_dtype=pl.String))
        .sort("period_start", "gpu", "pricing", "provider")
    )


# --- 3-6: one print from the provider prices -----------------------------------------------


def capped_weights(raw: Sequence[float], cap: float) -> list[float]:
    """Shares proportional to ``raw``, none above ``max(cap, 1/n)``; excess spread pro rata."""
    n = len(raw)
    if n == 0:
        return []
    limit = max(cap, 1.0 / n)
    total = float(sum(raw))
    shares = [w / total for w in raw] if total > 0 else [1.0 / n] * n
    fixed: set[int] = set()
    while True:
        over = {i for i, s in enumerate(shares) if s > limit + 1e-12 and i not in fixed}
        if not over:
            return shares
        fixed |= over
        free = [i for i in range(n) if i not in fixed]
        room = 1.0 - limit * len(fixed)
        free_total = sum(shares[i] for i in free)
        shares = [
            limit if i in fixed else (shares[i] / free_total * room if free_total else 0.0)
            for i in range(n)
        ]


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    """The lowest value whose cumulative weight reaches half; the midpoint on an exact tie."""
    pairs = sorted(zip(values, weights, strict=True))
    half = sum(weights) / 2
    cumulative = 0.0
    for i, (value, weight) in enumerate(pairs):
        cumulative += weight
        if math.isclose(cumulative, half, rel_tol=1e-12, abs_tol=1e-12) and i + 1 < len(pairs):
            return (value + pairs[i + 1][0]) / 2
        if cumulative > half:
            return value
    return pairs[-1][0]


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (numpy's default) of ``values``."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _median(values: Sequence[float]) -> float:
    return quantile(values, 0.5)


def screen_outliers(
    prices: Sequence[ProviderPrice], factor: float
) -> tuple[list[ProviderPrice], list[dict[str, Any]]]:
    centre = _median([p.usd_per_gpu_hour for p in prices])
    kept, excluded = [], []
    for p in prices:
        if p.usd_per_gpu_hour > centre * factor or p.usd_per_gpu_hour < centre / factor:
            excluded.append(
                {
                    "provider": p.provider,
                    "usd_per_gpu_hour": money(p.usd_per_gpu_hour),
                    "reason": f"outlier: more than {factor:g}x from the median "
                    f"{money(centre)} of provider prices",
                }
            )
        else:
            kept.append(p)
    return kept, excluded


@dataclass(frozen=True)
class PrintKey:
    gpu: str
    tenor: str
    segment: str
    interval: str
    period_start: datetime


def index_print(key: PrintKey, prices: Sequence[ProviderPrice], method: IndexMethod) -> IndexPrint:
    """Steps 3 to 6 for one GPU, tenor, segment and period."""
    ordered = sorted(prices, key=lambda p: p.provider)
    kept, excluded = screen_outliers(ordered, method.outlier_factor)
    shares = capped_weights([float(p.offers) for p in kept], method.max_provider_weight)
    contributors = [
        {
            "provider": p.provider,
            "usd_per_gpu_hour": money(p.usd_per_gpu_hour),
            "weight": money(share),
            "offers": p.offers,
            "sources": list(p.sources),
        }
        for p, share in zip(kept, shares, strict=True)
    ]
    base: dict[str, Any] = {
        "gpu": key.gpu,
        "tenor": key.tenor,
        "segment": key.segment,
        "interval": key.interval,
        "period_start": key.period_start,
        "contributor_count": len(kept),
        "contributors": contributors,
        "excluded": excluded,
        "method_version": method.version,
    }
    if len(kept) < method.min_contributors:
        reason = f"min_contributors: {len(kept)} of {method.min_contributors} required"
        return IndexPrint(value=None, p10=None, p90=None, withheld_reason=reason, **base)
    values = [p.usd_per_gpu_hour for p in kept]
    return IndexPrint(
        value=money(weighted_median(values, shares)),
        p10=money(quantile(values, 0.1)),
        p90=money(quantile(values, 0.9)),
        withheld_reason=None,
        **base,
    )


def compute_prints(
    versions: pl.DataFrame,
    interval: Interval,
    start: datetime,
    end: datetime,
    method: IndexMethod | None = None,
) -> list[IndexPrint]:
    """Every print of [start, end): one per (period, GPU, tenor, segment) with any provider."""
    method = method or IndexMethod()
    prices = provider_prices(period_offers(versions, interval, start, end, method))
    out: list[IndexPrint] = []
    for row in (
        prices.group_by("period_start", "gpu", "pricing", maintain_order=True)
        .agg(
            pl.col("provider"),
            pl.col("usd_per_gpu_hour"),
            pl.col("offers"),
            pl.col("sources"),
            pl.col("segment"),
        )
        .iter_rows(named=True)
    ):
        candidates = [
            (seg, ProviderPrice(p, v, int(n), tuple(s)))
            for p, v, n, s, seg in zip(
                row["provider"],
                row["usd_per_gpu_hour"],
                row["offers"],
                row["sources"],
                row["segment"],
                strict=True,
            )
        ]
        for segment in SEGMENTS:
            chosen = [pp for seg, pp in candidates if segment in ("all", seg)]
            if chosen:
                key = PrintKey(row["gpu"], row["pricing"], segment, interval, row["period_start"])
                out.append(index_print(key, chosen, method))
    return sorted(out, key=IndexPrint.key)
