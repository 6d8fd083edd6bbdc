"""Version tables as polars frames, the inputs of the analytics package.

Read with ``COPY ... TO STDOUT`` into polars: loading a million versions
through Python row objects takes seconds, the CSV path a fraction of that.
Prices stay Decimal here; analytics converts them at its own boundary.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Connection

from costcurve.catalog import load_models
from db.price_selection import LISTED_PRICE_WHERE

MONEY = pl.Decimal(38, 12)
_TIMES = ("valid_from", "valid_to", "recorded_at", "last_seen_at")

_LLM_SQL = f"""
    SELECT v.offering_id, o.source, o.provider, o.provider_model_id, o.model_slug AS model,
           o.variant, v.input_usd_per_mtok, v.output_usd_per_mtok, v.valid_from, v.valid_to,
           CASE WHEN v.free THEN 1 ELSE 0 END AS free, v.change_kind, v.recorded_at
    FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
    WHERE {LISTED_PRICE_WHERE}
"""
_LLM_SCHEMA = {
    "offering_id": pl.Int64,
    "source": pl.String,
    "provider": pl.String,
    "provider_model_id": pl.String,
    "model": pl.String,
    "variant": pl.String,
    "input_usd_per_mtok": MONEY,
    "output_usd_per_mtok": MONEY,
    "valid_from": pl.String,
    "valid_to": pl.String,
    "free": pl.Int8,
    "change_kind": pl.String,
    "recorded_at": pl.String,
}

_GPU_SQL = """
    SELECT v.offering_id, o.source, o.provider, o.gpu, o.gpu_count, o.pricing, o.region,
           o.statistic, v.usd_per_gpu_hour, v.valid_from, v.valid_to, v.change_kind
    FROM gpu_rate_version v JOIN gpu_offering o ON o.id = v.offering_id
    WHERE (o.os IS NULL OR o.os = 'linux') AND (o.statistic IS NULL OR o.statistic = 'min')
"""
_GPU_SCHEMA = {
    "offering_id": pl.Int64,
    "source": pl.String,
    "provider": pl.String,
    "gpu": pl.String,
    "gpu_count": pl.Int64,
    "pricing": pl.String,
    "region": pl.String,
    "statistic": pl.String,
    "usd_per_gpu_hour": MONEY,
    "valid_from": pl.String,
    "valid_to": pl.String,
    "change_kind": pl.String,
}


def _copy_frame(conn: Connection, sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    buffer = io.BytesIO()
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER false)") as copy:
        for chunk in copy:
            buffer.write(chunk)
    if buffer.tell() == 0:
        frame = pl.DataFrame(schema={c: pl.String if c in _TIMES else t for c, t in schema.items()})
    else:
        buffer.seek(0)
        frame = pl.read_csv(
            buffer, has_header=False, new_columns=list(schema), schema_overrides=schema
        )
    times = [c for c in _TIMES if c in schema]
    frame = frame.with_columns(
        pl.col(c).str.to_datetime("%Y-%m-%d %H:%M:%S%.f%#z", time_zone="UTC") for c in times
    )
    if "free" in schema:
        frame = frame.with_columns(pl.col("free").cast(pl.Boolean))
    return frame


def tier_of() -> dict[str, str]:
    return {slug: m.tier for slug, m in load_models().items()}


def llm_versions(conn: Connection) -> pl.DataFrame:
    """Text prices of resolved models (every variant: curves keep ``standard`` unless
    asked), with the catalog tier (analytics.curves)."""
    frame = _copy_frame(conn, _LLM_SQL, _LLM_SCHEMA)  # type: ignore[arg-type]
    tiers = pl.DataFrame(
        list(tier_of().items()), schema={"model": pl.String, "tier": pl.String}, orient="row"
    )
    return frame.join(tiers, on="model", how="inner").with_columns(self_hosted=pl.lit(False))


def gpu_versions(conn: Connection) -> pl.DataFrame:
    """Linux GPU rental rates (marketplace aggregates: the minimum only)."""
    return _copy_frame(conn, _GPU_SQL, _GPU_SCHEMA)  # type: ignore[arg-type]


# Index inputs as believed at :believed (see costcurve/analytics/gpu_index.py): versions
# learned by then, their end only where that was learned by then too, last_seen_at
# capped there; comparison series (source kind 'comparison') and the non-central
# aggregates (min, max, percentiles) never enter the index.
_INDEX_SQL = """
    SELECT v.id, o.source, o.provider, o.gpu, o.gpu_count, o.pricing, o.region, o.statistic,
           COALESCE(v.offer_count, 1), v.usd_per_gpu_hour, v.valid_from,
           CASE WHEN v.closed_recorded_at <= {believed} THEN v.valid_to END,
           LEAST(v.last_seen_at, {believed})
    FROM gpu_rate_version v JOIN gpu_offering o ON o.id = v.offering_id
    JOIN source s ON s.slug = o.source
    WHERE s.kind <> 'comparison' AND (o.os IS NULL OR o.os = 'linux')
      AND (o.statistic IS NULL OR o.statistic IN ('median', 'avg'))
      AND v.recorded_at <= {believed} AND v.valid_from < {upper}
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
    return _copy_frame(conn, sql, _INDEX_SCHEMA)  # type: ignore[arg-type]
