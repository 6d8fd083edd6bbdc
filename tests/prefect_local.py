"""A real local Prefect server for process tests, started the way ``costcurve up`` starts one.

``prefect server start`` runs as a subprocess (flows.local, the code ``up``
uses) on a free port, with its own PREFECT_HOME and its own database on the
tests' embedded PostgreSQL. Nothing reaches the network: analytics are off on
the server and in every client (DO_NOT_TRACK), and the UI is not built.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from db.embedded import EmbeddedPostgres
from flows import local
from tests.conftest import free_port

# A busy 2-core machine needs a while for the server's migrations and start-up.
SERVER_START_TIMEOUT_S = 240.0
_counter = itertools.count()


@dataclass(frozen=True)
class PrefectServer:
    api_url: str  # http://127.0.0.1:PORT/api
    env: dict[str, str]  # for clients of this server: workers, runners, the CLI
    log: Path

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = httpx.post(f"{self.api_url}{path}", json=body, timeout=30)
        assert response.status_code < 300, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def get(self, path: str) -> Any:
        response = httpx.get(f"{self.api_url}{path}", timeout=30)
        assert response.status_code < 300, f"{path}: {response.status_code} {response.text}"
        return response.json()


def offline_env(home: Path) -> dict[str, str]:
    """The environment without our own or Prefect settings, plus what keeps Prefect local."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("COSTCURVE_", "PREFECT_"))}
    base.pop("DATABASE_URL", None)
    return base | {
        "PREFECT_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
    }


@contextmanager
def prefect_server(pg: EmbeddedPostgres, home: Path) -> Iterator[PrefectServer]:
    database = f"prefect_{os.getpid()}_{next(_counter)}"
    pg.ensure_database(database)
    port = free_port()
    log = home / "prefect-server.log"
    env = offline_env(home)
    server = local.start_prefect_server(
        local.prefect_server_env(
            env,
            home=home,
            database_url=pg.url(database, driver="asyncpg"),
            host="127.0.0.1",
            port=port,
        ),
        "127.0.0.1",
        port,
        log,
    )
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        healthy = local.wait_healthy(f"{api_url}/health", server, SERVER_START_TIMEOUT_S)
        assert healthy, f"the Prefect server did not start:\n{server.log_tail(40)}"
        yield PrefectServer(api_url, env | {"PREFECT_API_URL": api_url}, log)
    finally:
        server.stop()
        pg.drop_database(database)


def wait_until(
    condition: Callable[[], Any], timeout_s: float, what: str, every_s: float = 0.5
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"not within {timeout_s:.0f} s: {what}")
