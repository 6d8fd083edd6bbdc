"""Version frames in two layers, so that a data change costs what changed, not the history.

Nearly every change touches open versions only: an ingest closes some, opens
their successors and moves the last-seen time of the others; a closed version
changes only when a rebuild supersedes it, a flag on it is decided or its
model's slug moves. So a frame keyed by ``id`` is held as two layers:

* ``settled``: the versions closed when the frame was built, sorted by ``id``;
  a delta finds which of its ids are there by binary search, and when none is
  (the usual case) the layer is reused as it is, not copied;
* ``recent``: every other row (open versions and each row a change wrote since);
  a delta filters and extends this layer only.

The frame analytics read is the two layers one after the other (no copy). A
delta re-reads more rows than changed (the predecessors of changed versions,
every curated reference row: db/frame_delta.py); ``FrameDelta.without_unchanged``
drops those that equal the settled row they would replace, so they cost
nothing. When ``recent`` has grown past a share of ``settled`` the frame is
``compacted`` (built again, closed rows settled), after the new data version is
published (api/curve_cache.py).

Derived frames (``derive``: row-wise, each output row keeps its input's ``id``)
are layered the same way, derived layer by layer, and take the same deltas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

RowWise = Callable[[pl.DataFrame], pl.DataFrame]

# Layers are compacted once deltas have added more than this many rows to ``recent``
# and more than 1/COMPACT_SHARE of the settled ones: an amortized full copy every so
# many changes. (Not by the size of ``recent``: where most versions are open it is
# large from the start, and compacting would not make it smaller.)
COMPACT_MIN_ROWS = 50_000
COMPACT_SHARE = 8


@dataclass(frozen=True)
class FrameDelta:
    """What a refresh changed in a frame: ids whose rows left it (changed or removed
    versions) and the rows that replace them (re-read, with the same ids)."""

    gone_ids: pl.Series
    rows: pl.DataFrame

    @property
    def empty(self) -> bool:
        return self.gone_ids.is_empty() and self.rows.is_empty()

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` (rows keyed by ``id``, possibly derived row by row) with the delta."""
        if self.empty:
            return frame
        kept = frame.filter(~pl.col("id").is_in(self.gone_ids.implode()))
        return pl.concat([kept, self.rows.select(frame.columns)], how="vertical")

    def without_unchanged(self, layers: Layered) -> FrameDelta:
        """This delta less the re-read rows equal to the settled rows they replace
        (``layers`` is a frame of unique ids, as the version frames are)."""
        settled = layers.settled
        positions = _positions(settled["id"], self.rows["id"])
        if positions.is_empty():
            return self
        old = settled[positions]
        new = self.rows.filter(pl.col("id").is_in(old["id"].implode())).sort("id")
        columns = [c for c in settled.columns if c in new.columns]
        equal = pl.DataFrame([old[c].eq_missing(new[c]).alias(c) for c in columns])
        same = old["id"].filter(equal.select(pl.all_horizontal(pl.all())).to_series())
        if same.is_empty():
            return self
        same = same.implode()
        return FrameDelta(
            self.gone_ids.filter(~self.gone_ids.is_in(same)),
            self.rows.filter(~pl.col("id").is_in(same)),
        )


def _positions(sorted_ids: pl.Series, ids: pl.Series) -> pl.Series:
    """Row numbers in ``sorted_ids`` of the ``ids`` it holds (first occurrence),
    ascending: a binary search per id, not a pass over the layer."""
    if sorted_ids.is_empty() or ids.is_empty():
        return pl.Series(dtype=pl.UInt32)
    wanted = ids.unique().sort()
    at = sorted_ids.search_sorted(wanted, side="left")
    inside = at < sorted_ids.len()
    at, wanted = at.filter(inside), wanted.filter(inside)
    return at.filter(sorted_ids.gather(at) == wanted)


@dataclass(frozen=True)
class Layered:
    """A frame keyed by ``id`` as its settled rows (sorted by id) and its recent rows."""

    settled: pl.DataFrame
    recent: pl.DataFrame
    added: int = 0  # rows deltas added to ``recent`` since the layers were built

    @classmethod
    def of(cls, frame: pl.DataFrame) -> Layered:
        """``frame`` (version rows: ``valid_to`` null while open) with its closed
        versions settled."""
        closed = frame["valid_to"].is_not_null()
        # One gather in id order (not a filtered copy and then a sorted one): the load
        # of millions of versions holds the frame and one copy at most.
        at = (
            frame.select("id", closed=closed)
            .with_row_index("at")
            .filter(pl.col("closed"))
            .sort("id", maintain_order=True)["at"]
        )
        return cls(frame[at], frame.filter(~closed))

    @classmethod
    def of_layers(cls, closed: pl.DataFrame, rest: pl.DataFrame) -> Layered:
        """The layers of a frame read as its closed versions (sorted by id, or sorted
        here) and its other rows."""
        if not closed["id"].is_sorted():
            closed = closed.sort("id", maintain_order=True)
        return cls(closed, rest)

    @property
    def frame(self) -> pl.DataFrame:
        """Both layers, one after the other (their buffers, not a copy)."""
        return pl.concat([self.settled, self.recent], how="vertical", rechunk=False)

    @property
    def height(self) -> int:
        return self.settled.height + self.recent.height

    def derive(self, derive: RowWise) -> Layered:
        """``derive`` applied layer by layer (the same rows as over the whole frame)."""
        settled = derive(self.settled)
        if not settled["id"].is_sorted():
            settled = settled.sort("id", maintain_order=True)
        return Layered(settled, derive(self.recent))

    def apply(self, delta: FrameDelta) -> Layered:
        """These layers with ``delta``: ``settled`` copied only when the delta removes
        some of its rows (rare), ``recent`` filtered and extended."""
        if delta.empty:
            return self
        gone = delta.gone_ids.implode()
        settled = self.settled
        hits = _positions(settled["id"], delta.gone_ids)
        if not hits.is_empty():
            settled = settled.filter(~pl.col("id").is_in(gone))
        # One chunk again: ``recent`` is small, and a frame of many chunks (one more per
        # change) makes every later curve computation over it slower.
        recent = pl.concat(
            [self.recent.filter(~pl.col("id").is_in(gone)), delta.rows.select(self.recent.columns)],
            how="vertical",
            rechunk=True,
        )
        return Layered(settled, recent, self.added + delta.rows.height)

    @property
    def needs_compaction(self) -> bool:
        rows = self.added
        return rows > COMPACT_MIN_ROWS and rows * COMPACT_SHARE > self.settled.height
