"""openrouterlist: OpenRouter's price of every model, dated, since 2024-09-21.

The document (``data/history/prices.json`` of jvrck/openrouterlist) is
``{as_of, model_count, models: {id: {name, first_seen, last_seen, present_now,
points: [[date, prompt, completion], ...]}}}``, prices in USD per million
tokens; a collector checks OpenRouter's listing and writes a point whenever a
model's price changes.

How points become versions (tests/test_history_openrouterlist.py checks each):

* The seller is OpenRouter itself (``provider="openrouter"``): one text
  offering per model id, observed at 00:00 UTC of the point's date. A route
  suffix (``:batch``, ``:free``, ``:nitro``...) or a "(batch)" name marker
  makes it that ``variant`` of the base id's model (``core.offer_terms``).
* The model's open version was still listed at ``last_seen`` (the dataset's
  as-of for a model present now): ``HistoryItem.seen_through``, so freshness
  counts from there, not from the last price change.
* A point with null prices (router pseudo-models such as
  ``openrouter/auto-beta``) or a negative one (OpenRouter's ``-1`` "depends on
  the route" sentinel) has no price of its own and is skipped.
* The record has a day's resolution. Several points on one date: the last one
  listed is the price at the end of that date and the only one kept (the
  earlier ones held for less than a day and cannot be placed in time; they are
  counted in ``superseded``). A kept point equal to the price already in
  effect (a same-day blip that reverted) adds nothing and is dropped.
* Corrections: the dataset marks none, so the only evidence is its shape. A
  point that restores the price in effect before the previous point, when that
  previous point held for at most ``REVERT_WINDOW`` (one day: it was seen on a
  single date), is ``correction``: it undoes a blip. Every other point is
  ``observed``. The blip itself stays ``observed``: it was listed.
* A model no longer ``present_now`` was listed through ``last_seen`` and was
  gone at the next daily check, so its last version closes at ``last_seen``
  plus one day (``closes_at``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from costcurve.catalog import resolve_model
from costcurve.core.offer_terms import listing_variant, published_price
from scrapers.base import LlmPrice, ParseError, load_json, tidy, utc
from scrapers.history.base import ChangeKind, HistoryItem
from scrapers.http import request_bytes

NAME = "openrouterlist"
PROVIDER = "openrouter"
URL = "https://raw.githubusercontent.com/jvrck/openrouterlist/main/data/history/prices.json"
DESCRIPTION = "OpenRouter price history per model since 2024-09-21 (jvrck/openrouterlist)"
REVERT_WINDOW = timedelta(days=1)
# Every point carries its own date: a local copy needs no --observed-at.
SELF_DATED = True
# The upstream collector runs daily (freshness: db/freshness.py).
CADENCE = timedelta(days=1)

Point = tuple[date, Decimal, Decimal]


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _document(raw: bytes) -> dict[str, Any]:
    doc = load_json(NAME, raw, expected="the prices.json object", decimals=True)
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), dict):
        raise ParseError(NAME, "expected {as_of, model_count, models: {id: {...}}}")
    return doc


def _day(value: Any, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ParseError(NAME, f"{what}: {value!r} is not a YYYY-MM-DD date") from None


def _price(value: Any, what: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ParseError(NAME, f"{what}: price {value!r} is not a number")
    price = tidy(published_price(Decimal(value)))
    return None if price < 0 else price


def _points(model_id: str, entry: Any) -> list[tuple[Point, int]]:
    """The model's priced points, one per date (the day's last), with how many each superseded."""
    points = entry.get("points") if isinstance(entry, dict) else None
    if not isinstance(points, list):
        raise ParseError(NAME, f"{model_id}: expected an object with a points list")
    by_day: dict[date, tuple[Point | None, int]] = {}
    for raw_point in points:
        if not isinstance(raw_point, list) or len(raw_point) != 3:
            raise ParseError(
                NAME, f"{model_id}: point {raw_point!r} is not [date, prompt, completion]"
            )
        day = _day(raw_point[0], model_id)
        prompt = _price(raw_point[1], model_id)
        completion = _price(raw_point[2], model_id)
        priced = None if prompt is None or completion is None else (day, prompt, completion)
        earlier = by_day.get(day)
        by_day[day] = (priced, 0 if earlier is None else earlier[1] + 1)
    return [(p, n) for _, (p, n) in sorted(by_day.items()) if p is not None]


def _kinds(points: list[Point]) -> list[ChangeKind]:
    kinds: list[ChangeKind] = []
    for i, (day, *prices) in enumerate(points):
        reverts = (
            i >= 2 and prices == list(points[i - 2][1:]) and day - points[i - 1][0] <= REVERT_WINDOW
        )
        kinds.append("correction" if reverts else "observed")
    return kinds


def _model_items(model_id: str, entry: dict[str, Any]) -> list[HistoryItem]:
    kept: list[tuple[Point, int]] = []
    for point, superseded in _points(model_id, entry):
        if kept and kept[-1][0][1:] == point[1:]:
            continue  # a same-day change that reverted before the day ended
        kept.append((point, superseded))
    if not kept:
        return []
    closes_at = None
    if entry.get("present_now") is False:
        closes_at = utc(_day(entry.get("last_seen"), f"{model_id} last_seen") + timedelta(days=1))
        if closes_at <= utc(kept[-1][0][0]):
            raise ParseError(NAME, f"{model_id}: last_seen precedes its last price point")
    base_id, variant = listing_variant(model_id, entry.get("name"))
    model = resolve_model(PROVIDER, base_id)
    seen_through = _seen_through(model_id, entry)
    items = []
    kinds = _kinds([p for p, _ in kept])
    for i, ((day, prompt, completion), superseded) in enumerate(kept):
        price = LlmPrice(
            source=NAME,
            provider=PROVIDER,
            provider_model_id=model_id,
            model=model,
            variant=variant,
            input_usd_per_mtok=prompt,
            output_usd_per_mtok=completion,
            free=prompt == 0 and completion == 0,
            observed_at=utc(day),
            source_url=URL,
        )
        last = i == len(kept) - 1
        items.append(
            HistoryItem(
                price,
                kinds[i],
                closes_at=closes_at if last else None,
                superseded=superseded,
                seen_through=seen_through if last and closes_at is None else None,
            )
        )
    return items


def _seen_through(model_id: str, entry: dict[str, Any]) -> datetime | None:
    last_seen = entry.get("last_seen")
    return None if last_seen is None else utc(_day(last_seen, f"{model_id} last_seen"))


# ``observed_at`` is the parse contract; this dataset dates its own rows.
def parse(raw: bytes, *, observed_at: datetime | None = None) -> list[HistoryItem]:  # noqa: ARG001
    """Every dated price in the document; ``observed_at`` is unused (points carry dates)."""
    doc = _document(raw)
    items = [
        item
        for model_id, entry in sorted(doc["models"].items())
        for item in _model_items(model_id, entry)
    ]
    if not items:
        raise ParseError(
            NAME, "no priced points found: the document structure has probably changed"
        )
    return items
