"""Versioned ingest of normalized observations.

The rule (README "Versioning"; db/versioning_rule.py is its one definition):
an offering's versions are a function of the SET of its observations and of
its source's complete listings, whatever order and concurrency they arrive in.

* All of one call happens in one transaction, serialized per source by an
  advisory lock (the partial unique index ``uq_*_version_open`` is the backstop).
* Every observation is appended to the kind's observation log, and a complete
  listing to ``listing_event``; versions are derived from them.
* Fast path (the normal scrape): an offering whose new observation is later
  than everything logged for it and than every complete listing of its source
  is applied incrementally against the version in effect (unchanged: its
  ``last_seen_at`` moves; different: close at ``t`` and open at ``t``), which
  is exactly what the rule gives.
* Anything else (a backfill, a replay, a retried run delivering older data) is
  rebuilt from the log (db/ingest_rebuild.py): contradicted versions are kept
  with ``superseded_at`` and replaced by the implied ones.
* Withdrawal: a complete listing at ``t`` (the latest ``observed_at`` of the
  call) closes, at ``t``, the version in effect of each offering of the source
  it lacks, unless the listing has fewer than ``PARTIAL_LISTING_RATIO`` of the
  offerings of the previous accepted listing (in valid time).
* Every model whose prices were touched is re-screened for plausibility in the
  same transaction (db/screen.py), so no price is used before it is screened.
* A parse failure never reaches this module, so it can close nothing.

Which columns identify an offering and which are versioned values comes from
the tables (db/ingest_kinds.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, text

from costcurve.core.observations import LlmPrice, Observation
from db.ingest_kinds import GPU, KINDS, LLM, PRICE_FIELDS, Kind, same_values
from db.ingest_rebuild import (
    PARTIAL_LISTING_RATIO,
    WITHDRAWN,
    Batch,
    accepted_listings,
    rebuild,
)
from db.ingest_result import IngestResult, PriceChange
from db.ingest_sql import copy_rows, insert_versions, key_join, set_by_id, stage_table

__all__ = [
    "GPU",
    "LLM",
    "PARTIAL_LISTING_RATIO",
    "PRICE_FIELDS",
    "IngestResult",
    "PriceChange",
    "ingest",
    "log_dataset_marks",
]


@dataclass(frozen=True)
class _Item:
    obs: Observation
    change_kind: str
    ord: int = 0
    offering_id: int = 0
    # The observation's offering row and versioned values, computed once.
    offering: dict[str, Any] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


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
    for o in observations:
        if o.source != source:
            raise ValueError(f"observation of source {o.source!r} in a {source!r} ingest")
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"costcurve-ingest:{source}"))))
    result = IngestResult(observations=len(observations))
    for kind in KINDS:
        items = [
            _Item(o, k, i, 0, kind.offering_row(o), kind.values_of(o))
            for i, (o, k) in enumerate(
                (o, k)
                for o, k in zip(observations, kinds, strict=True)
                if isinstance(o, kind.observation)
            )
        ]
        if items:
            batch = Batch(conn, kind, source, run_id, recorded_at)
            _ingest_kind(batch, items, listing_complete, result)
    touched = [*result.changes, *result.rescreen]
    result.flagged = screen_after_ingest(conn, source, observations, touched)
    return result


def _ingest_kind(
    batch: Batch, items: list[_Item], listing_complete: bool, result: IngestResult
) -> None:
    stage = _stage_offerings(batch, items)
    _upsert_offerings(batch, stage)
    everything = _with_offering_ids(batch, stage, items)
    # An observation already logged adds nothing to the set (a replay): skip it.
    items = _not_yet_logged(batch, everything)
    result.unchanged += len(everything) - len(items)
    latest, listed_until = _prior(batch, {i.offering_id for i in items})
    _log(batch, items)
    per_offering = Counter(i.offering_id for i in items)
    fast = [
        i
        for i in items
        if per_offering[i.offering_id] == 1
        and _later(_instant(i.obs), latest.get(i.offering_id))
        and _later(_instant(i.obs), listed_until)
    ]
    fast_ids = {i.offering_id for i in fast}
    slow = {i.offering_id for i in items if i.offering_id not in fast_ids}
    slow |= _apply_fast(batch, stage, fast, result)
    if listing_complete:
        t = max(i.obs.observed_at for i in everything)
        fresh = sum(1 for i in items if i.obs.observed_at == t)
        slow |= _withdraw(batch, everything, listed_until, result, fresh)
    rebuild(batch, slow, result)


def _not_yet_logged(batch: Batch, items: list[_Item]) -> list[_Item]:
    """The items the observation log does not already hold exactly."""
    if not items:
        return items
    kind = batch.kind
    values = ", ".join(f"l.{c}" for c in kind.value_columns)
    rows = batch.conn.execute(
        text(
            f"SELECT l.offering_id, l.instant, l.observed_at, l.stated_end, {values} "
            f"FROM {kind.log.name} l JOIN unnest(CAST(:oids AS bigint[]), "
            "CAST(:instants AS timestamptz[])) AS s(oid, instant) "
            "ON l.offering_id = s.oid AND l.instant = s.instant"
        ),
        {"oids": [i.offering_id for i in items], "instants": [_instant(i.obs) for i in items]},
    ).all()
    logged = {tuple(r) for r in rows}
    return [
        i
        for i in items
        if (i.offering_id, _instant(i.obs), i.obs.observed_at, _end(i.obs), *i.values.values())
        not in logged
    ]


def _later(t: datetime, than: datetime | None) -> bool:
    return than is None or t > than


def _stage_offerings(batch: Batch, items: list[_Item]) -> str:
    kind = batch.kind
    columns = ["ord", "instant", *kind.key_columns, *kind.offering_extra]
    stage = f"_stage_{kind.offering.name}"
    stage_table(batch.conn, kind, stage, columns)
    rows = [(i.ord, _instant(i.obs), *i.offering.values()) for i in items]
    copy_rows(batch.conn, stage, columns, rows)
    keys = ", ".join(kind.key_columns)
    twice = batch.conn.execute(
        text(f"SELECT instant FROM {stage} GROUP BY instant, {keys} HAVING count(*) > 1 LIMIT 1")
    ).scalar()
    if twice is not None:
        raise ValueError(
            f"{batch.source}: the snapshot at {twice.isoformat()} lists an offering twice"
        )
    return stage


def _upsert_offerings(batch: Batch, stage: str) -> None:
    kind, o = batch.kind, batch.kind.offering.name
    keys = ", ".join(kind.key_columns)
    columns = ", ".join((*kind.key_columns, *kind.offering_extra))
    # Attributes come from the latest observation whatever the arrival order.
    refresh = "".join(
        f", {c} = CASE WHEN EXCLUDED.last_seen_at >= {o}.last_seen_at"
        f" THEN COALESCE(EXCLUDED.{c}, {o}.{c}) ELSE COALESCE({o}.{c}, EXCLUDED.{c}) END"
        for c in kind.offering_extra
    )
    batch.conn.execute(
        text(
            f"""
            INSERT INTO {o} ({columns}, first_seen_at, last_seen_at)
            SELECT DISTINCT ON ({keys}) {columns},
                   min(instant) OVER w, max(instant) OVER w
            FROM {stage}
            WINDOW w AS (PARTITION BY {keys})
            ORDER BY {keys}, instant DESC
            ON CONFLICT ON CONSTRAINT uq_{o}_key DO UPDATE SET
              last_seen_at = GREATEST({o}.last_seen_at, EXCLUDED.last_seen_at),
              first_seen_at = LEAST({o}.first_seen_at, EXCLUDED.first_seen_at){refresh}
            """
        )
    )


def _with_offering_ids_rows(batch: Batch, stage: str) -> list[tuple[int, int]]:
    kind = batch.kind
    rows = batch.conn.execute(
        text(
            f"SELECT s.ord, o.id FROM {stage} s "
            f"JOIN {kind.offering.name} o ON {key_join(kind, 'o', 's')}"
        )
    ).all()
    return [(int(r[0]), int(r[1])) for r in rows]


def _with_offering_ids(batch: Batch, stage: str, items: list[_Item]) -> list[_Item]:
    ids = dict(_with_offering_ids_rows(batch, stage))
    return [_Item(i.obs, i.change_kind, i.ord, ids[i.ord], i.offering, i.values) for i in items]


def _prior(batch: Batch, ids: set[int]) -> tuple[dict[int, datetime], datetime | None]:
    """Per offering, the latest instant logged for it; the source's latest complete listing."""
    rows = batch.conn.execute(
        text(
            f"SELECT offering_id, max(GREATEST(instant, observed_at)) FROM {batch.kind.log.name} "
            "WHERE offering_id = ANY(:ids) GROUP BY offering_id"
        ),
        {"ids": sorted(ids)},
    ).all()
    listed_until = batch.conn.execute(
        text("SELECT max(instant) FROM listing_event WHERE source = :source AND kind = :kind"),
        {"source": batch.source, "kind": batch.kind.name},
    ).scalar()
    return {int(r[0]): r[1] for r in rows}, listed_until


def _log_columns(kind: Kind) -> list[str]:
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


def _log(batch: Batch, items: list[_Item]) -> None:
    kind = batch.kind
    columns = _log_columns(kind)
    rows = [
        (
            i.offering_id,
            _instant(i.obs),
            i.obs.observed_at,
            *i.values.values(),
            _end(i.obs),
            i.change_kind,
            batch.run_id,
            i.obs.source_url,
            batch.recorded_at,
        )
        for i in items
    ]
    copy_rows(batch.conn, kind.log.name, columns, rows)


@dataclass
class _Plan:
    touch: list[tuple[int, datetime]] = field(default_factory=list)
    close: list[tuple[int, datetime]] = field(default_factory=list)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[int, PriceChange] = field(default_factory=dict)
    slow: set[int] = field(default_factory=set)


def _apply_fast(batch: Batch, stage: str, items: list[_Item], result: IngestResult) -> set[int]:
    """Apply the fast-path items; returns the offerings that need a rebuild after all."""
    if not items:
        return set()
    state = _versions_in_effect(batch, stage, [i.ord for i in items])
    plan = _Plan()
    for item in items:
        _decide(batch, item, state[item.ord], plan, result)
    set_by_id(batch.conn, batch.kind.version.name, "last_seen_at", plan.touch)
    set_by_id(
        batch.conn,
        batch.kind.version.name,
        "valid_to",
        plan.close,
        {"closed_recorded_at": batch.recorded_at},
    )
    result.closed_versions += len(plan.close)
    for new_id, oid, _ in insert_versions(batch.conn, batch.kind, plan.inserts):
        plan.pending[oid].new_version_id = new_id
    result.new_versions += len(plan.inserts)
    result.changes.extend(plan.pending.values())
    return plan.slow


def _versions_in_effect(batch: Batch, stage: str, ords: list[int]) -> dict[int, RowMapping]:
    """Per staged row: the version in effect at its instant and whether a later one exists."""
    kind = batch.kind
    o, v = kind.offering.name, kind.version.name
    values = ", ".join(f"e.{c}" for c in kind.value_columns)
    rows = batch.conn.execute(
        text(
            f"""
            SELECT s.ord, e.id AS version_id, e.valid_from, e.valid_to,
                   e.last_seen_at, later.n AS later, {values}
            FROM {stage} s
            JOIN {o} o ON {key_join(kind, "o", "s")}
            LEFT JOIN {v} e ON e.offering_id = o.id AND e.valid_from <= s.instant
                 AND (e.valid_to IS NULL OR e.valid_to > s.instant)
            LEFT JOIN LATERAL (
                SELECT 1 AS n FROM {v} n
                WHERE n.offering_id = o.id AND n.valid_from > s.instant LIMIT 1
            ) later ON true
            WHERE s.ord = ANY(:ords)
            """
        ),
        {"ords": ords},
    ).mappings()
    return {row["ord"]: row for row in rows}


def _decide(
    batch: Batch, item: _Item, found: RowMapping, plan: _Plan, result: IngestResult
) -> None:
    """One fast-path observation against the version in effect at its instant (the rule)."""
    kind, t, end = batch.kind, _instant(item.obs), _end(item.obs)
    oid = item.offering_id
    current_id = found["version_id"]
    if found["later"] or (current_id is not None and found["valid_to"] is not None):
        plan.slow.add(oid)  # a closed interval or a later version: only a rebuild knows
        return
    if end is not None and end <= t:
        result.skipped += 1  # a stated end that has already passed: nothing in effect
        return
    values = item.values
    current = {c: found[c] for c in kind.value_columns} if current_id else None
    if current is not None and end is None and same_values(values, current):
        result.unchanged += 1
        plan.touch.append((current_id, max(found["last_seen_at"], item.obs.observed_at)))
        return
    if current is not None:
        plan.close.append((current_id, t))
    plan.inserts.append(
        {
            "offering_id": oid,
            **values,
            "valid_from": t,
            "valid_to": end,
            "recorded_at": batch.recorded_at,
            "closed_recorded_at": batch.recorded_at if end is not None else None,
            "last_seen_at": item.obs.observed_at,
            "change_kind": item.change_kind,
            "run_id": batch.run_id,
            "source_url": item.obs.source_url,
        }
    )
    plan.pending[oid] = PriceChange(
        kind.name, oid, item.offering, current_id, None, current, values, t
    )


def _listing_known(batch: Batch, t: datetime, count: int) -> bool:
    known = batch.conn.execute(
        text(
            "SELECT max(offering_count) FROM listing_event "
            "WHERE source = :source AND kind = :kind AND instant = :t"
        ),
        {"source": batch.source, "kind": batch.kind.name, "t": t},
    ).scalar()
    return known is not None and known >= count


def _withdraw(
    batch: Batch,
    items: list[_Item],
    listed_until: datetime | None,
    result: IngestResult,
    fresh_members: int,
) -> set[int]:
    """Record the complete listing; close what it lacks. Returns offerings to rebuild."""
    t = max(i.obs.observed_at for i in items)
    listed = sorted({i.offering_id for i in items if i.obs.observed_at == t})
    if fresh_members == 0 and _listing_known(batch, t, len(listed)):
        # The same listing again (a replay): the set of events is unchanged.
        result.listing_complete_applied = t in accepted_listings(batch)
        return set()
    batch.conn.execute(
        text(
            "INSERT INTO listing_event (source, kind, instant, offering_count, recorded_at, run_id)"
            " VALUES (:source, :kind, :t, :n, :recorded_at, :run_id)"
        ),
        {
            "source": batch.source,
            "kind": batch.kind.name,
            "t": t,
            "n": len(listed),
            "recorded_at": batch.recorded_at,
            "run_id": batch.run_id,
        },
    )
    if not _later(t, listed_until):
        # An older listing arrived late: it can change which later listings count
        # as complete, so every offering of the source is rebuilt.
        result.listing_complete_applied = t in accepted_listings(batch)
        return _offerings_of(batch)
    if t not in accepted_listings(batch):
        return set()
    result.listing_complete_applied = True
    return _close_withdrawn(batch, t, listed, result)


def _offerings_of(batch: Batch) -> set[int]:
    o = batch.kind.offering.name
    rows = batch.conn.execute(text(f"SELECT id FROM {o} WHERE source = :s"), {"s": batch.source})
    return {int(r[0]) for r in rows}


def _close_withdrawn(
    batch: Batch, t: datetime, listed: list[int], result: IngestResult
) -> set[int]:
    """Close at ``t`` the versions in effect of offerings the listing lacks (each key once)."""
    kind = batch.kind
    o, v, log = kind.offering.name, kind.version.name, kind.log.name
    keys = ", ".join(f"o.{c}" for c in (*kind.key_columns, *kind.offering_extra))
    values = ", ".join(f"v.{c}" for c in kind.value_columns)
    rows = batch.conn.execute(
        text(
            f"""
            SELECT v.id AS version_id, v.offering_id, v.valid_to,
                   (SELECT max(GREATEST(l.instant, l.observed_at)) FROM {log} l
                    WHERE l.offering_id = v.offering_id) AS latest,
                   {keys}, {values}
            FROM {v} v JOIN {o} o ON o.id = v.offering_id
            WHERE o.source = :source AND v.valid_from < :t
              AND (v.valid_to IS NULL OR v.valid_to > :t)
              AND NOT (v.offering_id = ANY(:listed))
            """
        ),
        {"source": batch.source, "t": t, "listed": listed},
    ).mappings()
    slow: set[int] = set()
    gone = []
    for r in rows:
        if r["valid_to"] is not None or r["latest"] >= t:
            slow.add(r["offering_id"])  # a stated end or a later sighting: rebuild
        else:
            gone.append(r)
    set_by_id(
        batch.conn,
        v,
        "valid_to",
        [(r["version_id"], t) for r in gone],
        {"closed_recorded_at": batch.recorded_at},
    )
    result.closed_versions += len(gone)
    key_columns = (*kind.key_columns, *kind.offering_extra)
    for r in gone:
        key = {c: r[c] for c in key_columns}
        old = {c: r[c] for c in kind.value_columns}
        result.changes.append(
            PriceChange(kind.name, r["offering_id"], key, r["version_id"], None, old, None, t)
        )
    return slow


def log_dataset_marks(
    conn: Connection,
    source: str,
    marks: Sequence[tuple[LlmPrice, datetime, bool]],
    *,
    run_id: int | None,
    recorded_at: datetime,
) -> None:
    """Log a history dataset's (price, at, withdrawn) marks so a rebuild keeps them.

    db/backfill.py closes a withdrawn offering's version and moves a still-listed
    one's ``last_seen_at`` itself; these log rows (a ``withdrawn`` row, or a
    sighting of the same price at ``at``) make the rule give the same.
    """
    if not marks:
        return
    kind = LLM
    batch = Batch(conn, kind, source, run_id, recorded_at)
    items = [_Item(p, "observed", i) for i, (p, _, _) in enumerate(marks)]
    columns = ["ord", *kind.key_columns]
    stage = "_stage_marks"
    stage_table(conn, kind, stage, columns)
    copy_rows(conn, stage, columns, [(i.ord, *kind.key_of(i.obs).values()) for i in items])
    ids = dict(_with_offering_ids_rows(batch, stage))
    rows = []
    for i, (price, at, withdrawn) in enumerate(marks):
        values = dict.fromkeys(kind.value_columns) if withdrawn else kind.values_of(price)
        kind_of_row = WITHDRAWN if withdrawn else "observed"
        rows.append(
            (ids[i], at, at, *values.values(), None, kind_of_row, run_id, None, recorded_at)
        )
    columns = _log_columns(kind)
    copy_rows(conn, kind.log.name, columns, rows)
