"""Markdown-shaped reading of provider pricing pages (anthropic, openai, google).

The recorded captures of these pages are markdown (the docs' own ``.md`` rendering
or a reader service's output), while production may fetch the HTML page. Both are
reduced to one stream of blocks (headings, text lines, pipe tables) so each parser
has a single code path. Not a source: the leading underscore keeps the registry away.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bs4 import BeautifulSoup, Tag

from scrapers.base import LlmPrice, ParseError, looks_blocked, to_decimal

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_SEPARATOR = re.compile(r":?-{3,}:?")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
_AMOUNT = re.compile(r"\$\s*(\d[\d,]*(?:\.\d+)?)")
_BLOCK_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "table", "p", "li", "button"]


@dataclass
class Block:
    kind: str  # "heading", "text" or "table"
    text: str = ""
    level: int = 0
    rows: list[list[str]] = field(default_factory=list)


def page_text(source: str, raw: bytes) -> str:
    """The page as text, refusing bot-challenge and block pages first."""
    if reason := looks_blocked(raw):
        raise ParseError(
            source, f"the page is blocked: got a {reason} (bot challenge), not the pricing page"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(source, f"expected a UTF-8 HTML or markdown page: {exc}") from exc


def is_html(text: str) -> bool:
    head = text.lstrip()[:2000].lower()
    return head.startswith(("<!doctype html", "<html")) or "<body" in head


def plain(cell: str) -> str:
    """Cell text without markdown links, escapes and emphasis."""
    cell = _MD_LINK.sub(r"\1", cell).replace("\\$", "$").replace("\\~", "~")
    cell = cell.replace("**", "").replace("`", "")
    return " ".join(cell.split())


def blocks(text: str) -> Iterator[Block]:
    """Headings, non-empty text lines and pipe tables (separator rows dropped)."""
    table: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("|"):
            cells = [plain(c) for c in stripped.strip("|").split("|")]
            if not all(_SEPARATOR.fullmatch(c.replace(" ", "")) for c in cells if c):
                table.append(cells)
            continue
        if table:
            yield Block("table", rows=table)
            table = []
        if not stripped:
            continue
        if m := _HEADING.match(stripped):
            yield Block("heading", text=plain(m[2]), level=len(m[1]))
        else:
            yield Block("text", text=stripped)


def html_to_markdown(markup: str) -> str:
    """Headings, paragraphs, list items, buttons and tables of an HTML page as
    markdown lines; inline ``<code>`` keeps its backticks (model ids use them)."""
    soup = BeautifulSoup(markup, "lxml")
    for tag in soup(["script", "style", "noscript", "svg", "template", "nav", "header"]):
        tag.decompose()
    for code in soup.find_all("code"):
        code.string = f"`{code.get_text().strip()}`"
    lines: list[str] = []
    for el in soup.find_all(_BLOCK_TAGS):
        if el.name == "table":
            lines.append("")
            for tr in _own_rows(el):
                cells = [_cell_text(td) for td in tr.find_all(["td", "th"], recursive=False)]
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
            continue
        if el.find_parent("table") is not None or el.find_parent(_BLOCK_TAGS[6:]) is not None:
            continue
        text = " ".join(el.get_text(" ").split())
        if not text:
            continue
        if el.name.startswith("h"):
            lines.extend(["", "#" * int(el.name[1]) + " " + text, ""])
        else:
            lines.append(text)
    return "\n".join(lines)


def _own_rows(table: Tag) -> list[Tag]:
    # Broken markup nests later tables inside an unclosed one; keep only its own rows.
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _cell_text(cell: Tag) -> str:
    return " ".join(cell.get_text(" ").split()).replace("|", "/")


def amount(text: str) -> Decimal | None:
    """The first ``$`` amount in ``text`` (None when there is none)."""
    m = _AMOUNT.search(text.replace("\\$", "$"))
    return to_decimal(m[1]) if m else None


def slug(name: str, *, keep_dots: bool = True) -> str:
    """A stable id from a display name: "Gemini 2.5 Flash Lite" -> "gemini-2.5-flash-lite"."""
    pattern = r"[^a-z0-9.]+" if keep_dots else r"[^a-z0-9]+"
    return re.sub(pattern, "-", name.lower()).strip("-.")


def modality_of(label: str | None) -> str:
    """The token modality a label prices: "(text / image / video)" -> "text" (text
    is the price such bundles are quoted for), "(audio / video)" -> "audio",
    "video/image tokens" -> "image"; no modality named -> "text"."""
    lowered = (label or "").lower()
    if "text" in lowered:
        return "text"
    return next((m for m in ("audio", "image", "video") if m in lowered), "text")


# Short keys the page parsers collect prices under -> LlmPrice fields.
_PRICE_FIELDS = {
    "input": "input_usd_per_mtok",
    "output": "output_usd_per_mtok",
    "cached": "cached_input_usd_per_mtok",
    "cache_write": "cache_write_usd_per_mtok",
    "cache_write_1h": "cache_write_1h_usd_per_mtok",
}


def token_price(
    *,
    source: str,
    provider: str,
    source_url: str,
    provider_model_id: str,
    prices: dict[str, Decimal] | dict[str, Decimal | None],
    observed_at: datetime,
    variant: str = "standard",
    context_tier: str | None = None,
    modality: str = "text",
) -> LlmPrice:
    """One LlmPrice from prices keyed by short name (``input``) or field name."""
    fields = {name: prices.get(short, prices.get(name)) for short, name in _PRICE_FIELDS.items()}
    return LlmPrice(
        source=source,
        provider=provider,
        provider_model_id=provider_model_id,
        **fields,
        variant=variant,
        context_tier=context_tier,
        modality=modality,
        observed_at=observed_at,
        source_url=source_url,
    )
