"""The analytics cache over real HTTP and real PostgreSQL: reads are answered from
the previous data version while a refresh cannot finish, every answer names its
data version (header and ETag), and the new version replaces it once ready."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import Engine

from api.data_version import HEADER
from db.pipeline import ingest_raw
from tests.conftest import LiveServer
from tests.support import FIXTURES, observed_at_for, require_shared

GEMINI = [
    FIXTURES / "google" / f"gemini_pricing_jina_md_{d}.md" for d in ("2026-05-07", "2026-06-05")
]
DEEPSEEK = FIXTURES / "deepseek" / "api-docs_quick_start_pricing_2026-05-08.html"
CURVE = ("/v1/cost-curve", {"tier": "frontier", "from": "2026-01-01", "to": "2026-07-01"})


def _ingest(engine: Engine, source: str, path: Path) -> None:
    require_shared(path)
    ingest_raw(engine, source, path.read_bytes(), observed_at=observed_at_for(path))


@pytest.fixture
def api(engine: Engine) -> Iterator[httpx.Client]:
    from api.main import create_app

    _ingest(engine, "google", GEMINI[0])
    with (
        LiveServer(create_app(engine)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        yield client


def _version(response: httpx.Response) -> str:
    assert response.status_code in (200, 304), response.text[:300]
    return response.headers[HEADER]


def _wait_for_new_version(api: httpx.Client, old: str) -> httpx.Response:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = api.get(CURVE[0], params=CURVE[1])
        if _version(response) != old:
            return response
        time.sleep(0.05)
    raise AssertionError(f"still answering data version {old}")


def test_answers_name_their_data_version_in_a_header_and_the_etag(api: httpx.Client) -> None:
    first = api.get(CURVE[0], params=CURVE[1])
    version = _version(first)
    assert first.headers["etag"].startswith(f'"{version}-')
    deflation = api.get("/v1/deflation", params={"tier": "frontier"})
    assert deflation.headers[HEADER] == version
    page = api.get("/ui/curves")
    assert page.status_code == 200
    assert page.headers[HEADER] == version
    # Routes that do not read the analytics cache do not claim a data version.
    assert HEADER not in api.get("/livez").headers


def test_reads_are_answered_from_the_previous_version_while_a_refresh_cannot_finish(
    api: httpx.Client, engine: Engine
) -> None:
    before = api.get(CURVE[0], params=CURVE[1])
    old = _version(before)
    _ingest(engine, "deepseek", DEEPSEEK)
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as blocker:
        # The refresher's reads of the version table now wait for this lock.
        blocker.execute("LOCK TABLE llm_price_version IN ACCESS EXCLUSIVE MODE")
        for _ in range(10):
            during = api.get(CURVE[0], params=CURVE[1], timeout=10)
            assert during.status_code == 200
            assert _version(during) == old
            assert during.content == before.content
            time.sleep(0.05)
        blocker.rollback()
    after = _wait_for_new_version(api, old)
    assert after.headers["etag"] != before.headers["etag"]
    stale = api.get(CURVE[0], params=CURVE[1], headers={"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200
    fresh = api.get(CURVE[0], params=CURVE[1], headers={"If-None-Match": after.headers["etag"]})
    assert fresh.status_code == 304
    assert fresh.headers[HEADER] == _version(after)


def test_a_new_snapshot_of_a_source_reaches_the_curve(api: httpx.Client, engine: Engine) -> None:
    before = api.get(CURVE[0], params=CURVE[1])
    _ingest(engine, "google", GEMINI[1])
    after = _wait_for_new_version(api, _version(before))
    assert after.status_code == 200
    assert after.json()["points"]
