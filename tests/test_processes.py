"""Processes end cleanly: no PostgreSQL left behind, no second `up` on a data directory in use."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from db.embedded import HANDLE_FILE, EmbeddedPostgres, prune_dead_handles
from tests.conftest import free_port
from tests.test_up_args import cli

COSTCURVE = [sys.executable, "-m", "costcurve"]


def _postgres_running(pgdata: Path) -> bool:
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_dead_process_handle_never_keeps_embedded_postgres_alive(tmp_path: Path) -> None:
    first = EmbeddedPostgres(tmp_path)
    pgdata = first.pgdata
    handles = pgdata / HANDLE_FILE
    # A CLI process that was kill -9'd left its pid in the wheel's handle list.
    dead = _dead_pid()
    handles.write_text(json.dumps([*json.loads(handles.read_text()), dead]))
    assert _postgres_running(pgdata)
    first.stop()
    deadline = time.monotonic() + 30
    while _postgres_running(pgdata) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _postgres_running(pgdata), "the last live handle must stop the server"


def test_prune_keeps_live_handles_and_drops_dead_ones(tmp_path: Path) -> None:
    (tmp_path / HANDLE_FILE).write_text(json.dumps([os.getpid(), _dead_pid()]))
    assert len(prune_dead_handles(tmp_path)) == 1
    assert json.loads((tmp_path / HANDLE_FILE).read_text()) == [os.getpid()]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_api_exits_zero_on_a_signal_and_stops_the_database_it_started(
    tmp_path: Path, sig: signal.Signals
) -> None:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("COSTCURVE_", "PREFECT_"))}
    environ.pop("DATABASE_URL", None)
    environ["COSTCURVE_DATA_DIR"] = str(tmp_path / "data")
    proc = subprocess.Popen(
        [*COSTCURVE, "serve-api", "--port", str(port)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300  # a busy 2-core machine starts PostgreSQL slowly
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("serve-api did not come up")
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert not _postgres_running(tmp_path / "data" / "pg"), out


def test_a_second_up_on_a_data_directory_in_use_refuses_and_touches_nothing(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with (data / "up.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242\n")
        held.flush()
        result = cli(
            "up",
            tmp_path=tmp_path,
            COSTCURVE_API_PORT=str(free_port()),
            COSTCURVE_PREFECT_PORT=str(free_port()),
        )
    assert result.returncode == 1
    assert "another `costcurve up` (pid 4242)" in result.stderr
    assert not (data / "pg").exists(), "the refused instance must not start a database"
