"""Where the analytics cache (api/curve_cache.py) gets its version frames.

* ``DatabaseSource``: this process loads them from PostgreSQL and refreshes
  them by the delta since its snapshot (db/frame_delta.py);
* ``SharedSource``: the API workers of one ``serve-api`` share one set
  (api/frame_share.py): the publisher does what ``DatabaseSource`` does and
  writes each version for the others, which only map what it wrote.

The cache asks a source for the first frames, then for the next ones when it
polls (the publisher writes a new data version for the other workers as soon as
it has read it, before preparing its own results); once it has published new
frames to its requests it ``settle``\\ s them (compaction, off the requests'
path; the publisher writes compacted layers for the others again).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from sqlalchemy import Engine, text

from api.frame_share import FrameShare
from costcurve.config.settings import get_settings
from db.frame_delta import Frames, changes_probe_sql, load, refresh
from db.frames import Reader

# How long a worker waits for the publisher's first load before giving up, and
# how often it looks meanwhile (a first load of millions of versions takes seconds).
FIRST_WAIT_S = 900.0
FIRST_POLL_S = 0.05

log = logging.getLogger(__name__)


class DatabaseSource:
    """Frames read by this process from PostgreSQL."""

    shared = False  # whether other processes share these frames (the cache then polls)

    def __init__(self, engine: Engine) -> None:
        # No reference to the engine is kept: the cache holding this source is
        # looked up by the engine weakly, and would otherwise keep it alive.
        self.reader = Reader(engine)  # kept: connecting costs tens of milliseconds
        self.closed = False

    def first(self, engine: Engine) -> Frames:
        return load(engine, self.reader)

    def next(self, engine: Engine, old: Frames) -> Frames | None:
        """The frames after ``old`` (only what changed re-read), or None if nothing did."""
        with engine.connect() as conn:
            probe = changes_probe_sql(old.snapshot, old.scores)
            if not conn.execute(text(probe)).scalar():
                return None
        return refresh(engine, old, self.reader)

    def settle(self, frames: Frames) -> Frames:
        """``frames`` once published to this process's requests: compacted when their
        recent layer has grown (db/frame_layers.py), off the requests' path."""
        return frames.compacted() if frames.llm_layers.needs_compaction else frames

    def close(self) -> None:
        self.closed = True
        self.reader.close()


class SharedSource(DatabaseSource):
    """Frames shared by the workers of one serve-api (module doc of api.frame_share)."""

    shared = True

    def __init__(self, engine: Engine, root: Path) -> None:
        super().__init__(engine)
        self.share = FrameShare(root)
        # The data version this process read from PostgreSQL and published, until settled.
        self._read: str | None = None

    def first(self, engine: Engine) -> Frames:
        deadline = time.monotonic() + FIRST_WAIT_S
        while True:
            if self.share.lead():
                # A full load, even where files are there already: they may be an
                # earlier run's, of another database. (A worker that takes over
                # while serving goes on from the snapshot it maps: ``next``.)
                return self.share.publish(super().first(engine))
            published = self.share.latest()
            if published is not None:
                return self.share.open(published, with_delta=False)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no frames published in {self.share.root} in time")
            time.sleep(FIRST_POLL_S)

    def next(self, engine: Engine, old: Frames) -> Frames | None:
        if self.share.lead():
            frames = super().next(engine, old)
            if frames is None or frames.version == old.version:
                return frames  # nothing that counts changed: nothing to publish
            # Published before this worker prepares its own results, so that the others
            # carry and recompute theirs meanwhile, not after it (1M versions, two
            # workers: every worker on the new version 0.2-0.3 s sooner).
            self._read = frames.version
            return self._publish(frames)
        published = self.share.latest()
        if published is None or published.version == old.version:
            return None
        return self.share.open(published, with_delta=published.previous == old.version)

    def settle(self, frames: Frames) -> Frames:
        if frames.version != self._read:
            return frames  # another worker's: it settles them
        self._read = None
        compacted = super().settle(frames)
        # The others map the compacted layers with the next version they open.
        return frames if compacted is frames else self._publish(compacted)

    def _publish(self, frames: Frames) -> Frames:
        try:
            return self.share.publish(frames)
        except OSError:  # the others keep their version; this process keeps its copy
            log.exception(
                "could not publish data version %s in %s", frames.version, self.share.root
            )
            return frames

    def close(self) -> None:
        super().close()
        self.share.release()


def source_for(engine: Engine) -> DatabaseSource:
    root = get_settings().api_frames_dir
    return DatabaseSource(engine) if root is None else SharedSource(engine, root)
