"""Lambda Cloud on-demand instance prices from its pricing page.

Accepted recordings (two page generations):
- lambdalabs.com/service/gpu-cloud (2024): one table, rows named
  "On-demand 8x NVIDIA H100 SXM", VRAM per GPU, price "$2.99 / GPU / hr";
- lambda.ai/pricing (2026): "Instances pricing" tabs (8x, 4x, 2x, 1x), each a
  table of ``tr[data-plan]`` rows with "VRAM/GPU" and "PRICE/GPU/HR*" cells.

Both quote the price per GPU; the instance price is that times the GPU count.
Reserved rows say "CONTACT SALES" and carry no price.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import httpx
from bs4 import BeautifulSoup, Tag

from scrapers._gpu_common import Skips
from scrapers.base import GpuRate, ParseError, SourceInfo, looks_blocked, to_decimal
from scrapers.http import request_bytes

URL = "https://lambda.ai/pricing"
SOURCE = SourceInfo(
    slug="lambda",
    kind="gpu_rate",
    url=URL,
    listing_complete=True,
    description="Lambda Cloud on-demand instances (per-GPU price, 1x-8x)",
)

_PRICE_RE = re.compile(r"\$\s*([\d,]+(?:\.\d+)?)")
_ROW_2024_RE = re.compile(r"^(On-demand|Reserved)\s+(\d+)x\s+(.+)$", re.I)
_TAB_RE = re.compile(r"^(\d+)x$")


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def parse(raw: bytes, *, observed_at: datetime) -> list[GpuRate]:
    if reason := looks_blocked(raw):
        raise ParseError("lambda", f"got a {reason}, not the pricing page")
    soup = BeautifulSoup(raw, "lxml")
    if soup.select("tr[data-plan]"):
        rows = list(_rows_2026(soup))
    elif "/ GPU / hr" in soup.get_text():
        rows = list(_rows_2024(soup))
    else:
        raise ParseError(
            "lambda",
            "expected the lambda.ai instance tables (tr[data-plan]) or the "
            "lambdalabs.com table with '$x / GPU / hr' cells",
        )
    skips, out = Skips("lambda"), []
    for name, count, memory, price in rows:
        gpu = skips.gpu(name, memory)
        if gpu is None:
            continue
        out.append(
            GpuRate(
                source="lambda",
                provider="lambda",
                gpu=gpu,
                gpu_count=count,
                pricing="on_demand",
                usd_per_gpu_hour=price,
                usd_per_instance_hour=price * count,
                observed_at=observed_at,
                source_url=URL,
            )
        )
    return skips.done(out)


Row = tuple[str, int, int | None, Decimal]


def _memory(text: str) -> int | None:
    m = re.search(r"(\d+)\s*GB", text)
    return int(m[1]) if m else None


def _price(text: str, where: str) -> Decimal:
    m = _PRICE_RE.search(text)
    if not m:
        raise ParseError("lambda", f"{where}: no $ price in {text!r}")
    return to_decimal(m[1])


def _rows_2026(soup: BeautifulSoup) -> list[Row]:
    counts: dict[str, int] = {}
    for tab in soup.select('[role="tab"][aria-controls]'):
        if m := _TAB_RE.match(tab.get_text(strip=True)):
            counts[str(tab["aria-controls"])] = int(m[1])
    rows: list[Row] = []
    for panel in soup.select('[role="tabpanel"]'):
        count = counts.get(str(panel.get("id")))
        if count is None:
            raise ParseError("lambda", f"tab panel {panel.get('id')} has no 'Nx' tab label")
        for tr in panel.select("tr[data-plan]"):
            cells = {str(c.get("data-label")): c.get_text(" ", strip=True) for c in _cells(tr)}
            price_cell = next((v for k, v in cells.items() if "PRICE" in k.upper()), None)
            if price_cell is None:
                raise ParseError("lambda", f"row {tr['data-plan']!r} has no PRICE cell")
            memory = _memory(cells.get("VRAM/GPU", ""))
            rows.append((str(tr["data-plan"]), count, memory, _price(price_cell, "lambda.ai")))
    return rows


def _cells(tr: Tag) -> list[Tag]:
    return [c for c in tr.find_all(["td", "th"]) if isinstance(c, Tag)]


def _rows_2024(soup: BeautifulSoup) -> list[Row]:
    rows: list[Row] = []
    for tr in soup.find_all("tr"):
        texts = [c.get_text(" ", strip=True) for c in _cells(tr)]
        if not texts or not (m := _ROW_2024_RE.match(texts[0])):
            continue
        kind, count, name = m.groups()
        price_text = texts[-1]
        if kind.lower() == "reserved" or "/ GPU / hr" not in price_text:
            continue  # reserved capacity: "CONTACT SALES", no listed price
        memory = _memory(texts[1]) if len(texts) > 1 else None
        rows.append((name, int(count), memory, _price(price_text, "lambdalabs.com")))
    return rows
