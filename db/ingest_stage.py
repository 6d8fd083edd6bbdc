"""Staged observations: one COPY per call, then statements over the staged rows.

db/ingest.py copies every observation of one kind once into a temporary
table (instant, stated end, offering key and attributes, versioned values).
The offering upsert, the offering ids, "already logged" (a replay adds nothing
to the set), the latest instant logged per offering and the log insert are
each one statement over that table: no per-observation round trip, and no
observation is turned into a Python row more than once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from costcurve.core.observations import LlmPrice, Observation
from db.ingest_kinds import Kind
from db.ingest_rebuild import Batch
from db.ingest_sql import copy_rows, key_join, same_columns, stage_table

# Per staged row, besides its observation's columns: the instant its values take
# effect, its stated end, and what the ingest call says about it.
_META = ("ord", "instant", "observed_at", "stated_end", "change_kind", "source_url")
# Filled in by SQL: see resolve() and db/ingest_fast.py.
_DERIVED = ("offering_id", "latest", "fresh", "version_id", "verdict")


def instant(obs: Observation) -> datetime:
    """When the observation's values take effect: an announced start, else when seen."""
    if isinstance(obs, LlmPrice) and obs.effective_from is not None:
        return obs.effective_from
    return obs.observed_at


def stated_end(obs: Observation) -> datetime | None:
    return obs.effective_to if isinstance(obs, LlmPrice) else None


def data_columns(kind: Kind) -> tuple[str, ...]:
    """Offering key, offering attributes and versioned values, each column once.

    ``model_slug`` is both an offering attribute and a versioned value; both
    read the observation's ``model``, so one staged column serves both.
    """
    offering = (*kind.key_columns, *kind.offering_extra)
    return (*offering, *(c for c in kind.value_columns if c not in offering))


def log_columns(kind: Kind) -> list[str]:
    """The observation log's columns an ingest writes (the order rows are copied in)."""
    return [
        "offering_id",
        "instant",
        "observed_at",
        *kind.value_columns,
        "stated_end",
        "change_kind",
        "run_id",
        "source_url",
        "recorded_at",
    ]


@dataclass(frozen=True)
class Stage:
    """One kind's observations of one call, staged; ``observations[ord]`` is row ``ord``."""

    batch: Batch
    name: str
    observations: Sequence[Observation]

    @property
    def kind(self) -> Kind:
        return self.batch.kind


def stage_observations(
    batch: Batch, observations: Sequence[Observation], change_kinds: Sequence[str]
) -> Stage:
    kind = batch.kind
    stage = Stage(batch, f"_stage_{kind.log.name}", observations)
    data = data_columns(kind)
    stage_table(batch.conn, kind, stage.name, [*_META, *data, *_DERIVED])
    read = kind.reader(data)
    rows = [
        (i, instant(o), o.observed_at, stated_end(o), k, o.source_url, *read(o))
        for i, (o, k) in enumerate(zip(observations, change_kinds, strict=True))
    ]
    copy_rows(batch.conn, stage.name, [*_META, *data], rows)
    keys = ", ".join(kind.key_columns)
    # Planner statistics for the joins on ord and the offering key (a fresh temporary
    # table has none, and without them the key join sorts instead of hashing).
    batch.conn.execute(text(f"ANALYZE {stage.name} (ord, {keys})"))
    twice = batch.conn.execute(
        text(
            f"SELECT instant FROM {stage.name} GROUP BY instant, {keys} HAVING count(*) > 1 LIMIT 1"
        )
    ).scalar()
    if twice is not None:
        raise ValueError(
            f"{batch.source}: the snapshot at {twice.isoformat()} lists an offering twice"
        )
    return stage


def upsert_offerings(stage: Stage) -> None:
    kind, o = stage.kind, stage.kind.offering.name
    keys = ", ".join(kind.key_columns)
    columns = ", ".join((*kind.key_columns, *kind.offering_extra))
    # Attributes come from the latest observation whatever the arrival order.
    sets = {
        "last_seen_at": f"GREATEST({o}.last_seen_at, EXCLUDED.last_seen_at)",
        "first_seen_at": f"LEAST({o}.first_seen_at, EXCLUDED.first_seen_at)",
    } | {
        c: f"CASE WHEN EXCLUDED.last_seen_at >= {o}.last_seen_at"
        f" THEN COALESCE(EXCLUDED.{c}, {o}.{c}) ELSE COALESCE({o}.{c}, EXCLUDED.{c}) END"
        for c in kind.offering_extra
    }
    # A row the call changes nothing of is not rewritten (a replay rewrites no offering).
    changes = (
        f"({', '.join(f'{o}.{c}' for c in sets)}) IS DISTINCT FROM ({', '.join(sets.values())})"
    )
    stage.batch.conn.execute(
        text(
            f"""
            INSERT INTO {o} ({columns}, first_seen_at, last_seen_at)
            SELECT DISTINCT ON ({keys}) {columns},
                   min(instant) OVER w, max(instant) OVER w
            FROM {stage.name}
            WINDOW w AS (PARTITION BY {keys})
            ORDER BY {keys}, instant DESC
            ON CONFLICT ON CONSTRAINT uq_{o}_key DO UPDATE
            SET {", ".join(f"{c} = {e}" for c, e in sets.items())}
            WHERE {changes}
            """
        )
    )


def resolve(stage: Stage) -> int:
    """Per staged row: its offering, whether the log already holds it exactly, and the
    latest instant logged for its offering before this call. Returns the rows logged already.
    """
    kind = stage.kind
    log = kind.log.name
    # Equality on the indexed instant first, so each row is one index probe.
    same = "l.instant = s.instant AND l.observed_at = s.observed_at AND " + same_columns(
        ("stated_end", *kind.value_columns), "l", "s"
    )
    stage.batch.conn.execute(
        text(
            f"""
            UPDATE {stage.name} s SET offering_id = o.id,
              fresh = NOT EXISTS (
                SELECT 1 FROM {log} l WHERE l.offering_id = o.id AND {same}),
              latest = (
                SELECT max(GREATEST(l.instant, l.observed_at)) FROM {log} l
                WHERE l.offering_id = o.id)
            FROM {kind.offering.name} o WHERE {key_join(kind, "o", "s")}
            """
        )
    )
    logged = stage.batch.conn.execute(
        text(f"SELECT count(*) FROM {stage.name} WHERE NOT fresh")
    ).scalar_one()
    return int(logged)


def log_fresh(stage: Stage) -> None:
    """Append the rows the log does not hold yet to the observation log."""
    batch = stage.batch
    columns = log_columns(batch.kind)
    given = {
        "run_id": "CAST(:run_id AS bigint)",
        "recorded_at": "CAST(:recorded_at AS timestamptz)",
    }
    batch.conn.execute(
        text(
            f"INSERT INTO {batch.kind.log.name} ({', '.join(columns)}) "
            f"SELECT {', '.join(given.get(c, c) for c in columns)} FROM {stage.name} "
            "WHERE fresh ORDER BY ord"
        ),
        {"run_id": batch.run_id, "recorded_at": batch.recorded_at},
    )


def offering_ids(batch: Batch, name: str) -> dict[int, int]:
    """``ord -> offering id`` of a staged table of offering keys (offerings that exist)."""
    kind = batch.kind
    rows = batch.conn.execute(
        text(
            f"SELECT s.ord, o.id FROM {name} s "
            f"JOIN {kind.offering.name} o ON {key_join(kind, 'o', 's')}"
        )
    ).all()
    return {int(r[0]): int(r[1]) for r in rows}
