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
  is exactly what the rule gives. It is set-based: the call's observations are
  copied once into a temporary table (db/ingest_stage.py) and upsert, log,
  classification, closes, opens and sightings are statements over it
  (db/ingest_fast.py), as are withdrawals (db/ingest_withdraw.py).
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

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from costcurve.core.observations import LlmPrice, Observation
from db.ingest_fast import apply_fast
from db.ingest_kinds import GPU, KINDS, LLM, PRICE_FIELDS
from db.ingest_rebuild import PARTIAL_LISTING_RATIO, WITHDRAWN, Batch, rebuild
from db.ingest_result import IngestResult, PriceChange
from db.ingest_sql import copy_rows, stage_table
from db.ingest_stage import (
    Stage,
    log_columns,
    log_fresh,
    offering_ids,
    resolve,
    stage_observations,
    upsert_offerings,
)
from db.ingest_withdraw import latest_listing, withdraw

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
        pairs = [
            (o, k)
            for o, k in zip(observations, kinds, strict=True)
            if isinstance(o, kind.observation)
        ]
        if pairs:
            batch = Batch(conn, kind, source, run_id, recorded_at)
            stage = stage_observations(batch, [o for o, _ in pairs], [k for _, k in pairs])
            _ingest_kind(stage, listing_complete, result)
    touched = [*result.changes, *result.rescreen]
    result.flagged = screen_after_ingest(conn, source, observations, touched)
    return result


def _ingest_kind(stage: Stage, listing_complete: bool, result: IngestResult) -> None:
    upsert_offerings(stage)
    # An observation already logged adds nothing to the set (a replay): unchanged.
    result.unchanged += resolve(stage)
    listed_until = latest_listing(stage.batch)
    log_fresh(stage)
    slow = apply_fast(stage, listed_until, result)
    if listing_complete:
        slow |= withdraw(stage, listed_until, result)
    rebuild(stage.batch, slow, result)


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
    columns = ["ord", *kind.key_columns]
    stage = "_stage_marks"
    stage_table(conn, kind, stage, columns)
    copy_rows(
        conn, stage, columns, [(i, *kind.key_of(p).values()) for i, (p, _, _) in enumerate(marks)]
    )
    ids = offering_ids(batch, stage)
    rows = []
    for i, (price, at, withdrawn) in enumerate(marks):
        values = dict.fromkeys(kind.value_columns) if withdrawn else kind.values_of(price)
        kind_of_row = WITHDRAWN if withdrawn else "observed"
        rows.append(
            (ids[i], at, at, *values.values(), None, kind_of_row, run_id, None, recorded_at)
        )
    copy_rows(conn, kind.log.name, log_columns(kind), rows)
