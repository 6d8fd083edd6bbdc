"""Where a source's raw response comes from: the network, or a recorded file.

Production flows call the source's own ``fetch`` over polite HTTP. In replay
mode (``--replay DIR``) the same flows read ``DIR/<source>/`` instead, so the
whole pipeline runs offline on recorded pages:

* by default the newest recording of each source is read, as if it had just
  been fetched;
* with ``all_dates`` every recording is read in capture-date order, as the
  successive observations a scheduler would have made.

The capture date comes from the file name (``scrapers.base.date_from_filename``);
a recording whose name carries none is dated by its modification time, so
replays of one directory are repeatable. Recordings of the same day are read in
name order. A folder that is not a known source is ignored. The newest file is
not necessarily a parseable one (a source may have been captured blocked on its
last day): replay reads what was recorded and lets the parser say so, which is
what production would have seen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from costcurve.core.observations import date_from_filename, utc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """One raw response and when it was observed."""

    source: str
    raw: bytes
    observed_at: datetime
    url: str  # the production URL it stands for
    origin: str  # "network" or the recorded file it was read from

    def __repr__(self) -> str:  # raw bodies are large; keep logs and the UI readable
        return (
            f"Snapshot({self.source!r}, {len(self.raw)} bytes, "
            f"{self.observed_at.isoformat()}, {self.origin!r})"
        )


@dataclass(frozen=True, order=True)
class Recording:
    observed_at: datetime
    path: Path


def recordings(replay_dir: Path, source: str) -> list[Recording]:
    """Recorded responses of ``source`` under ``replay_dir``, oldest first."""
    folder = replay_dir / source
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if not path.is_file() or path.name.startswith("."):
            continue
        day = date_from_filename(path.name)
        if day is None:
            # A copy's modification time is when it was copied, not captured:
            # an undated recording is not replayed (use `costcurve ingest
            # --observed-at`, or put the capture date in its name).
            log.warning(
                "%s: no capture date (YYYY-MM-DD or YYYYMMDDhhmmss) in the file name; not replayed",
                path,
            )
            continue
        found.append(Recording(utc(day), path))
    return sorted(found, key=lambda r: (r.observed_at, r.path.name))


def replay_plan(replay_dir: Path, source: str, *, all_dates: bool) -> list[Recording]:
    """The recordings one replay run reads for ``source`` (empty: none recorded)."""
    found = recordings(replay_dir, source)
    return found if all_dates else found[-1:]


def recorded_sources(replay_dir: Path, known: set[str]) -> list[str]:
    """Known sources with a folder under ``replay_dir`` (others are not sources)."""
    return sorted(p.name for p in replay_dir.iterdir() if p.is_dir() and p.name in known)


def read_recording(source: str, recording: Recording) -> Snapshot:
    from scrapers.registry import get_source

    return Snapshot(
        source=source,
        raw=recording.path.read_bytes(),
        observed_at=recording.observed_at,
        url=get_source(source).SOURCE.url,
        origin=str(recording.path),
    )


def fetch_live(source: str) -> Snapshot:
    """Fetch ``source`` from its production URL (network only; no parsing)."""
    from scrapers.http import make_client
    from scrapers.registry import get_source

    module = get_source(source)
    observed_at = datetime.now(UTC)
    with make_client() as client:
        raw = module.fetch(client)
    return Snapshot(source, raw, observed_at, module.SOURCE.url, "network")
