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
"""

from __future__ import annotations

import hashlib
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Engine

from db.frames import (
    GPU_SCHEMA,
    GPU_SQL,
    LLM_SCHEMA,
    LLM_SQL,
    Reader,
    arrow_frame,
    first_row,
    snapshot_reader,
    with_tiers,
)

_SNAPSHOT = re.compile(r"^\d+:\d+:[\d,]*$")


@dataclass(frozen=True)
class Kind:
    """One version table as the frames read it."""

    version: str  # version table
    offering: str  # offering table
    sql: str
    schema: dict[str, Any]
    llm: bool

    @property
    def stamp_column(self) -> str:
        """``version_stamp``'s column naming this kind's version (a flag changed it)."""
        return f"{self.version}_id"


LLM = Kind("llm_price_version", "llm_offering", LLM_SQL, LLM_SCHEMA, llm=True)
GPU = Kind("gpu_rate_version", "gpu_offering", GPU_SQL, GPU_SCHEMA, llm=False)


@dataclass(frozen=True)
class Frames:
    """Every version of both kinds as of ``snapshot``; ``version`` labels the data."""

    llm: pl.DataFrame
    gpu: pl.DataFrame
    snapshot: str
    version: str
    changed_rows: int = 0  # rows the delta that made these frames re-read or removed


def _head(cursor: Any) -> tuple[str, str]:
    """This transaction's snapshot and a label of the data it sees.

    The label names the newest change and the newest version of each kind, so
    every API worker that sees the same data answers with the same label (a
    refresh that finds changes under an unchanged label disambiguates it).
    """
    row = first_row(
        cursor,
        """
        SELECT pg_current_snapshot()::text AS snapshot,
               (SELECT max(changed_xid) FROM llm_price_version)::text AS llm_xid,
               (SELECT max(changed_xid) FROM gpu_rate_version)::text AS gpu_xid,
               (SELECT max(id) FROM llm_price_version)::text AS llm_id,
               (SELECT max(id) FROM gpu_rate_version)::text AS gpu_id,
               (SELECT max(id) FROM version_stamp)::text AS stamp_id,
               current_setting('transaction_isolation') AS isolation
        """,
    )
    assert row[6] == "repeatable read", row[6]  # one snapshot for every read of a load
    return str(row[0]), _label(*row[1:6])


def _label(*parts: object) -> str:
    return hashlib.sha256("|".join(str(x) for x in parts).encode()).hexdigest()[:16]


def load(engine: Engine, reader: Reader | None = None) -> Frames:
    """Every version, read in one snapshot."""
    with _snapshot(engine, reader) as cursor:
        snapshot, version = _head(cursor)
        llm = with_tiers(arrow_frame(cursor, LLM.sql, LLM.schema))
        gpu = arrow_frame(cursor, GPU.sql, GPU.schema)
    return Frames(llm, gpu, snapshot, version)


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
        UNION SELECT r.id FROM {kind.version} r JOIN {kind.offering} ro ON ro.id = r.offering_id
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


def _apply(cursor: Any, kind: Kind, frame: pl.DataFrame, snapshot: str) -> tuple[pl.DataFrame, int]:
    """``frame`` with the delta since ``snapshot`` applied; and how many ids it touched."""
    removed = removed_version_ids(cursor, kind, snapshot)
    extra = _predecessors(frame, removed)
    reread = _reread_sql(kind, snapshot)
    if extra:
        reread += " UNION SELECT unnest(ARRAY[" + ", ".join(str(int(i)) for i in extra) + "])"
    cursor.execute(reread)
    ids = pl.DataFrame(cursor.fetch_arrow())["id"].to_list()
    # The ids as a literal: the planner reads each by its primary key.
    listed = "{" + ",".join(str(int(i)) for i in ids) + "}"
    rows = arrow_frame(cursor, kind.sql, kind.schema, only=f"v.id = ANY('{listed}'::bigint[])")
    if kind.llm:
        rows = with_tiers(rows)
    gone = set(ids) | set(removed)
    kept = frame.filter(~pl.col("id").is_in(list(gone))) if gone else frame
    return pl.concat([kept, rows.select(frame.columns)], how="vertical"), len(gone)


def changes_probe_sql(snapshot: str) -> str:
    """Whether any version changed since ``snapshot`` (an index probe, no rows read)."""
    stamped = f"SELECT 1 {_stamps_since(snapshot)}"
    return (
        f"SELECT EXISTS ({changed_since_sql(LLM.version, snapshot)}) "
        f"OR EXISTS ({changed_since_sql(GPU.version, snapshot)}) "
        f"OR EXISTS ({stamped})"
    )


def has_changes(cursor: Any, snapshot: str) -> bool:
    return bool(first_row(cursor, changes_probe_sql(snapshot))[0])


def refresh(engine: Engine, old: Frames, reader: Reader | None = None) -> Frames:
    """``old`` brought to the current snapshot, reading only what changed."""
    with _snapshot(engine, reader) as cursor:
        snapshot, version = _head(cursor)
        if not has_changes(cursor, old.snapshot):
            return Frames(old.llm, old.gpu, snapshot, old.version)
        llm, n_llm = _apply(cursor, LLM, old.llm, old.snapshot)
        gpu, n_gpu = _apply(cursor, GPU, old.gpu, old.snapshot)
    if version == old.version:  # changed rows under the same newest ids (rare): a new label
        version = _label(version, snapshot)
    return Frames(llm, gpu, snapshot, version, changed_rows=n_llm + n_gpu)
