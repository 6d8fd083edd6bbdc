"""RunPod GPU pod prices: the GraphQL ``gpuTypes`` listing and the pricing page.

Accepted recordings:
- the GraphQL response (``{"data": {"gpuTypes": [...]}}``) or its bare
  ``gpuTypes`` array, as collectors store it;
- www.runpod.io/pricing, 2025 Webflow generation: rows whose price element
  carries ``data-secure-cloud-price`` / ``data-community-cloud-price``;
- www.runpod.io/pricing, 2026 generation: the ``application/ld+json`` block whose
  ``Product`` entries hold an AggregateOffer per GPU (Community / Secure Cloud).

Secure Cloud is RunPod's own data-centre price (``on_demand``); Community Cloud
is third-party hosts (``community``). Every price is per GPU for a 1-GPU pod.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from bs4 import BeautifulSoup

from costcurve.catalog.gpus import canonical_gpu
from scrapers._gpu_common import Skips, positive_price
from scrapers.base import GpuPricing, GpuRate, ParseError, SourceInfo, load_json, looks_blocked
from scrapers.http import request_bytes

URL = "https://api.runpod.io/graphql"
PAGE_URL = "https://www.runpod.io/pricing"
SOURCE = SourceInfo(
    slug="runpod",
    kind="gpu_rate",
    url=URL,
    listing_complete=True,
    description="RunPod gpuTypes (secure, community and savings-plan prices per GPU)",
)

_FIELDS = (
    "id displayName memoryInGb securePrice communityPrice oneWeekPrice oneMonthPrice "
    "threeMonthPrice sixMonthPrice clusterPrice "
    "lowestPrice(input:{gpuCount:1}) { minimumBidPrice uninterruptablePrice stockStatus }"
)
QUERY = "query { gpuTypes { " + _FIELDS + " } }"
# Without an API key RunPod answers only the public fields.
PUBLIC_QUERY = "query { gpuTypes { id displayName memoryInGb securePrice communityPrice } }"

# gpuTypes field -> pricing. Left out: clusterPrice (Instant Clusters, 1.2x
# secure; no pricing category in the contract) and lowestPrice: in every recorded
# response its minimumBidPrice equals uninterruptablePrice (the cheaper on-demand
# price) for all GPU types but one, so it does not measure the spot market.
_GRAPHQL_PRICES: dict[str, GpuPricing] = {
    "securePrice": "on_demand",
    "communityPrice": "community",
    "oneWeekPrice": "reserved_1w",
    "oneMonthPrice": "reserved_1m",
    "threeMonthPrice": "reserved_3m",
    "sixMonthPrice": "reserved_6m",
}
# RunPod answers 0.5 for a secure or community price it has no real value for
# (an H200 NVL or MI300X "community" at $0.50/h, a workstation card's "secure"
# below its community price). A 0.5 stands only when the type's other cloud
# price confirms it: community never above secure, and within
# PLACEHOLDER_RATIO of it.
PLACEHOLDER = Decimal("0.5")
PLACEHOLDER_RATIO = Decimal(3)
_CLOUD_PAIR = {"securePrice": "communityPrice", "communityPrice": "securePrice"}

_OFFER_NAMES: dict[str, GpuPricing] = {"secure cloud": "on_demand", "community cloud": "community"}
# In RunPod's naming the 40 GB A100 is "A100 SXM 40GB"; the bare names are the
# 80 GB parts (memoryInGb in gpuTypes). The JSON-LD block gives no memory.
_PAGE_MEMORY = {"A100 PCIE": 80, "A100 SXM": 80}


def fetch(client: httpx.Client) -> bytes:
    raw = request_bytes(client, URL, method="POST", json={"query": QUERY})
    doc = json.loads(raw)
    if doc.get("errors") and not (doc.get("data") or {}).get("gpuTypes"):
        raw = request_bytes(client, URL, method="POST", json={"query": PUBLIC_QUERY})
    return raw


def parse(raw: bytes, *, observed_at: datetime) -> list[GpuRate]:
    head = raw.lstrip()[:1]
    if head in (b"[", b"{"):
        return _parse_graphql(load_json("runpod", raw), observed_at)
    if reason := looks_blocked(raw):
        raise ParseError("runpod", f"got a {reason}, not the pricing page")
    text = raw.decode("utf-8", errors="replace")
    if "application/ld+json" in text:
        return _parse_ldjson(text, observed_at)
    if "data-secure-cloud-price" in text:
        return _parse_webflow(text, observed_at)
    raise ParseError(
        "runpod",
        "expected gpuTypes JSON, pricing-page rows with data-secure-cloud-price, "
        "or the pricing page's ld+json Product offers",
    )


def _rate(
    gpu: str, pricing: GpuPricing, price: Decimal, observed_at: datetime, url: str
) -> GpuRate:
    return GpuRate(
        source="runpod",
        provider="runpod",
        gpu=gpu,
        gpu_count=1,
        pricing=pricing,
        usd_per_gpu_hour=price,
        usd_per_instance_hour=price,
        observed_at=observed_at,
        source_url=url,
    )


def _parse_graphql(doc: Any, observed_at: datetime) -> list[GpuRate]:
    if isinstance(doc, dict) and doc.get("errors") and not doc.get("data"):
        raise ParseError("runpod", f"GraphQL errors: {str(doc['errors'])[:200]}")
    types = doc.get("data", {}).get("gpuTypes") if isinstance(doc, dict) else doc
    if not isinstance(types, list):
        raise ParseError("runpod", "expected data.gpuTypes (an array of GPU types)")
    skips, seen, out = Skips("runpod"), set(), []
    for entry in types:
        if not isinstance(entry, dict) or "id" not in entry or "securePrice" not in entry:
            raise ParseError("runpod", f"gpuTypes entry without id/securePrice: {entry!r:.120}")
        memory = entry.get("memoryInGb") or None
        gpu = canonical_gpu(entry["id"], memory) or canonical_gpu(
            str(entry.get("displayName") or ""), memory
        )
        if gpu is None:
            skips.add("GPU not in catalog.gpus.KNOWN_GPUS", f"{entry['id']} ({memory} GB)")
            continue
        if gpu in seen:
            skips.add("second RunPod type for the same canonical GPU", entry["id"])
            continue
        seen.add(gpu)
        for field, pricing in _GRAPHQL_PRICES.items():
            price = positive_price(entry.get(field))
            if price is None:
                continue  # null or 0: not offered that way
            if _placeholder(entry, field, price):
                skips.add(f"{field} is RunPod's 0.5 placeholder", entry["id"])
                continue
            out.append(_rate(gpu, pricing, price, observed_at, URL))
    return skips.done(out)


def _placeholder(entry: dict[str, Any], field: str, price: Decimal) -> bool:
    if price != PLACEHOLDER or field not in _CLOUD_PAIR:
        return False
    other = positive_price(entry.get(_CLOUD_PAIR[field]))
    if other is None:
        return True
    secure, community = (price, other) if field == "securePrice" else (other, price)
    return community > secure or secure > community * PLACEHOLDER_RATIO


def _page_gpu(skips: Skips, name: str, memory: int | None) -> str | None:
    key = re.sub(r"\s+", " ", name).strip().upper()
    return skips.gpu(name, memory or _PAGE_MEMORY.get(key))


def _parse_webflow(text: str, observed_at: datetime) -> list[GpuRate]:
    soup = BeautifulSoup(text, "lxml")
    skips, out = Skips("runpod"), []
    name: str | None = None
    memory: int | None = None
    # Walk in document order: the model name and VRAM tag precede each price
    # element (the recorded excerpt starts inside the first row's anchor).
    for tag in soup.find_all(["div"]):
        if tag.get("data-gradient") == "text-secondary":
            name, memory = tag.get_text(strip=True), None
        elif tag.get_text(strip=True) == "GB VRAM" and (prev := tag.find_previous_sibling()):
            memory = int(prev.get_text(strip=True))
        elif tag.has_attr("data-secure-cloud-price"):
            if name is None:
                raise ParseError("runpod", "price element before any GPU name")
            gpu = _page_gpu(skips, name, memory)
            if gpu is None:
                continue
            for attr, pricing in (
                ("data-secure-cloud-price", "on_demand"),
                ("data-community-cloud-price", "community"),
            ):
                price = positive_price(tag.get(attr))
                if price is not None:
                    out.append(_rate(gpu, pricing, price, observed_at, PAGE_URL))  # type: ignore[arg-type]
    return skips.done(out)


def _parse_ldjson(text: str, observed_at: datetime) -> list[GpuRate]:
    soup = BeautifulSoup(text, "lxml")
    products: list[dict[str, Any]] = []
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            doc = json.loads(script.string or "")
        except json.JSONDecodeError as exc:
            raise ParseError("runpod", f"ld+json block is not JSON: {exc}") from exc
        graph = doc.get("@graph", [doc]) if isinstance(doc, dict) else doc
        products += [g for g in graph if isinstance(g, dict) and g.get("@type") == "Product"]
    skips, out = Skips("runpod"), []
    for product in products:
        if "#gpu-" not in str(product.get("@id", "")):
            continue
        name = re.sub(r"\s+GPU on Runpod$", "", str(product.get("name", "")), flags=re.I)
        gpu = _page_gpu(skips, name, None)
        if gpu is None:
            continue
        for offer in (product.get("offers") or {}).get("offers") or []:
            pricing = _OFFER_NAMES.get(str(offer.get("name", "")).lower())
            price = positive_price(offer.get("price"))
            if offer.get("priceCurrency", "USD") != "USD":
                raise ParseError("runpod", f"{name}: offer not in USD: {offer!r:.120}")
            if pricing is None or price is None:
                skips.add("ld+json offer without a known cloud name or price", name)
                continue
            out.append(_rate(gpu, pricing, price, observed_at, PAGE_URL))
    if not products:
        raise ParseError("runpod", "ld+json block has no Product entries")
    return skips.done(out)
