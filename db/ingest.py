"""Versioned ingest of normalized observations.

Rules (README "Versioning" repeats them for users):

* All of one call happens in one transaction, serialized per source by an
  advisory lock, so two concurrent ingests of one snapshot cannot both open a
  version (the partial unique index ``uq_*_version_open`` is the backstop).
* Observations are applied in time order, a group per instant ``t`` (the
  observation's ``effective_from`` when it announces a future price, else its
  ``observed_at``).
* Against the version in effect at ``t``:
  - same values: unchanged; its ``last_seen_at`` moves forward. Prices closer
    than the published precision (``core.offer_terms.same_price``) are the same;
  - different values and that version is open: it is closed at ``t`` and a new
    open version starts at ``t``;
  - different values inside a closed interval, or a second price at the very
    instant a version starts: the observation conflicts with recorded history
    and is skipped (counted, never applied silently over history).
* No version in effect at ``t``: a new version opens at ``t``; if a later
  version already exists (a backfill of older history) the new one is closed
  where the later one starts.
* A price with a stated end (``effective_to``, a promotion) is closed at that
  end when it is opened, so it stops being in effect without another scrape.
* The canonical model is a versioned value (``llm_price_version.model_slug``):
  an id that starts to point at another model opens a new version.
* Withdrawal: only when the source declares its listing complete are open
  versions of offerings missing from the snapshot closed at ``t``. A "complete"
  listing that has fewer than half of the source's open offerings is treated as
  partial (a truncated response must not wipe current prices).
* Every model whose prices were touched is re-screened for plausibility in the
  same transaction (db/screen.py), so no price is used before it is screened.
* A parse failure never reaches this module, so it can close nothing.

Which columns identify an offering and which are versioned values comes from
the tables (db/ingest_kinds.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, func, select, text, update

from costcurve.core.observations import LlmPrice, Observation
from db.ingest_kinds import GPU, KINDS, LLM, PRICE_FIELDS, Kind, same_values
from db.ingest_sql import copy_rows, key_join, stage_table

PARTIAL_LISTING_RATIO = 0.5

__all__ = [
    "GPU",
    "LLM",
    "PARTIAL_LISTING_RATIO",
    "PRICE_FIELDS",
    "IngestResult",
    "PriceChange",
    "ingest",
]


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

    def counts(self) -> dict[str, int]:
        return {
            "new_versions": self.new_versions,
            "closed_versions": self.closed_versions,
            "unchanged": self.unchanged,
        }


@dataclass(frozen=True)
class _Item:
    obs: Observation
    change_kind: str


@dataclass(frozen=True)
class _Snapshot:
    """One instant of one kind of one source's ingest."""

    conn: Connection
    kind: Kind
    source: str
    t: datetime
    items: list[_Item]
    run_id: int | None
    recorded_at: datetime


def _instant(obs: Observation) -> datetime:
    if isinstance(obs, LlmPrice) and obs.effective_from is not None:
        return obs.effective_from
    return obs.observed_at


def _end(obs: Observation) -> datetime | None:
    return obs.effective_to if isinstance(obs, LlmPrice) else None


def ingest(
    conn: Connection,
    source: str,
    observations: Sequence[Observation],
    *,
    listing_complete: bool,
    run_id: int | None = None,
    change_kind: str | Sequence[str] = "observed",
    recorded_at: datetime | None = None,
) -> IngestResult:
    """Version ``observations`` of ``source``; the caller owns the transaction."""
    from db.screen import screen_after_ingest

    recorded_at = recorded_at or datetime.now(UTC)
    kinds = [change_kind] * len(observations) if isinstance(change_kind, str) else change_kind
    if len(kinds) != len(observations):
        raise ValueError("one change_kind per observation")
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"costcurve-ingest:{source}"))))
    result = IngestResult(observations=len(observations))
    for kind in KINDS:
        items = [
            _Item(o, k)
            for o, k in zip(observations, kinds, strict=True)
            if isinstance(o, kind.observation)
        ]
        if not items and not listing_complete:
            continue
        groups = _by_instant(source, items)
        for t in sorted(groups):
            _apply_snapshot(
                _Snapshot(conn, kind, source, t, groups[t], run_id, recorded_at), result
            )
        if listing_complete and groups:
            t_last = max(groups)
            latest = _Snapshot(conn, kind, source, t_last, groups[t_last], run_id, recorded_at)
            _close_withdrawn(latest, result)
    result.flagged = screen_after_ingest(conn, source, observations, result.changes)
    return result


def _by_instant(source: str, items: list[_Item]) -> dict[datetime, list[_Item]]:
    groups: dict[datetime, list[_Item]] = defaultdict(list)
    for item in items:
        if item.obs.source != source:
            raise ValueError(f"observation of source {item.obs.source!r} in a {source!r} ingest")
        groups[_instant(item.obs)].append(item)
    return groups


def _apply_snapshot(snap: _Snapshot, result: IngestResult) -> None:
    stage = _stage_offerings(snap)
    _upsert_offerings(snap, stage)
    state = _versions_in_effect(snap, stage)
    plan = _Plan()
    for i, item in enumerate(snap.items):
        _decide(snap, item, state[i], plan, result)
    _touch(snap, plan.touch)
    _close(snap, plan.close, result)
    _insert_versions(snap, plan, result)


@dataclass
class _Plan:
    touch: list[int] = field(default_factory=list)
    close: list[int] = field(default_factory=list)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[int, PriceChange] = field(default_factory=dict)


def _stage_offerings(snap: _Snapshot) -> str:
    kind = snap.kind
    columns = ["ord", *kind.key_columns, *kind.offering_extra]
    stage = f"_stage_{kind.offering.name}"
    stage_table(snap.conn, kind, stage, columns)
    rows = [(i, *kind.offering_row(item.obs).values()) for i, item in enumerate(snap.items)]
    copy_rows(snap.conn, stage, columns, rows)
    distinct = snap.conn.execute(
        text(f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(kind.key_columns)} FROM {stage}) d")
    ).scalar_one()
    if distinct != len(rows):
        raise ValueError(
            f"{snap.source}: the snapshot at {snap.t.isoformat()} lists an offering twice"
        )
    return stage


def _upsert_offerings(snap: _Snapshot, stage: str) -> None:
    kind, o = snap.kind, snap.kind.offering.name
    columns = ", ".join((*kind.key_columns, *kind.offering_extra))
    refresh = "".join(f", {c} = COALESCE(EXCLUDED.{c}, {o}.{c})" for c in kind.offering_extra)
    snap.conn.execute(
        text(
            f"""
            INSERT INTO {o} ({columns}, first_seen_at, last_seen_at)
            SELECT {columns}, :t, :t FROM {stage}
            ON CONFLICT ON CONSTRAINT uq_{o}_key DO UPDATE SET
              last_seen_at = GREATEST({o}.last_seen_at, EXCLUDED.last_seen_at),
              first_seen_at = LEAST({o}.first_seen_at, EXCLUDED.first_seen_at){refresh}
            """
        ),
        {"t": snap.t},
    )


def _versions_in_effect(snap: _Snapshot, stage: str) -> dict[int, RowMapping]:
    """Per staged row: its offering id, the version in effect at ``t`` and the next start."""
    kind = snap.kind
    o, v = kind.offering.name, kind.version.name
    values = ", ".join(f"e.{c}" for c in kind.value_columns)
    rows = snap.conn.execute(
        text(
            f"""
            SELECT s.ord, o.id AS offering_id, e.id AS version_id, e.valid_from, e.valid_to,
                   nxt.valid_from AS next_from, {values}
            FROM {stage} s
            JOIN {o} o ON {key_join(kind, "o", "s")}
            LEFT JOIN {v} e ON e.offering_id = o.id AND e.valid_from <= :t
                 AND (e.valid_to IS NULL OR e.valid_to > :t)
            LEFT JOIN LATERAL (
                SELECT n.valid_from FROM {v} n
                WHERE n.offering_id = o.id AND n.valid_from > :t
                ORDER BY n.valid_from LIMIT 1
            ) nxt ON true
            """
        ),
        {"t": snap.t},
    ).mappings()
    return {row["ord"]: row for row in rows}


def _decide(
    snap: _Snapshot, item: _Item, found: RowMapping, plan: _Plan, result: IngestResult
) -> None:
    kind = snap.kind
    values = kind.values_of(item.obs)
    current_id = found["version_id"]
    current = {c: found[c] for c in kind.value_columns} if current_id else None
    if current is not None:
        if same_values(values, current):
            result.unchanged += 1
            plan.touch.append(current_id)
            return
        if found["valid_to"] is not None or found["valid_from"] == snap.t:
            result.skipped += 1
            return
    ends = [e for e in (found["next_from"] if current is None else None, _end(item.obs)) if e]
    valid_to = min(ends, default=None)
    if valid_to is not None and valid_to <= snap.t:
        result.skipped += 1  # a stated end that has already passed: nothing in effect
        return
    if current is not None:
        plan.close.append(current_id)
    oid = found["offering_id"]
    plan.inserts.append(
        {
            "offering_id": oid,
            **values,
            "valid_from": snap.t,
            "valid_to": valid_to,
            "recorded_at": snap.recorded_at,
            "closed_recorded_at": snap.recorded_at if valid_to is not None else None,
            "last_seen_at": item.obs.observed_at,
            "change_kind": item.change_kind,
            "run_id": snap.run_id,
            "source_url": item.obs.source_url,
        }
    )
    key = kind.offering_row(item.obs)
    plan.pending[oid] = PriceChange(kind.name, oid, key, current_id, None, current, values, snap.t)


def _touch(snap: _Snapshot, ids: list[int]) -> None:
    if not ids:
        return
    v = snap.kind.version
    seen = max(item.obs.observed_at for item in snap.items)
    snap.conn.execute(
        update(v)
        .where(v.c.id == func.any(bindparam("ids")))
        .values(last_seen_at=func.greatest(v.c.last_seen_at, bindparam("seen"))),
        {"ids": ids, "seen": seen},
    )


def _close(snap: _Snapshot, ids: list[int], result: IngestResult) -> None:
    if not ids:
        return
    v = snap.kind.version
    snap.conn.execute(
        update(v)
        .where(v.c.id == func.any(bindparam("ids")))
        .values(valid_to=snap.t, closed_recorded_at=snap.recorded_at),
        {"ids": ids},
    )
    result.closed_versions += len(ids)


def _insert_versions(snap: _Snapshot, plan: _Plan, result: IngestResult) -> None:
    if not plan.inserts:
        return
    v = snap.kind.version.name
    columns = list(plan.inserts[0])
    stage = f"_stage_{v}"
    stage_table(snap.conn, snap.kind, stage, columns)
    copy_rows(snap.conn, stage, columns, [tuple(row.values()) for row in plan.inserts])
    cols = ", ".join(columns)
    inserted = snap.conn.execute(
        text(f"INSERT INTO {v} ({cols}) SELECT {cols} FROM {stage} RETURNING id, offering_id")
    )
    for new_id, oid in inserted:
        plan.pending[oid].new_version_id = new_id
    result.new_versions += len(plan.inserts)
    result.changes.extend(plan.pending.values())


def _close_withdrawn(snap: _Snapshot, result: IngestResult) -> None:
    kind = snap.kind
    o, v = kind.offering, kind.version
    seen = {tuple(kind.key_of(item.obs).values()) for item in snap.items}
    open_rows = (
        snap.conn.execute(
            select(
                v.c.id.label("version_id"),
                v.c.offering_id,
                v.c.valid_from,
                v.c.last_seen_at,
                *(o.c[c] for c in kind.key_columns),
            )
            .join(o, o.c.id == v.c.offering_id)
            .where(o.c.source == snap.source, v.c.valid_to.is_(None))
        )
        .mappings()
        .all()
    )
    if len(seen) < PARTIAL_LISTING_RATIO * len(open_rows):
        return
    result.listing_complete_applied = True
    # Only what was last seen no later than this snapshot can have been withdrawn
    # by it: re-ingesting an old snapshot must not close offerings seen since.
    gone = [
        r
        for r in open_rows
        if tuple(r[c] for c in kind.key_columns) not in seen
        and r["valid_from"] < snap.t
        and r["last_seen_at"] <= snap.t
    ]
    if not gone:
        return
    snap.conn.execute(
        update(v)
        .where(v.c.id.in_([r["version_id"] for r in gone]))
        .values(valid_to=snap.t, closed_recorded_at=snap.recorded_at)
    )
    result.closed_versions += len(gone)
    for r in gone:
        key = {c: r[c] for c in kind.key_columns}
        result.changes.append(
            PriceChange(kind.name, r["offering_id"], key, r["version_id"], None, None, None, snap.t)
        )
