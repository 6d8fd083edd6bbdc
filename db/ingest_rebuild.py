"""Rebuild offerings' versions from the observation log (the slow path of db/ingest.py).

Used when an observation or a complete listing arrives out of order: the
versions the full set of logged observations implies (db/versioning_rule.py)
are compared with the believed ones; identical ones are kept, one whose end
only became known is closed in place, the rest are superseded (kept, with
``superseded_at``) and the implied ones inserted. Only a change of the price
believed at an instant is reported as a change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, text, update

from db.ingest_kinds import Kind, same_values
from db.ingest_result import IngestResult, PriceChange, Rescreen
from db.ingest_sql import insert_versions, set_by_id
from db.versioning_rule import Event, Island, walk

# A "complete" listing with fewer offerings than this share of the previous
# accepted complete listing of its source (in valid time) is treated as partial.
PARTIAL_LISTING_RATIO = 0.5
WITHDRAWN = "withdrawn"  # change_kind of a log row that marks an offering gone


@dataclass(frozen=True)
class Batch:
    """One kind of one source's ingest call."""

    conn: Connection
    kind: Kind
    source: str
    run_id: int | None
    recorded_at: datetime


def accepted_listings(batch: Batch) -> list[datetime]:
    """Instants of the source's complete listings that pass the partial-listing check.

    In valid-time order, each listing is compared with the previous accepted
    one (the first is accepted): a function of the set of listings, not of
    the order they arrived in.
    """
    rows = batch.conn.execute(
        text(
            "SELECT instant, max(offering_count) FROM listing_event "
            "WHERE source = :source AND kind = :kind GROUP BY instant ORDER BY instant"
        ),
        {"source": batch.source, "kind": batch.kind.name},
    ).all()
    accepted: list[datetime] = []
    reference: int | None = None
    for instant, count in rows:
        if reference is None or count >= PARTIAL_LISTING_RATIO * reference:
            accepted.append(instant)
            reference = count
    return accepted


@dataclass
class _Plan:
    supersede: list[int] = field(default_factory=list)
    closes: list[tuple[int, datetime]] = field(default_factory=list)
    touches: list[tuple[int, datetime]] = field(default_factory=list)
    inserts: list[tuple[int, Island]] = field(default_factory=list)
    # (offering, believed version before, island) per insert; (offering, version, at) per close
    inserted_from: list[tuple[RowMapping | None, Island]] = field(default_factory=list)
    withdrawn: list[tuple[RowMapping, datetime]] = field(default_factory=list)


def rebuild(batch: Batch, offering_ids: set[int], result: IngestResult) -> None:
    """Make the believed versions of ``offering_ids`` what their logged observations imply."""
    if not offering_ids:
        return
    ids = sorted(offering_ids)
    events = _events(batch, ids)
    believed = _believed(batch, ids)
    accepted = accepted_listings(batch)
    plan = _Plan()
    for oid in ids:
        evs = events.get(oid, [])
        if not evs and not believed.get(oid):
            continue
        seen = {e.observed_at for e in evs}
        first = min((e.instant for e in evs), default=None)
        gone = [t for t in accepted if first is not None and t > first and t not in seen]
        outcome = walk(evs, gone)
        result.skipped += outcome.skipped
        # The ingest's own observations changed nothing unless one opened a new version.
        result.unchanged += sum(i.mine for i in outcome.islands)
        result.ties += outcome.ties
        _diff(oid, outcome.islands, believed.get(oid, []), plan)
    result.rebuilt_offerings += len(ids)
    _apply(batch, plan, result)


def _events(batch: Batch, ids: list[int]) -> dict[int, list[Event]]:
    kind = batch.kind
    values = ", ".join(kind.value_columns)
    rows = batch.conn.execute(
        text(
            f"SELECT offering_id, instant, observed_at, {values}, stated_end, change_kind, "
            f"run_id, source_url, recorded_at FROM {kind.log.name} "
            "WHERE offering_id = ANY(:ids)"
        ),
        {"ids": ids},
    ).mappings()
    out: dict[int, list[Event]] = defaultdict(list)
    for r in rows:
        withdrawn = r["change_kind"] == WITHDRAWN
        out[r["offering_id"]].append(
            Event(
                r["instant"],
                r["observed_at"],
                None if withdrawn else {c: r[c] for c in kind.value_columns},
                r["stated_end"],
                {c: r[c] for c in ("change_kind", "run_id", "source_url")},
                mine=r["recorded_at"] == batch.recorded_at,
            )
        )
    return out


def _believed(batch: Batch, ids: list[int]) -> dict[int, list[RowMapping]]:
    kind = batch.kind
    values = ", ".join(kind.value_columns)
    rows = batch.conn.execute(
        text(
            f"SELECT id, offering_id, valid_from, valid_to, last_seen_at, {values} "
            f"FROM {kind.version.name} WHERE offering_id = ANY(:ids) ORDER BY valid_from"
        ),
        {"ids": ids},
    ).mappings()
    out: dict[int, list[RowMapping]] = defaultdict(list)
    for r in rows:
        out[r["offering_id"]].append(r)
    return out


def _values(kind: Kind, row: RowMapping) -> dict[str, Any]:
    return {c: row[c] for c in kind.value_columns}


def _in_effect(believed: list[RowMapping], t: datetime) -> RowMapping | None:
    for b in believed:
        if b["valid_from"] <= t and (b["valid_to"] is None or b["valid_to"] > t):
            return b
    return None


def _diff(oid: int, islands: list[Island], believed: list[RowMapping], plan: _Plan) -> None:
    by_from = {b["valid_from"]: b for b in believed}
    kept: set[int] = set()
    starts = {i.valid_from for i in islands}
    for island in islands:
        b = by_from.get(island.valid_from)
        same = b is not None and same_values({c: b[c] for c in island.values}, island.values)
        if b is not None and same and b["valid_to"] in (None, island.valid_to):
            kept.add(b["id"])
            if b["valid_to"] != island.valid_to:
                assert island.valid_to is not None
                plan.closes.append((b["id"], island.valid_to))
                if island.valid_to not in starts:
                    plan.withdrawn.append((b, island.valid_to))
            # Exactly what the log implies: a version closed in place by a late
            # observation keeps only the sightings before its new end.
            if island.last_seen_at != b["last_seen_at"]:
                plan.touches.append((b["id"], island.last_seen_at))
            continue
        plan.inserts.append((oid, island))
        plan.inserted_from.append((_in_effect(believed, island.valid_from), island))
    plan.supersede += [b["id"] for b in believed if b["id"] not in kept]


def _apply(batch: Batch, plan: _Plan, result: IngestResult) -> None:
    kind, conn = batch.kind, batch.conn
    if plan.supersede:
        record = kind.record
        conn.execute(
            update(record)
            .where(record.c.id.in_(bindparam("ids", expanding=True)))
            .values(superseded_at=batch.recorded_at),
            {"ids": plan.supersede},
        )
    set_by_id(
        conn,
        kind.version.name,
        "valid_to",
        plan.closes,
        {"closed_recorded_at": batch.recorded_at},
    )
    set_by_id(conn, kind.version.name, "last_seen_at", plan.touches)
    rows = [_version_row(batch, oid, island) for oid, island in plan.inserts]
    new_ids = {(o, f): i for i, o, f in insert_versions(conn, kind, rows)}
    result.superseded += len(plan.supersede)
    # Closed by what follows them (not by their own stated end), as the fast path counts.
    result.closed_versions += len(plan.closes) + sum(
        1
        for _, island in plan.inserts
        if island.valid_to is not None and island.valid_to != island.stated_end
    )
    result.new_versions += len(rows)
    result.unchanged -= sum(1 for _, island in plan.inserts if island.mine)
    keys = _keys(
        batch, {oid for oid, _ in plan.inserts} | {b["offering_id"] for b, _ in plan.withdrawn}
    )
    for (oid, island), (before, _) in zip(plan.inserts, plan.inserted_from, strict=True):
        new_id = new_ids[(oid, island.valid_from)]
        if before is not None and same_values(_values(kind, before), island.values):
            result.rescreen.append(Rescreen(kind.name, oid))
            continue
        old = None if before is None else _values(kind, before)
        old_id = None if before is None else before["id"]
        result.changes.append(
            PriceChange(
                kind.name, oid, keys[oid], old_id, new_id, old, island.values, island.valid_from
            )
        )
    for b, at in plan.withdrawn:
        oid = b["offering_id"]
        result.changes.append(
            PriceChange(kind.name, oid, keys[oid], b["id"], None, _values(kind, b), None, at)
        )


def _version_row(batch: Batch, oid: int, island: Island) -> dict[str, Any]:
    return {
        "offering_id": oid,
        **island.values,
        "valid_from": island.valid_from,
        "valid_to": island.valid_to,
        "recorded_at": batch.recorded_at,
        "closed_recorded_at": batch.recorded_at if island.valid_to is not None else None,
        "last_seen_at": island.last_seen_at,
        "change_kind": island.provenance.get("change_kind") or "observed",
        "run_id": island.provenance.get("run_id"),
        "source_url": island.provenance.get("source_url"),
    }


def _keys(batch: Batch, ids: set[int]) -> dict[int, dict[str, Any]]:
    """Each offering's key and refreshed attributes, as a change report names it."""
    if not ids:
        return {}
    kind = batch.kind
    columns = (*kind.key_columns, *kind.offering_extra)
    rows = batch.conn.execute(
        text(f"SELECT id, {', '.join(columns)} FROM {kind.offering.name} WHERE id = ANY(:ids)"),
        {"ids": sorted(ids)},
    ).mappings()
    return {r["id"]: {c: r[c] for c in columns} for r in rows}
