"""A bounded schemathesis run over the published API with loaded data: no 500s, no schema lies.

Schemathesis (``--checks all``, a fixed example count and seed) generates
requests from ``/openapi.json`` against a live server holding recorded
captures, and checks every answer: no server error, status codes, content
types and bodies as documented. The count and seed keep it reproducible and
inside CI's time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from costcurve.alerts.keys import create_key
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.pipeline import ingest_raw
from tests.conftest import TEMPLATE, LiveServer
from tests.support import fixture_files, observed_at_for, require_shared

MAX_EXAMPLES = int(os.environ.get("COSTCURVE_SCHEMATHESIS_EXAMPLES", "25"))
SEED = 20261202
LOADED = [("openrouter", "2026-08-03"), ("runpod", "graphql_gpuTypes_2026-08-05")]


@pytest.fixture(scope="module")
def loaded(pg: EmbeddedPostgres) -> Iterator[Engine]:
    require_shared()
    pg.ensure_database("schemathesis", template=TEMPLATE)
    engine = make_engine(pg.url("schemathesis"))
    for source, stem in LOADED:
        [path] = [p for p in fixture_files(source) if p and stem in p.name]
        ingest_raw(engine, source, path.read_bytes(), observed_at=observed_at_for(path))
    yield engine
    engine.dispose()
    pg.drop_database("schemathesis")


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    loaded: Engine, tmp_path: Path
) -> None:
    from api.main import create_app

    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert binary, "schemathesis is a test dependency (pyproject [test])"
    key = create_key(loaded, "schemathesis").secret
    with LiveServer(create_app(loaded)) as server:
        result = subprocess.run(
            [
                binary,
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"X-API-Key: {key}",
                "--checks",
                "all",
                # Cross-parameter and data-dependent rules (from <= to, at most
                # MAX_BUCKETS buckets, "tier or benchmark", a model that must exist)
                # cannot be stated in OpenAPI, so a schema-valid request can rightly
                # be a 422; every other check, negative data included, stays on.
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                str(SEED),
                "--generation-deterministic",
                "--report",
                "junit",
                "--report-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "NO_COLOR": "1"},
            cwd=tmp_path,  # schemathesis keeps a .schemathesis/ cache in its cwd
        )
    Path(os.environ.get("ST_OUT", tmp_path / "schemathesis.txt")).write_text(result.stdout)
    summary = "\n".join(result.stdout.splitlines()[-40:])
    assert result.returncode == 0, summary
    assert "passed" in summary.lower(), summary
