"""Migration 0012 backfills the observation log so an existing history rebuilds to itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.ingest_kinds import LLM
from db.ingest_rebuild import Batch, rebuild
from db.ingest_result import IngestResult
from db.migrate import upgrade

D = [datetime(2026, 8, 1, tzinfo=UTC) + timedelta(days=i) for i in range(8)]

# (offering, input price, valid_from, valid_to, last_seen_at): a change, a
# withdrawal (no successor) and an announced price seen before it took effect.
_VERSIONS = [
    (1, 1, 0, 2, 1),
    (1, 2, 2, None, 5),
    (2, 5, 0, 3, 2),
    (3, 2, 0, 4, 3),
    (3, 3, 4, None, 1),
]


def _history(conn) -> list[tuple]:
    return conn.execute(
        text(
            "SELECT offering_id, input_usd_per_mtok, valid_from, valid_to, last_seen_at "
            "FROM llm_price_version ORDER BY offering_id, valid_from"
        )
    ).all()


def test_an_existing_history_rebuilds_to_itself_after_the_upgrade(pg: EmbeddedPostgres) -> None:
    pg.ensure_database("upgrade_0012")
    url = pg.url("upgrade_0012")
    engine = make_engine(url)
    try:
        upgrade(url, "0010")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO source (slug, kind, listing_complete, "
                    "verified_against_recording) VALUES ('s', 'llm_price', true, true)"
                )
            )
            for oid in (1, 2, 3):
                conn.execute(
                    text(
                        "INSERT INTO llm_offering (id, source, provider, provider_model_id, "
                        "variant, modality, first_seen_at, last_seen_at) "
                        "VALUES (:id, 's', 'p', :m, 'standard', 'text', :t, :t)"
                    ),
                    {"id": oid, "m": f"m{oid}", "t": D[0]},
                )
            for oid, price, start, end, seen in _VERSIONS:
                conn.execute(
                    text(
                        "INSERT INTO llm_price_version (offering_id, input_usd_per_mtok, free, "
                        "original_currency, valid_from, valid_to, recorded_at, "
                        "closed_recorded_at, last_seen_at, change_kind) VALUES (:o, :p, false, "
                        "'USD', :f, :to, :f, :to, :seen, 'observed')"
                    ),
                    {
                        "o": oid,
                        "p": price,
                        "f": D[start],
                        "to": None if end is None else D[end],
                        "seen": D[seen],
                    },
                )
            before = _history(conn)
        upgrade(url)
        with engine.begin() as conn:
            assert _history(conn) == before
            result = IngestResult()
            rebuild(Batch(conn, LLM, "s", None, datetime.now(UTC)), {1, 2, 3}, result)
            assert (result.superseded, result.new_versions, result.changes) == (0, 0, [])
            assert _history(conn) == before
    finally:
        engine.dispose()
        pg.drop_database("upgrade_0012")
