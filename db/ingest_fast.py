"""The fast path of db/ingest.py, as statements over the staged observations.

An observation later than everything logged for its offering and than every
complete listing of its source, alone for its offering in the call, is
applied against the version in effect at its instant, which is exactly what
the rule (db/versioning_rule.py) gives for it:

* a later version, or a version in effect that is already closed: only a
  rebuild knows (``slow``);
* a stated end at or before its instant: nothing is in effect (``skip``);
* no version in effect: open one (``new``);
* the same values and no stated end: the version's ``last_seen_at`` moves
  (``same``);
* otherwise the version closes at the instant and a new one opens there
  (``differs``).

SQL compares values exactly; prices that differ only by float noise are the
same price (``same_values``), which only Python decides, so the few rows SQL
finds different are re-checked there and the noisy ones turned ``same``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text

from db.ingest_kinds import same_values
from db.ingest_result import IngestResult, PriceChange
from db.ingest_sql import same_columns
from db.ingest_stage import Stage, instant, stated_end

# Version column -> its value for a version opened from a staged row.
_OPENED = {
    "offering_id": "offering_id",
    "valid_from": "instant",
    "valid_to": "stated_end",
    "recorded_at": "CAST(:recorded_at AS timestamptz)",
    "closed_recorded_at": (
        "CASE WHEN stated_end IS NOT NULL THEN CAST(:recorded_at AS timestamptz) END"
    ),
    "last_seen_at": "observed_at",
    "change_kind": "change_kind",
    "run_id": "CAST(:run_id AS bigint)",
    "source_url": "source_url",
}


def apply_fast(stage: Stage, listed_until: datetime | None, result: IngestResult) -> set[int]:
    """Apply the staged rows the fast path can; returns the offerings to rebuild."""
    _classify(stage, listed_until)
    conn, v = stage.batch.conn, stage.kind.version.name
    reported = _reported(stage)
    noise = [
        row["ord"]
        for row in reported
        if row["verdict"] == "differs" and _noise(stage, row["ord"], row["old"])
    ]
    if noise:
        conn.execute(
            text(f"UPDATE {stage.name} SET verdict = 'same' WHERE ord = ANY(:ords)"),
            {"ords": noise},
        )
    counts: dict[str, int] = {
        str(verdict): int(n)
        for verdict, n in conn.execute(
            text(f"SELECT verdict, count(*) FROM {stage.name} WHERE fresh GROUP BY verdict")
        )
    }
    result.skipped += counts.get("skip", 0)
    result.unchanged += counts.get("same", 0)
    conn.execute(
        text(
            f"UPDATE {v} t SET last_seen_at = GREATEST(t.last_seen_at, s.observed_at) "
            f"FROM {stage.name} s WHERE s.verdict = 'same' AND t.id = s.version_id"
        )
    )
    closed = conn.execute(
        text(
            f"UPDATE {v} t SET valid_to = s.instant, closed_recorded_at = :recorded_at "
            f"FROM {stage.name} s WHERE s.verdict = 'differs' AND t.id = s.version_id"
        ),
        {"recorded_at": stage.batch.recorded_at},
    )
    result.closed_versions += closed.rowcount
    opened = _open(stage)
    result.new_versions += len(opened)
    noisy = set(noise)
    _report(stage, [r for r in reported if r["ord"] not in noisy], opened, result)
    slow = conn.execute(
        text(f"SELECT DISTINCT offering_id FROM {stage.name} WHERE verdict = 'slow'")
    ).scalars()
    return {int(i) for i in slow}


def _classify(stage: Stage, listed_until: datetime | None) -> None:
    """Set each fresh staged row's ``verdict`` and the version in effect at its instant."""
    kind = stage.kind
    v = kind.version.name
    stage.batch.conn.execute(
        text(
            f"""
            UPDATE {stage.name} s SET version_id = c.version_id, verdict = c.verdict
            FROM (
              SELECT f.ord, e.id AS version_id, CASE
                WHEN f.n > 1 OR f.instant <= f.latest OR f.instant <= CAST(:until AS timestamptz)
                     OR e.valid_to IS NOT NULL
                     OR EXISTS (SELECT 1 FROM {v} n
                                WHERE n.offering_id = f.offering_id AND n.valid_from > f.instant)
                  THEN 'slow'
                WHEN f.stated_end IS NOT NULL AND f.stated_end <= f.instant THEN 'skip'
                WHEN e.id IS NULL THEN 'new'
                WHEN f.stated_end IS NULL AND {same_columns(kind.value_columns, "e", "f")}
                  THEN 'same'
                ELSE 'differs' END AS verdict
              FROM (SELECT *, count(*) OVER (PARTITION BY offering_id) AS n
                    FROM {stage.name} WHERE fresh) f
              LEFT JOIN {v} e ON e.offering_id = f.offering_id AND e.valid_from <= f.instant
                   AND (e.valid_to IS NULL OR e.valid_to > f.instant)
            ) c
            WHERE s.ord = c.ord
            """
        ),
        {"until": listed_until},
    )


def _reported(stage: Stage) -> list[dict[str, Any]]:
    """The rows that open a version, with the values of the version they close."""
    kind = stage.kind
    values = ", ".join(f"e.{c}" for c in kind.value_columns)
    rows = stage.batch.conn.execute(
        text(
            f"SELECT s.ord, s.offering_id, s.verdict, s.version_id, {values} "
            f"FROM {stage.name} s LEFT JOIN {kind.version.name} e ON e.id = s.version_id "
            "WHERE s.verdict IN ('differs', 'new') ORDER BY s.ord"
        )
    ).all()
    return [
        {
            "ord": r[0],
            "offering_id": r[1],
            "verdict": r[2],
            "version_id": r[3],
            "old": None if r[3] is None else dict(zip(kind.value_columns, r[4:], strict=True)),
        }
        for r in rows
    ]


def _noise(stage: Stage, ord_: int, old: dict[str, Any] | None) -> bool:
    obs = stage.observations[ord_]
    return (
        old is not None and stated_end(obs) is None and same_values(stage.kind.values_of(obs), old)
    )


def _open(stage: Stage) -> dict[int, int]:
    """Open the versions of ``new`` and ``differs`` rows: ``offering id -> version id``."""
    batch, kind = stage.batch, stage.kind
    columns = ["offering_id", *kind.value_columns, *(c for c in _OPENED if c != "offering_id")]
    exprs = ", ".join(_OPENED.get(c, c) for c in columns)
    rows = batch.conn.execute(
        text(
            f"INSERT INTO {kind.version.name} ({', '.join(columns)}) "
            f"SELECT {exprs} FROM {stage.name} WHERE verdict IN ('differs', 'new') ORDER BY ord "
            "RETURNING offering_id, id"
        ),
        {"recorded_at": batch.recorded_at, "run_id": batch.run_id},
    ).all()
    return {int(o): int(i) for o, i in rows}


def _report(
    stage: Stage, rows: list[dict[str, Any]], opened: dict[int, int], result: IngestResult
) -> None:
    """One change per opened version (alerts, change reports), in observation order."""
    kind = stage.kind
    for row in rows:
        obs = stage.observations[row["ord"]]
        oid = row["offering_id"]
        result.changes.append(
            PriceChange(
                kind.name,
                oid,
                kind.offering_row(obs),
                row["version_id"],
                opened[oid],
                row["old"],
                kind.values_of(obs),
                instant(obs),
            )
        )
