"""Stored GPU index prints (table ``gpu_index_print``): write, read back.

Computing prints is ``costcurve.analytics.gpu_index``; publishing and
verifying them (which needs both the versions and the method) is
``costcurve.indexes.gpu``. Prints are never updated: a changed recomputation
is a new ``revision``; readers take the latest revision of each period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text

from db.models import GpuIndexPrint, GpuRateVersion

_prints = GpuIndexPrint.__table__  # type: ignore[attr-defined]
_versions = GpuRateVersion.__table__  # type: ignore[attr-defined]
PrintKey = tuple[str, str, str, str, datetime]
KEY_COLUMNS = ("gpu", "tenor", "segment", "interval", "period_start")


def print_key(row: dict[str, Any]) -> PrintKey:
    return (row["gpu"], row["tenor"], row["segment"], row["interval"], row["period_start"])


def earliest_version(engine: Engine) -> datetime | None:
    with engine.connect() as conn:
        value: datetime | None = conn.execute(select(func.min(_versions.c.valid_from))).scalar()
    return value


def latest_revisions(
    conn: Connection, interval: str, start: datetime, end: datetime
) -> dict[PrintKey, Any]:
    rows = conn.execute(
        text(
            """
            SELECT DISTINCT ON (gpu, tenor, segment, interval, period_start) *
            FROM gpu_index_print
            WHERE interval = :interval AND period_start >= :start AND period_start < :end
            ORDER BY gpu, tenor, segment, interval, period_start, computed_at DESC, revision DESC
            """
        ),
        {"interval": interval, "start": start, "end": end},
    ).mappings()
    return {print_key(dict(r)): dict(r) for r in rows}


def store_prints(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(_prints), list(rows))


def stored_prints(
    conn: Connection, *, start: datetime | None = None, end: datetime | None = None
) -> list[dict[str, Any]]:
    """Every stored revision with period_start in [start, end), in id order."""
    where = ["TRUE"]
    params: dict[str, Any] = {}
    if start is not None:
        where.append("period_start >= :start")
        params["start"] = start
    if end is not None:
        where.append("period_start < :end")
        params["end"] = end
    sql = f"SELECT * FROM gpu_index_print WHERE {' AND '.join(where)} ORDER BY id"
    return [dict(r) for r in conn.execute(text(sql), params).mappings()]


_SERIES_SQL = """
    SELECT DISTINCT ON (period_start) *
    FROM gpu_index_print
    WHERE gpu = :gpu AND tenor = :tenor AND segment = :segment AND interval = :interval
      AND period_start >= :start AND period_start < :end
    ORDER BY period_start, computed_at DESC, revision DESC
"""


def series(
    conn: Connection,
    *,
    gpu: str,
    tenor: str,
    segment: str,
    interval: str,
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """The latest revision of each print of one series, oldest first."""
    params = {
        "gpu": gpu,
        "tenor": tenor,
        "segment": segment,
        "interval": interval,
        "start": start,
        "end": end,
    }
    return [dict(r) for r in conn.execute(text(_SERIES_SQL), params).mappings()]


def latest_prints(
    conn: Connection, *, gpu: str | None, tenor: str | None, segment: str, interval: str = "day"
) -> list[dict[str, Any]]:
    """Per (GPU, tenor): the latest published (not withheld) print, and the newest print."""
    sql = """
        WITH cur AS (
            SELECT DISTINCT ON (gpu, tenor, period_start) *
            FROM gpu_index_print
            WHERE segment = :segment AND interval = :interval
              AND (CAST(:gpu AS text) IS NULL OR gpu = :gpu)
              AND (CAST(:tenor AS text) IS NULL OR tenor = :tenor)
            ORDER BY gpu, tenor, period_start, computed_at DESC, revision DESC
        )
        SELECT DISTINCT ON (gpu, tenor) * FROM cur
        WHERE usd_per_gpu_hour IS NOT NULL
        ORDER BY gpu, tenor, period_start DESC
    """
    params = {"segment": segment, "interval": interval, "gpu": gpu, "tenor": tenor}
    return [dict(r) for r in conn.execute(text(sql), params).mappings()]


_RATE_SQL = """
    SELECT DISTINCT ON (period_start) *
    FROM gpu_index_print
    WHERE gpu = :gpu AND tenor = :tenor AND segment = 'all' AND interval = 'day'
      AND period_start + interval '1 day' <= :at
    ORDER BY period_start DESC, computed_at DESC, revision DESC
    LIMIT 8
"""


def index_rate(
    conn: Connection, gpu: str, at: datetime, tenor: str = "on_demand"
) -> dict[str, Any] | None:
    """The latest published daily print of ``gpu`` closed by ``at``, as a GPU-hour rate.

    The ``index`` basis of the self-hosted and break-even routes
    (``db.selfhost_sweeps.RATE_LOOKUPS``): the all-provider print of ``tenor``;
    a withheld day is skipped (the last published print still stands).
    """
    rows = conn.execute(text(_RATE_SQL), {"gpu": gpu, "tenor": tenor, "at": at}).mappings()
    for row in rows:
        if row["usd_per_gpu_hour"] is not None:
            return {
                "usd_per_gpu_hour": row["usd_per_gpu_hour"],
                "source": "costcurve-gpu-index",
                "tenor": tenor,
                "date": row["period_start"].date().isoformat(),
                "contributor_count": row["contributor_count"],
                "p10_usd_per_gpu_hour": row["p10_usd_per_gpu_hour"],
                "p90_usd_per_gpu_hour": row["p90_usd_per_gpu_hour"],
                "method_version": row["method_version"],
            }
    return None
