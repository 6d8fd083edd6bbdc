"""The CLI as a user runs it: a real subprocess against a real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import LiveServer
from tests.support import fixture_files, require_shared

COSTCURVE = [sys.executable, "-m", "costcurve"]


def cli(*args: str, db_url: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COSTCURVE_")}
    environ.pop("DATABASE_URL", None)
    if db_url:
        environ["DATABASE_URL"] = db_url.replace("postgresql+psycopg://", "postgresql://")
    environ.update(env)
    return subprocess.run(
        [*COSTCURVE, *args], capture_output=True, text=True, env=environ, timeout=120
    )


def test_ingest_json_summary_is_the_last_line_and_reingest_is_a_no_op(db_url: str) -> None:
    require_shared()
    path = [p for p in fixture_files("openrouter") if p][-1]
    first = cli("ingest", "openrouter", str(path), "--json", db_url=db_url)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["new_versions"] > 300
    assert summary["closed_versions"] == 0
    second = cli("ingest", "openrouter", str(path), "--json", db_url=db_url)
    assert json.loads(second.stdout.strip().splitlines()[-1]) == {
        "new_versions": 0,
        "closed_versions": 0,
        "unchanged": summary["new_versions"],
    }


def test_ingest_of_a_broken_page_exits_non_zero_and_says_why(db_url: str, tmp_path: Path) -> None:
    broken = tmp_path / "models_2026-08-09.json"
    broken.write_text('{"unexpected": true}')
    result = cli("ingest", "openrouter", str(broken), db_url=db_url)
    assert result.returncode == 1
    assert "nothing changed" in result.stderr
    assert "openrouter" in result.stderr


def test_parse_prints_one_json_observation_per_line() -> None:
    require_shared()
    path = next(p for p in fixture_files("openrouter") if p)
    result = cli("parse", "openrouter", str(path))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines
    assert all(line["kind"] == "llm_price" for line in lines)
    assert all(isinstance(line["input_usd_per_mtok"], int | float) for line in lines)


def test_unknown_source_is_rejected_with_the_known_ones_listed(tmp_path: Path) -> None:
    result = cli("parse", "nosuch", str(tmp_path))
    assert result.returncode == 2
    assert "openrouter" in result.stderr


def test_invalid_setting_fails_fast_with_the_variable_named() -> None:
    result = cli("db", "current", DATABASE_URL="mysql://nope")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "PostgreSQL" in result.stderr


def test_db_upgrade_reports_head(db_url: str) -> None:
    result = cli("db", "upgrade", db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "schema at" in result.stdout


def test_health_over_http_reports_database_and_schema_revision(live_api: LiveServer) -> None:
    from db.migrate import head_revision

    response = httpx.get(f"{live_api.url}/health")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["schema_revision"] == head_revision()


def test_health_reports_unreachable_database_as_503() -> None:
    from api.main import create_app
    from db.engine import make_engine

    engine = make_engine(
        "postgresql://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1}
    )
    with LiveServer(create_app(engine)) as server:
        response = httpx.get(f"{server.url}/health", timeout=10)
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_short_help_and_version_work() -> None:
    from costcurve import __version__

    short = cli("-h")
    assert short.returncode == 0
    assert "Usage:" in short.stdout
    assert "COMMAND" in short.stdout
    version = cli("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"costcurve {__version__}")


def test_an_unreachable_database_is_one_error_line_without_a_traceback() -> None:
    result = cli("db", "current", db_url="postgresql://nobody:x@127.0.0.1:1/none")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot reach the database:")
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback_of_an_unexpected_error() -> None:
    result = cli("--debug", "db", "current", db_url="postgresql://nobody:x@127.0.0.1:1/none")
    assert result.returncode != 0
    assert "Traceback" in result.stderr
