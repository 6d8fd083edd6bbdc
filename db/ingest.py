"""Versioned ingest of normalized observations.

Rules (README "Versioning" repeats them for users):

* All of one call happens in one transaction, serialized per source by an
  advisory lock, so two concurrent ingests of one snapshot cannot both open a
  version (the partial unique index ``uq_*_version_open`` is the backstop).
* Observations are applied in time order, a group per instant ``t`` (the
  observation's ``effective_from`` when it announces a future price, else its
  ``observed_at``).
* Against the version in effect at ``t``:
  - same prices: unchanged; an open version's ``last_seen_at`` moves forward;
  - different prices and that version is open: it is closed at ``t`` and a new
    open version starts at ``t``;
  - different prices inside a closed interval, or a second price at the very
    instant a version starts: the observation conflicts with recorded history
    and is skipped (counted, never applied silently over history).
* No version in effect at ``t``: a new version opens at ``t``; if a later
  version already exists (a backfill of older history) the new one is closed
  where the later one starts.
* Withdrawal: only when the source declares its listing complete are open
  versions of offerings missing from the snapshot closed at ``t``. A "complete"
  listing that has fewer than half of the source's open offerings is treated as
  partial (a truncated response must not wipe current prices).
* A parse failure never reaches this module, so it can close nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, select, text, update

from costcurve.core.observations import GpuRate, LlmPrice, Observation
from db.models import GpuOffering, GpuRateVersion, LlmOffering, LlmPriceVersion

PARTIAL_LISTING_RATIO = 0.5


@dataclass(frozen=True)
class _Kind:
    offering: Table
    version: Table
    key_columns: tuple[str, ...]
    price_columns: tuple[str, ...]
    offering_extra: tuple[str, ...]  # offering columns refreshed from the latest observation


LLM = _Kind(
    offering=LlmOffering.__table__,  # type: ignore[attr-defined]
    version=LlmPriceVersion.__table__,  # type: ignore[attr-defined]
    key_columns=(
        "source",
        "provider",
        "provider_model_id",
        "variant",
        "context_tier",
        "modality",
        "deployment",
        "region",
        "endpoint",
    ),
    price_columns=(
        "input_usd_per_mtok",
        "output_usd_per_mtok",
        "cached_input_usd_per_mtok",
        "cache_write_usd_per_mtok",
        "cache_write_1h_usd_per_mtok",
        "free",
        "original_currency",
        "fx_rate",
    ),
    offering_extra=("model_slug", "quantization", "context_length"),
)
GPU = _Kind(
    offering=GpuOffering.__table__,  # type: ignore[attr-defined]
    version=GpuRateVersion.__table__,  # type: ignore[attr-defined]
    key_columns=(
        "source",
        "provider",
        "gpu",
        "gpu_count",
        "pricing",
        "region",
        "instance_type",
        "os",
        "statistic",
    ),
    price_columns=("usd_per_gpu_hour", "usd_per_instance_hour", "offer_count"),
    offering_extra=(),
)


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

    def counts(self) -> dict[str, int]:
        return {
            "new_versions": self.new_versions,
            "closed_versions": self.closed_versions,
            "unchanged": self.unchanged,
        }


def _instant(obs: Observation) -> datetime:
    if isinstance(obs, LlmPrice) and obs.effective_from is not None:
        return obs.effective_from
    return obs.observed_at


def _row(kind: _Kind, obs: Observation) -> tuple[dict[str, Any], dict[str, Any]]:
    data = obs.model_dump()
    if isinstance(obs, LlmPrice):
        data["model_slug"] = obs.model
    key = {c: data[c] for c in kind.key_columns}
    prices = {c: data[c] for c in kind.price_columns}
    return key | {c: data[c] for c in kind.offering_extra}, prices


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    # Decimal equality ignores scale (2 == 2.000), which is what a price means.
    return all(a[c] == b[c] for c in a)


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
    recorded_at = recorded_at or datetime.now(UTC)
    kinds = [change_kind] * len(observations) if isinstance(change_kind, str) else change_kind
    if len(kinds) != len(observations):
        raise ValueError("one change_kind per observation")
    conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"costcurve-ingest:{source}"))))
    result = IngestResult(observations=len(observations))
    for kind_name, kind in (("llm_price", LLM), ("gpu_rate", GPU)):
        cls = LlmPrice if kind_name == "llm_price" else GpuRate
        items = [(o, k) for o, k in zip(observations, kinds, strict=True) if isinstance(o, cls)]
        if not items and not listing_complete:
            continue
        groups: dict[datetime, list[tuple[Observation, str]]] = defaultdict(list)
        for obs, ck in items:
            if obs.source != source:
                raise ValueError(f"observation of source {obs.source!r} in a {source!r} ingest")
            groups[_instant(obs)].append((obs, ck))
        for t in sorted(groups):
            _apply_snapshot(
                conn, kind, kind_name, source, t, groups[t], run_id, recorded_at, result
            )
        if listing_complete and groups:
            t_last = max(groups)
            latest = groups[t_last]
            _close_withdrawn(conn, kind, kind_name, source, t_last, latest, recorded_at, result)
    return result


def _copy_rows(
    conn: Connection, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    # COPY through the driver: compiling a multi-row VALUES statement costs more
    # than the database's own work at a few thousand rows.
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _stage(conn: Connection, kind: _Kind, name: str, columns: list[str]) -> None:
    o, v = kind.offering, kind.version
    types = {c.name: c.type.compile(conn.dialect) for c in (*o.c, *v.c)}
    types |= {"ord": "integer", "offering_id": "bigint"}
    ddl = ", ".join(f"{c} {types[c]}" for c in columns)
    conn.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({ddl}) ON COMMIT DROP"))
    conn.execute(text(f"TRUNCATE {name}"))


def _key_join(kind: _Kind, left: str, right: str) -> str:
    nullable = {c.name for c in kind.offering.c if c.nullable}
    return " AND ".join(
        f"{left}.{c} IS NOT DISTINCT FROM {right}.{c}"
        if c in nullable
        else f"{left}.{c} = {right}.{c}"
        for c in kind.key_columns
    )


def _apply_snapshot(
    conn: Connection,
    kind: _Kind,
    kind_name: str,
    source: str,
    t: datetime,
    items: list[tuple[Observation, str]],
    run_id: int | None,
    recorded_at: datetime,
    result: IngestResult,
) -> None:
    o, v = kind.offering, kind.version
    rows = [_row(kind, obs) for obs, _ in items]
    offering_cols = [*kind.key_columns, *kind.offering_extra]
    stage = f"_stage_{o.name}"
    _stage(conn, kind, stage, ["ord", *offering_cols])
    _copy_rows(
        conn,
        stage,
        ["ord", *offering_cols],
        [(i, *(key[c] for c in offering_cols)) for i, (key, _) in enumerate(rows)],
    )
    if conn.execute(
        text(f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(kind.key_columns)} FROM {stage}) d")
    ).scalar_one() != len(rows):
        raise ValueError(f"{source}: the snapshot at {t.isoformat()} lists an offering twice")
    refresh = ", ".join(f"{c} = COALESCE(EXCLUDED.{c}, {o.name}.{c})" for c in kind.offering_extra)
    conn.execute(
        text(
            f"""
            INSERT INTO {o.name} ({", ".join(offering_cols)}, first_seen_at, last_seen_at)
            SELECT {", ".join(offering_cols)}, :t, :t FROM {stage}
            ON CONFLICT ON CONSTRAINT uq_{o.name}_key DO UPDATE SET
              last_seen_at = GREATEST({o.name}.last_seen_at, EXCLUDED.last_seen_at),
              first_seen_at = LEAST({o.name}.first_seen_at, EXCLUDED.first_seen_at)
              {", " + refresh if refresh else ""}
            """
        ),
        {"t": t},
    )
    price_cols = ", ".join(f"e.{c}" for c in kind.price_columns)
    found = conn.execute(
        text(
            f"""
            SELECT s.ord, o.id, e.id, e.valid_from, e.valid_to, nxt.valid_from, {price_cols}
            FROM {stage} s
            JOIN {o.name} o ON {_key_join(kind, "o", "s")}
            LEFT JOIN {v.name} e ON e.offering_id = o.id AND e.valid_from <= :t
                 AND (e.valid_to IS NULL OR e.valid_to > :t)
            LEFT JOIN LATERAL (
                SELECT n.valid_from FROM {v.name} n
                WHERE n.offering_id = o.id AND n.valid_from > :t
                ORDER BY n.valid_from LIMIT 1
            ) nxt ON true
            """
        ),
        {"t": t},
    ).all()
    state = {r[0]: r for r in found}
    touch, close, inserts = [], [], []
    pending: dict[int, PriceChange] = {}
    for i, ((obs, change_kind), (key, prices)) in enumerate(zip(items, rows, strict=True)):
        r = state[i]
        oid, current_id, valid_from, valid_to, next_from = r[1], r[2], r[3], r[4], r[5]
        current = dict(zip(kind.price_columns, r[6:], strict=True)) if current_id else None
        if current is not None:
            if _same(prices, current):
                result.unchanged += 1
                if valid_to is None:
                    touch.append(current_id)
                continue
            if valid_to is not None or valid_from == t:
                result.skipped += 1
                continue
            close.append(current_id)
        new_valid_to = next_from if current is None else None
        inserts.append(
            (
                oid,
                *(prices[c] for c in kind.price_columns),
                t,
                new_valid_to,
                recorded_at,
                recorded_at if new_valid_to is not None else None,
                obs.observed_at,
                change_kind,
                run_id,
                obs.source_url,
            )
        )
        pending[oid] = PriceChange(kind_name, oid, key, current_id, None, current, prices, t)
    if touch:
        conn.execute(
            update(v)
            .where(v.c.id == func.any(bindparam("ids")))
            .values(last_seen_at=func.greatest(v.c.last_seen_at, bindparam("seen"))),
            {"ids": touch, "seen": max(o.observed_at for o, _ in items)},
        )
    if close:
        conn.execute(
            update(v)
            .where(v.c.id == func.any(bindparam("ids")))
            .values(valid_to=t, closed_recorded_at=recorded_at),
            {"ids": close},
        )
        result.closed_versions += len(close)
    if inserts:
        columns = [
            "offering_id",
            *kind.price_columns,
            "valid_from",
            "valid_to",
            "recorded_at",
            "closed_recorded_at",
            "last_seen_at",
            "change_kind",
            "run_id",
            "source_url",
        ]
        vstage = f"_stage_{v.name}"
        _stage(conn, kind, vstage, columns)
        _copy_rows(conn, vstage, columns, inserts)
        cols = ", ".join(columns)
        insert_sql = f"INSERT INTO {v.name} ({cols}) SELECT {cols} FROM {vstage}"
        for new_id, oid in conn.execute(text(insert_sql + " RETURNING id, offering_id")):
            pending[oid].new_version_id = new_id
        result.new_versions += len(inserts)
        result.changes.extend(pending.values())


def _close_withdrawn(
    conn: Connection,
    kind: _Kind,
    kind_name: str,
    source: str,
    t: datetime,
    latest: list[tuple[Observation, str]],
    recorded_at: datetime,
    result: IngestResult,
) -> None:
    o, v = kind.offering, kind.version
    seen = {tuple(_row(kind, obs)[0][c] for c in kind.key_columns) for obs, _ in latest}
    open_rows = conn.execute(
        select(
            v.c.id,
            v.c.offering_id,
            v.c.valid_from,
            v.c.last_seen_at,
            *(o.c[c] for c in kind.key_columns),
        )
        .join(o, o.c.id == v.c.offering_id)
        .where(o.c.source == source, v.c.valid_to.is_(None))
    ).all()
    if len(seen) < PARTIAL_LISTING_RATIO * len(open_rows):
        return
    result.listing_complete_applied = True
    # Only what was last seen no later than this snapshot can have been withdrawn
    # by it: re-ingesting an old snapshot must not close offerings seen since.
    gone = [
        r
        for r in open_rows
        if tuple(r[4:]) not in seen and r.valid_from < t and r.last_seen_at <= t
    ]
    if not gone:
        return
    conn.execute(
        update(v)
        .where(v.c.id.in_([r[0] for r in gone]))
        .values(valid_to=t, closed_recorded_at=recorded_at)
    )
    result.closed_versions += len(gone)
    for r in gone:
        key = dict(zip(kind.key_columns, r[4:], strict=True))
        result.changes.append(PriceChange(kind_name, r[1], key, r[0], None, None, None, t))
