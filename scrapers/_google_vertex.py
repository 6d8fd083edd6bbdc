"""Google Cloud Vertex AI (Agent Platform) generative AI pricing page.

Three table shapes carry per-token prices:

* Gemini tables: "Model | Type | Price (/1M tokens) <= 200K input tokens [with
  Priority|Flex/Batch] | > 200K ... | <= 200K cached input tokens | > 200K cached
  ..."; a one-cell row names the model, the following rows price one token type
  each ("Input (audio)", "Text output ...", "Image Output"). Gemini 2.0 has
  "Price | Price with Batch API" instead.
* Anthropic Claude tables: "Model | Price (/1M tokens) =< 200K | > 200K" with
  "Input: $5.00 Output: $25.00 Batch Input: ... 5m Cache Write: ..." in a cell,
  one tab per region; only the Global tab and the region-independent table are
  read (regional endpoints are a surcharge on the same offering).
* Model-as-a-service tables: "Model | Pricing" with "Input: $x / million tokens
  Output: ... Cache Hit: ... Batch Input: ...".

Where both context columns hold the same prices (or the long one is N/A), the
price does not depend on context and is reported without a context tier.
Prices quoted "(Global) ... (Non-global)" use the global endpoint price.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from bs4 import BeautifulSoup, Tag

from scrapers._pricing_markdown import amount, modality_of, slug, token_price
from scrapers.base import LlmPrice, ParseError, to_decimal

SLUG = "google"
PROVIDER = "google-vertex"
URL = "https://cloud.google.com/gemini-enterprise-agent-platform/generative-ai/pricing"

_CONTEXT = re.compile(r"(<=|=<|>)\s*(\d+)\s*K", re.I)
_CLAUDE_LABELS = (
    ("5m batch cache write", "batch", "cache_write"),
    ("1h batch cache write", "batch", "cache_write_1h"),
    ("batch cache write", "batch", "cache_write"),
    ("batch cache hit", "batch", "cached"),
    ("batch input", "batch", "input"),
    ("batch output", "batch", "output"),
    ("5m cache write", "standard", "cache_write"),
    ("1h cache write", "standard", "cache_write_1h"),
    ("cache write", "standard", "cache_write"),
    ("cache hit", "standard", "cached"),
    ("input", "standard", "input"),
    ("output", "standard", "output"),
)
_CLAUDE_PAIR = re.compile(
    r"(" + "|".join(label for label, _, _ in _CLAUDE_LABELS) + r")\s*:\s*\$\s*([\d.,]+)", re.I
)
_MAAS_PAIR = re.compile(
    r"(batch input|batch output|cache hit|input|output)\s*:\s*\$\s*([\d.,]+)\s*/\s*million tokens",
    re.I,
)
_CLAUDE_TABS = ("global", "models with uniform pricing")

Key = tuple[str, str, str | None, str]  # model id, variant, context tier, modality
Found = dict[Key, dict[str, Decimal]]


def looks_like_vertex(markup: str) -> bool:
    return "cloud.google.com" in markup and "Price (/1M tokens)" in markup


def parse_vertex(markup: str, *, observed_at: datetime) -> list[LlmPrice]:
    soup = BeautifulSoup(markup, "lxml")
    found: Found = {}
    for table in soup.find_all("table"):
        rows = [
            [" ".join(c.get_text(" ").split()) for c in tr.find_all(["td", "th"], recursive=False)]
            for tr in table.find_all("tr")
            if tr.find_parent("table") is table  # broken markup nests later tables
        ]
        rows = [r for r in rows if any(r)]
        if not rows:
            continue
        header = [h.lower() for h in rows[0]]
        if header[:2] == ["model", "type"] and any(_price_column(h) for h in header):
            _gemini_table(rows, found)
        elif header[:1] == ["model"] and len(header) == 3 and "/1m tokens" in header[1]:
            if _heading(table).lower().startswith(_CLAUDE_TABS):
                _claude_table(rows, found)
        elif header == ["model", "pricing"]:
            _maas_table(rows, found)
    if not found:
        raise ParseError(SLUG, "Vertex pricing page without Gemini '(/1M tokens)' price tables")
    return [
        token_price(
            source=SLUG,
            provider=PROVIDER,
            source_url=URL,
            provider_model_id=pid,
            prices=prices,
            observed_at=observed_at,
            variant=variant,
            context_tier=tier,
            modality=modality,
        )
        for (pid, variant, tier, modality), prices in _collapse(found).items()
    ]


def _heading(table: Tag) -> str:
    heading = table.find_previous(["h2", "h3", "h4"])
    return heading.get_text(" ", strip=True) if heading else ""


def _price_column(header: str) -> bool:
    return header.startswith("price") and (
        "/1m tokens" in header or header in ("price", "price with batch api")
    )


def _variants(header: str) -> list[str]:
    if "flex/batch" in header:
        return ["flex", "batch"]
    return next(([v] for v in ("priority", "batch", "flex") if v in header), ["standard"])


def _gemini_table(rows: list[list[str]], found: Found) -> None:
    header = [h.lower() for h in rows[0]]
    # column -> (variants, context tier, cached?)
    columns = {
        i: (_variants(h), _tier(h), "cached" in h) for i, h in enumerate(header) if _price_column(h)
    }
    model = ""
    for row in rows[1:]:
        if len(row) == 1:
            model = row[0]  # a model's name spans the table
            continue
        if len(row) >= len(header):
            model, cells = row[0], row
        else:
            cells = [model, *row]  # the model cell spans its type rows
        label = cells[1].lower()
        # "Input text ($/M char)", "($/image)", "($/sec)": not token prices.
        if "$/" in label and "$/1m tokens" not in label:
            continue
        field = "output" if "output" in label else "input" if "input" in label else None
        if field is None or not model or "tuning" in label or "training" in label:
            continue
        for i, (variants, tier, cached) in columns.items():
            if i >= len(cells) or (cached and field != "input"):
                continue
            price = _cell_amount(cells[i])
            if price is None:
                continue
            for variant in variants:
                key = (slug(_clean(model)), variant, tier, modality_of(label))
                found.setdefault(key, {}).setdefault("cached" if cached else field, price)


def _tier(header: str) -> str | None:
    m = _CONTEXT.search(header)
    if m is None:
        return None
    return f"{'>' if m[1] == '>' else '<='}{m[2]}k"


def _cell_amount(cell: str) -> Decimal | None:
    # "$0.25 (Global) $0.275 (Non-global)*": the first amount is the global price.
    return None if cell.strip().upper() in ("N/A", "NA", "") else amount(cell)


def _claude_table(rows: list[list[str]], found: Found) -> None:
    tiers = [_tier(h) for h in rows[0][1:]]
    if None in tiers:
        raise ParseError(SLUG, f"Claude price table without context columns: {rows[0]}")
    for row in rows[1:]:
        pid = slug(_clean(row[0]))
        for tier, cell in zip(tiers, row[1:], strict=False):
            long = tier is not None and tier.startswith(">")
            seen: set[str] = set()
            for label, value in _CLAUDE_PAIR.findall(cell):
                label = label.lower()
                if label in seen:
                    continue  # a second "Input:" in a cell restates another tier
                seen.add(label)
                variant, field = next((v, f) for lab, v, f in _CLAUDE_LABELS if lab == label)
                if long and variant == "batch":
                    continue
                key = (pid, variant, tier, "text")
                found.setdefault(key, {})[field] = to_decimal(value)


def _maas_table(rows: list[list[str]], found: Found) -> None:
    for name, cell in (r for r in rows[1:] if len(r) == 2):
        if "/page" in cell:
            continue  # OCR models are billed per page; their token figures are not prices
        pid = slug(_clean(name))
        for label, value in _MAAS_PAIR.findall(cell):
            label = label.lower()
            variant = "batch" if label.startswith("batch") else "standard"
            field = {"cache hit": "cached"}.get(label, label.removeprefix("batch "))
            found.setdefault((pid, variant, None, "text"), {})[field] = to_decimal(value)


def _clean(name: str) -> str:
    return re.sub(r"\((?:deprecated)\)|\*+", "", name, flags=re.I).strip()


def _collapse(found: Found) -> Found:
    """Drop the context split of a model whose long-context prices are all missing
    or equal to its short-context ones, in every variant."""
    by_model: dict[str, Found] = {}
    for key, prices in found.items():
        by_model.setdefault(key[0], {})[key] = prices
    out: Found = {}
    for entries in by_model.values():
        short = {(v, m): p for (_, v, t, m), p in entries.items() if t is None or t[0] == "<"}
        long = {(v, m): p for (_, v, t, m), p in entries.items() if t is not None and t[0] == ">"}
        if all(short.get(vm) == p for vm, p in long.items()):
            out.update(
                {
                    (pid, v, None, m): p
                    for (pid, v, t, m), p in entries.items()
                    if t is None or t[0] == "<"
                }
            )
        else:
            out.update(entries)
    return out
