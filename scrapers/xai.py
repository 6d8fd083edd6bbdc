"""xAI "Models and Pricing" docs page, as markdown.

The HTML page loads its price table client-side ("Loading models..."), so the
source reads markdown: the docs' own ``.md`` rendering in production, and the
recorded r.jina.ai reader captures of the page. Two table shapes occur:

* the chat-model table ``| Model | Context | Input | Output |`` (optionally a
  ``Cached input`` column), one price per cell;
* ``| Model | ... | Pricing [in (cached in) / out] |`` with cells such as
  ``$2.00 ($0.20) / $6.00``.

Tables of image, video, voice and tool prices carry no per-token columns and are
not read. A model listed once per region at the same price is one offering.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import httpx

from scrapers._pagetools import markdown_tables, money, reject_blocked
from scrapers.base import LlmPrice, ParseError, SourceInfo, to_decimal
from scrapers.http import request_bytes

SLUG = "xai"
URL = "https://docs.x.ai/developers/models.md"
SOURCE = SourceInfo(
    slug=SLUG,
    kind="llm_price",
    url=URL,
    listing_complete=True,
    description="xAI models and pricing docs (markdown; USD per 1M tokens)",
)

_COMBINED = re.compile(
    r"\$\s*(?P<input>[\d.,]+)\s*(?:\(\s*\$\s*(?P<cached>[\d.,]+)\s*\))?\s*/\s*\$\s*(?P<output>[\d.,]+)"
)
# Per-image, per-second or per-character prices can sit in the same table.
_OTHER_UNIT = re.compile(r"/\s*(image|video|sec|second|min|minute|hour|hr|character|1M char)", re.I)
_MODEL_ID = re.compile(r"[a-z0-9][a-z0-9.\-]*", re.IGNORECASE)

_Prices = tuple[Decimal | None, Decimal | None, Decimal | None]


def fetch(client: httpx.Client) -> bytes:
    return request_bytes(client, URL)


def _columns(header: list[str]) -> dict[str, int] | None:
    cols: dict[str, int] = {}
    for i, name in enumerate(h.lower() for h in header):
        if name == "model" or name.startswith("model "):
            cols.setdefault("model", i)
        elif "pricing" in name and "in" in name and "out" in name:
            cols["combined"] = i
        elif "cache" in name:
            cols["cached"] = i
        elif name.startswith("input"):
            cols["input"] = i
        elif name.startswith("output"):
            cols["output"] = i
    if "model" in cols and ("combined" in cols or {"input", "output"} <= set(cols)):
        return cols
    return None


def _cell_price(model: str, text: str) -> Decimal | None:
    if not text or text in {"-", "—"}:
        return None
    parsed = money(text)
    if parsed is None or parsed[1] != "USD":
        raise ParseError(SLUG, f"{model}: expected a USD price, got {text!r}")
    return parsed[0]


def _row_prices(model: str, row: list[str], cols: dict[str, int]) -> _Prices | None:
    def cell(key: str) -> str:
        i = cols.get(key)
        return row[i] if i is not None and i < len(row) else ""

    if "combined" in cols:
        text = cell("combined")
        if m := _COMBINED.search(text):
            cached = to_decimal(m["cached"]) if m["cached"] else None
            return to_decimal(m["input"]), cached, to_decimal(m["output"])
        if _OTHER_UNIT.search(text):
            return None
        raise ParseError(SLUG, f"{model}: expected '$in ($cached) / $out', got {text!r}")
    if _OTHER_UNIT.search(cell("input") + cell("output")):
        return None
    prices = (
        _cell_price(model, cell("input")),
        _cell_price(model, cell("cached")),
        _cell_price(model, cell("output")),
    )
    if prices[0] is None or prices[2] is None:
        raise ParseError(SLUG, f"{model}: input or output price missing in {row!r}")
    return prices


def parse(raw: bytes, *, observed_at: datetime) -> list[LlmPrice]:
    reject_blocked(SLUG, raw)
    text = raw.decode("utf-8", errors="replace")
    found: dict[str, _Prices] = {}
    for table in markdown_tables(text):
        cols = _columns(table[0])
        if cols is None:
            continue
        price_cols = [i for key, i in cols.items() if key != "model"]
        for row in table[1:]:
            if not any("$" in row[i] for i in price_cols if i < len(row)):
                continue  # section rows such as "Language models | Per million tokens"
            m = _MODEL_ID.match(row[cols["model"]]) if cols["model"] < len(row) else None
            if m is None:
                raise ParseError(SLUG, f"priced row without a model id: {row!r}")
            model = m.group(0)
            prices = _row_prices(model, row, cols)
            if prices is None:
                continue
            if found.setdefault(model, prices) != prices:
                raise ParseError(SLUG, f"{model} is listed twice with different prices")
    if not found:
        raise ParseError(
            SLUG, "no markdown table with Model and Input/Output (or 'Pricing in/out') columns"
        )
    return [
        LlmPrice(
            source=SLUG,
            provider=SLUG,
            provider_model_id=model,
            input_usd_per_mtok=input_price,
            output_usd_per_mtok=output_price,
            cached_input_usd_per_mtok=cached,
            observed_at=observed_at,
            source_url=URL,
        )
        for model, (input_price, cached, output_price) in found.items()
    ]
