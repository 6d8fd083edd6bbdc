"""recorded_run: one run row per ingest; a run's data and its finish commit together."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Connection, Engine, text

from costcurve.core.observations import LlmPrice, Observation
from db.ingest import ingest
from db.pipeline import (
    IngestOptions,
    RunSpec,
    SourceRow,
    ingest_counts,
    recorded_run,
    version_observations,
)

SOURCE = SourceRow("constructed", "llm_price")
T = datetime(2026, 8, 1, tzinfo=UTC)


def _price(model_id: str, usd: str) -> Observation:
    return LlmPrice(
        source="constructed",
        provider="acme",
        provider_model_id=model_id,
        input_usd_per_mtok=Decimal(usd),
        output_usd_per_mtok=Decimal(usd),
        observed_at=T,
        source_url="https://example.invalid/constructed",
    )


def _runs(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        sql = "SELECT status, error, new_versions, finished_at IS NOT NULL FROM pipeline_run"
        return [tuple(r) for r in conn.execute(text(sql + " ORDER BY id"))]


def _versions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM llm_price_version")).scalar_one())


def test_a_committed_run_succeeds_with_its_counts(engine: Engine) -> None:
    with recorded_run(engine, SOURCE, RunSpec("test", None, T)) as run:
        outcome = version_observations(
            run, [_price("a", "1"), _price("b", "2")], IngestOptions(listing_complete=False)
        )
    assert outcome.result.new_versions == 2
    assert _runs(engine) == [("succeeded", None, 2, True)]


def test_an_exception_in_the_block_fails_the_run_with_the_error_and_propagates(
    engine: Engine,
) -> None:
    # The block under test is the context manager's body, so it holds two statements.
    with pytest.raises(RuntimeError, match="boom"), recorded_run(engine, SOURCE) as run:  # noqa: PT012
        run.archive(b"raw", url="https://example.invalid/raw", fetched_at=T)
        raise RuntimeError("boom")
    assert _runs(engine) == [("failed", "RuntimeError: boom", 0, True)]


def test_versions_and_finish_share_one_transaction(engine: Engine) -> None:
    """If finishing the run fails, the versions it wrote are rolled back with it."""

    def work(conn: Connection) -> object:
        return ingest(conn, "constructed", [_price("a", "1")], listing_complete=False, run_id=None)

    def broken_counts(_: object) -> dict[str, object]:
        return {"no_such_column": 1}

    with pytest.raises(Exception, match="no_such_column"), recorded_run(engine, SOURCE) as run:
        run.commit(work, broken_counts)
    assert _versions(engine) == 0
    (status, error, *_rest) = _runs(engine)[0]
    assert status == "failed"
    assert "no_such_column" in str(error)


def test_fail_ends_the_run_without_raising(engine: Engine) -> None:
    with recorded_run(engine, SOURCE) as run:
        run.fail("fetch failed: timeout")
    assert _runs(engine) == [("failed", "fetch failed: timeout", 0, True)]


def test_ingest_counts_name_pipeline_run_columns(engine: Engine) -> None:
    with recorded_run(engine, SOURCE) as run:
        run.commit(
            lambda conn: ingest(
                conn, "constructed", [_price("a", "1")], listing_complete=False, run_id=run.run_id
            ),
            ingest_counts,
        )
    assert _runs(engine)[0][:3] == ("succeeded", None, 1)


def test_a_run_left_running_by_a_dead_process_is_marked_crashed(engine: Engine) -> None:
    from datetime import timedelta

    from db.pipeline import mark_crashed_runs

    # Two runs whose process died inside the block (never exited, like a kill -9).
    # Keep the context managers referenced: closing one would end its run as failed.
    open_blocks = [recorded_run(engine, SOURCE) for _ in range(2)]
    for age, block in zip(("2 hours", "5 minutes"), open_blocks, strict=True):
        run = block.__enter__()
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"UPDATE pipeline_run SET started_at = now() - interval '{age}' WHERE id = :id"
                ),
                {"id": run.run_id},
            )
    assert mark_crashed_runs(engine, older_than=timedelta(hours=1)) == 1
    statuses = [(r[0], r[3]) for r in _runs(engine)]
    assert statuses == [("crashed", True), ("running", False)]
    assert "crashed" in str(_runs(engine)[0][1])
    assert mark_crashed_runs(engine, older_than=timedelta(hours=1)) == 0
