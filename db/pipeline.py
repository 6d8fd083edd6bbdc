"""One pipeline run: record it, archive the raw response, parse, version, finish.

Every path that ingests (the CLI, the Prefect flows, the backfills, the
reference history, benchmark imports) goes through :func:`recorded_run`, so
they all leave the same trail: a ``pipeline_run`` row that starts ``running``,
the raw bytes archived content-addressed, and an end state with counts or the
error. The versions a run writes and its ``succeeded`` state commit in one
transaction (:meth:`RecordedRun.commit`), so no reader can see a run's data
without its finish, nor a finished run without its data.
"""

from __future__ import annotations

import hashlib
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine, update
from sqlalchemy.dialects.postgresql import insert

from costcurve.core.observations import Observation, ParseError, SourceInfo
from db.ingest import IngestResult, ingest
from db.models import PipelineRun, RawSnapshot, Source
from db.performance import record_performance
from scrapers.registry import get_source, parse_source

_runs = PipelineRun.__table__  # type: ignore[attr-defined]


class RunCounts(Protocol):
    """What a run's work reports for its ``pipeline_run`` row."""

    def run_counts(self) -> dict[str, object]: ...


W = TypeVar("W")


@dataclass(frozen=True)
class SourceRow:
    """A ``source`` row for runs whose source is not a scraper module (datasets, benchmarks)."""

    slug: str
    kind: str
    url: str | None = None
    listing_complete: bool = False
    verified_against_recording: bool = True

    @classmethod
    def of(cls, info: SourceInfo) -> SourceRow:
        return cls(
            info.slug, info.kind, info.url, info.listing_complete, info.verified_against_recording
        )


@dataclass(frozen=True)
class RunSpec:
    """Who started a run and about which moment: the fields every run records."""

    trigger: str = "cli"
    flow_run_id: uuid.UUID | None = None
    observed_at: datetime | None = None


@dataclass
class RunOutcome:
    run_id: int
    result: IngestResult
    snapshot_sha256: str | None


def ensure_source(conn: Connection, row: SourceRow | SourceInfo) -> None:
    values = dict((SourceRow.of(row) if isinstance(row, SourceInfo) else row).__dict__)
    stmt = insert(Source.__table__).values(values)  # type: ignore[attr-defined]
    conn.execute(stmt.on_conflict_do_update(index_elements=["slug"], set_=values))


@dataclass
class RecordedRun:
    """The open run inside a ``with recorded_run(...)`` block."""

    engine: Engine
    source: str
    run_id: int
    snapshot_sha256: str | None = None
    _finished: bool = field(default=False, repr=False)

    def archive(
        self, raw: bytes, *, url: str, fetched_at: datetime, content_type: str | None = None
    ) -> str:
        """Store the raw bytes (content-addressed) before parsing, so they can be re-parsed."""
        with self.engine.begin() as conn:
            self.snapshot_sha256 = archive_snapshot(
                conn,
                self.source,
                raw,
                url=url,
                fetched_at=fetched_at,
                content_type=content_type,
            )
        return self.snapshot_sha256

    def commit(
        self, work: Callable[[Connection], W], counts: Callable[[W], dict[str, object]]
    ) -> W:
        """Run ``work`` and mark the run succeeded with its counts, in one transaction."""
        with self.engine.begin() as conn:
            done = work(conn)
            _finish(conn, self, status="succeeded", values=counts(done))
        self._finished = True
        return done

    def fail(self, error: str) -> None:
        """End the run as failed with ``error`` without raising (a failure already handled)."""
        with self.engine.begin() as conn:
            _finish(conn, self, status="failed", values={"error": error})
        self._finished = True


@contextmanager
def recorded_run(
    engine: Engine, source: SourceRow | SourceInfo, spec: RunSpec = RunSpec()
) -> Iterator[RecordedRun]:
    """Register the source, start a run, and make sure it ends.

    An exception inside the block fails the run with the error (a ParseError's
    own message, else ``Type: message``) and propagates; a block that neither
    committed nor failed ends ``succeeded`` with no counts.
    """
    row = SourceRow.of(source) if isinstance(source, SourceInfo) else source
    with engine.begin() as conn:
        ensure_source(conn, row)
        run_id = conn.execute(
            insert(_runs)
            .values(
                source=row.slug,
                trigger=spec.trigger,
                flow_run_id=spec.flow_run_id,
                started_at=datetime.now(UTC),
                status="running",
                observed_at=spec.observed_at,
            )
            .returning(_runs.c.id)
        ).scalar_one()
    run = RecordedRun(engine, row.slug, int(run_id))
    try:
        yield run
    except BaseException as exc:
        if not run._finished:
            message = str(exc) if isinstance(exc, ParseError) else f"{type(exc).__name__}: {exc}"
            run.fail(message)
        raise
    if not run._finished:
        with engine.begin() as conn:
            _finish(conn, run, status="succeeded", values={})


def _finish(conn: Connection, run: RecordedRun, *, status: str, values: dict[str, Any]) -> None:
    row: dict[str, object] = {"status": status, "finished_at": datetime.now(UTC)} | values
    if run.snapshot_sha256:
        row["snapshot_sha256"] = run.snapshot_sha256
    conn.execute(update(_runs).where(_runs.c.id == run.run_id).values(row))


def ingest_counts(result: IngestResult) -> dict[str, object]:
    """The ``pipeline_run`` columns of a versioned ingest."""
    counts: dict[str, object] = dict(result.counts())
    return counts | {
        "observations": result.observations,
        "skipped": result.skipped,
        "listing_complete": result.listing_complete_applied,
    }


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


@dataclass(frozen=True)
class IngestOptions:
    """How a batch of observations is versioned (db/ingest.py rules)."""

    listing_complete: bool
    change_kind: str | list[str] = "observed"
    recorded_at: datetime | None = None


def version_observations(
    run: RecordedRun, observations: list[Observation], options: IngestOptions
) -> RunOutcome:
    """Version ``observations`` under ``run`` and finish it, in one transaction."""

    def work(conn: Connection) -> IngestResult:
        result = ingest(
            conn,
            run.source,
            observations,
            listing_complete=options.listing_complete,
            run_id=run.run_id,
            change_kind=options.change_kind,
            recorded_at=options.recorded_at,
        )
        # Endpoint speed beside the prices, in the same transaction (db/performance.py).
        record_performance(conn, observations)
        return result

    result = run.commit(work, ingest_counts)
    return RunOutcome(run.run_id, result, run.snapshot_sha256)


def ingest_raw(
    engine: Engine,
    source: str,
    raw: bytes,
    *,
    observed_at: datetime,
    spec: RunSpec | None = None,
    listing_complete: bool | None = None,
    content_type: str | None = None,
) -> RunOutcome:
    """Archive, parse and version one raw response; a ParseError fails the run only."""
    info = get_source(source).SOURCE
    spec = spec or RunSpec(observed_at=observed_at)
    with recorded_run(engine, info, spec) as run:
        run.archive(raw, url=info.url, fetched_at=observed_at, content_type=content_type)
        observations = parse_source(source, raw, observed_at=observed_at)
        complete = info.listing_complete if listing_complete is None else listing_complete
        return version_observations(run, observations, IngestOptions(listing_complete=complete))


def ingest_observations(
    engine: Engine,
    source: SourceRow | SourceInfo,
    observations: list[Observation],
    options: IngestOptions,
    spec: RunSpec = RunSpec(),
) -> RunOutcome:
    """Version observations that were not parsed from one raw response (reference, tests)."""
    with recorded_run(engine, source, spec) as run:
        return version_observations(run, observations, options)


# A run still ``running`` this long after it started has lost its process: the
# longest legitimate run is a fetch (300 s) + parse (120 s) + persist (600 s).
STALE_RUN_AFTER = timedelta(hours=1)


def mark_crashed_runs(engine: Engine, *, older_than: timedelta = STALE_RUN_AFTER) -> int:
    """End runs left ``running`` by a dead process as ``crashed``; returns how many.

    Called when ``costcurve up`` starts and at the start of every scrape flow run,
    so a ``kill -9`` never leaves a run running for ever.
    """
    now = datetime.now(UTC)
    reason = (
        f"crashed: still running {older_than} after it started; the process that ran it "
        "is gone (marked at the next start or periodic check)"
    )
    with engine.begin() as conn:
        result = conn.execute(
            update(_runs)
            .where(_runs.c.status == "running", _runs.c.started_at < now - older_than)
            .values(status="crashed", finished_at=now, error=reason)
        )
    return int(result.rowcount or 0)
