"""Precomputed cost curves, invalidated by ingest.

The version tables are loaded into memory once per *data version* (the latest
finished pipeline run) and each computed curve is kept as its serialized JSON
and CSV, so a repeated ``/v1/cost-curve`` request costs a dictionary lookup.
The API checks the data version at most every ``CHECK_INTERVAL_S`` seconds; the
``refresh-analytics`` flow requests every tier's curve after each ingest so the
first user request after a scrape does not pay for the reload.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import Engine, text

from db.frames import gpu_versions, llm_versions

CHECK_INTERVAL_S = 1.0
# The cache is bounded by the bytes it holds, not by entries: one wide daily curve
# weighs as much as hundreds of monthly ones.
MAX_CACHE_BYTES = 64 * 1024 * 1024


@dataclass
class _State:
    version: str | None = None
    checked_at: float = 0.0
    llm: pl.DataFrame | None = None
    gpu: pl.DataFrame | None = None
    results: OrderedDict[tuple[Any, ...], Any] = field(default_factory=OrderedDict)
    sizes: dict[tuple[Any, ...], int] = field(default_factory=dict)
    cached_bytes: int = 0


_states: dict[int, _State] = {}
_lock = threading.Lock()


def data_version(engine: Engine) -> str:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT count(*), max(finished_at), "
                "(SELECT max(decided_at) FROM price_flag) "
                "FROM pipeline_run WHERE finished_at IS NOT NULL"
            )
        ).one()
    # A person's decision on a flag changes what counts as much as an ingest does.
    stamps = [r.isoformat() if r else "-" for r in (row[1], row[2])]
    return f"{row[0]}:{stamps[0]}:{stamps[1]}"


def _state(engine: Engine, *, force: bool = False) -> _State:
    state = _states.setdefault(id(engine), _State())
    now = time.monotonic()
    if not force and state.llm is not None and now - state.checked_at < CHECK_INTERVAL_S:
        return state
    with _lock:
        version = data_version(engine)
        state.checked_at = now
        if force or version != state.version or state.llm is None:
            with engine.connect() as conn:
                state.llm = llm_versions(conn)
                state.gpu = gpu_versions(conn)
            state.version = version
            state.results.clear()
            state.sizes.clear()
            state.cached_bytes = 0
    return state


def frames(engine: Engine) -> tuple[str, pl.DataFrame, pl.DataFrame]:
    state = _state(engine)
    assert state.llm is not None
    assert state.gpu is not None
    assert state.version is not None
    return state.version, state.llm, state.gpu


def memo(engine: Engine, key: tuple[Any, ...], compute: Any) -> Any:
    """Result of ``compute()`` for ``key`` under the current data version."""
    state = _state(engine)
    full_key = (state.version, *key)
    if full_key in state.results:
        state.results.move_to_end(full_key)
        return state.results[full_key]
    value = compute()
    size = _size(value)
    if size > MAX_CACHE_BYTES // 4:
        return value  # too big to be worth evicting everything else for
    with _lock:
        if full_key not in state.results:
            state.results[full_key] = value
            state.sizes[full_key] = size
            state.cached_bytes += size
        while state.cached_bytes > MAX_CACHE_BYTES and state.results:
            old_key, _ = state.results.popitem(last=False)
            state.cached_bytes -= state.sizes.pop(old_key, 0)
    return value


def _size(value: Any) -> int:
    """Bytes a cached result holds (serialized bodies, possibly with their media type)."""
    if isinstance(value, bytes | str):
        return len(value)
    if isinstance(value, tuple):
        return sum(_size(v) for v in value)
    # Rows kept as Python objects (the dashboard's curve and series rows): a rough
    # CPython footprint, so the byte budget also bounds them.
    if isinstance(value, list):
        return 64 + sum(_size(v) for v in value)
    if isinstance(value, dict):
        return 64 + sum(48 + _size(v) for v in value.values())
    if value is None or isinstance(value, int | float | Decimal | date):
        return 32
    return 1024  # small structured results
