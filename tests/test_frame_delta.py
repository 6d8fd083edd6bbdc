"""Incremental refresh of the version frames (db/frame_delta.py) on real PostgreSQL:
a full load plus deltas equals a full load, across ingests of real recorded
snapshots, closes, flags and their decisions, the reference history, and
transactions that commit out of the order they started in."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import psycopg
from sqlalchemy import Engine, text

from db.backfill import load_reference_history
from db.frame_delta import Frames, load, refresh
from db.pipeline import SourceRow, ensure_source, ingest_raw
from db.screen import decide
from tests.support import FIXTURES, observed_at_for, require_shared

LITELLM = [
    FIXTURES / "litellm" / f"model_prices_and_context_window_{d}.json"
    for d in ("2025-06-15", "2025-10-13", "2026-01-14")
]
COREWEAVE = (
    FIXTURES / "coreweave" / "coreweave_gpu-cloud-pricing_excerpt_wayback_20230921194906.html"
)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("id").with_columns(pl.col(pl.Categorical).cast(pl.String))


def assert_same_as_full_load(engine: Engine, frames: Frames) -> Frames:
    """Refresh ``frames``, compare with a fresh full load, and return the refreshed frames."""
    refreshed = refresh(engine, frames)
    full = load(engine)
    for kind in ("llm", "gpu"):
        got, want = getattr(refreshed, kind), getattr(full, kind)
        assert got.height == want.height, kind
        assert _sorted(got.select(want.columns)).equals(_sorted(want)), kind
    assert refreshed.version == full.version
    return refreshed


def _ingest(engine: Engine, source: str, path: Path) -> None:
    require_shared(path)
    ingest_raw(engine, source, path.read_bytes(), observed_at=observed_at_for(path))


def _quarantined(frames: Frames, version_id: int) -> bool:
    return bool(frames.llm.filter(pl.col("id") == version_id)["quarantined"].item())


def test_full_load_plus_deltas_equals_a_full_load_across_ingests_closes_and_flags(
    engine: Engine,
) -> None:
    load_reference_history(engine)
    frames = load(engine)
    assert frames.llm.height > 0
    for path in LITELLM:  # each later snapshot opens new versions and closes withdrawn ones
        _ingest(engine, "litellm", path)
        before = frames.version
        frames = assert_same_as_full_load(engine, frames)
        assert frames.version != before
        assert frames.changed_rows > 0
    with engine.connect() as conn:
        closed = conn.execute(
            text("SELECT count(*) FROM llm_price_version WHERE valid_to IS NOT NULL")
        ).scalar()
    assert closed
    assert frames.llm["covered_from"].is_not_null().any()  # reference rows met live sources

    _ingest(engine, "coreweave", COREWEAVE)
    frames = assert_same_as_full_load(engine, frames)
    assert frames.gpu.height > 0

    # A flag quarantines its version, a decision lets it count, a removed flag too.
    version_id = int(frames.llm.filter(pl.col("source") == "litellm")["id"][0])
    with engine.begin() as conn:
        flag_id = conn.execute(
            text(
                "INSERT INTO price_flag (llm_price_version_id, reason, field, status, flagged_at) "
                "VALUES (:v, 'test', 'input_usd_per_mtok', 'quarantined', now()) RETURNING id"
            ),
            {"v": version_id},
        ).scalar_one()
    frames = assert_same_as_full_load(engine, frames)
    assert _quarantined(frames, version_id)
    with engine.begin() as conn:
        decide(conn, flag_id, "accepted", who="reviewer", note=None)
    frames = assert_same_as_full_load(engine, frames)
    assert not _quarantined(frames, version_id)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE price_flag SET status = 'rejected' WHERE id = :i"), {"i": flag_id}
        )
    frames = assert_same_as_full_load(engine, frames)
    assert _quarantined(frames, version_id)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM price_flag WHERE id = :i"), {"i": flag_id})
    frames = assert_same_as_full_load(engine, frames)
    assert not _quarantined(frames, version_id)


def test_a_delta_reads_only_what_changed(engine: Engine) -> None:
    _ingest(engine, "litellm", LITELLM[0])
    frames = load(engine)
    unchanged = refresh(engine, frames)
    assert unchanged.changed_rows == 0
    assert unchanged.version == frames.version
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE llm_price_version SET last_seen_at = last_seen_at + interval '1 day' "
                "WHERE id = (SELECT min(id) FROM llm_price_version)"
            )
        )
    touched = assert_same_as_full_load(engine, unchanged)
    assert touched.changed_rows == 1
    assert touched.version != frames.version


def _dsn(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _insert_price(conn: psycopg.Connection, model_id: str, usd: str) -> None:
    """An offering and its open version, inside ``conn``'s open transaction."""
    at = datetime(2026, 5, 1, tzinfo=UTC)
    offering = conn.execute(
        "INSERT INTO llm_offering (source, provider, provider_model_id, variant, modality, "
        "model_slug, first_seen_at, last_seen_at) "
        "VALUES ('openrouter', 'openrouter', %s, 'standard', 'text', 'gpt-4o', %s, %s) "
        "RETURNING id",
        (model_id, at, at),
    ).fetchone()
    assert offering is not None
    conn.execute(
        "INSERT INTO llm_price_version (offering_id, input_usd_per_mtok, output_usd_per_mtok, "
        "free, original_currency, change_kind, valid_from, recorded_at, last_seen_at) "
        "VALUES (%s, %s, %s, false, 'USD', 'observed', %s, %s, %s)",
        (offering[0], Decimal(usd), Decimal(usd) * 4, at, at, at),
    )


def test_a_transaction_that_commits_after_a_later_one_is_not_missed(engine: Engine) -> None:
    """Commit order differs from start order: a sequence or a timestamp would skip
    the early transaction's rows; a snapshot does not."""
    with engine.begin() as conn:
        ensure_source(conn, SourceRow("openrouter", "llm_price", listing_complete=False))
    frames = load(engine)
    with psycopg.connect(_dsn(engine)) as early, psycopg.connect(_dsn(engine)) as late:
        early.execute("SELECT pg_current_xact_id()")  # the early one takes its id first
        late.execute("SELECT pg_current_xact_id()")
        _insert_price(late, "openai/late", "2")
        late.commit()
        frames = assert_same_as_full_load(engine, frames)
        assert frames.llm["provider_model_id"].to_list().count("openai/late") == 1
        _insert_price(early, "openai/early", "3")
        # Not committed yet: invisible to the refresh, and not lost by it either.
        frames = assert_same_as_full_load(engine, frames)
        assert "openai/early" not in frames.llm["provider_model_id"].to_list()
        early.commit()
        frames = assert_same_as_full_load(engine, frames)
        assert frames.llm["provider_model_id"].to_list().count("openai/early") == 1
