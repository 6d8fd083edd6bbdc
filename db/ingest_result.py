"""What an ingest reports: counts and the changes of belief (alerts, change reports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class PriceChange:
    kind: str  # llm_price | gpu_rate
    offering_id: int
    key: dict[str, Any]
    old_version_id: int | None
    new_version_id: int | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    at: datetime


@dataclass(frozen=True)
class Rescreen:
    """An offering whose believed versions were replaced without a change of price."""

    kind: str
    offering_id: int


@dataclass
class IngestResult:
    observations: int = 0
    new_versions: int = 0
    closed_versions: int = 0
    unchanged: int = 0
    skipped: int = 0
    listing_complete_applied: bool = False
    changes: list[PriceChange] = field(default_factory=list)
    flagged: int = 0
    # Versions a later-arriving observation contradicted (kept, superseded_at set).
    superseded: int = 0
    # Offerings rebuilt from the observation log (out-of-order arrivals).
    rebuilt_offerings: int = 0
    # Observations that lost to another at the same instant (README "Versioning").
    ties: int = 0
    rescreen: list[Rescreen] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "new_versions": self.new_versions,
            "closed_versions": self.closed_versions,
            "unchanged": self.unchanged,
        }
