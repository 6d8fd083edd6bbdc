"""Helpers shared by the HTML/markdown price-page parsers (deepseek, mistral, xai,
cerebras, moonshot): Next.js flight payloads, table grids and money in page text.

Not a source (the leading underscore keeps the registry away).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from bs4 import BeautifulSoup, Tag

from scrapers.base import ParseError, looks_blocked, tidy, to_decimal

_PUSH_PREFIX = "self.__next_f.push("
# A flight row starts a line with its hex id; the JSON after the colon is one value.
_FLIGHT_ROW = re.compile(r"(?:^|\n)[0-9a-f]+:(?=[\[{])")
_MONEY = re.compile(
    r"(?P<pre>US\$|\$|¥|￥|€)\s*(?P<a>\d[\d,]*(?:\.\d+)?)"
    r"|(?P<b>\d[\d,]*(?:\.\d+)?)\s*(?P<post>\$|¥|￥|€|元)"
)
_CURRENCY = {"$": "USD", "US$": "USD", "¥": "CNY", "￥": "CNY", "元": "CNY", "€": "EUR"}


def soup_of(source: str, raw: bytes) -> BeautifulSoup:
    """Parse an HTML page, refusing bot-challenge pages first."""
    reject_blocked(source, raw)
    try:
        return BeautifulSoup(raw.decode("utf-8", errors="replace"), "lxml")
    except Exception as exc:  # lxml raises a variety of errors on non-HTML bytes
        raise ParseError(source, f"expected an HTML page: {exc}") from exc


def reject_blocked(source: str, raw: bytes) -> None:
    if reason := looks_blocked(raw):
        raise ParseError(source, f"got a {reason} instead of the pricing page")


def flight_values(soup: BeautifulSoup) -> list[Any]:
    """The JSON values of a Next.js App Router page's embedded RSC ("flight") payload.

    The payload is streamed as ``self.__next_f.push([1, "<chunk>"])`` scripts;
    the chunks concatenate to rows ``<hex id>:<value>`` and only JSON rows are kept.
    """
    text = ""
    for script in soup.find_all("script"):
        body = (script.string or "").strip()
        if not body.startswith(_PUSH_PREFIX):
            continue
        try:
            chunk = json.loads(body[len(_PUSH_PREFIX) :].rstrip(";").removesuffix(")"))
        except json.JSONDecodeError:
            continue
        if isinstance(chunk, list) and len(chunk) > 1 and isinstance(chunk[1], str):
            text += chunk[1]
    starts = [m.end() for m in _FLIGHT_ROW.finditer(text)]
    decoder = json.JSONDecoder()
    values: list[Any] = []
    for start in starts:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue  # text rows and module references are not JSON
        values.append(value)
    return values


def iter_dicts(value: Any) -> Iterator[dict[str, Any]]:
    """Every dict nested anywhere in ``value``, depth first, in document order."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def flight_string(value: Any) -> str:
    """A flight string as the page shows it: RSC escapes a leading ``$`` as ``$$``."""
    text = value if isinstance(value, str) else ""
    return text[1:] if text.startswith("$$") else text


def html_text(fragment: str) -> str:
    """Visible text of an HTML fragment (CMS fields often hold ``<p>$0.5</p>``)."""
    if "<" not in fragment and "&" not in fragment:
        return " ".join(fragment.split())
    return " ".join(BeautifulSoup(fragment, "lxml").get_text(" ").split())


def money(text: str) -> tuple[Decimal, str] | None:
    """The first amount written with a currency sign: ("$0.14" -> (0.14, "USD"))."""
    m = _MONEY.search(text.replace("\u00a0", " "))
    if m is None:
        return None
    amount = m["a"] or m["b"]
    sign = m["pre"] or m["post"]
    return to_decimal(amount), _CURRENCY[sign]


def table_grid(table: Tag) -> list[list[Tag]]:
    """Rows of cells with rowspan/colspan expanded, so column i means the same
    thing in every row; a spanning cell appears at each position it covers."""
    grid: list[list[Tag]] = []
    pending: dict[tuple[int, int], Tag] = {}
    for r, tr in enumerate(table.find_all("tr")):
        row: list[Tag] = []
        cells = list(tr.find_all(["td", "th"], recursive=False))
        c = 0
        while cells or (r, c) in pending:
            if (r, c) in pending:
                row.append(pending.pop((r, c)))
                c += 1
                continue
            cell = cells.pop(0)
            rowspan = _span(cell.get("rowspan"))
            colspan = _span(cell.get("colspan"))
            for dc in range(colspan):
                row.append(cell)
                for dr in range(1, rowspan):
                    pending[(r + dr, c + dc)] = cell
            c += colspan
        grid.append(row)
    return grid


def _span(value: Any) -> int:
    try:
        return max(1, min(int(str(value)), 50))
    except (TypeError, ValueError):
        return 1


def html_tables(soup: BeautifulSoup) -> list[list[list[str]]]:
    """Every ``<table>`` as rows of cell texts."""
    return [
        [[" ".join(cell.get_text(" ").split()) for cell in row] for row in table_grid(t)]
        for t in soup.find_all("table")
    ]


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every pipe table of a markdown document as rows of plain cell texts
    (header first, the ``| --- |`` separator dropped)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("|"):
            cells = [_md_plain(c) for c in stripped.strip("|").split("|")]
            if not all(re.fullmatch(r":?-{3,}:?", c.replace(" ", "")) for c in cells if c):
                current.append(cells)
            continue
        if current:
            tables.append(current)
            current = []
    return tables


def _md_plain(cell: str) -> str:
    cell = _MD_LINK.sub(r"\1", cell).replace("\\$", "$").replace("`", " ")
    cell = cell.replace("**", "").replace("__", "")
    return " ".join(cell.split())


def slugify(name: str) -> str:
    """A stable id from a display name: "Qwen 3 235B Instruct" -> "qwen-3-235b-instruct"."""
    return re.sub(r"[^a-z0-9.]+", "-", name.lower()).strip("-.")


def convert_to_usd(
    source: str, amount: Decimal, currency: str, usd_per_unit: Decimal | None
) -> Decimal:
    """``amount`` in USD; a price in another currency needs the rate the caller used
    (USD per unit of that currency), since a pure parser has no FX source of its own."""
    if currency == "USD":
        return amount
    if usd_per_unit is None:
        raise ParseError(
            source,
            f"prices are in {currency} and the page has no USD table; "
            f"parse it with an explicit USD-per-{currency} rate",
        )
    return tidy(amount * usd_per_unit)
