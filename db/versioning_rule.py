"""The canonical versioning rule: an offering's versions as a function of the SET of
its observations and withdrawals (README "Versioning").

Pure (no database): db/ingest_rebuild.py feeds it the logged observations, and
the incremental path of db/ingest.py must give exactly what it gives.

Walk the instants in order (an observation's instant is its ``effective_from``
when announced, else its ``observed_at``); the island in effect is the version
being built:

* an island whose stated end has come closes at that end;
* an observation whose stated end is at or before its instant is skipped;
* several observations at one instant with different values or ends: the one
  observed last wins (then the smallest values, so never arrival order); the
  others are skipped and counted as ties;
* the winner with the same values and the same stated end as the island in
  effect extends it (``last_seen_at`` = the latest ``observed_at``); otherwise
  the island closes at the instant and a new one opens there;
* a withdrawal at an instant with no observation closes the island in effect
  if it started before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from db.ingest_kinds import same_values


@dataclass(frozen=True)
class Event:
    """One logged observation (``values`` None: a dataset marking the offering withdrawn)."""

    instant: datetime
    observed_at: datetime
    values: dict[str, Any] | None
    stated_end: datetime | None
    provenance: dict[str, Any] = field(default_factory=dict)  # change_kind, run_id, source_url
    mine: bool = False  # logged by the ingest being applied (for its counts)


@dataclass
class Island:
    valid_from: datetime
    values: dict[str, Any]
    stated_end: datetime | None
    last_seen_at: datetime
    provenance: dict[str, Any]
    valid_to: datetime | None = None
    mine: int = 0  # the ingest's own observations among those that opened or extended it


@dataclass
class Walk:
    islands: list[Island] = field(default_factory=list)
    skipped: int = 0  # of the ingest's own observations ("mine")
    ties: int = 0


def _sort_key(event: Event) -> tuple[Any, ...]:
    values = tuple((v is None, str(v)) for v in (event.values or {}).values())
    end = (event.stated_end is None, event.stated_end.isoformat() if event.stated_end else "")
    return (-event.observed_at.timestamp(), values, end)


def _groups(live: list[Event]) -> list[list[Event]]:
    """Observations of one instant grouped by (values, stated end); the winner first."""
    groups: list[list[Event]] = []
    for event in sorted(live, key=_sort_key):
        for group in groups:
            head = group[0]
            if head.stated_end == event.stated_end and same_values(
                head.values or {}, event.values or {}
            ):
                group.append(event)
                break
        else:
            groups.append([event])
    return groups


def walk(events: Iterable[Event], withdrawals: Iterable[datetime] = ()) -> Walk:
    """The versions the set of ``events`` and ``withdrawals`` implies, oldest first."""
    by_instant: dict[datetime, list[Event]] = defaultdict(list)
    for event in events:
        by_instant[event.instant].append(event)
    gone = set(withdrawals) | {
        t for t, evs in by_instant.items() if any(e.values is None for e in evs)
    }
    out = Walk()
    current: Island | None = None
    for t in sorted(set(by_instant) | gone):
        if current is not None and current.stated_end is not None and current.stated_end <= t:
            current.valid_to, current = current.stated_end, None
        rows = [e for e in by_instant.get(t, ()) if e.values is not None]
        live = [e for e in rows if e.stated_end is None or e.stated_end > t]
        out.skipped += sum(
            1 for e in rows if e.mine and e.stated_end is not None and e.stated_end <= t
        )
        if not live:
            if t in gone and current is not None and current.valid_from < t:
                current.valid_to, current = t, None
            continue
        winner, *losers = _groups(live)
        out.ties += len(losers)
        out.skipped += sum(1 for g in losers for e in g if e.mine)
        head = winner[0]
        seen = max(e.observed_at for e in winner)
        assert head.values is not None
        if (
            current is not None
            and current.stated_end == head.stated_end
            and same_values(current.values, head.values)
        ):
            current.last_seen_at = max(current.last_seen_at, seen)
            current.mine += sum(1 for e in winner if e.mine)
            continue
        if current is not None:
            current.valid_to = t
        current = Island(t, head.values, head.stated_end, seen, head.provenance)
        current.mine = sum(1 for e in winner if e.mine)
        out.islands.append(current)
    if current is not None and current.stated_end is not None:
        current.valid_to = current.stated_end
    return out
