"""vast.ai marketplace: the live offer book, aggregated per canonical GPU.

Accepted recordings: one offer per line (JSONL), as ``fetch`` and collectors
store the ``/api/v0/search/asks/`` sweep of both books, each record carrying
``rental_type`` ("on-demand" or "bid"; the API response itself does not say).

A marketplace has no single price, so each snapshot yields, per canonical GPU
and pricing (``on_demand``; ``spot`` for interruptible "bid" offers), three
statistics of the per-GPU hourly price over the offers that pass the filter:

- per-GPU price of an offer = ``dph_total / num_gpus`` (``dph_total`` is what a
  renter pays per hour for the whole offer, default disk included), computed
  in Decimal from the JSON number's shortest decimal form (``str(float)``);
- filter: ``reliability2 >= MIN_RELIABILITY``; offers of any bundle size are
  pooled, so ``gpu_count`` is 1 (the price of one GPU);
- ``min``, ``p10``, ``median`` by the nearest-rank method: sort ascending, the
  p-quantile of n values is the value at 1-based rank ``ceil(p * n)`` (rank 1
  for the minimum), so every statistic is a real offer's price;
- the chosen value is rounded to ``QUANTUM`` (1e-6 USD) half-even.

``offer_count`` is the number of offers behind the statistics.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import httpx

from scrapers._gpu_common import Skips
from scrapers.base import GpuPricing, GpuRate, ParseError, SourceInfo, looks_blocked, tidy
from scrapers.http import request_bytes

URL = "https://console.vast.ai/api/v0/search/asks/"
SOURCE = SourceInfo(
    slug="vastai",
    kind="gpu_rate",
    url=URL,
    listing_complete=True,
    description="vast.ai offer book: min/p10/median per-GPU price per GPU model",
)

# Hosts below 95% measured reliability are mostly flaky home rigs whose prices
# would drag the floor below anything one can actually use.
MIN_RELIABILITY = Decimal("0.95")
STATISTICS = {"min": Decimal(0), "p10": Decimal("0.1"), "median": Decimal("0.5")}
QUANTUM = Decimal("0.000001")
_RENTAL_TYPES: dict[str, GpuPricing] = {"on-demand": "on_demand", "bid": "spot"}
_PAGE = 64  # the server's cap per response
_MAX_PAGES = 400


def fetch(client: httpx.Client) -> bytes:
    """Sweep both books with a dph_total price cursor; one JSON line per offer."""
    lines: list[bytes] = []
    for rental_type in _RENTAL_TYPES:
        for offer in _sweep(client, rental_type):
            offer["rental_type"] = rental_type
            lines.append(json.dumps(offer, separators=(",", ":")).encode())
    return b"\n".join(lines) + b"\n"


def _sweep(client: httpx.Client, rental_type: str) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {}
    floor: float | None = None
    for _ in range(_MAX_PAGES):
        query: dict[str, Any] = {
            "rentable": {"eq": True},
            "limit": _PAGE,
            "type": rental_type,
            "order": [["dph_total", "asc"], ["id", "asc"]],
        }
        if floor is not None:
            query["dph_total"] = {"gte": floor}
        body = request_bytes(client, URL, method="PUT", json={"q": query})
        offers = json.loads(body).get("offers", [])
        new = [o for o in offers if o["id"] not in seen]
        seen.update((o["id"], o) for o in offers)
        if not offers or (not new and len(offers) < _PAGE):
            break
        floor = offers[-1]["dph_total"] + (0 if new else 1e-9)
    return list(seen.values())


def _offers(raw: bytes) -> list[Any]:
    offers = []
    for number, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            offers.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ParseError("vastai", f"line {number} is not a JSON offer: {exc}") from exc
    return offers


def nearest_rank(sorted_values: list[Decimal], p: Decimal) -> Decimal:
    rank = max(1, math.ceil(p * len(sorted_values)))
    return sorted_values[rank - 1]


def parse(raw: bytes, *, observed_at: datetime) -> list[GpuRate]:
    if not raw.lstrip().startswith(b"{") and (reason := looks_blocked(raw)):
        raise ParseError("vastai", f"got a {reason}, not the offer book")
    try:
        offers = _offers(raw)
    except UnicodeDecodeError as exc:
        raise ParseError("vastai", f"expected JSON lines of offers: {exc}") from exc
    skips = Skips("vastai")
    books: defaultdict[tuple[str, GpuPricing], list[Decimal]] = defaultdict(list)
    for offer in offers:
        key = _offer_key(offer, skips)
        if key is None:
            continue
        books[key].append(Decimal(str(offer["dph_total"])) / int(offer["num_gpus"]))
    out = []
    for (gpu, pricing), prices in sorted(books.items()):
        prices.sort()
        for statistic, p in STATISTICS.items():
            value = tidy(nearest_rank(prices, p).quantize(QUANTUM, rounding=ROUND_HALF_EVEN))
            out.append(
                GpuRate(
                    source="vastai",
                    provider="vastai",
                    gpu=gpu,
                    gpu_count=1,
                    pricing=pricing,
                    usd_per_gpu_hour=value,
                    statistic=statistic,
                    offer_count=len(prices),
                    observed_at=observed_at,
                    source_url=URL,
                )
            )
    return skips.done(out)


def _offer_key(offer: Any, skips: Skips) -> tuple[str, GpuPricing] | None:
    required = ("gpu_name", "num_gpus", "dph_total", "reliability2", "rental_type")
    if not isinstance(offer, dict) or any(k not in offer for k in required):
        raise ParseError("vastai", f"offer without {', '.join(required)}: {str(offer)[:120]}")
    pricing = _RENTAL_TYPES.get(offer["rental_type"])
    if pricing is None:
        raise ParseError("vastai", f"unknown rental_type {offer['rental_type']!r}")
    if not offer["num_gpus"] or offer["dph_total"] is None or offer["dph_total"] < 0:
        skips.add("offer without GPUs or price", str(offer.get("id")))
        return None
    if Decimal(str(offer["reliability2"] or 0)) < MIN_RELIABILITY:
        skips.add(f"reliability below {MIN_RELIABILITY}", str(offer.get("id")))
        return None
    memory = round(offer["gpu_ram"] / 1024) if offer.get("gpu_ram") else None
    gpu = skips.gpu(str(offer["gpu_name"]), memory)
    return (gpu, pricing) if gpu else None
