"""Real PostgreSQL for tests: one embedded server per session, a fresh database
per test cloned from a migrated template (CREATE DATABASE ... TEMPLATE is fast)."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine

from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.migrate import upgrade

TEMPLATE = "costcurve_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg() -> Iterator[EmbeddedPostgres]:
    # Not pytest's tmp_path: its retention clean-up may prune the directory of a
    # concurrently running session, and the server runs as another system user.
    base = Path(tempfile.mkdtemp(prefix="costcurve-test-pg-"))
    server = EmbeddedPostgres(base, cleanup_mode="delete")
    server.ensure_database(TEMPLATE)
    upgrade(server.url(TEMPLATE))
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def db_url(pg: EmbeddedPostgres) -> Iterator[str]:
    name = f"t_{os.getpid()}_{next(_counter)}"
    pg.ensure_database(name, template=TEMPLATE)
    yield pg.url(name)
    pg.drop_database(name)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real uvicorn server on loopback, in a thread, for HTTP-level tests."""

    def __init__(self, app: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_api(engine: Engine) -> Iterator[LiveServer]:
    from api.main import create_app

    with LiveServer(create_app(engine)) as server:
        yield server


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
