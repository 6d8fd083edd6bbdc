"""AWS Bedrock pricing page: per-token prices of every model Bedrock sells.

The page is a set of provider tabs, each with HTML tables; the recorded captures
(and ``fetch`` in production, through a rendering collector) are every table row
as ``{header: cell text}`` plus the tab path (``Provider``, ``Hierarchy_Path``,
``Pricing_Category``, ``Sub_Tab_N``). Rules, applied to headers and tab names,
never to a specific model:

* a row is a per-token price row when a header reads "Price per 1M / 1,000 ...
  tokens"; per-1,000 prices are scaled exactly to per million;
* the variant comes from the tab or table ("Batch", "Flex", "Priority",
  "Latency Optimized"), from a "(batch)" column (its own observation) or from a
  note in the model name ("(w/ latency optimized inference)", "(Public Extended
  Access ...)"); otherwise ``standard``;
* cache read/write columns fill the cache fields; "(text)/(audio)/..." columns
  split modalities;
* "Geo and In-region Cross-region Inference" and "Global Cross-region Inference"
  become ``deployment`` ``geo`` / ``global`` (kept apart, never mixed);
* provisioned throughput and custom-model rows (per hour, per model unit,
  commitments, training) are left out: they are capacity rentals, not per-token
  prices (README "Bedrock");
* when one table lists the same model twice at different prices (the page shows
  several regional price lists without naming the region), the cheapest list is
  the headline (``region`` null) and each other one is kept as
  ``region="unnamed-price-list-N"`` in ascending price order, never dropped;
* a list at exactly half of another list of the same model is a batch table
  shown without its label (Bedrock batch is half of on-demand): it is kept as
  variant ``inferred-batch``, so it can never be the standard headline.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from scrapers.base import LlmPrice, ParseError, SourceInfo, load_json, to_decimal
from scrapers.http import request_bytes

SLUG = "bedrock"
PROVIDER = "aws-bedrock"
URL = "https://aws.amazon.com/bedrock/pricing/"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=False,
    verified_only_on="rendered table rows as JSON (the collector's export); not the raw HTML",
    description="AWS Bedrock pricing tables (on-demand, batch, flex/priority, cache, geo/global)",
)
_META = {"provider", "hierarchy_path", "pricing_category", "regions", "modality"}
_TOKEN_PRICE = re.compile(
    r"^price per (?P<unit>1m|1,000|1000|1k)\s+(?P<what>[a-z ]*?)\s*tokens?\s*(?:\((?P<q>[^)]*)\))?$"
)
_CAPACITY = re.compile(r"per hour|commitment|model unit|training|to train|to store")
_NONE_CELLS = {"", "n/a", "na", "-", "non-ga", "coming soon"}
_NAME_NOTES = (
    (re.compile(r"\(w/ latency optimized inference\)", re.I), "latency-optimized"),
    (re.compile(r"\(public extended access[^)]*\)", re.I), "extended-access"),
    (re.compile(r"\(batch\)", re.I), "batch"),
    (re.compile(r"\(on-demand\)", re.I), None),
    (re.compile(r"\(preview\)", re.I), None),
)
_TAB_VARIANTS = (
    ("latency optimized", "latency-optimized"),
    ("batch", "batch"),
    ("flex", "flex"),
    ("priority", "priority"),
)
_MODALITIES = {"text", "audio", "image", "video"}


def fetch(client: httpx.Client) -> bytes:
    # The page renders its tables with JavaScript; production points this at the
    # rendering collector's JSON export of the rows (same shape as the captures).
    return request_bytes(client, URL)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def _header(key: str) -> str:
    return _clean(key).lower().replace("prce ", "price ")


def _cell_price(value: object, where: str) -> Decimal | None:
    text = _clean(str(value)).rstrip("*")
    if text.lower() in _NONE_CELLS:
        return None
    try:
        return to_decimal(text)
    except ValueError:
        raise ParseError(SLUG, f"{where}: not a price: {value!r}") from None


def _model_name(row: dict[str, Any]) -> str | None:
    for key, value in row.items():
        header = _header(key)
        if header in _META or header.startswith(("price", "sub_tab")):
            continue
        if "model" in header or header == "column_0":
            return _clean(str(value)) or None
    return None


def _variant_and_name(row: dict[str, Any], name: str) -> tuple[str, str]:
    variant = "standard"
    tabs = " ".join(_clean(str(row.get(k, ""))).lower() for k in row if k.startswith("Sub_Tab"))
    tabs += (
        " " + _clean(f"{row.get('Hierarchy_Path', '')} {row.get('Pricing_Category', '')}").lower()
    )
    for marker, found in _TAB_VARIANTS:
        if marker in tabs:
            variant = found
            break
    for pattern, note in _NAME_NOTES:
        if pattern.search(name):
            name = pattern.sub("", name)
            variant = note or variant
    return variant, _clean(name.replace("*", ""))


def _deployment(row: dict[str, Any]) -> str | None:
    tabs = _clean(f"{row.get('Hierarchy_Path', '')} {row.get('Pricing_Category', '')}").lower()
    if "global cross" in tabs:
        return "global"
    if "geo and in-region" in tabs or "in-region" in tabs:
        return "geo"
    return None


def _field(what: str, qualifier: str) -> tuple[str, str | None, str]:
    """(field, variant override, modality) for one token-price column."""
    q = qualifier.strip().lower()
    if q in _MODALITIES:
        return ("input" if "input" in what else "output"), None, q
    if q == "batch":
        return ("input" if "input" in what else "output"), "batch", "text"
    if "cache read" in q or "cached" in what:
        return "cached", None, "text"
    if "cache write" in q:
        return ("cache_write_1h" if re.search(r"\b1\s*h", q) else "cache_write"), None, "text"
    return ("input" if "input" in what else "output"), None, "text"


def _row_prices(
    row: dict[str, Any], where: str
) -> tuple[dict[tuple[str, str], dict[str, Decimal]], bool]:
    """Prices by (variant override, modality) as written, and whether they are per 1,000."""
    found: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    per_1k = False
    speech = _clean(str(row.get("Modality", ""))).lower() == "speech"
    for key, value in row.items():
        match = _TOKEN_PRICE.match(_header(key))
        if not match:
            continue
        field, variant, modality = _field(match["what"], match["q"] or "")
        price = _cell_price(value, f"{where} [{_clean(key)}]")
        if price is None:
            continue
        per_1k = per_1k or match["unit"] != "1m"
        found[(variant or "", "audio" if speech else modality)][field] = price
    return found, per_1k


def _per_million(fields: dict[str, Decimal], reference: Decimal | None) -> dict[str, Decimal]:
    """Scale a per-1,000 row to per million, unless its header is evidently mislabelled.

    The page has printed per-million prices under a "per 1,000 tokens" header
    (latency-optimized Claude 3.5 Haiku: "$1.00" per 1,000 would be $1,000/M,
    1,250x its own on-demand price). When the same model has an on-demand
    per-million input price on the page, and scaling would put this row above
    100x that price while the unscaled value is within 0.5x-10x of it, the value
    is already per million and is kept as written.
    """
    value = fields.get("input")
    mislabelled = (
        reference is not None
        and value is not None
        and reference > 0
        and value * 1000 > reference * 100
        and reference / 2 <= value <= reference * 10
    )
    if mislabelled:
        return fields
    return {k: v * 1000 for k, v in fields.items()}  # exact: Decimal arithmetic


def _combined(base: str, override: str) -> str:
    # A "(batch)" column of an extended-access row is extended-access batch pricing.
    if not override or override == base:
        return base
    return override if base == "standard" else f"{base}-{override}"


def _rows(raw: bytes) -> list[dict[str, Any]]:
    doc = load_json(SLUG, raw, expected="the Bedrock pricing table rows (JSON)")
    rows = doc.get("rows") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ParseError(SLUG, "expected a list of table-row objects")
    if not any("Hierarchy_Path" in r and "Provider" in r for r in rows):
        raise ParseError(SLUG, "no rows carry the Provider/Hierarchy_Path tab path")
    return rows


def _normalised(name: str) -> str:
    return re.sub(r"[\s\-]+", "-", name.lower())


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    # (normalised name, variant, deployment, modality) -> distinct price lists
    groups: dict[
        tuple[str, str, str | None, str], dict[tuple[Any, ...], tuple[str, dict[str, Decimal]]]
    ]
    groups = defaultdict(dict)
    entries = list(_entries(_rows(raw)))
    reference: dict[str, Decimal] = {}
    for key, _, fields, per_1k in entries:
        if not per_1k and key[1] == "standard" and key[3] == "text" and "input" in fields:
            known = reference.get(key[0])
            reference[key[0]] = min(fields["input"], known) if known else fields["input"]
    for key, model, fields, per_1k in entries:
        if per_1k:
            fields = _per_million(fields, reference.get(key[0]))
        groups[key].setdefault(tuple(sorted(fields.items())), (model, fields))
    groups = _split_half_price_lists(groups)
    out = [
        _observation(key, rank, model, fields, observed_at)
        for key, lists in groups.items()
        for rank, (model, fields) in enumerate(_cheapest_first(lists.values()), start=1)
    ]
    if not out:
        raise ParseError(SLUG, "no per-token price rows found")
    return out


def _entries(
    rows: list[dict[str, Any]],
) -> Any:
    """(key, model name, prices as written, per-1,000?) for every per-token price row."""
    for row in rows:
        name = _model_name(row)
        category = str(row.get("Pricing_Category", "")).lower()
        if name is None or "example" in category:
            continue
        if any(_CAPACITY.search(_header(k)) for k in row):
            continue  # provisioned throughput / customization: not per-token prices
        base_variant, model = _variant_and_name(row, name)
        prices, per_1k = _row_prices(row, model)
        for (override, modality), fields in prices.items():
            if "input" in fields or "output" in fields:
                variant = _combined(base_variant, override)
                key = (_normalised(model), variant, _deployment(row), modality)
                yield key, model, fields, per_1k


# Bedrock's batch price is half the on-demand price. A table that lists a model
# again at exactly half of one of its other lists is a batch table shown without
# its label; its prices are kept apart (never the standard headline).
INFERRED_BATCH = "inferred-batch"


def _is_half_of(half: dict[str, Decimal], full: dict[str, Decimal]) -> bool:
    shared = [k for k in ("input", "output") if k in half and k in full]
    return bool(shared) and all(half[k] * 2 == full[k] and full[k] > 0 for k in shared)


def _split_half_price_lists(groups: Any) -> Any:
    out: Any = defaultdict(dict)
    for key, lists in groups.items():
        for price_key, (model, fields) in lists.items():
            halves = key[1] == "standard" and any(
                _is_half_of(fields, other) for _, other in lists.values()
            )
            target = (key[0], INFERRED_BATCH, *key[2:]) if halves else key
            out[target][price_key] = (model, fields)
    return out


def _cheapest_first(
    lists: Any,
) -> list[tuple[str, dict[str, Decimal]]]:
    def order(item: tuple[str, dict[str, Decimal]]) -> tuple[Decimal, Decimal, str]:
        fields = item[1]
        return (fields.get("input", Decimal(0)), fields.get("output", Decimal(0)), str(fields))

    ranked = sorted(lists, key=order)
    headline = ranked[0][0]  # one spelling of the model name for every list
    return [(headline, fields) for _, fields in ranked]


def _observation(
    key: tuple[str, str, str | None, str],
    rank: int,
    model: str,
    fields: dict[str, Decimal],
    observed_at: datetime,
) -> LlmPrice:
    _, variant, deployment, modality = key
    return LlmPrice(
        source=SLUG,
        provider=PROVIDER,
        provider_model_id=model,
        input_usd_per_mtok=fields.get("input"),
        output_usd_per_mtok=fields.get("output"),
        cached_input_usd_per_mtok=fields.get("cached"),
        cache_write_usd_per_mtok=fields.get("cache_write"),
        cache_write_1h_usd_per_mtok=fields.get("cache_write_1h"),
        variant=variant,
        modality=modality,
        deployment=deployment,
        region=None if rank == 1 else f"unnamed-price-list-{rank}",
        observed_at=observed_at,
        source_url=URL,
    )
