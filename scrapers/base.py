"""The source contract shared by every scraper module.

A source module exposes ``SOURCE`` (a :class:`SourceInfo`), ``fetch(client)``
(network only) and ``parse(raw, *, observed_at)`` (pure). Nothing here touches
a database or reads settings, so parsers stay testable on recorded bytes.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MILLION = Decimal(1_000_000)


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
    if value is not None and value < 0:
        raise ValueError("prices are never negative; skip sentinel values explicitly")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_aware_utc)]
Usd = Annotated[Decimal, AfterValidator(_non_negative)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    source_url: str

    def offering_key(self) -> tuple[str, str, str, str, str | None, str]:
        return (
            self.source,
            self.provider,
            self.provider_model_id,
            self.variant,
            self.context_tier,
            self.modality,
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
    description: str = ""


def per_token_to_per_mtok(value: str | float | int | Decimal | None) -> Decimal | None:
    """Convert a USD-per-token string exactly to USD per million tokens."""
    if value is None:
        return None
    try:
        # str() first: a float literal must not leak binary noise into Decimal.
        result = Decimal(str(value)) * MILLION
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    return tidy(result)


def tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (20, not 2E+1)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral() else value


# APIs that send prices as JSON floats carry binary noise (0.0799999993 for 0.08);
# a millionth of a dollar per million tokens is far below any real price step.
FLOAT_PRICE_STEP = Decimal("0.000001")


def json_float_usd(source: str, value: object, where: str) -> Decimal:
    """A price parsed from JSON with ``parse_float=Decimal``, rounded off float noise."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ParseError(source, f"{where} is not a number: {value!r}")
    price = Decimal(value).quantize(FLOAT_PRICE_STEP, rounding=ROUND_HALF_EVEN)
    if price < 0:
        raise ParseError(source, f"negative {where}: {value}")
    return tidy(price)


def to_decimal(value: str | float | int | Decimal) -> Decimal:
    """Parse a price as written on a page ("$1.25", "1,000.5") into a Decimal."""
    text = str(value).strip().replace("$", "").replace(",", "").replace("\u00a0", "")
    try:
        return tidy(Decimal(text))
    except InvalidOperation as exc:
        raise ValueError(f"not a price: {value!r}") from exc


def load_json(
    source: str, raw: bytes, *, expected: str = "a JSON document", decimals: bool = False
) -> Any:
    """Decode a JSON response; ``decimals`` reads JSON floats as exact Decimals.

    Anything else is a ParseError saying what was ``expected`` and what came
    instead (naming a block or challenge page when it is one).
    """
    try:
        return json.loads(raw, parse_float=Decimal) if decimals else json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = looks_blocked(raw)
        got = f"a {reason}" if reason else f"invalid JSON ({exc})"
        raise ParseError(source, f"expected {expected}, got {got}") from exc


def looks_blocked(raw: bytes) -> str | None:
    """Return a reason when ``raw`` is a bot-challenge or block page, else None."""
    head = raw[:20000].lower()
    markers = {
        b"cf-chl": "Cloudflare challenge page",
        b"challenge-platform": "Cloudflare challenge page",
        b"just a moment...": "Cloudflare challenge page",
        b"attention required! | cloudflare": "Cloudflare block page",
        b"access denied": "access denied page",
        b"captcha": "CAPTCHA page",
    }
    for marker, reason in markers.items():
        if marker in head:
            return reason
    return None


def date_from_filename(name: str) -> date | None:
    """Capture date in a recorded file's name (YYYY-MM-DD, YYYYMMDDhhmmss or YYYY-MM)."""
    import re

    if m := re.search(r"(\d{4})-(\d{2})-(\d{2})", name):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.search(r"(?<!\d)(\d{4})(\d{2})(\d{2})\d{6}(?!\d)", name):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.search(r"(\d{4})-(\d{2})(?!\d)", name):
        return date(int(m[1]), int(m[2]), 1)
    return None


def utc(d: date | datetime) -> datetime:
    if isinstance(d, datetime):
        return d if d.tzinfo else d.replace(tzinfo=UTC)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)
