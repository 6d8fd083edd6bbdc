"""Azure GPU virtual machines from the Retail Prices API (prices.azure.com).

Accepted recordings: the API envelope ``{"Items": [...], "NextPageLink": ...}``
(``fetch`` stores all pages merged into one envelope) or a bare array of items.
Items need only armSkuName, armRegionName, retailPrice, unitOfMeasure,
meterName, productName and type.

- Linux and Windows meters are separate offers (``os``); Windows meters are the
  ones whose productName contains "Windows" (the Windows licence is in the price).
- "Spot" meters are ``spot``; "Low Priority" meters (Azure Batch's
  pre-emptible pools, priced on their own meter) are ``low_priority``, an
  offering of their own, never mixed with spot.
- Only ``type == "Consumption"`` items are read. Reservation items quote the
  price of the whole term and DevTest items a subscription-only rate; neither
  is in the recordings, so neither is parsed.
- GPU model and count per VM size come from the reviewed ``VM_GPUS`` table;
  sizes not in it are skipped (counted) and a page without any is a ParseError.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, cast

import httpx

from scrapers._gpu_common import Skips, per_gpu, positive_price
from scrapers.base import GpuPricing, GpuRate, ParseError, SourceInfo, load_json
from scrapers.http import request_bytes

URL = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"
SOURCE = SourceInfo(
    slug="azure",
    kind="gpu_rate",
    url=URL,
    listing_complete=True,
    description="Azure Retail Prices API: GPU VM sizes, Linux/Windows, on-demand and spot",
)

_DOCS = "https://learn.microsoft.com/en-us/azure/virtual-machines/sizes/gpu-accelerated/"
# armSkuName -> (canonical GPU, GPUs per VM). Reviewed against the size pages.
VM_GPUS: dict[str, tuple[str, int]] = {
    # NC A100 v4 (A100 PCIe 80 GB): _DOCS + "nca100v4-series"
    "Standard_NC24ads_A100_v4": ("A100-PCIE-80GB", 1),
    "Standard_NC48ads_A100_v4": ("A100-PCIE-80GB", 2),
    "Standard_NC96ads_A100_v4": ("A100-PCIE-80GB", 4),
    # ND A100 v4 (A100 SXM 40 GB): _DOCS + "nda100v4-series"
    "Standard_ND96asr_v4": ("A100-SXM-40GB", 8),
    # NDm A100 v4 (A100 SXM 80 GB): _DOCS + "ndma100v4-series"
    "Standard_ND96amsr_A100_v4": ("A100-SXM-80GB", 8),
    # ND H100 v5 (H100 SXM 80 GB): _DOCS + "ndh100v5-series"
    "Standard_ND96isr_H100_v5": ("H100-SXM-80GB", 8),
    # NC H100 v5 (H100 NVL 94 GB): _DOCS + "nch100v5-series"
    "Standard_NC40ads_H100_v5": ("H100-NVL-94GB", 1),
    "Standard_NC80adis_H100_v5": ("H100-NVL-94GB", 2),
    # ND H200 v5 (H200 141 GB): _DOCS + "ndh200v5-series"
    "Standard_ND96isr_H200_v5": ("H200-SXM-141GB", 8),
    # ND MI300X v5 (MI300X 192 GB): _DOCS + "ndmi300xv5-series"
    "Standard_ND96isr_MI300X_v5": ("MI300X-192GB", 8),
    # NCv3 (V100 PCIe 16 GB): _DOCS + "ncv3-series"
    "Standard_NC6s_v3": ("V100-PCIE-16GB", 1),
    "Standard_NC12s_v3": ("V100-PCIE-16GB", 2),
    "Standard_NC24s_v3": ("V100-PCIE-16GB", 4),
    "Standard_NC24rs_v3": ("V100-PCIE-16GB", 4),
    # NCasT4_v3 (T4 16 GB): _DOCS + "ncast4v3-series"
    "Standard_NC4as_T4_v3": ("T4-16GB", 1),
    "Standard_NC8as_T4_v3": ("T4-16GB", 1),
    "Standard_NC16as_T4_v3": ("T4-16GB", 1),
    "Standard_NC64as_T4_v3": ("T4-16GB", 4),
}


def fetch(client: httpx.Client) -> bytes:
    skus = " or ".join(f"armSkuName eq '{sku}'" for sku in VM_GPUS)
    params: dict[str, str] | None = {
        "api-version": API_VERSION,
        "$filter": f"serviceName eq 'Virtual Machines' and ({skus})",
    }
    url: str | None = URL
    items: list[Any] = []
    while url:
        page = json.loads(request_bytes(client, url, params=params))
        items += page.get("Items", [])
        # NextPageLink carries the filter and a $skip already.
        url, params = page.get("NextPageLink"), None
    envelope = {"BillingCurrency": "USD", "Items": items, "NextPageLink": None, "Count": len(items)}
    return json.dumps(envelope).encode()


def _items(doc: Any) -> list[Any]:
    if isinstance(doc, dict) and isinstance(doc.get("Items"), list):
        if doc.get("BillingCurrency", "USD") != "USD":
            raise ParseError("azure", f"prices in {doc['BillingCurrency']}, expected USD")
        return cast(list[Any], doc["Items"])
    if isinstance(doc, list):
        return doc
    raise ParseError("azure", "expected the Retail Prices envelope {'Items': [...]} or an array")


def _pricing(meter: str) -> tuple[GpuPricing, int]:
    """Pricing and preference (lower wins when two meters give the same offering)."""
    lowered = meter.lower()
    if lowered.endswith(" spot"):
        return "spot", 0
    if lowered.endswith(" low priority"):
        return "low_priority", 0
    return "on_demand", 0


def parse(raw: bytes, *, observed_at: datetime) -> list[GpuRate]:
    items = _items(load_json("azure", raw))
    skips = Skips("azure")
    chosen: dict[tuple[str, str, str, GpuPricing], tuple[int, GpuRate]] = {}
    gpu_items = 0
    for item in items:
        if not isinstance(item, dict) or "armSkuName" not in item or "retailPrice" not in item:
            raise ParseError("azure", f"item without armSkuName/retailPrice: {str(item)[:120]}")
        sku = item["armSkuName"]
        if sku not in VM_GPUS:
            skips.add("VM size not in VM_GPUS (not a known GPU size)", sku)
            continue
        gpu_items += 1
        if item.get("type", "Consumption") != "Consumption":
            skips.add(f"{item['type']} item", sku)
            continue
        if item.get("unitOfMeasure") != "1 Hour":
            raise ParseError("azure", f"{sku}: expected a price per '1 Hour', got {item!r:.160}")
        price = positive_price(item["retailPrice"])
        if price is None:
            skips.add("zero price", sku)
            continue
        gpu, count = VM_GPUS[sku]
        os = "windows" if "windows" in str(item.get("productName", "")).lower() else "linux"
        pricing, preference = _pricing(str(item.get("meterName", "")))
        region = str(item["armRegionName"])
        rate = GpuRate(
            source="azure",
            provider="azure",
            gpu=gpu,
            gpu_count=count,
            pricing=pricing,
            usd_per_gpu_hour=per_gpu(price, count),
            usd_per_instance_hour=price,
            region=region,
            instance_type=sku,
            os=os,
            observed_at=observed_at,
            source_url=URL,
        )
        key = (sku, region, os, pricing)
        if key in chosen:
            kept = chosen[key][0]
            skips.add("duplicate meter" if kept == preference else "Low Priority beside Spot", sku)
            if kept <= preference:
                continue
        chosen[key] = (preference, rate)
    if gpu_items == 0:
        raise ParseError("azure", "no GPU SKUs: none of the items is a VM size in VM_GPUS")
    return skips.done([rate for _, rate in chosen.values()])
