"""What a history dataset parser returns: dated prices with how each became known.

A history dataset is not one snapshot but many dated prices, so its parser
returns :class:`HistoryItem` objects: an :class:`~scrapers.base.LlmPrice`
whose ``observed_at`` (or ``effective_from`` for a price that starts later than
it was seen) is the date the dataset gives, paired with the version's
``change_kind``. ``LlmPrice`` forbids extra fields, hence the pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from scrapers.base import LlmPrice

ChangeKind = Literal["observed", "correction", "announced", "reference"]
CHANGE_KINDS: tuple[str, ...] = get_args(ChangeKind)


@dataclass(frozen=True)
class HistoryItem:
    """One dated price of a history dataset.

    ``closes_at``: the offering left the listing and the version this item
    opens (or continues) ends at that instant. ``superseded``: how many earlier
    points of the same date this one replaced (they are not versions of their
    own; see the dataset module). ``seen_through``: the dataset still listed
    this price then (later than the point's own date), which is what freshness
    counts from.
    """

    price: LlmPrice
    change_kind: ChangeKind = "observed"
    closes_at: datetime | None = None
    superseded: int = 0
    seen_through: datetime | None = None

    def instant(self) -> datetime:
        """When the version starts: the announced date, else the observation date."""
        return self.price.effective_from or self.price.observed_at
