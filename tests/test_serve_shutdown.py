"""``python -m flows.serve`` (what ``costcurve up`` stops) ends cleanly on SIGTERM and SIGINT.

A real local Prefect server, the real served deployments: once the runner polls
(the server marks the deployments READY), a signal stops it with exit status 0,
no "coroutine ... was never awaited" on stderr, and every schedule it served
paused until the next start.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.embedded import EmbeddedPostgres
from flows.deployments import DEPLOYMENTS
from tests.prefect_local import PrefectServer, prefect_server, wait_until
from tests.support import REPO

pytestmark = pytest.mark.slow
SERVED = {spec.name for spec in DEPLOYMENTS}


@pytest.fixture(scope="module")
def server(
    pg: EmbeddedPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrefectServer]:
    with prefect_server(pg, tmp_path_factory.mktemp("prefect")) as running:
        yield running


def _served(server: PrefectServer) -> list[dict]:
    found = server.post("/deployments/filter", {"deployments": {"name": {"any_": sorted(SERVED)}}})
    return list(found)


def _all_polled_since(server: PrefectServer, since: datetime) -> bool:
    polled = {
        d["name"]
        for d in _served(server)
        if d["last_polled"] and datetime.fromisoformat(d["last_polled"]) > since
    }
    return polled == SERVED


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_served_deployments_stop_on_a_signal_with_exit_0_no_unawaited_coroutine_and_paused(
    server: PrefectServer, db_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    started = datetime.now(UTC)
    stdout, stderr = tmp_path / "serve.out", tmp_path / "serve.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flows.serve"],
            cwd=REPO,
            env=server.env | {"DATABASE_URL": db_url},
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    try:
        # The server stamps a deployment's last_polled when a runner asks for its runs.
        wait_until(
            lambda: proc.poll() is not None or _all_polled_since(server, started),
            180,
            "the runner polling for its deployments",
        )
        assert proc.poll() is None, stderr.read_text()
        # Serving resumes what an earlier stop paused.
        assert not [d["name"] for d in _served(server) if d["paused"]]
        proc.send_signal(sig)
        returncode = proc.wait(90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    errors = stderr.read_text()
    assert returncode == 0, errors
    assert "was never awaited" not in errors
    assert "Traceback" not in errors
    assert {d["name"] for d in _served(server) if d["paused"]} == SERVED
