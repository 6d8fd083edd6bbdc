"""CoreWeave GPU prices from its pricing page (2023 "GPU Component" layout).

Accepted recording: coreweave.com/gpu-cloud-pricing as archived in 2023, a
Webflow table of ``div.table-body-row`` rows: GPU name (``a[data-product]``),
VRAM (GB), max vCPUs and RAM per GPU, and the "GPU Component Cost Per Hour".

In that layout an instance is billed as GPU + vCPU + RAM components, so the
price is per GPU alone and there is no instance price. The page offered no
other terms, so every row is ``on_demand``. The 2024+ page (instance prices
per 8-GPU node) is not recorded; it raises ParseError until a parser for it
is written against a real copy.
"""

from __future__ import annotations

import re
from datetime import datetime

import httpx
from bs4 import BeautifulSoup

from scrapers._gpu_common import Skips, positive_price
from scrapers.base import GpuRate, ParseError, SourceInfo, looks_blocked
from scrapers.http import request_bytes

URL = "https://www.coreweave.com/gpu-cloud-pricing"
SOURCE = SourceInfo(
    slug="coreweave",
    kind="gpu_rate",
    url=URL,
    listing_complete=True,
    description="CoreWeave per-GPU component prices (2023 page layout)",
)

_PRICE_RE = re.compile(r"\$\s*(\d+(?:\.\d+)?)")


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def parse(raw: bytes, *, observed_at: datetime) -> list[GpuRate]:
    if reason := looks_blocked(raw):
        raise ParseError("coreweave", f"got a {reason}, not the pricing page")
    soup = BeautifulSoup(raw, "lxml")
    rows = soup.select("div.table-body-row")
    if "GPU Component" not in soup.get_text() or not rows:
        raise ParseError(
            "coreweave",
            "expected the 'GPU Component Cost Per Hour' table (div.table-body-row rows)",
        )
    skips, out = Skips("coreweave"), []
    for row in rows:
        link = row.select_one("a[data-product]")
        if link is None:
            raise ParseError("coreweave", f"row without a[data-product]: {row.get_text()[:80]}")
        name = link.get_text(" ", strip=True)
        cells = [c.get_text(" ", strip=True) for c in row.find_all("div", class_="w-col")]
        match = _PRICE_RE.search(cells[-1]) if len(cells) >= 5 else None
        if match is None:
            skips.add("row without a price", name)  # the archived excerpt ends mid-row
            continue
        memory = int(cells[1]) if cells[1].isdigit() else None
        gpu = skips.gpu(name, memory)
        price = positive_price(match[1])
        if gpu is None or price is None:
            continue
        out.append(
            GpuRate(
                source="coreweave",
                provider="coreweave",
                gpu=gpu,
                gpu_count=1,
                pricing="on_demand",
                usd_per_gpu_hour=price,
                observed_at=observed_at,
                source_url=URL,
            )
        )
    return skips.done(out)
