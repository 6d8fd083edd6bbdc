"""History datasets: years of dated prices that a scraper started today cannot see.

Each module has ``NAME``, ``URL`` (the real upstream file), ``DESCRIPTION``,
``fetch(client) -> bytes`` (network only) and
``parse(raw, *, observed_at=None) -> list[HistoryItem]`` (pure, raises
``ParseError`` on an unexpected structure). LiteLLM's history is its dated
snapshots, read by the ordinary ``scrapers.litellm`` source one file at a
time (see ``db.backfill.backfill_litellm_files``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import Protocol, cast

import httpx

from scrapers.history import genai_prices, openrouterlist
from scrapers.history.base import CHANGE_KINDS, ChangeKind, HistoryItem


class HistoryDataset(Protocol):
    NAME: str
    URL: str
    DESCRIPTION: str
    fetch: Callable[[httpx.Client], bytes]
    parse: Callable[..., list[HistoryItem]]


def _dataset(module: ModuleType) -> HistoryDataset:
    return cast(HistoryDataset, module)


DATASETS: dict[str, HistoryDataset] = {
    openrouterlist.NAME: _dataset(openrouterlist),
    genai_prices.NAME: _dataset(genai_prices),
}


def parse_dataset(
    name: str, raw: bytes, *, observed_at: datetime | None = None
) -> list[HistoryItem]:
    try:
        module = DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}") from None
    return module.parse(raw, observed_at=observed_at)


__all__ = [
    "CHANGE_KINDS",
    "DATASETS",
    "ChangeKind",
    "HistoryDataset",
    "HistoryItem",
    "parse_dataset",
]
