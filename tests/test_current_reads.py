"""Current reads use the index on open versions; history pages by offering.

The plan tests build a table with many closed versions per offering (the shape
of a long history) and assert the plan of the query `read_at` really sends;
the equality tests compare against the plain "in effect" predicate on the
recorded snapshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, and_, event, or_

from db import queries
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from tests.conftest import TEMPLATE, LiveServer
from tests.support import (
    API_CAPTURES,
    ingest_captures,
    require_shared,
)

OFFERINGS = 400
VERSIONS_PER_OFFERING = 60
START = datetime(2024, 1, 1, tzinfo=UTC)


def _fill(engine: Engine) -> None:
    """OFFERINGS LLM and GPU offerings, each with VERSIONS_PER_OFFERING weekly versions;
    every tenth offering's last closed version ends in the future (an announced change)."""
    now = datetime.now(UTC)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(
            "INSERT INTO source (slug, kind, listing_complete, verified_against_recording) "
            "VALUES ('plan', 'llm_price', false, false)"
        )
        with cur.copy(
            "COPY llm_offering (id, source, provider, provider_model_id, variant, modality, "
            "first_seen_at, last_seen_at) FROM STDIN"
        ) as copy:
            for i in range(OFFERINGS):
                copy.write_row(
                    (i + 1, "plan", f"p{i % 7}", f"m/{i}", "standard", "text", START, now)
                )
        with cur.copy(
            "COPY gpu_offering (id, source, provider, gpu, gpu_count, pricing, "
            "first_seen_at, last_seen_at) FROM STDIN"
        ) as copy:
            for i in range(OFFERINGS):
                copy.write_row((i + 1, "plan", f"p{i % 7}", f"G{i}", 1, "on_demand", START, now))
        llm, gpu = [], []
        for i in range(OFFERINGS):
            for k in range(VERSIONS_PER_OFFERING):
                start = START + timedelta(weeks=k)
                end: datetime | None = START + timedelta(weeks=k + 1)
                if k == VERSIONS_PER_OFFERING - 1:
                    # The open version; every tenth one starts next month, its
                    # predecessor (closed) is in effect now.
                    start = now + timedelta(days=30) if i % 10 == 0 else start
                    end = None
                elif k == VERSIONS_PER_OFFERING - 2 and i % 10 == 0:
                    end = now + timedelta(days=30)
                price = Decimal(1000 + i * 7 + k) / 100
                llm.append(
                    (i + 1, price, price * 4, False, "USD", start, end, start, now, "observed")
                )
                gpu.append((i + 1, price, start, end, start, now, "observed"))
        with cur.copy(
            "COPY llm_price_version_record (offering_id, input_usd_per_mtok, output_usd_per_mtok, "
            "free, original_currency, valid_from, valid_to, recorded_at, last_seen_at, "
            "change_kind) FROM STDIN"
        ) as copy:
            for row in llm:
                copy.write_row(row)
        with cur.copy(
            "COPY gpu_rate_version_record (offering_id, usd_per_gpu_hour, valid_from, valid_to, "
            "recorded_at, last_seen_at, change_kind) FROM STDIN"
        ) as copy:
            for rate in gpu:
                copy.write_row(rate)
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _statements(engine: Engine, read: Any) -> list[tuple[str, Any]]:
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        captured.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return captured


def _scans(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "Scan" in node["Node Type"]:
        yield node
    for child in node.get("Plans", []):
        yield from _scans(child)


def _plan_scans(engine: Engine, statement: str, params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params).scalar_one()
    return list(_scans(plan[0]["Plan"]))


def _reference(
    conn: Any, table: queries.VersionedTable, at: datetime, listing: queries.Listing
) -> list[Any]:
    """Version ids in effect at ``at`` by the plain predicate, in read_at's order."""
    v = table.version
    predicate = and_(v.c.valid_from <= at, or_(v.c.valid_to.is_(None), v.c.valid_to > at))
    where = [*queries._conditions(table, listing), predicate]
    if listing.fresh_only:
        where.append(~table.stale(at))
    query = table._select(at).where(*where).order_by(*queries._order(table, listing, by_time=False))
    return [r.version_id for r in conn.execute(query)]


@pytest.mark.parametrize(
    ("table", "open_index"),
    [(queries.LLM, "uq_llm_version_open"), (queries.GPU, "uq_gpu_version_open")],
    ids=["llm", "gpu"],
)
def test_the_current_read_uses_the_open_version_index_not_the_whole_history(
    engine: Engine, table: queries.VersionedTable, open_index: str
) -> None:
    _fill(engine)
    listing = queries.Listing(lead_order=("usd_per_gpu_hour",) if table is queries.GPU else ())
    now = datetime.now(UTC)

    def read() -> None:
        with engine.connect() as conn:
            queries.read_at(conn, table, listing, now, page=queries.Page(50))

    statements = _statements(engine, read)
    assert len(statements) == 2  # the count and the page
    # The rows live in the record table; the version "table" is its current-belief view.
    version_table = f"{table.version.name}_record"
    with engine.connect() as conn:
        on_version_table = set(
            conn.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE tablename = %(t)s", {"t": version_table}
            ).scalars()
        )
    end_index = f"ix_{version_table.split('_')[0]}_version_end"
    for statement, params in statements:
        scans = _plan_scans(engine, statement, params)
        heap = [s for s in scans if s.get("Relation Name") == version_table]
        assert heap, statement
        assert all(s["Node Type"] != "Seq Scan" for s in heap), heap
        used = {s["Index Name"] for s in scans if s.get("Index Name") in on_version_table}
        assert open_index in used, used
        # Nothing that walks the whole history (the validity or start index).
        assert used <= {open_index, end_index}, used
    # And it is the plain predicate's answer: open versions plus those closing later.
    with engine.connect() as conn:
        total, rows = queries.read_at(conn, table, listing, now)
        expected = _reference(conn, table, now, listing)
    assert total == OFFERINGS
    assert [r["version_id"] for r in rows] == expected
    announced = [r for r in rows if r["valid_to"] is not None]
    assert len(announced) == OFFERINGS // 10, "versions closing after now are in effect now"


INGESTS = API_CAPTURES


@pytest.fixture(scope="module")
def recorded(pg: EmbeddedPostgres) -> Iterator[Engine]:
    require_shared()
    pg.ensure_database("current_reads", template=TEMPLATE)
    engine = make_engine(pg.url("current_reads"))
    ingest_captures(engine, INGESTS)
    yield engine
    engine.dispose()
    pg.drop_database("current_reads")


@pytest.mark.parametrize("table", [queries.LLM, queries.GPU], ids=["llm", "gpu"])
@pytest.mark.parametrize(
    "at",
    [
        datetime(2025, 11, 1, tzinfo=UTC),
        datetime(2026, 7, 20, tzinfo=UTC),
        datetime(2026, 8, 4, tzinfo=UTC),
        datetime.now(UTC),
    ],
    ids=["2025-11-01", "2026-07-20", "2026-08-04", "now"],
)
@pytest.mark.parametrize("fresh_only", [False, True], ids=["all", "fresh"])
def test_current_read_equals_the_plain_in_effect_predicate_on_recorded_data(
    recorded: Engine, table: queries.VersionedTable, at: datetime, fresh_only: bool
) -> None:
    listing = queries.Listing(fresh_only=fresh_only)
    with recorded.connect() as conn:
        total, rows = queries.read_at(conn, table, listing, at)
        expected = _reference(conn, table, at, listing)
        _, page = queries.read_at(conn, table, listing, at, page=queries.Page(7, 3))
    assert total == len(expected)
    assert [r["version_id"] for r in rows] == expected
    assert [r["version_id"] for r in page] == expected[3:10]
    if not fresh_only and at == datetime(2026, 8, 4, tzinfo=UTC):
        assert expected, "the recordings have prices in effect then"


def test_history_pages_by_offering_and_the_pages_add_up_to_the_whole_history(
    recorded: Engine,
) -> None:
    listing = queries.Listing(equal={"provider": "anthropic"})
    with recorded.connect() as conn:
        whole = queries.history(conn, queries.LLM, listing)
        total, first = queries.history_page(conn, queries.LLM, listing, queries.Page(3))
        pages = [first]
        for offset in range(3, total, 3):
            pages.append(
                queries.history_page(conn, queries.LLM, listing, queries.Page(3, offset))[1]
            )
    keys = ("source", "provider", "provider_model_id", "variant", "context_tier", "modality")

    def offering(row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[k] for k in keys)

    assert total == len({offering(r) for r in whole}) > 3
    assert all(len({offering(r) for r in page}) <= 3 for page in pages)
    # Each offering's versions are all on one page, and the pages add up, in order.
    assert [r["version_id"] for page in pages for r in page] == [r["version_id"] for r in whole]


def test_price_history_by_model_is_paged_by_offering_over_http(recorded: Engine) -> None:
    from api.main import create_app

    with recorded.connect() as conn:
        by_model = queries.history(
            conn, queries.LLM, queries.Listing(equal={"model_slug": "claude-opus-4.1"})
        )
    assert by_model
    offerings = {
        (r["source"], r["provider"], r["provider_model_id"], r["variant"], r["context_tier"])
        for r in by_model
    }
    with LiveServer(create_app(recorded)) as server, httpx.Client(base_url=server.url) as client:
        body = client.get(
            "/v1/prices/history", params={"model": "claude-opus-4.1", "limit": 1}
        ).json()
        assert body["total"] == len(offerings)
        assert body["limit"] == 1
        assert (
            len(
                {
                    (
                        i["source"],
                        i["provider"],
                        i["provider_model_id"],
                        i["variant"],
                        i["context_tier"],
                    )
                    for i in body["items"]
                }
            )
            == 1
        )
        everything = client.get(
            "/v1/prices/history", params={"model": "claude-opus-4.1", "limit": 1000}
        ).json()
    assert [i["version_id"] for i in everything["items"]] == [r["version_id"] for r in by_model]
    assert everything["next_offset"] is None
