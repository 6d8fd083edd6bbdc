"""Precomputed cost curves over in-memory version frames, refreshed in the background.

The version tables are held in memory (``db.frame_delta.Frames``) together with
the computed results (each curve kept as its serialized JSON and CSV), one
*data version* at a time. Reads never wait for a refresh (stale-while-
revalidate):

* at most every ``CHECK_INTERVAL_S`` a request probes PostgreSQL for versions
  changed since the frames' snapshot (an index probe);
* when there are, one background thread per engine applies the delta (only the
  changed rows are read), recomputes the results requests used most recently
  on the new frames, and only then publishes the new data version;
* meanwhile every request is answered from the previous data version; the
  request that found the change waits at most ``REFRESH_WAIT_S`` for it.

Every answer notes which data version it comes from (``api.data_version``:
the ``X-Data-Version`` header and the ETag). The ``refresh-analytics`` flow
requests the dashboard's and the README's curves after each ingest, so the
hot results are the ones recomputed ahead of publication.
"""

from __future__ import annotations

import atexit
import gc
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api import data_version
from api.frame_source import DatabaseSource, source_for
from db.frame_delta import FrameDelta, Frames, Layered
from db.frame_layers import RowWise

CHECK_INTERVAL_S = 0.05
REFRESH_WAIT_S = 0.03
RETRY_AFTER_S = 5.0  # after a failed refresh (database away), before the next try
# Results recomputed on new frames: the most recently used ones. Those used in the
# last PREWARM_RECENT_S (what clients are polling now) are recomputed before the new
# version is published, within PREWARM_BUDGET_S; the others right after, within
# REWARM_BUDGET_S (a request for one of them meanwhile computes it itself).
REWARM_KEYS = 64
PREWARM_RECENT_S = 2.0
PREWARM_BUDGET_S = 1.0
REWARM_BUDGET_S = 10.0
# The cache is bounded by the bytes it holds, not by entries: one wide daily curve
# weighs as much as hundreds of monthly ones.
MAX_CACHE_BYTES = 64 * 1024 * 1024
# Frames derived from the LLM frame (the countable, tiered prices of a set of
# counting options): each as large as the frame, so few are kept.
MAX_DERIVED = 4

log = logging.getLogger(__name__)


_Hot = tuple[tuple[Any, ...], Callable[[], Any], float]  # key, computation, last used


@dataclass
class _State:
    """One data version: its frames and the results computed on them."""

    frames: Frames
    results: OrderedDict[tuple[Any, ...], Any] = field(default_factory=OrderedDict)
    sizes: dict[tuple[Any, ...], int] = field(default_factory=dict)
    computes: dict[tuple[Any, ...], Callable[[], Any]] = field(default_factory=dict)
    used_at: dict[tuple[Any, ...], float] = field(default_factory=dict)
    cached_bytes: int = 0
    derived: OrderedDict[tuple[Any, ...], tuple[Layered, RowWise]] = field(
        default_factory=OrderedDict
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def version(self) -> str:
        return self.frames.version

    def put(
        self,
        key: tuple[Any, ...],
        value: Any,
        compute: Callable[[], Any],
        used_at: float | None = None,
    ) -> None:
        size = _size(value)
        if size > MAX_CACHE_BYTES // 4:
            return  # too big to be worth evicting everything else for
        with self.lock:
            if key not in self.results:
                self.results[key] = value
                self.sizes[key] = size
                self.computes[key] = compute
                self.used_at[key] = used_at or time.monotonic()
                self.cached_bytes += size
            while self.cached_bytes > MAX_CACHE_BYTES and self.results:
                old_key, _ = self.results.popitem(last=False)
                self.cached_bytes -= self.sizes.pop(old_key, 0)
                self.computes.pop(old_key, None)
                self.used_at.pop(old_key, None)

    def get(self, key: tuple[Any, ...]) -> tuple[bool, Any]:
        with self.lock:
            if key not in self.results:
                return False, None
            self.results.move_to_end(key)
            self.used_at[key] = time.monotonic()
            return True, self.results[key]

    def put_derived(self, key: tuple[Any, ...], layers: Layered, derive: RowWise) -> None:
        with self.lock:
            self.derived[key] = (layers, derive)
            self.derived.move_to_end(key)
            while len(self.derived) > MAX_DERIVED:
                self.derived.popitem(last=False)

    def get_derived(self, key: tuple[Any, ...]) -> pl.DataFrame | None:
        with self.lock:
            found = self.derived.get(key)
            if found is None:
                return None
            self.derived.move_to_end(key)
        return found[0].frame

    def carry_derived(self, old: _State) -> None:
        """``old``'s derived frames brought to these frames by applying the delta to
        the changed rows only (each derivation is row-wise; see ``derived``).

        Results and derived frames live per data version, and the score stamp is
        part of the data version, so no key needs to name the scores; a derivation
        may read score-dependent inputs (tier intervals), so none is carried across
        a score import.
        """
        delta = self.frames.llm_delta
        if delta is None or self.frames.previous != old.version:
            return  # no delta from old (a full load, a version missed): derived on first use
        if self.frames.scores != old.frames.scores:
            return  # derived again on first use, with the new scores' inputs
        with old.lock:
            carried = list(old.derived.items())
        for key, (layers, derive) in carried:
            changed = FrameDelta(delta.gone_ids, derive(delta.rows))
            self.put_derived(key, layers.apply(changed), derive)

    def compact_derived(self) -> None:
        """Derive again, from the frames' layers, the derived frames whose recent layer
        has grown (db/frame_layers.py), once the frames themselves are compact: in
        the refresher, after publication (requests read the old ones meanwhile)."""
        base = self.frames.llm_layers
        if base.needs_compaction:
            return  # the next settled frames will be (the source compacts them)
        with self.lock:
            grown = [(k, d) for k, (layers, d) in self.derived.items() if layers.needs_compaction]
        for key, derive in grown:
            layers = base.derive(derive)
            with self.lock:
                if key in self.derived:  # evicted meanwhile: not brought back
                    self.derived[key] = (layers, derive)  # same place in the LRU order

    def hot(self) -> tuple[list[_Hot], list[_Hot]]:
        """The most recently used results' keys and computations, newest first: those
        used in the last ``PREWARM_RECENT_S``, and the others."""
        recent = time.monotonic() - PREWARM_RECENT_S
        with self.lock:
            keys = sorted(self.computes, key=lambda k: self.used_at.get(k, 0.0), reverse=True)
            hot = [(k, self.computes[k], self.used_at.get(k, 0.0)) for k in keys[:REWARM_KEYS]]
        return [h for h in hot if h[2] >= recent], [h for h in hot if h[2] < recent]


class _Cache:
    """The published state of one engine and its single background refresher."""

    def __init__(self) -> None:
        self.state: _State | None = None
        self.checked_at = 0.0
        self.load_lock = threading.Lock()
        self.refreshing = threading.Lock()  # held by the refresher thread
        self.refreshed = threading.Event()
        self.source: DatabaseSource | None = None  # where frames come from (api.frame_source)

    def current(self, engine: Engine) -> _State:
        if self.state is None:
            with self.load_lock:  # nothing to serve yet: the first load is waited for
                if self.state is None:
                    self.source = source_for(engine)
                    self.state = _State(self.source.first(engine))
                    self.checked_at = time.monotonic()
                    # What is alive now (the app, its modules, schemas, the catalog)
                    # lives as long as the process: freezing it keeps full garbage
                    # collections from scanning it again and again. They paused every
                    # request for 93-133 ms during refreshes at 1M versions (measured
                    # with gc.callbacks).
                    gc.freeze()
                    if self.source.shared:
                        self._keep_polling(engine)
            return self.state
        if self.poll(engine):  # the request that starts a check waits a little for it
            self.refreshed.wait(REFRESH_WAIT_S)
        return self.state

    def poll(self, engine: Engine) -> bool:
        """Start a background check when the last one is ``CHECK_INTERVAL_S`` old;
        whether this call started one."""
        now = time.monotonic()
        if now - self.checked_at < CHECK_INTERVAL_S:
            return False
        self.checked_at = now
        return self._start(engine)

    def _keep_polling(self, engine: Engine) -> None:
        """Poll without waiting for requests: the publisher must refresh even while the
        requests go to the other workers, and they take its versions up as they come."""
        ref = weakref.ref(engine)

        def loop() -> None:
            while (alive := ref()) is not None and not (self.source and self.source.closed):
                self.poll(alive)
                del alive  # no reference held while sleeping: the engine can go
                time.sleep(CHECK_INTERVAL_S)

        threading.Thread(target=loop, name="curve-cache-poll", daemon=True).start()

    def _start(self, engine: Engine) -> bool:
        if not self.refreshing.acquire(blocking=False):
            return False  # one refresher at a time; it picks up whatever committed meanwhile
        self.refreshed.clear()
        threading.Thread(
            target=self._refresh, args=(engine,), name="curve-cache-refresh", daemon=True
        ).start()
        return True

    def _refresh(self, engine: Engine) -> None:
        """Ask the source for newer frames and, when there are, prepare and publish the
        next version (in this background thread: a slow or blocked database delays
        no request)."""
        old, source = self.state, self.source
        assert old is not None
        assert source is not None
        try:
            started = time.monotonic()
            frames = source.next(engine, old.frames)
            if frames is None:
                return
            new = _State(frames)
            if new.frames.version != old.version:
                new.carry_derived(old)
                now, later = old.hot()
                _rewarm(engine, new, now, PREWARM_BUDGET_S)
                self.state = new  # published: requests read the new version from here on
                log.info(
                    "data version %s -> %s: %d versions re-read, %d results recomputed, "
                    "published after %.0f ms",
                    old.version,
                    new.version,
                    new.frames.changed_rows,
                    len(now),
                    (time.monotonic() - started) * 1000,
                )
                new.frames = source.settle(new.frames)
                new.compact_derived()
                _rewarm(engine, new, later, REWARM_BUDGET_S)
            else:  # nothing that counts changed: keep the results, move the snapshot on
                old.frames = new.frames
        except Exception:  # a failed refresh keeps serving the previous version
            log.exception("curve cache refresh failed; serving data version %s", old.version)
            self.checked_at = time.monotonic() + RETRY_AFTER_S
        finally:
            self.refreshing.release()
            self.refreshed.set()


_caches: weakref.WeakKeyDictionary[Engine, _Cache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()
# The state a computation runs against: a request pins the version it started on,
# the refresher pins the version it is preparing.
_pinned: ContextVar[tuple[Engine, _State] | None] = ContextVar("curve_cache_pinned", default=None)


@atexit.register
def _close_readers() -> None:
    """Close the refreshers' connections (and shares) while the driver can still do it
    cleanly."""
    with _caches_lock:
        caches = list(_caches.values())
    for cache in caches:
        if cache.source is not None:
            cache.source.close()


def _cache(engine: Engine) -> _Cache:
    with _caches_lock:
        found = _caches.get(engine)
        if found is None:
            found = _caches[engine] = _Cache()
        return found


def _state(engine: Engine) -> _State:
    pinned = _pinned.get()
    if pinned is not None and pinned[0] is engine:
        return pinned[1]
    state = _cache(engine).current(engine)
    data_version.note(state.version)
    return state


async def amemo(engine: Engine, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """``memo`` for an async route: a result already computed for the current data
    version is returned on the event loop (a dictionary lookup); anything that can
    block (the first load, a computation) runs in the thread pool."""
    cache = _cache(engine)
    state = cache.state
    if state is not None:
        cache.poll(engine)  # may start a background refresh; never waits for it
        state = cache.state
        assert state is not None
        found, value = state.get(key)
        if found:
            data_version.note(state.version)
            return value
    return await run_in_threadpool(memo, engine, key, compute)


@contextmanager
def _pin(engine: Engine, state: _State) -> Iterator[None]:
    token = _pinned.set((engine, state))
    try:
        yield
    finally:
        _pinned.reset(token)


def _rewarm(engine: Engine, state: _State, hot: list[_Hot], budget_s: float) -> None:
    """Recompute ``hot`` results on ``state`` (newest first), within ``budget_s``."""
    deadline = time.monotonic() + budget_s
    with _pin(engine, state):
        for key, compute, used_at in hot:
            if time.monotonic() > deadline:
                break
            try:
                state.put(key, compute(), compute, used_at)
            except Exception:  # recomputed on its next request, where its error shows
                log.debug("rewarm of %r failed", key, exc_info=True)


def frames(engine: Engine) -> tuple[str, pl.DataFrame, pl.DataFrame]:
    state = _state(engine)
    return state.version, state.frames.llm, state.frames.gpu


def scores_version(engine: Engine) -> str:
    """The stamp of the imported scores the current data version was read with."""
    return _state(engine).frames.scores


def derived(engine: Engine, key: tuple[Any, ...], derive: RowWise) -> pl.DataFrame:
    """``derive(llm frame)`` under the current data version, kept with it.

    ``derive`` must be row-wise: every output row comes from one input row and
    keeps its ``id`` (filters, per-row columns, splitting a row in pieces), and
    it must not read anything that can change under the same ``key``. A refresh
    then brings the result forward by deriving only the changed rows
    (``_State.carry_derived``) instead of the whole frame.
    """
    state = _state(engine)
    found = state.get_derived(key)
    if found is None:
        layers = state.frames.llm_layers.derive(derive)
        state.put_derived(key, layers, derive)
        found = layers.frame
    return found


def memo(engine: Engine, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """Result of ``compute()`` for ``key`` under the current data version.

    ``compute`` must read the frames through this module (``frames``,
    ``memo``), never capture them: it is rerun on the next data version.
    """
    state = _state(engine)
    found, value = state.get(key)
    if found:
        return value
    with _pin(engine, state):  # every frame this computation reads is of one version
        value = compute()
    state.put(key, value, compute)
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
