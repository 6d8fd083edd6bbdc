"""Azure OpenAI / AI Foundry per-token meters from the Azure Retail Prices API.

``https://prices.azure.com/api/retail/prices`` lists one item per (meter,
region). Token meters are priced per 1K tokens (older models) or per 1M
("GPT 5 ... 1M Tokens"); per-1K prices are multiplied by 1000 exactly (the JSON
numbers are read as decimals, never floats). The meter name carries what the
price is for, abbreviated inconsistently ("gpt 4o 0806 Batch Outp Data Zone",
"o3 mini 0131 cached input glbl", "R1 Inp glbl"): :func:`read_meter` splits it
into the model words and the markers below, and the input, output and
cached-input meters of one (model, variant, deployment, region, modality) become
one observation.

* deployment ``global`` / ``data-zone`` / ``regional`` is part of the offering
  (never mixed), and so is the region the meter is billed in;
* "Batch" meters are the ``batch`` variant, "cached" meters the cached-input price;
* fine-tuning (training, hosting, fine-tuned inference, graders), provisioned
  throughput reservations and non-token meters (images, hours, sessions) are left
  out: they are not per-token list prices (README "Azure OpenAI").
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from costcurve.core.jsonenc import dumps
from scrapers.base import LlmPrice, ParseError, SourceInfo, load_json, looks_blocked, tidy
from scrapers.http import request_bytes

SLUG = "azure_openai"
PROVIDER = "azure"
URL = "https://prices.azure.com/api/retail/prices"
FILTER = "serviceName eq 'Cognitive Services' and startswith(productName, 'Azure OpenAI')"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=False,
    description="Azure OpenAI token meters (Retail Prices API): global/data-zone/regional",
)
_UNITS = {"1k": Decimal(1000), "1m": Decimal(1)}
_DIRECTION = {
    **dict.fromkeys(("inp", "input", "inpt"), "input"),
    **dict.fromkeys(("outp", "output", "outpt", "out", "opt"), "output"),
}
_CACHED = {"cached", "cchd", "cched", "cache"}
_DEPLOYMENT = {
    **dict.fromkeys(("glbl", "global"), "global"),
    **dict.fromkeys(("dzone", "dzn", "dz", "datazone"), "data-zone"),
    **dict.fromkeys(("regnl", "regional", "rgnl", "regn", "region"), "regional"),
}
# Fine-tuning, graders, training and hosting meters are not per-token list prices.
_NOT_LIST = {"ft", "trng", "training", "hstng", "hosting", "grdr", "grader", "mdl", "mdel"}
_MODALITY = {"aud": "audio", "audio": "audio", "img": "image", "image": "image"}


@dataclass(frozen=True)
class Meter:
    model: str
    direction: str  # input | output
    cached: bool
    batch: bool
    deployment: str | None
    modality: str


def read_meter(name: str) -> Meter | None:
    """The parts of a token meter name, or None when it is not a list token price."""
    text = re.sub(r"\s+(?:1m\s+)?tokens$", "", name.strip().lower())
    text = text.replace("data zone", "datazone")
    words = [w for w in re.split(r"[\s\-]+", text) if w]
    if not words or _NOT_LIST & set(words) or "fine" in words:
        return None
    direction = next((_DIRECTION[w] for w in words if w in _DIRECTION), None)
    if direction is None:
        return None
    deployment = next((_DEPLOYMENT[w] for w in words if w in _DEPLOYMENT), None)
    markers = set(_DIRECTION) | _CACHED | set(_DEPLOYMENT) | {"batch"}
    model_words = [w for w in words if w not in markers]
    if not model_words:
        return None
    has_text = "txt" in words or "text" in words
    modality = next((_MODALITY[w] for w in words if w in _MODALITY), "text")
    return Meter(
        model="-".join(model_words),
        direction=direction,
        cached=bool(_CACHED & set(words)),
        batch="batch" in words,
        deployment=deployment,
        modality="text" if has_text else modality,
    )


def fetch(client: httpx.Client) -> bytes:
    lines: list[str] = []
    url: str | None = URL
    params: dict[str, str] | None = {"$filter": FILTER, "currencyCode": "USD"}
    while url:
        page = load_json(SLUG, request_bytes(client, url, params=params), decimals=True)
        # jsonenc writes the exact decimals back as JSON numbers.
        lines.extend(dumps(item) for item in page.get("Items", []))
        url, params = page.get("NextPageLink"), None  # the next link carries the query
    return ("\n".join(lines) + "\n").encode()


def _items(raw: bytes) -> list[dict[str, Any]]:
    text = raw.decode("utf-8", errors="replace").strip()
    if text.startswith("{") and "\n" in text:
        if reason := looks_blocked(raw):
            raise ParseError(SLUG, f"expected Retail Prices items, got a {reason}")
        items: Any = [load_json(SLUG, line.encode(), decimals=True) for line in text.splitlines()]
    else:
        doc = load_json(SLUG, raw, expected="Retail Prices API items", decimals=True)
        # The API page envelope, a bare list, or a single NDJSON item.
        items = doc.get("Items", [doc]) if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not items:
        raise ParseError(SLUG, "expected a list of Retail Prices items")
    for item in items:
        if not isinstance(item, dict) or not {"meterName", "retailPrice", "unitOfMeasure"} <= set(
            item
        ):
            raise ParseError(SLUG, f"not a Retail Prices item: {str(item)[:100]}")
    return items


def _when(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(SLUG, f"not a date: {value!r}") from None


def _in_effect(item: dict[str, Any], observed_at: datetime) -> bool:
    """Not ended, and not only announced for later (the next snapshot will carry it)."""
    end, start = _when(item.get("effectiveEndDate")), _when(item.get("effectiveStartDate"))
    return (end is None or end > observed_at) and (start is None or start <= observed_at)


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    groups: dict[tuple[str, str, str | None, str | None, str], dict[str, Decimal]]
    groups = defaultdict(dict)
    starts: dict[tuple[Any, str], str] = {}
    for item in _items(raw):
        scale = _UNITS.get(str(item["unitOfMeasure"]).strip().lower())
        meter = read_meter(str(item["meterName"])) if scale is not None else None
        if meter is None or scale is None or not _in_effect(item, observed_at):
            continue
        if Decimal(str(item.get("tierMinimumUnits", 0))) > 0:
            continue  # volume tiers above the first are not the list price
        price = item["retailPrice"]
        if isinstance(price, bool) or not isinstance(price, int | Decimal) or price < 0:
            raise ParseError(SLUG, f"{item['meterName']}: retailPrice {price!r} is not a price")
        variant = "batch" if meter.batch else "standard"
        region = str(item.get("armRegionName") or "") or None
        key = (meter.model, variant, meter.deployment, region, meter.modality)
        field = "cached" if meter.cached else meter.direction
        # A meter listed for several effective dates: the latest one in effect wins.
        start = str(item.get("effectiveStartDate") or "")
        if starts.get((key, field), "") > start:
            continue
        starts[(key, field)] = start
        groups[key][field] = tidy(Decimal(price) * scale)
    out = [
        LlmPrice(
            source=SLUG,
            provider=PROVIDER,
            provider_model_id=model,
            input_usd_per_mtok=fields.get("input"),
            output_usd_per_mtok=fields.get("output"),
            cached_input_usd_per_mtok=fields.get("cached"),
            variant=variant,
            modality=modality,
            deployment=deployment,
            region=region,
            observed_at=observed_at,
            source_url=URL,
        )
        for (model, variant, deployment, region, modality), fields in sorted(
            groups.items(), key=lambda kv: tuple(str(p) for p in kv[0])
        )
        if "input" in fields or "output" in fields
    ]
    if not out:
        raise ParseError(SLUG, "no per-token meters found")
    return out
