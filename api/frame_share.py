"""Version frames shared by the API workers of one ``serve-api``: one publishes, all map.

Without this every worker process would load every version from PostgreSQL,
refresh it after every change and hold its own copy. With a shared directory
(``COSTCURVE_API_FRAMES_DIR``; ``serve-api --workers N`` makes one):

* the worker holding the directory's lock (``flock``, released by the kernel
  when its process dies) is the *publisher*: it alone loads and refreshes from
  PostgreSQL, and writes each data version as uncompressed Arrow IPC files;
* every worker, the publisher included, maps those files (``pyarrow``'s memory
  map, no copy): the frames are one set of page-cache pages, shared by all
  processes and backed by the file, so the kernel can drop and re-read them
  under memory pressure instead of swapping;
* with each version the publisher also writes its delta (the re-read rows and
  the ids they replace), so a worker carries its derived frames forward by the
  changed rows only, as the publisher does (api/curve_cache.py);
* a worker that finds the lock free while serving takes it over and continues
  from the snapshot it maps, so a dead publisher costs no reload.

Layout: ``<dir>/<seq>/{settled,recent,gpu,rows}.arrow`` and ``gone.arrow`` per
version, ``<dir>/current.json`` naming the newest (replaced atomically). The
LLM frame is written as its two layers (db/frame_layers.py): a version whose
settled layer is the previous one's (the usual change) hard-links that file
instead of writing it again, so publishing costs the recent rows, and every
worker keeps mapping the same settled pages. Old versions are deleted after
the next one; a process that still maps one keeps its pages until it lets go
(POSIX unlink semantics).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from db.frame_delta import FrameDelta, Frames, Layered

CURRENT = "current.json"
_KEEP = 2  # published versions kept: the newest and the one workers may still be opening


@dataclass(frozen=True)
class Published:
    """What ``current.json`` says: the newest version and where its files are."""

    folder: str
    version: str
    snapshot: str
    scores: str
    changed_rows: int
    previous: str | None  # the version its delta applies to (None: a full load)
    llm_added: int = 0  # rows deltas added to the recent layer (Layered.added)


def _map(path: Path) -> pl.DataFrame:
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:  # the buffers keep the mapping alive
        table = pa.ipc.open_file(source).read_all()
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    return frame


class FrameShare:
    """One process's handle on the shared directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._lock: Any = None  # the open lock file while this process publishes
        self._seen: tuple[int, int] | None = None  # current.json's (mtime_ns, inode) read
        # The settled layer this process last published and its file: reused by the
        # next version while the layer is the same object (a delta left it alone).
        self._settled: tuple[pl.DataFrame, Path] | None = None

    @property
    def leads(self) -> bool:
        return self._lock is not None

    def lead(self) -> bool:
        """Whether this process publishes (takes the lock when it is free)."""
        if self._lock is not None:
            return True
        handle = (self.root / "publisher.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lock = handle
        return True

    def release(self) -> None:
        handle, self._lock = self._lock, None
        if handle is not None:
            handle.close()  # closing the file releases the flock

    def publish(self, frames: Frames) -> Frames:
        """Write ``frames`` as the newest version; the same frames, mapped."""
        seq = self._next_seq()
        staging = self.root / f".{seq}.tmp"
        staging.mkdir()
        self._write_layers(frames.llm_layers, staging)
        frames.gpu.write_ipc(staging / "gpu.arrow", compression="uncompressed")
        delta = frames.llm_delta
        if delta is not None:
            delta.rows.write_ipc(staging / "rows.arrow", compression="uncompressed")
            delta.gone_ids.to_frame().write_ipc(staging / "gone.arrow")
        staging.rename(self.root / str(seq))
        published = Published(
            folder=str(seq),
            version=frames.version,
            snapshot=frames.snapshot,
            scores=frames.scores,
            changed_rows=frames.changed_rows,
            previous=frames.previous if delta is not None else None,
            llm_added=frames.llm_layers.added,
        )
        tmp = self.root / f".{CURRENT}.tmp"
        tmp.write_text(json.dumps(published.__dict__))
        os.replace(tmp, self.root / CURRENT)
        self._prune(seq)
        opened = self.open(published, with_delta=delta is not None)
        self._settled = (opened.llm_layers.settled, self.root / str(seq) / "settled.arrow")
        return opened

    def _write_layers(self, layers: Layered, folder: Path) -> None:
        last = self._settled
        if last is not None and last[0] is layers.settled and last[1].exists():
            os.link(last[1], folder / "settled.arrow")
        else:
            layers.settled.write_ipc(folder / "settled.arrow", compression="uncompressed")
        layers.recent.write_ipc(folder / "recent.arrow", compression="uncompressed")

    def latest(self) -> Published | None:
        """The newest published version when ``current.json`` changed since the last
        call (a ``stat``), else None."""
        try:
            stat = (self.root / CURRENT).stat()
        except FileNotFoundError:
            return None
        seen = (stat.st_mtime_ns, stat.st_ino)
        if seen == self._seen:
            return None
        published = self.newest()
        if published is not None:
            self._seen = seen
        return published

    def newest(self) -> Published | None:
        """The newest published version, if any."""
        try:
            return Published(**json.loads((self.root / CURRENT).read_text()))
        except FileNotFoundError:
            return None

    def open(self, published: Published, *, with_delta: bool) -> Frames:
        """The published version's frames, mapped; with its delta when asked for."""
        folder = self.root / published.folder
        delta = None
        if with_delta and published.previous is not None:
            gone = _map(folder / "gone.arrow").to_series()
            delta = FrameDelta(gone, _map(folder / "rows.arrow"))
        return Frames(
            Layered(
                _map(folder / "settled.arrow"),
                _map(folder / "recent.arrow"),
                published.llm_added,
            ),
            _map(folder / "gpu.arrow"),
            published.snapshot,
            published.version,
            published.scores,
            published.changed_rows,
            delta,
            previous=published.previous,
        )

    @staticmethod
    def clear(root: Path) -> None:
        """Remove what an earlier run published in ``root`` (only this module's files:
        the directory is configurable and may hold anything else)."""
        (root / CURRENT).unlink(missing_ok=True)
        if root.is_dir():
            for path in root.iterdir():
                if not (path.name.isdigit() or path.name.endswith(".tmp")):
                    continue
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink()

    def _next_seq(self) -> int:
        numbers = [int(p.name) for p in self.root.iterdir() if p.name.isdigit()]
        return max(numbers, default=0) + 1

    def _prune(self, newest: int) -> None:
        for path in self.root.iterdir():
            if path.name.isdigit() and int(path.name) <= newest - _KEEP:
                shutil.rmtree(path, ignore_errors=True)
