"""Versioned-ingest throughput against a plain COPY of the same rows.

Starts a throwaway embedded PostgreSQL, migrates it, then for N synthetic
observations measures (1) the first ingest (every offering new), (2) a second
snapshot with 10% of prices changed, (3) the same snapshot again (idempotent),
and, as the baselines in the same run, COPY of the same rows into an unindexed
table and into a table like the observation log (logged, indexed: the append a
versioned ingest cannot avoid). Prints observations per second and the ratios.

    .venv/bin/python bench/ingest_throughput.py [N]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine

from costcurve.core.observations import LlmPrice
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.ingest import LLM, ingest
from db.ingest_stage import log_columns
from db.migrate import upgrade
from db.pipeline import SourceRow, ensure_source

T0 = datetime(2026, 8, 1, tzinfo=UTC)


def snapshot(n: int, at: datetime, changed_every: int = 0) -> list[LlmPrice]:
    out = []
    for i in range(n):
        bump = Decimal("0.01") if changed_every and i % changed_every == 0 else Decimal(0)
        out.append(
            LlmPrice(
                source="bench",
                provider=f"provider-{i % 40}",
                provider_model_id=f"vendor/model-{i}",
                input_usd_per_mtok=Decimal(i % 97) / 10 + bump,
                output_usd_per_mtok=Decimal(i % 89) / 5,
                cached_input_usd_per_mtok=Decimal(i % 7) / 100,
                observed_at=at,
                source_url="https://example.invalid/bench",
            )
        )
    return out


def timed_ingest(engine: Engine, observations: list[LlmPrice]) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    with engine.begin() as conn:
        result = ingest(conn, "bench", observations, listing_complete=True)
    return time.perf_counter() - start, result.counts()


def _timed_copy_into(
    dsn: str, ddl: str, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> float:
    """Seconds to COPY ``rows`` (values of ``columns``) into ``table``, created by
    ``ddl`` and emptied first, committed."""
    with psycopg.connect(dsn) as conn:
        conn.execute(ddl)
        conn.execute(f"TRUNCATE {table}")
        conn.commit()
        start = time.perf_counter()
        copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with conn.cursor() as cur, cur.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - start


def timed_copy(dsn: str, observations: list[LlmPrice]) -> float:
    rows = [
        (
            o.source,
            o.provider,
            o.provider_model_id,
            o.variant,
            o.context_tier,
            o.modality,
            o.input_usd_per_mtok,
            o.output_usd_per_mtok,
            o.cached_input_usd_per_mtok,
            o.observed_at,
        )
        for o in observations
    ]
    typed = dict.fromkeys(("source", "provider", "provider_model_id", "variant"), "text")
    typed |= dict.fromkeys(("context_tier", "modality"), "text")
    typed |= dict.fromkeys(("input", "output", "cached"), "numeric") | {
        "observed_at": "timestamptz"
    }
    definition = ", ".join(f"{c} {t}" for c, t in typed.items())
    ddl = f"CREATE UNLOGGED TABLE IF NOT EXISTS copy_baseline ({definition})"
    columns = list(typed)
    return _timed_copy_into(dsn, ddl, "copy_baseline", columns, rows)


def timed_log_copy(dsn: str, observations: list[LlmPrice]) -> float:
    """COPY of the same rows into a table like the observation log (logged, its
    indexes): the one write per observation a versioned ingest cannot avoid."""
    columns = log_columns(LLM)
    at = datetime.now(UTC)
    rows = []
    for i, o in enumerate(observations):
        values = LLM.values_of(o).values()
        # The order of log_columns: offering, instant, observed, values, end, kind, run, url, at.
        rows.append(
            (i + 1, o.observed_at, o.observed_at, *values, None, "observed", None, o.source_url, at)
        )
    ddl = f"CREATE TABLE IF NOT EXISTS log_baseline (LIKE {LLM.log.name} INCLUDING ALL)"
    return _timed_copy_into(dsn, ddl, "log_baseline", columns, rows)


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--json"]
    as_json = "--json" in sys.argv[1:]
    n = int(args[0]) if args else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        pg = EmbeddedPostgres(Path(tmp), cleanup_mode="delete")
        pg.ensure_database("bench")
        url = pg.url("bench")
        upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            ensure_source(conn, SourceRow(slug="bench", kind="llm_price", listing_complete=True))
        first = snapshot(n, T0)
        second = snapshot(n, T0 + timedelta(days=1), changed_every=10)
        copy_s = min(timed_copy(pg.admin_dsn("bench"), first) for _ in range(3))
        log_copy_s = min(timed_log_copy(pg.admin_dsn("bench"), first) for _ in range(3))
        new_s, new_counts = timed_ingest(engine, first)
        change_s, change_counts = timed_ingest(engine, second)
        next_day = [o.model_copy(update={"observed_at": T0 + timedelta(days=2)}) for o in second]
        next_s, next_counts = timed_ingest(engine, next_day)
        # The same snapshot again (a replay): not later than the log, so rebuilt from it.
        same_s, same_counts = timed_ingest(engine, second)
        engine.dispose()
        pg.stop()
    if as_json:
        print(
            json.dumps(
                {
                    "observations": n,
                    "copy_s": round(copy_s, 4),
                    "copy_into_log_s": round(log_copy_s, 4),
                    "ratio_to_log_copy": round(log_copy_s / change_s, 4),
                    "ingest_new_s": round(new_s, 4),
                    "ingest_changed_s": round(change_s, 4),
                    "ingest_unchanged_next_day_s": round(next_s, 4),
                    "ingest_replay_s": round(same_s, 4),
                    "ratio": round(copy_s / change_s, 4),
                    "ratio_new": round(copy_s / new_s, 4),
                    "ratio_unchanged": round(copy_s / next_s, 4),
                    "ratio_replay": round(copy_s / same_s, 4),
                }
            )
        )
        return
    print(f"observations per snapshot: {n}")
    print(f"COPY into unindexed table : {n / copy_s:>10,.0f} obs/s  ({copy_s:.3f} s)")
    print(f"COPY into a log-like table: {n / log_copy_s:>10,.0f} obs/s  ({log_copy_s:.3f} s)")
    for label, secs, counts in (
        ("ingest, all new          ", new_s, new_counts),
        ("ingest, 10% changed      ", change_s, change_counts),
        ("ingest, next day, same   ", next_s, next_counts),
        ("ingest, replay (rebuild) ", same_s, same_counts),
    ):
        print(
            f"{label}: {n / secs:>10,.0f} obs/s  ({secs:.3f} s)  "
            f"ratio to COPY {copy_s / secs:.3f}  {counts}"
        )


if __name__ == "__main__":
    main()
