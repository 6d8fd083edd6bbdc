"""Running Prefect locally for ``costcurve up``: the server and the served deployments.

Both run as child processes in their own sessions, so a Ctrl-C in the terminal
reaches ``costcurve up`` alone and it can stop them in order (the served
deployments before the server). On Linux a child also gets SIGTERM if
``costcurve up`` itself dies without cleaning up.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import httpx
from sqlalchemy.engine import make_url

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """A long-running child process that is stopped with a signal, then killed."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: Mapping[str, str],
        log: Path | None = None,
    ) -> None:
        self.name = name
        self.log = log
        out: IO[bytes] | None = None
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            out = log.open("ab")
        self.proc = subprocess.Popen(
            argv,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        if out is not None:
            out.close()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> int:
        """Signal, wait, then kill the whole process group if it is still there."""
        if self.alive():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        # Anything it left behind in its session (flow-run subprocesses) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return int(self.proc.returncode)

    def log_tail(self, lines: int = 20) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def wait_healthy(url: str, child: Child | None, timeout_s: float) -> bool:
    """Poll ``url`` until it answers 200; False when the child died or time ran out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
            return False
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    return False


def asyncpg_url(url: str, database: str | None = None) -> str:
    """The same PostgreSQL URL for Prefect's asyncpg driver (optionally another database).

    asyncpg takes the Unix-socket form of the embedded server as is
    (``postgresql+asyncpg://postgres@/prefect?host=/dir&port=N``).
    """
    parsed = make_url(url).set(drivername="postgresql+asyncpg")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def prefect_server_env(
    base: Mapping[str, str], *, home: Path, database_url: str, host: str, port: int
) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k != "PREFECT_API_URL"}
    return env | {
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": database_url,
        "PREFECT_SERVER_API_HOST": host,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    }


def start_prefect_server(env: Mapping[str, str], host: str, port: int, log: Path) -> Child:
    argv = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]
    return Child("Prefect server", argv, env, log)


def start_runner(
    env: Mapping[str, str], *, replay: Path | None, all_dates: bool, run_now: bool
) -> Child:
    argv = [sys.executable, "-m", "flows.serve"]
    if replay is not None:
        argv += ["--replay", str(replay)]
    if all_dates:
        argv.append("--all-dates")
    if run_now:
        argv.append("--run-now")
    return Child("served deployments", argv, env)


def first_completed_scrape(api_url: str, since: float) -> str | None:
    """Name of a scrape flow run that completed after ``since`` (epoch seconds), if any."""
    from datetime import UTC, datetime

    body = {
        "flow_runs": {
            "state": {"type": {"any_": ["COMPLETED"]}},
            "end_time": {"after_": datetime.fromtimestamp(since, UTC).isoformat()},
        },
        "flows": {"name": {"any_": ["scrape-llm-prices", "scrape-gpu-rates"]}},
        "limit": 1,
    }
    try:
        response = httpx.post(f"{api_url}/flow_runs/filter", json=body, timeout=5)
        runs = response.json() if response.status_code == 200 else []
    except (httpx.HTTPError, ValueError):
        return None
    return str(runs[0]["name"]) if runs else None
