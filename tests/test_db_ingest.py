"""Versioning rules of db/ingest.py against real PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, text
from sqlmodel import col

from db.ingest import ingest
from db.models import LlmPriceVersion, PipelineRun
from db.pipeline import SourceRow, ensure_source, ingest_raw
from db.queries import llm_history, llm_prices_as_of
from scrapers import LlmPrice, ParseError

T0 = datetime(2026, 8, 1, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)


def price(model: str, inp: str, out: str, at: datetime, **kw: object) -> LlmPrice:
    return LlmPrice(
        source="openrouter",
        provider="openrouter",
        provider_model_id=model,
        input_usd_per_mtok=Decimal(inp),
        output_usd_per_mtok=Decimal(out),
        observed_at=at,
        source_url="https://openrouter.ai/api/v1/models",
        **kw,
    )


def run(engine: Engine, observations: list[LlmPrice], *, complete: bool = True):
    with engine.begin() as conn:
        ensure_source(conn, SourceRow("openrouter", "llm_price", listing_complete=True))
        return ingest(conn, "openrouter", observations, listing_complete=complete)


def versions(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT o.provider_model_id, v.input_usd_per_mtok, v.valid_from, v.valid_to "
                "FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id "
                "ORDER BY 1, 3"
            )
        ).all()
    return [tuple(row) for row in rows]


def test_ingesting_the_same_snapshot_twice_changes_nothing(engine: Engine) -> None:
    snapshot = [price("a/x", "1", "2", T0), price("b/y", "3", "4", T0)]
    first = run(engine, snapshot)
    assert first.counts() == {"new_versions": 2, "closed_versions": 0, "unchanged": 0}
    before = versions(engine)
    second = run(engine, snapshot)
    assert second.counts() == {"new_versions": 0, "closed_versions": 0, "unchanged": 2}
    assert versions(engine) == before


def test_a_price_change_closes_one_version_and_opens_one(engine: Engine) -> None:
    run(engine, [price("a/x", "1", "2", T0), price("b/y", "3", "4", T0)])
    result = run(engine, [price("a/x", "0.5", "2", T1), price("b/y", "3", "4", T1)])
    assert result.counts() == {"new_versions": 1, "closed_versions": 1, "unchanged": 1}
    assert versions(engine) == [
        ("a/x", Decimal("1"), T0, T1),
        ("a/x", Decimal("0.5"), T1, None),
        ("b/y", Decimal("3"), T0, None),
    ]
    [change] = result.changes
    assert change.old is not None
    assert change.old["input_usd_per_mtok"] == Decimal("1")
    assert change.new is not None
    assert change.new["input_usd_per_mtok"] == Decimal("0.5")


def test_as_of_query_returns_the_price_in_effect_at_any_instant(engine: Engine) -> None:
    run(engine, [price("a/x", "1", "2", T0)])
    run(engine, [price("a/x", "0.5", "2", T1)])
    run(engine, [price("a/x", "0.25", "2", T2)])
    with engine.connect() as conn:

        def at(t: datetime) -> list[Decimal]:
            return [r["input_usd_per_mtok"] for r in llm_prices_as_of(conn, t, model=None)]

        assert at(T0 - timedelta(seconds=1)) == []
        assert at(T0) == [Decimal("1")]
        assert at(T1 - timedelta(microseconds=1)) == [Decimal("1")]
        assert at(T1) == [Decimal("0.5")]
        assert at(T2 + timedelta(days=300)) == [Decimal("0.25")]


def test_belief_query_ignores_what_was_recorded_later(engine: Engine) -> None:
    with engine.begin() as conn:
        ensure_source(conn, SourceRow("openrouter", "llm_price", listing_complete=True))
        ingest(
            conn, "openrouter", [price("a/x", "1", "2", T0)], listing_complete=True, recorded_at=T0
        )
        ingest(
            conn,
            "openrouter",
            [price("a/x", "0.5", "2", T1)],
            listing_complete=True,
            recorded_at=T1 + timedelta(hours=6),
        )
    with engine.connect() as conn:
        believed_then = llm_prices_as_of(conn, T1 + timedelta(hours=1), believed_at=T1)
        known_now = llm_prices_as_of(conn, T1 + timedelta(hours=1))
    assert [r["input_usd_per_mtok"] for r in believed_then] == [Decimal("1")]
    assert [r["input_usd_per_mtok"] for r in known_now] == [Decimal("0.5")]


def test_offering_missing_from_a_complete_listing_is_closed(engine: Engine) -> None:
    run(engine, [price("a/x", "1", "2", T0), price("b/y", "3", "4", T0)])
    result = run(engine, [price("a/x", "1", "2", T1)])
    assert result.closed_versions == 1
    assert result.listing_complete_applied
    assert ("b/y", Decimal("3"), T0, T1) in versions(engine)


def test_offering_missing_from_a_partial_listing_stays_open(engine: Engine) -> None:
    run(engine, [price("a/x", "1", "2", T0), price("b/y", "3", "4", T0)])
    result = run(engine, [price("a/x", "1", "2", T1)], complete=False)
    assert result.closed_versions == 0
    assert ("b/y", Decimal("3"), T0, None) in versions(engine)


def test_truncated_complete_listing_is_treated_as_partial(engine: Engine) -> None:
    run(engine, [price(f"m/{i}", "1", "2", T0) for i in range(10)])
    result = run(engine, [price("m/0", "1", "2", T1), price("m/1", "1", "2", T1)])
    assert result.closed_versions == 0
    assert not result.listing_complete_applied


def test_older_observation_is_inserted_before_existing_history(engine: Engine) -> None:
    run(engine, [price("a/x", "1", "2", T2)])
    result = run(engine, [price("a/x", "4", "8", T0)], complete=False)
    assert result.new_versions == 1
    assert versions(engine) == [("a/x", Decimal("4"), T0, T2), ("a/x", Decimal("1"), T2, None)]
    again = run(engine, [price("a/x", "4", "8", T0)], complete=False)
    assert again.counts() == {"new_versions": 0, "closed_versions": 0, "unchanged": 1}


def test_late_observation_inside_a_closed_interval_splits_it_and_supersedes_the_old(
    engine: Engine,
) -> None:
    run(engine, [price("a/x", "1", "2", T0)])
    run(engine, [price("a/x", "2", "2", T2)])
    result = run(engine, [price("a/x", "9", "9", T1)], complete=False)
    assert (result.skipped, result.superseded, result.new_versions) == (0, 1, 2)
    assert versions(engine) == [
        ("a/x", Decimal("1"), T0, T1),
        ("a/x", Decimal("9"), T1, T2),
        ("a/x", Decimal("2"), T2, None),
    ]
    with engine.connect() as conn:
        kept = conn.execute(
            text(
                "SELECT valid_from, valid_to FROM llm_price_version_record "
                "WHERE superseded_at IS NOT NULL"
            )
        ).all()
    assert [tuple(r) for r in kept] == [(T0, T2)]


def test_two_concurrent_ingests_of_one_snapshot_create_no_duplicate_versions(
    engine: Engine,
) -> None:
    with engine.begin() as conn:
        ensure_source(conn, SourceRow("openrouter", "llm_price", listing_complete=True))
    snapshot = [price(f"m/{i}", str(i + 1), "2", T0) for i in range(200)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            with engine.begin() as conn:
                ingest(conn, "openrouter", snapshot, listing_complete=True)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(LlmPriceVersion)).scalar() == 200


def test_parse_error_fails_the_run_and_leaves_every_current_price_open(engine: Engine) -> None:
    run(engine, [price("a/x", "1", "2", T0), price("b/y", "3", "4", T0)])
    with pytest.raises(ParseError):
        ingest_raw(engine, "openrouter", b"<html>Just a moment...</html>", observed_at=T1)
    assert all(valid_to is None for *_, valid_to in versions(engine))
    with engine.connect() as conn:
        row = conn.execute(
            select(col(PipelineRun.status), col(PipelineRun.error)).order_by(
                col(PipelineRun.id).desc()
            )
        ).first()
    assert row is not None
    status, error = row
    assert status == "failed"
    assert "openrouter" in error


def test_history_lists_every_version_of_an_offering(engine: Engine) -> None:
    run(engine, [price("a/x", "1", "2", T0)])
    run(engine, [price("a/x", "0.5", "2", T1)])
    with engine.connect() as conn:
        rows = llm_history(
            conn, source="openrouter", provider="openrouter", provider_model_id="a/x"
        )
    assert [(r["input_usd_per_mtok"], r["valid_from"], r["valid_to"]) for r in rows] == [
        (Decimal("1"), T0, T1),
        (Decimal("0.5"), T1, None),
    ]
