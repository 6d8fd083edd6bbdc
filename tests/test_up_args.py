"""`costcurve up` and `costcurve run-flow` refuse bad input before starting anything."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

COSTCURVE = [sys.executable, "-m", "costcurve"]


def cli(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("COSTCURVE_", "PREFECT_"))}
    environ.pop("DATABASE_URL", None)
    environ |= {"COSTCURVE_DATA_DIR": str(tmp_path / "data"), **env}
    return subprocess.run(
        [*COSTCURVE, *args], capture_output=True, text=True, env=environ, timeout=60
    )


def test_up_refuses_a_missing_replay_directory(tmp_path: Path) -> None:
    result = cli("up", "--replay", str(tmp_path / "nope"), tmp_path=tmp_path)
    assert result.returncode == 2
    assert "--replay" in result.stderr
    assert not (tmp_path / "data").exists(), "nothing may start on bad input"


def test_up_all_dates_needs_replay(tmp_path: Path) -> None:
    result = cli("up", "--all-dates", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "--all-dates" in result.stderr


def test_up_names_the_variable_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli(
            "up",
            tmp_path=tmp_path,
            COSTCURVE_PREFECT_PORT=str(port),
            COSTCURVE_API_PORT=str(free_port()),
        )
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "COSTCURVE_PREFECT_PORT" in result.stderr


def test_run_flow_lists_the_flows_when_the_name_is_unknown(tmp_path: Path) -> None:
    result = cli("run-flow", "scrape-everything", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "scrape-llm-prices" in result.stderr
    assert "gpu-benchmarks" in result.stderr


def test_run_flow_replay_options_only_apply_to_scrapes(tmp_path: Path) -> None:
    result = cli("run-flow", "backfill", "--replay", str(tmp_path), tmp_path=tmp_path)
    assert result.returncode == 2
    assert "scrape-llm-prices" in result.stderr


def test_run_flow_params_are_key_value(tmp_path: Path) -> None:
    result = cli("run-flow", "backfill", "--param", "dataset", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "KEY=VALUE" in result.stderr
