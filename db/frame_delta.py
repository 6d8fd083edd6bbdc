"""The version frames at one snapshot, and the delta that brings them to the next.

A load reads every version (``db.frames``) in one REPEATABLE READ transaction
and keeps that transaction's snapshot (``pg_current_snapshot()``). A refresh
reads only what changed since: the versions whose ``changed_xid`` (set by the
triggers of migration 0011) is not visible in the kept snapshot. That is sound
under concurrent transactions where a sequence or a timestamp is not: a
transaction still running at the old snapshot is not visible in it, so its
rows are picked up by the first refresh whose snapshot sees it commit, however
late that is and whatever number it took.

A delta is two parts, keyed by version id: rows to (re)read, which replace
their old rows, and rows to remove (``removed_version_ids``). Derived columns
stay right because the re-read rows are a superset of the changed ones:

* ``fresh_until`` depends on whether a successor starts where a version ends:
  the predecessors of changed (and removed) versions are re-read;
* ``quarantined`` depends on price_flag rows: a flag inserted, decided or
  deleted appends a ``version_stamp`` row naming its version (0014; 0011
  updated the version row itself, which deadlocked concurrent screens), and
  the delta re-reads stamped versions;
* ``model`` falls back to the offering's slug: a slug change stamps the
  offering's versions (0011);
* ``covered_from`` of ``reference`` rows depends on every other source: every
  reference row is re-read (a curated, small set).

The frames also carry the stamp of the imported capability scores
(``SCORES_SQL``), read in the same snapshot: the tier rule's inputs change with
it, so a score import is a new data version too, found by the same probe
instead of a query per request. A refreshed ``Frames`` keeps its delta
(``FrameDelta``) so results derived row by row from the frames can be brought
forward by applying the same delta (api/curve_cache.py).
"""

from __future__ import annotations

import hashlib
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import polars as pl
from sqlalchemy import Engine

from db.frame_layers import FrameDelta, Layered
from db.frames import (
    GPU_READ,
    LLM_READ,
    Reader,
    VersionRead,
    any_id,
    first_row,
    snapshot_reader,
    version_frame,
    version_frames,
    with_tiers,
)

__all__ = ["FrameDelta", "Frames", "Layered", "load", "refresh"]

_SNAPSHOT = re.compile(r"^\d+:\d+:[\d,]*$")


@dataclass(frozen=True)
class Kind:
    """One version table as the frames read it."""

    version: str  # version table
    read: VersionRead
    llm: bool

    @property
    def stamp_column(self) -> str:
        """``version_stamp``'s column naming this kind's version (a flag changed it)."""
        return f"{self.version}_id"


LLM = Kind("llm_price_version", LLM_READ, llm=True)
GPU = Kind("gpu_rate_version", GPU_READ, llm=False)


# Which scores are imported: their count and newest import (microseconds since the
# epoch, so the text does not depend on a session's time zone).
SCORES_SQL = """
    SELECT count(*)::text || ':'
           || COALESCE((extract(epoch FROM max(imported_at)) * 1000000)::bigint, 0)::text
    FROM model_score
"""


@dataclass(frozen=True)
class Frames:
    """Every version of both kinds as of ``snapshot``; ``version`` labels the data.

    The LLM frame is held in layers (db/frame_layers.py: a refresh copies only
    the rows it changes); ``llm_delta`` is what changed in it since version
    ``previous``, so results derived from it row by row can be brought forward
    by the same delta (api/curve_cache.py).
    """

    llm_layers: Layered
    gpu: pl.DataFrame
    snapshot: str
    version: str
    scores: str = ""  # SCORES_SQL in the same snapshot
    changed_rows: int = 0  # rows the delta that made these frames re-read or removed
    llm_delta: FrameDelta | None = None  # since ``previous``; None after a full load
    previous: str | None = None

    @cached_property
    def llm(self) -> pl.DataFrame:
        """The LLM frame: both layers, one after the other (no copy)."""
        return self.llm_layers.frame

    def compacted(self) -> Frames:
        """The same data with the LLM frame's recent rows settled (``needs_compaction``)."""
        return replace(self, llm_layers=Layered.of(self.llm))


@dataclass(frozen=True)
class _Head:
    snapshot: str
    version: str
    scores: str


def _head(cursor: Any) -> _Head:
    """This transaction's snapshot, a label of the data it sees, the scores' stamp.

    The label names the newest change and the newest version of each kind and
    the scores, so every API worker that sees the same data answers with the
    same label (a refresh that finds changes under an unchanged label
    disambiguates it).
    """
    row = first_row(
        cursor,
        f"""
        SELECT pg_current_snapshot()::text AS snapshot,
               (SELECT max(changed_xid) FROM llm_price_version)::text AS llm_xid,
               (SELECT max(changed_xid) FROM gpu_rate_version)::text AS gpu_xid,
               (SELECT max(id) FROM llm_price_version)::text AS llm_id,
               (SELECT max(id) FROM gpu_rate_version)::text AS gpu_id,
               (SELECT max(id) FROM version_stamp)::text AS stamp_id,
               current_setting('transaction_isolation') AS isolation,
               ({SCORES_SQL}) AS scores
        """,
    )
    assert row[6] == "repeatable read", row[6]  # one snapshot for every read of a load
    return _Head(str(row[0]), _label(*row[1:6], row[7]), str(row[7]))


def _label(*parts: object) -> str:
    return hashlib.sha256("|".join(str(x) for x in parts).encode()).hexdigest()[:16]


# A settled version (db/frame_layers.py): closed when read.
_CLOSED = "v.valid_to IS NOT NULL"


def load(engine: Engine, reader: Reader | None = None) -> Frames:
    """Every version, read in one snapshot."""
    with _snapshot(engine, reader) as cursor:
        head = _head(cursor)
        # Every version is read: hash the successor join rather than probe the index
        # once per version (2.5 s instead of 6.2 s for 1M versions, measured).
        cursor.execute("SET LOCAL enable_nestloop = off")
        # The two layers read apart, the settled one sorted by PostgreSQL: layering
        # one frame in memory would hold it and a sorted copy at once.
        settled, recent = (
            with_tiers(f)
            for f in version_frames(cursor, LLM.read, (_CLOSED, "v.id"), (f"NOT ({_CLOSED})", ""))
        )
        gpu = version_frame(cursor, GPU.read)
    return Frames(Layered.of_layers(settled, recent), gpu, head.snapshot, head.version, head.scores)


def _snapshot(engine: Engine, reader: Reader | None) -> AbstractContextManager[Any]:
    return reader.snapshot() if reader is not None else snapshot_reader(engine)


def _literal(snapshot: str) -> str:
    if not _SNAPSHOT.match(snapshot):
        raise ValueError(f"not a pg_snapshot: {snapshot!r}")
    return f"'{snapshot}'::pg_snapshot"


def changed_since_sql(table: str, snapshot: str) -> str:
    """Rows of ``table`` written by transactions not visible in ``snapshot``.

    Range-bounded by the snapshot's xmin so the ``changed_xid`` index is used:
    every transaction below xmin was visible (or aborted) at the snapshot.
    """
    old = _literal(snapshot)
    return (
        f"SELECT id, offering_id, valid_from FROM {table} "
        f"WHERE changed_xid >= pg_snapshot_xmin({old}) "
        f"AND NOT pg_visible_in_snapshot(changed_xid, {old})"
    )


def _stamps_since(snapshot: str) -> str:
    """``version_stamp`` rows (flag changes, 0014) of transactions not in ``snapshot``."""
    old = _literal(snapshot)
    return (
        f"FROM version_stamp WHERE changed_xid >= pg_snapshot_xmin({old}) "
        f"AND NOT pg_visible_in_snapshot(changed_xid, {old})"
    )


def stamped_since_sql(column: str, snapshot: str) -> str:
    """Versions (``version_stamp.<column>``) whose flags changed since ``snapshot``."""
    return f"SELECT {column} AS id {_stamps_since(snapshot)} AND {column} IS NOT NULL"


def _reread_sql(kind: Kind, snapshot: str) -> str:
    """Ids to re-read: changed or flag-stamped versions, their predecessors, reference rows."""
    return f"""
        WITH changed AS ({changed_since_sql(kind.version, snapshot)})
        SELECT id FROM changed
        UNION SELECT s.id FROM ({stamped_since_sql(kind.stamp_column, snapshot)}) s
        UNION SELECT p.id FROM changed c JOIN {kind.version} p
          ON p.offering_id = c.offering_id AND p.valid_to = c.valid_from
        UNION SELECT r.id FROM {kind.version} r
          JOIN {kind.read.offering_table} ro ON ro.id = r.offering_id
          WHERE ro.source = 'reference'
    """


def removed_version_ids(cursor: Any, kind: Kind, snapshot: str) -> list[int]:
    """Ids of versions no longer believed since ``snapshot``: rows to drop from the frames.

    A rebuild (db/ingest_rebuild.py) marks a contradicted version ``superseded_at``
    in ``<kind.version>_record``; the view ``kind.version`` then hides it. Setting
    it is an UPDATE, so the trigger stamps ``changed_xid`` and the delta sees it.
    """
    sql = changed_since_sql(f"{kind.version}_record", snapshot) + " AND superseded_at IS NOT NULL"
    cursor.execute(sql)
    return [int(i) for i in pl.DataFrame(cursor.fetch_arrow())["id"].to_list()]


def _predecessors(frame: pl.DataFrame, removed: list[int]) -> list[int]:
    """Ids of the versions that ended where a removed version began."""
    if not removed or frame.is_empty():
        return []
    starts = frame.filter(pl.col("id").is_in(removed)).select(
        "offering_id", valid_to=pl.col("valid_from")
    )
    return frame.join(starts, on=["offering_id", "valid_to"])["id"].to_list()


def _delta(cursor: Any, kind: Kind, frame: pl.DataFrame, snapshot: str) -> FrameDelta:
    """What changed in ``kind``'s rows of ``frame`` since ``snapshot``."""
    removed = removed_version_ids(cursor, kind, snapshot)
    extra = _predecessors(frame, removed)
    reread = _reread_sql(kind, snapshot)
    if extra:
        reread += " UNION SELECT unnest(ARRAY[" + ", ".join(str(int(i)) for i in extra) + "])"
    cursor.execute(reread)
    ids = pl.DataFrame(cursor.fetch_arrow())["id"].to_list()
    rows = version_frame(cursor, kind.read, only=f"v.id = {any_id(ids)}")
    if kind.llm:
        rows = with_tiers(rows)
    gone = pl.Series("id", sorted(set(ids) | set(removed)), dtype=pl.Int64)
    return FrameDelta(gone, rows.select(frame.columns))


def changes_probe_sql(snapshot: str, scores: str) -> str:
    """Whether any version or the scores changed since ``snapshot`` (index probes and
    a count of the small score table, no version rows read)."""
    stamped = f"SELECT 1 {_stamps_since(snapshot)}"
    quoted = scores.replace("'", "''")
    return (
        f"SELECT EXISTS ({changed_since_sql(LLM.version, snapshot)}) "
        f"OR EXISTS ({changed_since_sql(GPU.version, snapshot)}) "
        f"OR EXISTS ({stamped}) "
        f"OR ({SCORES_SQL}) IS DISTINCT FROM '{quoted}'"
    )


def has_changes(cursor: Any, snapshot: str) -> bool:
    """Whether any version changed since ``snapshot`` (the scores aside)."""
    probe = (
        f"SELECT EXISTS ({changed_since_sql(LLM.version, snapshot)}) "
        f"OR EXISTS ({changed_since_sql(GPU.version, snapshot)}) "
        f"OR EXISTS (SELECT 1 {_stamps_since(snapshot)})"
    )
    return bool(first_row(cursor, probe)[0])


def refresh(engine: Engine, old: Frames, reader: Reader | None = None) -> Frames:
    """``old`` brought to the current snapshot, reading only what changed."""
    with _snapshot(engine, reader) as cursor:
        head = _head(cursor)
        if not has_changes(cursor, old.snapshot):  # at most the scores changed
            empty = FrameDelta(pl.Series("id", [], dtype=pl.Int64), old.llm.clear())
            version = old.version if head.scores == old.scores else head.version
            return Frames(
                old.llm_layers, old.gpu, head.snapshot, version, head.scores, 0, empty, old.version
            )
        llm = _delta(cursor, LLM, old.llm, old.snapshot).without_unchanged(old.llm_layers)
        gpu = _delta(cursor, GPU, old.gpu, old.snapshot)
    version = head.version
    if version == old.version:  # changed rows under the same newest ids (rare): a new label
        version = _label(version, head.snapshot)
    changed = llm.gone_ids.len() + gpu.gone_ids.len()
    return Frames(
        old.llm_layers.apply(llm),
        gpu.apply(old.gpu),
        head.snapshot,
        version,
        head.scores,
        changed,
        llm,
        previous=old.version,
    )
