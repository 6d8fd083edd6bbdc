"""genai-prices: pydantic's curated price feed (``prices/new_data/v2/data.json``).

The feed is a list of providers, each with ``models``; a model's ``prices`` is
one price object or a list of ``{constraint, prices}``. Units ``*_mtok`` are
USD per million tokens. The feed is a snapshot without a date of its own, so
``parse`` takes the moment it was fetched (``observed_at``).

How prices become dated versions (tests/test_history_genai_prices.py):

* The seller is the genai-prices provider id (``anthropic``, ``aws``,
  ``huggingface_together``...); one text offering per model id, variant and
  context tier. ``input_mtok``, ``output_mtok``, ``cache_read_mtok``,
  ``cache_write_mtok`` (else ``cache_write_5m_mtok``) and ``cache_write_1h_mtok``
  are read; audio, image, search and per-request prices are not text token
  prices and are left out, and so is an offering without both an input and an
  output price (embeddings, image models).
* A list is evaluated as genai-prices does: the last entry whose constraint
  holds wins, else the first. Its ``start_date`` values cut time into
  segments, and each segment's winning prices become one version starting on
  that date: ``announced`` (``effective_from`` = the date) when the date is
  after ``observed_at``, else ``observed`` on that date.
* The segment before the first ``start_date`` holds the price at
  ``observed_at`` when that date is still to come. When it has passed, the
  earlier price is history whose start the feed does not give: it is dated by
  the model's release date in our catalog (genai-prices keeps such entries as
  the launch price), and left out, with a warning, when the model is not in
  the catalog or was released after the change.
* Tiered prices (by input tokens, "cliff" pricing) become one offering per
  threshold, labelled ``>272k`` (or ``>N`` tokens when not whole thousands);
  each field takes the tier with the highest start at or below the threshold.
  A model has the same tier offerings in every segment: where a segment has no
  tiers, long prompts pay its flat price.
* A time-of-day constraint (DeepSeek's discount window) splits a model into
  two offerings: the cheaper of the prices inside and outside the window is
  variant ``off_peak``, the other ``standard``.
* An id with a route suffix (``gpt-4o:extended``, ``*:free``) or a name
  marked "(free)", "(Fast)", "(batch)" is that ``variant`` of the base id's
  model (``core.offer_terms``), never ``standard``.
* The feed lists its current prices at ``observed_at``: the last segment's
  items carry it as ``seen_through`` (freshness counts from there).
* The feed marks no corrections: every version is ``observed`` or
  ``announced``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import httpx

from costcurve.catalog import load_models, resolve_model
from costcurve.core.offer_terms import STANDARD, listing_variant, published_price
from scrapers.base import LlmPrice, ParseError, load_json, tidy, utc
from scrapers.history.base import ChangeKind, HistoryItem
from scrapers.http import request_bytes

NAME = "genai-prices"
URL = "https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json"
DESCRIPTION = "pydantic/genai-prices price feed (conditional, time-of-day and tiered prices)"

# The feed is regenerated on every upstream change, fetched daily (db/freshness.py).
CADENCE = timedelta(days=1)

_FIELDS = {
    "input_mtok": "input_usd_per_mtok",
    "output_mtok": "output_usd_per_mtok",
    "cache_read_mtok": "cached_input_usd_per_mtok",
    "cache_write_mtok": "cache_write_usd_per_mtok",
    "cache_write_5m_mtok": "cache_write_usd_per_mtok",
    "cache_write_1h_mtok": "cache_write_1h_usd_per_mtok",
}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Entry:
    start: date | None
    window: tuple[time, time] | None
    prices: dict[str, Any]


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _document(raw: bytes) -> list[Any]:
    doc = load_json(NAME, raw, expected="the data.json provider list", decimals=True)
    if not isinstance(doc, list) or not all(
        isinstance(p, dict) and isinstance(p.get("id"), str) and isinstance(p.get("models"), list)
        for p in doc
    ):
        raise ParseError(NAME, "expected a JSON list of providers with id and models")
    return doc


def _entries(where: str, prices: Any) -> list[_Entry]:
    if isinstance(prices, dict):
        return [_Entry(None, None, prices)]
    if not isinstance(prices, list) or not prices:
        raise ParseError(NAME, f"{where}: prices is neither a price object nor a list")
    out = []
    for item in prices:
        if not isinstance(item, dict) or not isinstance(item.get("prices"), dict):
            raise ParseError(NAME, f"{where}: conditional price without a prices object")
        constraint = item.get("constraint") or {}
        try:
            if set(constraint) == {"start_date"}:
                out.append(
                    _Entry(date.fromisoformat(constraint["start_date"]), None, item["prices"])
                )
            elif set(constraint) == {"start_time", "end_time"}:
                window = (
                    time.fromisoformat(constraint["start_time"]),
                    time.fromisoformat(constraint["end_time"]),
                )
                out.append(_Entry(None, window, item["prices"]))
            elif not constraint:
                out.append(_Entry(None, None, item["prices"]))
            else:
                raise ParseError(NAME, f"{where}: unknown constraint {sorted(constraint)}")
        except (TypeError, ValueError) as exc:
            raise ParseError(NAME, f"{where}: bad constraint {constraint!r}: {exc}") from None
    return out


def _winner(entries: list[_Entry], day: date | None, in_window: bool) -> dict[str, Any]:
    """genai-prices' rule: the last entry whose constraint holds, else the first."""
    for entry in reversed(entries):
        if (entry.start is None or (day is not None and entry.start <= day)) and (
            entry.window is None or in_window
        ):
            return entry.prices
    return entries[0].prices


def _amount(where: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value < 0:
        raise ParseError(NAME, f"{where}: price {value!r} is not a non-negative number")
    return tidy(published_price(Decimal(value)))


def _tier_starts(prices: dict[str, Any]) -> set[int]:
    return {
        int(t["start"])
        for key, value in prices.items()
        if key in _FIELDS and isinstance(value, dict)
        for t in value.get("tiers") or []
    }


def _at_tier(where: str, value: Any, threshold: int | None) -> Decimal:
    if not isinstance(value, dict):
        return _amount(where, value)
    if "base" not in value or not isinstance(value.get("tiers"), list):
        raise ParseError(NAME, f"{where}: tiered price without base and tiers")
    price = value["base"]
    for tier in sorted(value["tiers"], key=lambda t: int(t["start"])):
        if threshold is not None and int(tier["start"]) <= threshold:
            price = tier["price"]
    return _amount(where, price)


def _fields(where: str, prices: dict[str, Any], threshold: int | None) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for key, field in _FIELDS.items():
        if key in prices and field not in out:
            out[field] = _at_tier(f"{where} {key}", prices[key], threshold)
    return out


def _tier_label(threshold: int | None) -> str | None:
    if threshold is None:
        return None
    return f">{threshold // 1000}k" if threshold % 1000 == 0 else f">{threshold}"


def _cheaper(a: dict[str, Decimal], b: dict[str, Decimal]) -> bool:
    key = ("input_usd_per_mtok", "output_usd_per_mtok")
    return tuple(a.get(k, Decimal(0)) for k in key) < tuple(b.get(k, Decimal(0)) for k in key)


def _segment_offers(
    where: str, entries: list[_Entry], day: date | None, thresholds: list[int | None]
) -> dict[tuple[str, str | None], dict[str, Decimal]]:
    """(variant, context tier) -> prices in effect from ``day`` (None: before any start date)."""
    has_window = any(e.window for e in entries)
    regimes = [_winner(entries, day, in_window=False)]
    if has_window:
        regimes.append(_winner(entries, day, in_window=True))
    offers: dict[tuple[str, str | None], dict[str, Decimal]] = {}
    for threshold in thresholds:
        priced = [_fields(where, prices, threshold) for prices in regimes]
        if len(priced) == 2 and priced[0] != priced[1]:
            low, high = priced if _cheaper(priced[0], priced[1]) else priced[::-1]
            offers[("standard", _tier_label(threshold))] = high
            offers[("off_peak", _tier_label(threshold))] = low
        else:
            offers[("standard", _tier_label(threshold))] = priced[0]
    return offers


def _segments(
    where: str, starts: list[date], slug: str | None, observed_at: datetime
) -> list[tuple[date | None, datetime, datetime | None, ChangeKind]]:
    """(segment start date, observed_at, effective_from, change kind) per dated segment."""
    segments: list[tuple[date | None, datetime, datetime | None, ChangeKind]] = []
    if not starts or utc(starts[0]) > observed_at:
        segments.append((None, observed_at, None, "observed"))
    else:
        model = load_models().get(slug) if slug else None
        if model is not None and model.release_date < starts[0]:
            segments.append((None, utc(model.release_date), None, "observed"))
        else:
            log.warning(
                "%s: %s: the price before %s has no start date (model %s): left out",
                NAME,
                where,
                starts[0],
                "not in the catalog" if model is None else f"released {model.release_date}",
            )
    for day in starts:
        if utc(day) > observed_at:
            segments.append((day, observed_at, utc(day), "announced"))
        else:
            segments.append((day, utc(day), None, "observed"))
    return segments


def _model_items(provider: str, model: Any, observed_at: datetime) -> list[HistoryItem]:
    if not isinstance(model, dict) or not isinstance(model.get("id"), str) or "prices" not in model:
        raise ParseError(NAME, f"{provider}: model entry without id/prices: {str(model)[:120]}")
    model_id = model["id"]
    where = f"{provider}/{model_id}"
    entries = _entries(where, model["prices"])
    if len({e.window for e in entries if e.window}) > 1:
        raise ParseError(NAME, f"{where}: more than one time-of-day window")
    starts = sorted({e.start for e in entries if e.start})
    thresholds: list[int | None] = [None]
    thresholds += sorted(set().union(*(_tier_starts(e.prices) for e in entries)))
    base_id, listed_variant = listing_variant(model_id, model.get("name"))
    slug = resolve_model(provider, base_id)
    items = []
    segments = _segments(where, starts, slug, observed_at)
    in_effect = max((n for n, s in enumerate(segments) if s[2] is None), default=-1)
    for n, (day, seen, effective, kind) in enumerate(segments):
        current = n == in_effect
        for (variant, tier), fields in _segment_offers(where, entries, day, thresholds).items():
            variant = listed_variant if variant == STANDARD else variant
            if "input_usd_per_mtok" not in fields or "output_usd_per_mtok" not in fields:
                continue
            price = LlmPrice(
                source=NAME,
                provider=provider,
                provider_model_id=model_id,
                model=slug,
                variant=variant,
                context_tier=tier,
                free=fields["input_usd_per_mtok"] == 0 and fields["output_usd_per_mtok"] == 0,
                observed_at=seen,
                effective_from=effective,
                source_url=URL,
                **fields,
            )
            items.append(HistoryItem(price, kind, seen_through=observed_at if current else None))
    return items


def parse(raw: bytes, *, observed_at: datetime | None = None) -> list[HistoryItem]:
    """Every text token price of the feed, dated as the module docstring says.

    ``observed_at`` is when the feed was fetched (default: now).
    """
    seen = (observed_at or datetime.now(UTC)).astimezone(UTC)
    items = [
        item
        for provider in _document(raw)
        for model in provider["models"]
        for item in _model_items(provider["id"], model, seen)
    ]
    if not items:
        raise ParseError(NAME, "no token prices found: the feed structure has probably changed")
    return items
