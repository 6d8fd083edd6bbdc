"""API workers sharing one set of version frames (api/frame_share.py), on real
PostgreSQL: one publisher reads the database, the others map what it wrote and
carry their derived frames by its delta, and a worker takes over when the
publisher goes. Two engines in one process stand for two workers: their caches
are separate, and ``flock`` locks of two opens conflict as across processes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from api import curve_cache
from api.curve_query import CurveQuery
from api.frame_share import FrameShare
from api.frame_source import SharedSource
from api.v1_curves import curve_frame
from costcurve.config.settings import get_settings
from db import frame_layers
from db.backfill import load_reference_history
from db.engine import make_engine
from db.frame_delta import load, refresh
from db.pipeline import ingest_raw
from tests.support import FIXTURES, close_served, observed_at_for, require_shared

GEMINI = [
    FIXTURES / "google" / f"gemini_pricing_jina_md_{d}.md" for d in ("2026-05-07", "2026-06-05")
]
DEEPSEEK = FIXTURES / "deepseek" / "api-docs_quick_start_pricing_2026-05-08.html"
QUERY = CurveQuery(tier="frontier", interval="week").resolved()


def _ingest(engine: Engine, path: Path, source: str) -> None:
    require_shared(path)
    ingest_raw(engine, source, path.read_bytes(), observed_at=observed_at_for(path))


def _source(engine: Engine) -> SharedSource:
    source = curve_cache._cache(engine).source
    assert isinstance(source, SharedSource)
    return source


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("id")


def _wait_for(engine: Engine, target: str) -> None:
    """Until ``engine``'s cache answers data version ``target`` (the polls run by
    themselves: nothing here asks the publisher)."""
    deadline = time.monotonic() + 30
    version = ""
    while time.monotonic() < deadline:
        version = curve_cache._cache(engine).state.version  # type: ignore[union-attr]
        if version == target:
            return
        time.sleep(0.05)
    raise AssertionError(f"at data version {version}, not {target}")


@pytest.fixture
def workers(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Engine]]:
    monkeypatch.setenv("COSTCURVE_API_FRAMES_DIR", str(tmp_path / "frames"))
    get_settings.cache_clear()
    engines = [make_engine(db_url), make_engine(db_url)]
    yield engines
    for engine in engines:
        close_served(engine)
    get_settings.cache_clear()


def test_one_worker_reads_the_database_and_the_other_maps_what_it_published(
    engine: Engine, workers: list[Engine]
) -> None:
    _ingest(engine, GEMINI[0], "google")
    first, second = workers
    version, llm, gpu = curve_cache.frames(first)
    assert _source(first).share.leads
    same, mapped_llm, mapped_gpu = curve_cache.frames(second)
    assert not _source(second).share.leads
    assert same == version
    assert mapped_llm.height > 0
    assert _sorted(mapped_llm).equals(_sorted(llm))
    assert _sorted(mapped_gpu).equals(_sorted(gpu))
    # Both answer the same curve from the same data.
    assert curve_frame(second, QUERY).equals(curve_frame(first, QUERY))


def test_a_change_reaches_every_worker_and_their_carried_curves_match_a_full_load(
    engine: Engine, workers: list[Engine], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ingest(engine, GEMINI[0], "google")
    first, second = workers
    curve_cache.frames(first)
    curve_cache.frames(second)
    before = curve_frame(second, QUERY)  # derived frames the follower must carry
    _ingest(engine, GEMINI[1], "google")
    _ingest(engine, DEEPSEEK, "deepseek")
    fresh = load(engine)
    _wait_for(first, fresh.version)
    _wait_for(second, fresh.version)
    state = curve_cache._cache(second).state
    assert state is not None
    assert _sorted(state.frames.llm).equals(_sorted(fresh.llm))
    # What the follower answers equals what a process of its own computes.
    monkeypatch.delenv("COSTCURVE_API_FRAMES_DIR")
    get_settings.cache_clear()
    alone = make_engine(db_url)
    try:
        assert not curve_cache._cache(alone).source  # not loaded yet
        assert curve_frame(second, QUERY).equals(curve_frame(alone, QUERY))
        assert not isinstance(curve_cache._cache(alone).source, SharedSource)
    finally:
        close_served(alone)
    assert not before.is_empty()


def test_a_worker_takes_over_when_the_publisher_goes_without_reloading(
    engine: Engine, workers: list[Engine]
) -> None:
    _ingest(engine, GEMINI[0], "google")
    first, second = workers
    curve_cache.frames(first)
    curve_cache.frames(second)
    _source(first).close()  # the publisher's process is gone: its lock with it
    _ingest(engine, DEEPSEEK, "deepseek")
    fresh = load(engine)
    _wait_for(second, fresh.version)
    assert _source(second).share.leads
    _, llm, _ = curve_cache.frames(second)
    assert _sorted(llm).equals(_sorted(fresh.llm))


def test_a_published_delta_brings_the_previous_version_to_the_new_one(
    tmp_path: Path, engine: Engine
) -> None:
    _ingest(engine, GEMINI[0], "google")
    share = FrameShare(tmp_path)
    assert share.lead()
    old = share.publish(load(engine))
    _ingest(engine, DEEPSEEK, "deepseek")
    new = share.publish(refresh(engine, old))
    reader = FrameShare(tmp_path)
    published = reader.latest()
    assert published is not None
    assert published.previous == old.version
    opened = reader.open(published, with_delta=True)
    assert opened.llm_delta is not None
    assert opened.llm_delta.rows.height > 0
    assert _sorted(opened.llm_delta.apply(old.llm)).equals(_sorted(new.llm))
    assert _sorted(opened.llm).equals(_sorted(load(engine).llm))
    assert reader.latest() is None  # nothing newer since
    share.release()


def test_a_change_to_open_versions_publishes_the_recent_rows_and_links_the_settled_file(
    tmp_path: Path, engine: Engine
) -> None:
    # The curated reference history has closed versions (settled rows), and a delta
    # re-reads every reference row: unchanged, they leave the settled layer alone.
    load_reference_history(engine)
    share = FrameShare(tmp_path)
    assert share.lead()
    old = share.publish(load(engine))
    assert old.llm_layers.settled.height > 0
    _ingest(engine, DEEPSEEK, "deepseek")  # new offerings: open versions only
    new = share.publish(refresh(engine, old))
    first, second = (tmp_path / str(seq) / "settled.arrow" for seq in (1, 2))
    assert first.stat().st_ino == second.stat().st_ino  # one file, written once
    assert first.stat().st_nlink == 2
    assert new.llm_layers.recent.height > old.llm_layers.recent.height
    assert _sorted(new.llm).equals(_sorted(load(engine).llm))
    share.release()


def test_the_share_keeps_the_newest_versions_only(tmp_path: Path, engine: Engine) -> None:
    _ingest(engine, GEMINI[0], "google")
    share = FrameShare(tmp_path)
    assert share.lead()
    frames = load(engine)
    for _ in range(4):
        frames = share.publish(frames)
    kept = sorted(p.name for p in tmp_path.iterdir() if p.name.isdigit())
    assert kept == ["3", "4"]
    newest = share.newest()
    assert newest is not None
    assert newest.folder == "4"
    assert newest.version == frames.version
    other = FrameShare(tmp_path)
    assert not other.lead()  # one publisher at a time
    share.release()
    assert other.lead()
    other.release()
    # A new serve-api clears what an earlier run published, and nothing else.
    (tmp_path / "notes.txt").write_text("not ours")
    FrameShare.clear(tmp_path)
    assert share.newest() is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "publisher.lock"]


def test_the_publisher_writes_a_new_version_before_settling_and_again_once_compacted(
    tmp_path: Path, engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(frame_layers, "COMPACT_MIN_ROWS", 0)  # every grown layer compacts
    load_reference_history(engine)
    _ingest(engine, GEMINI[0], "google")
    served = [make_engine(db_url), make_engine(db_url)]
    leader, follower = (SharedSource(e, tmp_path) for e in served)
    try:
        old = leader.first(served[0])
        assert leader.share.leads
        followed = follower.first(served[1])
        _ingest(engine, GEMINI[1], "google")
        new = leader.next(served[0], old)
        assert new is not None
        newest = leader.share.newest()
        assert newest is not None
        assert newest.version == new.version  # the others can start on it now
        opened = follower.next(served[1], followed)
        assert opened is not None
        assert opened.version == new.version
        assert opened.llm_layers.needs_compaction  # as published: not compacted yet
        settled = leader.settle(new)
        assert (new.llm_layers.added > 0, settled.llm_layers.added) == (True, 0)  # compacted
        again = leader.share.newest()
        assert again is not None
        assert (again.version, again.folder != newest.folder) == (new.version, True)
        assert follower.next(served[1], opened) is None  # the same data version
        assert _sorted(settled.llm).equals(_sorted(load(engine).llm))
    finally:
        for source, e in zip((leader, follower), served, strict=True):
            source.close()
            e.dispose()
