"""What the trustworthiness rules do to the real data (issue 13's closing figures).

Loads every shared dataset and recorded capture into an embedded PostgreSQL
(tests/load_all.py), then prints: the frontier curve's monthly cheapest
(provider, model, blended USD/M) from 2023-03, the quarantined versions by
reason and source, and the stale current rows by source (as of now).

    .venv/bin/python bench/trustworthy_report.py [SHARED_DIR]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine, text

from api.curve_query import CurveQuery
from api.v1_curves import curve_frame
from db.countable_sql import stale_sql
from db.embedded import EmbeddedPostgres
from db.engine import make_engine
from db.migrate import upgrade
from tests.load_all import load_everything

_FLAGS_SQL = """
    SELECT f.reason, o.source, count(DISTINCT v.offering_id) AS offerings, count(*) AS versions
    FROM price_flag f JOIN {version} v ON v.id = f.{column}
    JOIN {offering} o ON o.id = v.offering_id
    WHERE f.status = 'quarantined' GROUP BY 1, 2 ORDER BY 1, 2
"""


def _frontier(engine: Engine) -> None:
    query = CurveQuery(tier="frontier", start=date(2023, 3, 1)).resolved()
    curve = curve_frame(engine, query)
    print("month    provider            model                          blended_usd_per_mtok")
    for row in curve.iter_rows(named=True):
        print(
            f"{row['bucket_start']:%Y-%m}  {row['cheapest_provider']:<18}  "
            f"{row['cheapest_model']:<30} {row['min']:g}"
        )


def _flags(engine: Engine) -> None:
    print("\nquarantined (reason, source, offerings, versions)")
    with engine.connect() as conn:
        for version, offering, column in (
            ("llm_price_version", "llm_offering", "llm_price_version_id"),
            ("gpu_rate_version", "gpu_offering", "gpu_rate_version_id"),
        ):
            sql = _FLAGS_SQL.format(version=version, offering=offering, column=column)
            for row in conn.execute(text(sql)):
                print(f"  {row.reason:<20} {row.source:<16} {row.offerings:>4} {row.versions:>4}")


def _stale(engine: Engine) -> None:
    print("\nstale current rows by source (open versions past the horizon, as of now)")
    now = datetime.now(UTC)
    with engine.connect() as conn:
        for version, offering in (
            ("llm_price_version", "llm_offering"),
            ("gpu_rate_version", "gpu_offering"),
        ):
            sql = f"""
                SELECT o.source, count(*) FILTER (WHERE {stale_sql(":now")}) AS stale,
                       count(*) AS open
                FROM {version} v JOIN {offering} o ON o.id = v.offering_id
                WHERE v.valid_to IS NULL GROUP BY 1 ORDER BY 1
            """
            for row in conn.execute(text(sql), {"now": now}):
                print(f"  {row.source:<16} {row.stale:>5} of {row.open:>5}")


def main() -> None:
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[2] / "shared")
    base = Path(tempfile.mkdtemp(prefix="costcurve-trust-"))
    server = EmbeddedPostgres(base, cleanup_mode="delete")
    try:
        server.ensure_database("report")
        upgrade(server.url("report"))
        engine = make_engine(server.url("report"))
        report = load_everything(engine, shared)
        print(
            f"{report.runs} runs; not prices: {len(report.failed)}; dated from MANIFEST: "
            f"{sorted(report.undated)}\n"
        )
        _frontier(engine)
        _flags(engine)
        _stale(engine)
        engine.dispose()
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
