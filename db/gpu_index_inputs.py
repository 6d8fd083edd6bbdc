"""The GPU rate versions a GPU index print is computed from, as a polars frame
(``costcurve.analytics.gpu_index`` computes; ``costcurve.indexes.gpu`` publishes)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Connection

from db.frames import MONEY, copy_frame

# Index inputs as believed at :believed (see costcurve/analytics/gpu_index.py): versions
# learned by then, their end only where that was learned by then too, last_seen_at
# capped there; comparison series (source kind 'comparison') and the non-central
# aggregates (min, max, percentiles) never enter the index.
_INDEX_SQL = """
    SELECT v.id, o.source, o.provider, o.gpu, o.gpu_count, o.pricing, o.region, o.statistic,
           COALESCE(v.offer_count, 1), v.usd_per_gpu_hour, v.valid_from,
           CASE WHEN v.closed_recorded_at <= {believed} THEN v.valid_to END,
           LEAST(v.last_seen_at, {believed})
    FROM gpu_rate_version_record v JOIN gpu_offering o ON o.id = v.offering_id
    JOIN source s ON s.slug = o.source
    WHERE s.kind <> 'comparison' AND (o.os IS NULL OR o.os = 'linux')
      AND (o.statistic IS NULL OR o.statistic IN ('median', 'avg'))
      AND v.recorded_at <= {believed} AND v.valid_from < {upper}
      AND (v.superseded_at IS NULL OR v.superseded_at > {believed})
      AND (v.valid_to IS NULL OR v.closed_recorded_at > {believed} OR v.valid_to > {lower})
      AND v.last_seen_at > {lower}::timestamptz - interval '{horizon_s} seconds'
"""
_INDEX_SCHEMA = {
    "version_id": pl.Int64,
    "source": pl.String,
    "provider": pl.String,
    "gpu": pl.String,
    "gpu_count": pl.Int64,
    "pricing": pl.String,
    "region": pl.String,
    "statistic": pl.String,
    "offer_count": pl.Int64,
    "usd_per_gpu_hour": MONEY,
    "valid_from": pl.String,
    "valid_to": pl.String,
    "last_seen_at": pl.String,
}


def gpu_index_inputs(
    conn: Connection, *, believed_at: datetime, lower: datetime, upper: datetime, horizon_s: int
) -> pl.DataFrame:
    """GPU rate versions that can contribute to an index print in [lower, upper)."""

    def lit(t: datetime) -> str:
        return f"'{t.astimezone(UTC).isoformat()}'::timestamptz"

    sql = _INDEX_SQL.format(
        believed=lit(believed_at), lower=lit(lower), upper=lit(upper), horizon_s=int(horizon_s)
    )
    return copy_frame(conn, sql, _INDEX_SCHEMA)
