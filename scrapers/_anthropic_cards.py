"""claude.com/pricing (Webflow): one card per model with Input, Output and
"Prompt caching" Write/Read prices, grouped in sections ("latest", "legacy") that
each carry a batch-processing toggle.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from bs4 import BeautifulSoup, Tag

from scrapers.base import LlmPrice, ParseError, tidy, to_decimal

SLUG = "anthropic"
_LABELS = {
    "input": "input_usd_per_mtok",
    "output": "output_usd_per_mtok",
    # The page notes "Prompt caching pricing reflects 5-minute TTL".
    "write": "cache_write_usd_per_mtok",
    "read": "cached_input_usd_per_mtok",
}
_BATCH_SAVING = re.compile(r"Save\s+(\d+)%\s+with batch", re.I)


def parse_cards(
    markup: str, *, observed_at: datetime, source_url: str, model_id: Callable[[str], str]
) -> list[LlmPrice]:
    soup = BeautifulSoup(markup, "lxml")
    cards = soup.select(".card_pricing_api_wrap")
    if not cards:
        raise ParseError(
            SLUG, "claude.com pricing page without model cards (.card_pricing_api_wrap)"
        )
    out: list[LlmPrice] = []
    seen: set[str] = set()
    for card in cards:
        title = card.select_one(".card_pricing_title_text")
        if title is None:
            raise ParseError(SLUG, "pricing card without a title")
        pid = model_id(title.get_text(" ", strip=True))
        if pid in seen:
            continue  # the same card repeated for another viewport
        seen.add(pid)
        prices = _card_prices(card)
        if "input_usd_per_mtok" not in prices or "output_usd_per_mtok" not in prices:
            raise ParseError(SLUG, f"{pid}: card lacks Input/Output prices")
        out.append(_price(pid, prices, "standard", observed_at, source_url))
        saving = _batch_saving(card)
        if saving is not None:
            # The toggle only rescales the card's listed prices (the page script
            # divides every data-value by 2 for "Save 50%"), so batch prices are
            # the listed ones times the stated saving, cache prices included.
            factor = 1 - saving / 100
            batch = {k: tidy(v * factor) for k, v in prices.items()}
            out.append(_price(pid, batch, "batch", observed_at, source_url))
    return out


def _card_prices(card: Tag) -> dict[str, Decimal]:
    prices: dict[str, Decimal] = {}
    for row in card.select(".tokens_main_wrap"):
        label = row.select_one(".tokens_main_label")
        value = row.select_one("[data-value]")
        if label is None or value is None:
            continue  # the "Prompt caching" group header has no value of its own
        field = _LABELS.get(label.get_text(strip=True).lower())
        if field is None:
            continue
        try:
            prices[field] = to_decimal(str(value["data-value"]))
        except ValueError as exc:
            raise ParseError(SLUG, f"unreadable card price {value['data-value']!r}") from exc
    return prices


def _batch_saving(card: Tag) -> Decimal | None:
    section = card.find_parent(attrs={"data-toggle-group": True})
    if section is None or section.select_one(".batch_toggle_checkbox") is None:
        return None
    m = _BATCH_SAVING.search(section.get_text(" "))
    return Decimal(m[1]) if m else None


def _price(
    pid: str, prices: dict[str, Decimal], variant: str, observed_at: datetime, source_url: str
) -> LlmPrice:
    return LlmPrice(
        source=SLUG,
        provider="anthropic",
        provider_model_id=pid,
        input_usd_per_mtok=prices["input_usd_per_mtok"],
        output_usd_per_mtok=prices["output_usd_per_mtok"],
        cached_input_usd_per_mtok=prices.get("cached_input_usd_per_mtok"),
        cache_write_usd_per_mtok=prices.get("cache_write_usd_per_mtok"),
        variant=variant,
        observed_at=observed_at,
        source_url=source_url,
    )
