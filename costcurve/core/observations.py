"""The normalized observations every layer shares (ARCHITECTURE.md).

An observation is what a source says about one offering at one time: an LLM
API price (USD per million tokens) or a GPU rental rate (USD per GPU-hour).
Scrapers produce them, the catalog's reference history produces them, ingest
versions them. Nothing here touches the network, a database or settings.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class ParseError(ValueError):
    """The page no longer has the structure the parser expects (or is blocked)."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        super().__init__(f"{source}: {message}")


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(UTC)


def _non_negative(value: Decimal | None) -> Decimal | None:
    if value is not None and not value.is_finite():
        raise ValueError(f"prices must be finite numbers, got {value}")
    if value is not None and value < 0:
        raise ValueError("prices are never negative; skip sentinel values explicitly")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_aware_utc)]
Usd = Annotated[Decimal, AfterValidator(_non_negative)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointPerformance(_Strict):
    """Measured speed of one serving endpoint, as an aggregator reports it.

    Kept beside the price (never part of the versioned price) so that "price at
    a given speed" can be asked; percentiles over the aggregator's own window.
    """

    p50_throughput_tps: Decimal | None = None
    p75_throughput_tps: Decimal | None = None
    p90_throughput_tps: Decimal | None = None
    p95_throughput_tps: Decimal | None = None
    p99_throughput_tps: Decimal | None = None
    p50_latency_ms: Decimal | None = None
    p75_latency_ms: Decimal | None = None
    p90_latency_ms: Decimal | None = None
    p95_latency_ms: Decimal | None = None
    p99_latency_ms: Decimal | None = None
    uptime_pct: Decimal | None = None
    request_count: int | None = None
    window_minutes: int | None = None
    # The aggregator's health code for the endpoint (OpenRouter: 0 ok, negative degraded).
    status: int | None = None


class LlmPrice(_Strict):
    """One (provider, model, price variant) of an LLM API, USD per million tokens."""

    kind: Literal["llm_price"] = "llm_price"
    source: str
    provider: str
    provider_model_id: str
    model: str | None = None
    input_usd_per_mtok: Usd | None
    output_usd_per_mtok: Usd | None
    cached_input_usd_per_mtok: Usd | None = None
    cache_write_usd_per_mtok: Usd | None = None
    # Anthropic-style 1-hour cache writes cost more than the 5-minute default.
    cache_write_1h_usd_per_mtok: Usd | None = None
    variant: str = "standard"
    context_tier: str | None = None
    # "text" unless the page prices another modality (audio, image) separately.
    modality: str = "text"
    # Free listings are kept but flagged so curves never treat them as cheapest.
    free: bool = False
    currency: Literal["USD"] = "USD"
    original_currency: str = "USD"
    fx_rate: Decimal | None = None
    observed_at: UtcDatetime
    effective_from: UtcDatetime | None = None
    # The stated end of this price (a promotion "until 2026/05/31"): its version
    # closes then without waiting for a later scrape.
    effective_to: UtcDatetime | None = None
    source_url: str
    # Where the tokens are served, when a seller prices that separately: the
    # deployment scope ("global", "data-zone", "regional", "geo"), the region,
    # and the aggregator's endpoint tag for one upstream host ("deepinfra/turbo").
    # All three are part of the offering's identity.
    deployment: str | None = None
    region: str | None = None
    endpoint: str | None = None
    # Serving attributes of the offering (refreshed, not versioned).
    quantization: str | None = None
    context_length: int | None = Field(default=None, ge=1)
    performance: EndpointPerformance | None = None

    def offering_key(
        self,
    ) -> tuple[str, str, str, str, str | None, str, str | None, str | None, str | None]:
        return (
            self.source,
            self.provider,
            self.provider_model_id,
            self.variant,
            self.context_tier,
            self.modality,
            self.deployment,
            self.region,
            self.endpoint,
        )


GpuPricing = Literal[
    "on_demand",
    "spot",
    "community",
    "reserved_1w",
    "reserved_1m",
    "reserved_3m",
    "reserved_6m",
    "reserved_1y",
    "reserved_3y",
    # Azure "Low Priority" (batch pools): pre-emptible like spot, priced on its own meter.
    "low_priority",
]


class GpuRate(_Strict):
    """One GPU rental offer (or an aggregate of a marketplace's offers)."""

    kind: Literal["gpu_rate"] = "gpu_rate"
    source: str
    provider: str
    gpu: str
    gpu_count: int = Field(ge=1)
    pricing: GpuPricing
    usd_per_gpu_hour: Usd
    usd_per_instance_hour: Usd | None = None
    region: str | None = None
    instance_type: str | None = None
    # Cloud price lists quote Windows and Linux separately; null means not stated.
    os: str | None = None
    # Marketplace aggregates ("min", "p10", "median"); null for a single listed offer.
    statistic: str | None = None
    offer_count: int | None = None
    observed_at: UtcDatetime
    source_url: str

    def offering_key(
        self,
    ) -> tuple[str, str, str, int, str, str | None, str | None, str | None, str | None]:
        return (
            self.source,
            self.provider,
            self.gpu,
            self.gpu_count,
            self.pricing,
            self.region,
            self.instance_type,
            self.os,
            self.statistic,
        )


Observation = LlmPrice | GpuRate


class SourceInfo(_Strict):
    """What a source is and how its listings are to be read by ingest."""

    slug: str
    kind: Literal["llm_price", "gpu_rate"]
    url: str
    # True when one snapshot lists every offering the source sells, so that an
    # offering missing from a later snapshot has been withdrawn (see db/ingest.py).
    listing_complete: bool
    # Verified against real recorded pages in ../shared/fixtures, or only at the
    # transport edge.
    verified_against_recording: bool = True
    # When the parser is verified on fewer page formats than the live source may
    # serve: which captures ("2024-03-31 page text only"); empty when not narrower.
    verified_only_on: str = ""
    # A fetch that crawls many pages (one request per model, politely in series)
    # needs longer than the flows' default fetch timeout; None keeps the default.
    fetch_timeout_s: int | None = Field(default=None, ge=1)
    description: str = ""
    # Freshness: how often the source is expected to be fetched, and how long
    # after an offering was last seen its price still counts as current (None:
    # ``default_horizon(cadence)``). Settings can override both per source.
    cadence: timedelta = timedelta(days=1)
    horizon: timedelta | None = None

    def freshness_horizon(self) -> timedelta:
        return self.horizon if self.horizon is not None else default_horizon(self.cadence)


# A missed run or two must not make a whole source stale: an offering counts as
# current for HORIZON_CADENCES expected runs, and at least MIN_HORIZON.
HORIZON_CADENCES = 4
MIN_HORIZON = timedelta(days=7)


def default_horizon(cadence: timedelta) -> timedelta:
    return max(MIN_HORIZON, cadence * HORIZON_CADENCES)


def utc(d: date | datetime) -> datetime:
    if isinstance(d, datetime):
        return d if d.tzinfo else d.replace(tzinfo=UTC)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def date_from_filename(name: str) -> date | None:
    """Capture date in a recorded file's name (YYYY-MM-DD, YYYYMMDDhhmmss or YYYY-MM)."""
    if m := re.search(r"(\d{4})-(\d{2})-(\d{2})", name):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.search(r"(?<!\d)(\d{4})(\d{2})(\d{2})\d{6}(?!\d)", name):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.search(r"(\d{4})-(\d{2})(?!\d)", name):
        return date(int(m[1]), int(m[2]), 1)
    return None
