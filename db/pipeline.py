"""One pipeline run: record it, archive the raw response, parse, version, finish.

Used by the CLI and by the Prefect flows, so both leave the same trail.
"""

from __future__ import annotations

import hashlib
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, update
from sqlalchemy.dialects.postgresql import insert

from costcurve.core.observations import Observation, ParseError, SourceInfo
from db.ingest import IngestResult, ingest
from db.models import PipelineRun, RawSnapshot, Source
from db.performance import record_performance
from scrapers.registry import get_source, parse_source

_runs = PipelineRun.__table__  # type: ignore[attr-defined]


@dataclass
class RunOutcome:
    run_id: int
    result: IngestResult
    snapshot_sha256: str | None


def ensure_source(conn: Connection, info: SourceInfo | None = None, **fields: object) -> None:
    values = (
        {
            "slug": info.slug,
            "kind": info.kind,
            "url": info.url,
            "listing_complete": info.listing_complete,
            "verified_against_recording": info.verified_against_recording,
        }
        if info
        else dict(fields)
    )
    stmt = insert(Source.__table__).values(values)  # type: ignore[attr-defined]
    conn.execute(stmt.on_conflict_do_update(index_elements=["slug"], set_=values))


def archive_snapshot(
    conn: Connection,
    source: str,
    raw: bytes,
    *,
    url: str,
    fetched_at: datetime,
    content_type: str | None = None,
) -> str:
    sha = hashlib.sha256(raw).hexdigest()
    stmt = insert(RawSnapshot.__table__).values(  # type: ignore[attr-defined]
        sha256=sha,
        source=source,
        url=url,
        fetched_at=fetched_at,
        content_type=content_type,
        size_bytes=len(raw),
        compression="zlib",
        body=zlib.compress(raw, 6),
    )
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["sha256"]))
    return sha


def start_run(
    engine: Engine,
    source: str,
    *,
    trigger: str,
    observed_at: datetime | None = None,
    flow_run_id: uuid.UUID | None = None,
) -> int:
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(_runs)
            .values(
                source=source,
                trigger=trigger,
                flow_run_id=flow_run_id,
                started_at=datetime.now(UTC),
                status="running",
                observed_at=observed_at,
            )
            .returning(_runs.c.id)
        ).scalar_one()
    return int(run_id)


def finish_run(
    engine: Engine,
    run_id: int,
    *,
    status: str,
    result: IngestResult | None = None,
    error: str | None = None,
    snapshot_sha256: str | None = None,
) -> None:
    values: dict[str, object] = {
        "status": status,
        "finished_at": datetime.now(UTC),
        "error": error,
    }
    if snapshot_sha256:
        values["snapshot_sha256"] = snapshot_sha256
    if result is not None:
        values |= result.counts() | {
            "observations": result.observations,
            "skipped": result.skipped,
            "listing_complete": result.listing_complete_applied,
        }
    with engine.begin() as conn:
        conn.execute(update(_runs).where(_runs.c.id == run_id).values(values))


def ingest_raw(
    engine: Engine,
    source: str,
    raw: bytes,
    *,
    observed_at: datetime,
    trigger: str = "cli",
    flow_run_id: uuid.UUID | None = None,
    listing_complete: bool | None = None,
    content_type: str | None = None,
) -> RunOutcome:
    """Archive, parse and version one raw response; a ParseError fails the run only."""
    info = get_source(source).SOURCE
    with engine.begin() as conn:
        ensure_source(conn, info)
    run_id = start_run(
        engine, source, trigger=trigger, observed_at=observed_at, flow_run_id=flow_run_id
    )
    with engine.begin() as conn:
        sha = archive_snapshot(
            conn, source, raw, url=info.url, fetched_at=observed_at, content_type=content_type
        )
    try:
        observations = parse_source(source, raw, observed_at=observed_at)
    except ParseError as exc:
        finish_run(engine, run_id, status="failed", error=str(exc), snapshot_sha256=sha)
        raise
    return ingest_observations(
        engine,
        source,
        observations,
        run_id=run_id,
        listing_complete=info.listing_complete if listing_complete is None else listing_complete,
        snapshot_sha256=sha,
    )


def ingest_observations(
    engine: Engine,
    source: str,
    observations: list[Observation],
    *,
    run_id: int,
    listing_complete: bool,
    snapshot_sha256: str | None = None,
    change_kind: str | list[str] = "observed",
    recorded_at: datetime | None = None,
) -> RunOutcome:
    try:
        with engine.begin() as conn:
            result = ingest(
                conn,
                source,
                observations,
                listing_complete=listing_complete,
                run_id=run_id,
                change_kind=change_kind,
                recorded_at=recorded_at,
            )
            record_performance(conn, observations)
    except Exception as exc:
        finish_run(engine, run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    finish_run(engine, run_id, status="succeeded", result=result, snapshot_sha256=snapshot_sha256)
    return RunOutcome(run_id, result, snapshot_sha256)
