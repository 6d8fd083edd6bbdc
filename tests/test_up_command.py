"""`costcurve up --replay DIR` as a user runs it: a real subprocess, real servers, offline.

One test, because it starts everything (embedded PostgreSQL, the Prefect server
and UI, the served deployments, the API): the scrapes complete in the Prefect
UI's API, the cost curve has data, and SIGTERM stops it all, in order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.support import FIXTURES, require_shared

pytestmark = pytest.mark.slow
STARTUP_TIMEOUT_S = 240


class Output:
    """The child's merged stdout/stderr, collected by a thread so the pipe never fills."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, proc: subprocess.Popen[str], timeout_s: float) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            assert proc.poll() is None, "costcurve up exited:\n" + self.text()
            time.sleep(0.2)
        raise AssertionError(f"no {text!r} within {timeout_s} s:\n" + self.text())

    def text(self) -> str:
        return "\n".join(self.lines)

    def join(self) -> None:
        self._thread.join(timeout=10)


def _our_processes(marker: str) -> list[int]:
    """Processes whose environment carries ``marker`` (everything `up` started inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture
def replay_dir(tmp_path: Path) -> Path:
    require_shared()
    root = tmp_path / "replay"
    root.mkdir()
    for source in ("xai", "lambda"):
        (root / source).symlink_to(FIXTURES / source, target_is_directory=True)
    return root


@pytest.fixture
def up(tmp_path: Path, replay_dir: Path) -> Iterator[tuple[subprocess.Popen[str], Output, dict]]:
    api_port, prefect_port = free_port(), free_port()
    data_dir = tmp_path / "data"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("COSTCURVE_", "PREFECT_"))}
    environ.pop("DATABASE_URL", None)
    environ |= {
        "COSTCURVE_DATA_DIR": str(data_dir),
        "COSTCURVE_API_PORT": str(api_port),
        "COSTCURVE_PREFECT_PORT": str(prefect_port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "costcurve", "up", "--replay", str(replay_dir), "--all-dates"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(proc)
    info = {
        "api": f"http://127.0.0.1:{api_port}",
        "prefect": f"http://127.0.0.1:{prefect_port}/api",
        "data_dir": data_dir,
        "replay": replay_dir,
    }
    try:
        yield proc, output, info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                proc.kill()
        output.join()


def _completed_scrapes(prefect_api: str) -> list[dict]:
    body = {
        "flows": {"name": {"any_": ["scrape-llm-prices", "scrape-gpu-rates"]}},
        "flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}},
    }
    return list(httpx.post(f"{prefect_api}/flow_runs/filter", json=body, timeout=10).json())


def test_up_replays_into_the_prefect_ui_serves_curves_and_stops_everything_in_order(
    up: tuple[subprocess.Popen[str], Output, dict],
) -> None:
    proc, output, info = up
    output.wait_for("Prefect UI: http://127.0.0.1:", proc, STARTUP_TIMEOUT_S)
    assert httpx.get(info["prefect"].removesuffix("/api") + "/", timeout=10).status_code == 200
    output.wait_for("API: http://127.0.0.1:", proc, 60)
    health = httpx.get(f"{info['api']}/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["database"] == "ok"
    output.wait_for("first scrape completed", proc, STARTUP_TIMEOUT_S)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while len(runs := _completed_scrapes(info["prefect"])) < 2:
        assert time.monotonic() < deadline, output.text()
        assert proc.poll() is None, output.text()
        time.sleep(1)
    assert {r["parameters"]["replay_dir"] for r in runs} == {str(info["replay"].resolve())}
    assert all(r["parameters"]["all_dates"] is True for r in runs)
    for run in runs:
        artifacts = httpx.post(
            f"{info['prefect']}/artifacts/filter",
            json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}},
            timeout=10,
        ).json()
        assert {"markdown", "table"} <= {a["type"] for a in artifacts}, run["name"]
    curve = httpx.get(f"{info['api']}/v1/cost-curve", params={"tier": "frontier"}, timeout=30)
    assert curve.status_code == 200, curve.text
    assert curve.json()["points"], curve.text

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(90) == 0, output.text()
    output.join()
    lines = output.lines
    stops = [line for line in lines if line.startswith("stopping ")]
    assert stops == [
        "stopping served deployments",
        "stopping Prefect server",
        "stopping API",
        "stopping database",
    ]
    assert lines[-1] == "stopped"
    assert not (info["data_dir"] / "pg" / "postmaster.pid").exists(), "PostgreSQL left running"
    time.sleep(0.5)
    assert _our_processes(str(info["data_dir"])) == [], "a child of costcurve up is still running"
    for url in (info["api"], info["prefect"].removesuffix("/api")):
        with pytest.raises(httpx.TransportError):
            httpx.get(url, timeout=2)
