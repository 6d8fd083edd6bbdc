"""Endpoint speed stored beside versioned prices (``llm_endpoint_stat``).

A price version says what an offering costs; a stat row says how fast its
endpoint was when it was observed. Stats are measurements, not prices, so they
are appended per (offering, observed_at) rather than versioned: re-ingesting a
snapshot adds nothing (the unique key makes it idempotent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, select, true
from sqlalchemy.dialects.postgresql import insert

from costcurve.core.observations import LlmPrice, Observation
from db.ingest_kinds import LLM as INGEST_LLM
from db.models import LlmEndpointStat, LlmOffering

_stat = LlmEndpointStat.__table__  # type: ignore[attr-defined]
_offering = LlmOffering.__table__  # type: ignore[attr-defined]
# The offering identity, derived from the table like ingest derives it.
_KEY = INGEST_LLM.key_columns


def _offering_id(conn: Connection, price: LlmPrice) -> int | None:
    values = price.model_dump(include=set(_KEY))
    clauses = [_offering.c[c].is_not_distinct_from(values[c]) for c in _KEY]
    found = conn.execute(select(_offering.c.id).where(and_(true(), *clauses))).scalar()
    return int(found) if found is not None else None


def record_performance(conn: Connection, observations: Sequence[Observation]) -> int:
    """Store the performance of every observation that carries one; returns rows added.

    Call after :func:`db.ingest.ingest` in the same transaction (the offerings exist).
    """
    rows: list[dict[str, Any]] = []
    for obs in observations:
        if not isinstance(obs, LlmPrice) or obs.performance is None:
            continue
        offering_id = _offering_id(conn, obs)
        if offering_id is None:
            continue
        rows.append(
            {"offering_id": offering_id, "observed_at": obs.observed_at}
            | obs.performance.model_dump()
        )
    if not rows:
        return 0
    statement = insert(_stat).values(rows).on_conflict_do_nothing(constraint="uq_llm_endpoint_stat")
    return conn.execute(statement).rowcount or 0
