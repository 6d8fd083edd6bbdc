"""The plausibility screen over stored versions (rules: db/consensus.py).

Ingest calls :func:`screen_after_ingest` in its own transaction, so a version
is screened before anything reads it. The screen is recomputed per group (a
canonical model, a GPU) over every version of that group, whichever source
it came from, so the flags do not depend on the order sources were loaded.

Flags live in ``price_flag``. Re-screening adds new findings, and removes
``quarantined`` findings that no longer hold (the consensus moved); a
person's decision (``accepted``/``rejected``, see :func:`decide`) is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, text

from costcurve.core.observations import GpuRate, LlmPrice, Observation
from db.consensus import ScreenFields, screen
from db.countable_sql import STANDARD_LLM_SQL
from db.frames import read_frame

REASONS = {
    "above_text_cap": "text token price above $1,000 per million tokens",
    "output_below_input": "output price below 1/20 of the input price",
    "far_from_consensus": "more than 50x from the median of the model's other listings then",
    "jump_vs_previous": "more than 10x from the offering's previous price, not confirmed",
}

_LLM_FIELDS = ScreenFields(
    ("input_usd_per_mtok", "output_usd_per_mtok"),
    input="input_usd_per_mtok",
    output="output_usd_per_mtok",
)
_GPU_FIELDS = ScreenFields(("usd_per_gpu_hour",))

# The touched offerings as a set (a hashed subplan): ``= ANY(:offerings)`` compared
# every version with every id, which dominated an ingest of a large listing.
_TOUCHED = "v.offering_id IN (SELECT unnest(CAST(:offerings AS bigint[])))"
_LLM_SQL = f"""
    SELECT v.id AS version_id, v.offering_id, v.model_slug AS "group",
           ({STANDARD_LLM_SQL} AND NOT v.free) AS comparable,
           (o.modality = 'text') AS text, v.valid_from, v.valid_to,
           v.input_usd_per_mtok::float8 AS input_usd_per_mtok,
           v.output_usd_per_mtok::float8 AS output_usd_per_mtok
    FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
    WHERE v.model_slug = ANY(:groups) OR {_TOUCHED}
"""
_GPU_SQL = f"""
    SELECT v.id AS version_id, v.offering_id, o.gpu AS "group",
           (o.statistic IS NULL OR o.statistic = 'min') AS comparable, false AS text,
           v.valid_from, v.valid_to, v.usd_per_gpu_hour::float8 AS usd_per_gpu_hour
    FROM gpu_rate_version v JOIN gpu_offering o ON o.id = v.offering_id
    WHERE o.gpu = ANY(:groups) OR {_TOUCHED}
"""


def screen_after_ingest(
    conn: Connection,
    source: str,  # noqa: ARG001 - the ingest hook signature; the screen spans sources
    observations: Sequence[Observation],
    changes: Iterable[Any],
) -> int:
    """Re-screen the models and GPUs this ingest touched; returns the flags now open."""
    changed = list(changes)
    llm_offerings = [c.offering_id for c in changed if c.kind == "llm_price"]
    gpu_offerings = [c.offering_id for c in changed if c.kind == "gpu_rate"]
    if not llm_offerings and not gpu_offerings:
        return 0
    models = {o.model for o in observations if isinstance(o, LlmPrice) and o.model}
    models |= _models_of(conn, llm_offerings)
    gpus = {o.gpu for o in observations if isinstance(o, GpuRate)}
    flagged = 0
    if llm_offerings:
        flagged += screen_groups(conn, "llm_price", sorted(models), llm_offerings)
    if gpu_offerings:
        flagged += screen_groups(conn, "gpu_rate", sorted(gpus), gpu_offerings)
    return flagged


def _models_of(conn: Connection, offerings: list[int]) -> set[str]:
    rows = conn.execute(
        text(
            "SELECT DISTINCT model_slug FROM llm_price_version "
            "WHERE offering_id = ANY(:ids) AND model_slug IS NOT NULL"
        ),
        {"ids": offerings},
    ).scalars()
    return set(rows)


def screen_all(conn: Connection) -> int:
    """Re-screen every version (after a rule change); returns the flags now open."""
    models = list(conn.execute(text("SELECT DISTINCT model_slug FROM llm_price_version")).scalars())
    gpus = list(conn.execute(text("SELECT DISTINCT gpu FROM gpu_offering")).scalars())
    llm_ids = list(conn.execute(text("SELECT id FROM llm_offering")).scalars())
    gpu_ids = list(conn.execute(text("SELECT id FROM gpu_offering")).scalars())
    return screen_groups(conn, "llm_price", models, llm_ids) + screen_groups(
        conn, "gpu_rate", gpus, gpu_ids
    )


def screen_groups(conn: Connection, kind: str, groups: list[str], offerings: list[int]) -> int:
    """Recompute the flags of every version of ``groups`` and of ``offerings``."""
    llm = kind == "llm_price"
    sql, spec = (_LLM_SQL, _LLM_FIELDS) if llm else (_GPU_SQL, _GPU_FIELDS)
    params = {"groups": groups, "offerings": offerings}
    versions = read_frame(conn, sql, params)
    flags = screen(versions, spec)
    column = "llm_price_version_id" if llm else "gpu_rate_version_id"
    _reconcile(conn, column, versions["version_id"].to_list(), flags)
    return flags.height


def _reconcile(conn: Connection, column: str, version_ids: list[int], flags: pl.DataFrame) -> None:
    conn.execute(
        text(
            f"""
            DELETE FROM price_flag f
            WHERE f.{column} = ANY(:ids) AND f.status = 'quarantined'
              AND NOT EXISTS (
                SELECT 1 FROM unnest(CAST(:keep_ids AS bigint[]), CAST(:keep_reasons AS text[]))
                  AS k(id, reason)
                WHERE k.id = f.{column} AND k.reason = f.reason)
            """
        ),
        {
            "ids": version_ids,
            "keep_ids": flags["version_id"].to_list(),
            "keep_reasons": flags["reason"].to_list(),
        },
    )
    if flags.is_empty():
        return
    rows = [
        {
            "vid": r["version_id"],
            "reason": r["reason"],
            "field": r["field"],
            "value": _num(r["source_value"]),
            "consensus": _num(r["consensus"]),
            "listings": r["listings"],
            "detail": REASONS[r["reason"]],
            "now": datetime.now(UTC),
        }
        for r in flags.unique(["version_id", "reason"], keep="first").iter_rows(named=True)
    ]
    conn.execute(
        text(
            f"""
            INSERT INTO price_flag ({column}, reason, field, source_value, consensus, listings,
                                    detail, status, flagged_at)
            VALUES (:vid, :reason, :field, :value, :consensus, :listings, :detail,
                    'quarantined', :now)
            ON CONFLICT ON CONSTRAINT uq_price_flag_{"llm" if "llm" in column else "gpu"}
            DO UPDATE SET source_value = EXCLUDED.source_value, consensus = EXCLUDED.consensus,
                          listings = EXCLUDED.listings, field = EXCLUDED.field
            """
        ),
        rows,
    )


def _num(value: float | None) -> str | None:
    # The screen works in floats; the stored reference keeps 12 significant digits.
    return None if value is None else f"{value:.12g}"


def decide(conn: Connection, flag_id: int, status: str, *, who: str, note: str | None) -> bool:
    """Record a person's decision on a flag: ``accepted`` (use it) or ``rejected``."""
    if status not in ("accepted", "rejected"):
        raise ValueError(f"status must be accepted or rejected, not {status!r}")
    done = conn.execute(
        text(
            "UPDATE price_flag SET status = :status, decided_by = :who, decided_at = :now, "
            "note = :note WHERE id = :id"
        ),
        {"status": status, "who": who, "now": datetime.now(UTC), "note": note, "id": flag_id},
    )
    return bool(done.rowcount)
