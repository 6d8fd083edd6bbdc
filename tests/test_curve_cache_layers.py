"""The analytics cache over layered frames (db/frame_layers.py) on real PostgreSQL:
after a refresh the frames and the derived frames it carried are compacted off
the requests' path, and what they answer still equals a process's own full load."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api import curve_cache
from api.curve_query import CurveQuery
from api.v1_curves import curve_frame
from db import frame_layers
from db.backfill import load_reference_history
from db.engine import make_engine
from db.frame_delta import load
from db.pipeline import ingest_raw
from tests.support import FIXTURES, close_served, observed_at_for, require_shared

GEMINI = FIXTURES / "google" / "gemini_pricing_jina_md_2026-05-07.md"
DEEPSEEK = FIXTURES / "deepseek" / "api-docs_quick_start_pricing_2026-05-08.html"
QUERY = CurveQuery(tier="frontier", interval="week").resolved()


def _ingest(engine: Engine, path: Path, source: str) -> None:
    require_shared(path)
    ingest_raw(engine, source, path.read_bytes(), observed_at=observed_at_for(path))


@pytest.fixture
def served(db_url: str) -> Iterator[Engine]:
    """An engine as one API process uses it (its own cache), closed afterwards."""
    engine = make_engine(db_url)
    yield engine
    close_served(engine)


def _state_at(engine: Engine, target: str) -> curve_cache._State:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        curve_cache.frames(engine)  # a request: starts the background check
        state = curve_cache._cache(engine).state
        cache = curve_cache._cache(engine)
        if state is not None and state.version == target and not cache.refreshing.locked():
            return state
        time.sleep(0.05)
    raise AssertionError(f"data version {target} not reached")


def test_grown_layers_are_compacted_after_publication_and_answer_as_a_full_load(
    engine: Engine, served: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(frame_layers, "COMPACT_MIN_ROWS", 0)  # every grown layer compacts
    load_reference_history(engine)
    _ingest(engine, GEMINI, "google")
    before = curve_frame(served, QUERY)  # a derived frame the refresh carries
    state = curve_cache._cache(served).state
    assert state is not None
    settled = state.frames.llm_layers.settled
    _ingest(engine, DEEPSEEK, "deepseek")
    fresh = load(engine)
    after = _state_at(served, fresh.version)
    layers = after.frames.llm_layers
    assert layers.settled is not settled  # compacted: built again
    assert layers.recent["valid_to"].is_null().all()  # only open versions are recent
    for derived_layers, _ in after.derived.values():
        assert not derived_layers.needs_compaction
    assert after.frames.llm.sort("id").equals(fresh.llm.sort("id"))
    alone = make_engine(db_url)
    try:
        assert curve_frame(served, QUERY).equals(curve_frame(alone, QUERY))
    finally:
        close_served(alone)
    assert not before.is_empty()
