"""Version tables as polars frames, the inputs of the analytics package.

Read with ``COPY ... TO STDOUT`` into polars: loading a million versions
through Python row objects takes seconds, the CSV path a fraction of that.
Prices stay Decimal here; analytics converts them at its own boundary.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, text

from costcurve.catalog import load_models
from db.countable_sql import GPU_NOT_EXCLUDED_SQL, LLM_NOT_EXCLUDED_SQL, horizon_seconds_sql

MONEY = pl.Decimal(38, 12)
_TIMES = ("valid_from", "valid_to", "recorded_at", "last_seen_at", "fresh_until", "covered_from")

# Every text price of a resolved model, whatever its variant and context tier:
# which of them count is decided by analytics.countable (one rule, one place).
# Per version: its own model, whether the screen excludes it, when it stops
# being fresh (last seen + its source's horizon; null while a later version of
# the offering continues it) and, for a curated reference row, when a live
# source first listed the same provider and model.
_FRESH = """
    CASE WHEN EXISTS (SELECT 1 FROM {v} n WHERE n.offering_id = v.offering_id
                      AND n.valid_from = v.valid_to)
         THEN NULL
         ELSE v.last_seen_at + make_interval(secs => {{horizon}})
    END
"""
_LLM_SQL = f"""
    SELECT v.offering_id, o.source, o.provider, o.provider_model_id,
           COALESCE(v.model_slug, o.model_slug) AS model,
           v.input_usd_per_mtok, v.output_usd_per_mtok, v.valid_from, v.valid_to,
           CASE WHEN v.free THEN 1 ELSE 0 END AS free, v.change_kind, v.recorded_at,
           o.variant, o.context_tier, v.last_seen_at,
           CASE WHEN {LLM_NOT_EXCLUDED_SQL} THEN 0 ELSE 1 END
             AS quarantined,
           {_FRESH.format(v="llm_price_version")} AS fresh_until,
           CASE WHEN o.source = 'reference' THEN (
               SELECT min(lv.valid_from) FROM llm_price_version lv
               JOIN llm_offering lo ON lo.id = lv.offering_id
               WHERE lo.source <> 'reference' AND lo.provider = o.provider
                 AND lv.model_slug = COALESCE(v.model_slug, o.model_slug))
           END AS covered_from
    FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
    WHERE COALESCE(v.model_slug, o.model_slug) IS NOT NULL AND o.modality = 'text'
"""
_LLM_SCHEMA = {
    "offering_id": pl.Int64,
    "source": pl.String,
    "provider": pl.String,
    "provider_model_id": pl.String,
    "model": pl.String,
    "input_usd_per_mtok": MONEY,
    "output_usd_per_mtok": MONEY,
    "valid_from": pl.String,
    "valid_to": pl.String,
    "free": pl.Int8,
    "change_kind": pl.String,
    "recorded_at": pl.String,
    "variant": pl.String,
    "context_tier": pl.String,
    "last_seen_at": pl.String,
    "quarantined": pl.Int8,
    "fresh_until": pl.String,
    "covered_from": pl.String,
}

_GPU_SQL = f"""
    SELECT v.offering_id, o.source, o.provider, o.gpu, o.gpu_count, o.pricing, o.region,
           o.statistic, v.usd_per_gpu_hour, v.valid_from, v.valid_to, v.change_kind,
           v.last_seen_at,
           CASE WHEN {GPU_NOT_EXCLUDED_SQL} THEN 0 ELSE 1 END
             AS quarantined,
           {_FRESH.format(v="gpu_rate_version")} AS fresh_until,
           CASE WHEN o.source = 'reference' THEN (
               SELECT min(gv.valid_from) FROM gpu_rate_version gv
               JOIN gpu_offering go ON go.id = gv.offering_id
               WHERE go.source <> 'reference' AND go.provider = o.provider AND go.gpu = o.gpu
                 AND go.gpu_count = o.gpu_count AND go.pricing = o.pricing)
           END AS covered_from
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
    "last_seen_at": pl.String,
    "quarantined": pl.Int8,
    "fresh_until": pl.String,
    "covered_from": pl.String,
}


def _with_horizons(sql: str) -> str:
    """``sql`` with the per-source horizons written in (COPY takes no bind parameters)."""
    return sql.replace("{horizon}", horizon_seconds_sql())


def _copy_frame(conn: Connection, sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    buffer = io.BytesIO()
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(
        f"COPY ({_with_horizons(sql)}) TO STDOUT WITH (FORMAT csv, HEADER false)"
    ) as copy:
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
    flags = [c for c in ("free", "quarantined") if c in schema]
    return frame.with_columns(pl.col(c).cast(pl.Boolean) for c in flags)


def read_frame(conn: Connection, sql: str, params: dict[str, Any]) -> pl.DataFrame:
    """A small query's rows as a frame (column names from the query)."""
    result = conn.execute(text(sql), params)
    columns = list(result.keys())
    rows = [tuple(r) for r in result]
    if not rows:
        return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    return pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)


def tier_of() -> dict[str, str]:
    return {slug: m.tier for slug, m in load_models().items()}


def llm_versions(conn: Connection) -> pl.DataFrame:
    """Text prices of resolved models (every variant/tier), with the catalog tier.

    Which rows count is ``costcurve.analytics.countable.countable_prices``.
    """
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
    return _copy_frame(conn, sql, _INDEX_SCHEMA)  # type: ignore[arg-type]
