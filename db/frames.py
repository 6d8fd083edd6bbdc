"""Version tables as polars frames, the inputs of the analytics package.

Two readers of the same queries:

* ``arrow_frame`` (the API's cache, tests): ADBC's PostgreSQL driver, which
  moves rows with binary COPY and hands polars Arrow columns: timestamps arrive
  as timestamps, nothing is formatted as text and parsed back except money
  (NUMERIC travels as its exact text and becomes Decimal in Rust);
* ``copy_frame``: ``COPY ... TO STDOUT`` as CSV into polars (the GPU index
  inputs, db/gpu_index_inputs.py; and the baseline ``bench/api_cost_curve.py``
  compares against).

Every frame row is keyed by its version ``id``, so the cache can replace
changed versions in place (db/frame_delta.py). Low-cardinality text is
categorical. Prices stay Decimal here; analytics converts them at its own
boundary.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, text

from costcurve.catalog import load_models
from db.countable_sql import GPU_NOT_EXCLUDED_SQL, LLM_NOT_EXCLUDED_SQL, horizon_seconds_sql

MONEY = pl.Decimal(38, 12)
_TIMES = ("valid_from", "valid_to", "recorded_at", "last_seen_at", "fresh_until", "covered_from")
_FLAGS = ("free", "quarantined")

# Every text price of a resolved model, whatever its variant and context tier:
# which of them count is decided by analytics.countable (one rule, one place).
# Per version: its own model, whether the screen excludes it, when it stops
# being fresh (last seen + its source's horizon; null while a later version of
# the offering continues it) and, for a curated reference row, when a live
# source first listed the same provider and model. ``{only}`` narrows the rows
# (a delta reads some ids); money is read as its exact text. The offering's own
# columns are not read per version (``VersionRead``).
# A version's successor is the one starting where it ends; (offering_id, valid_from)
# is unique, so the join adds no rows, and a join lets the planner hash a full
# load instead of probing the index once per version.
_SUCCESSOR = """
    LEFT JOIN {v} n ON n.offering_id = v.offering_id AND n.valid_from = v.valid_to
"""
_FRESH = """
    CASE WHEN n.id IS NOT NULL THEN NULL
         ELSE v.last_seen_at + make_interval(secs => {horizon})
    END
"""
LLM_SQL = f"""
    SELECT v.id, v.offering_id, COALESCE(v.model_slug, o.model_slug) AS model,
           v.input_usd_per_mtok::text, v.output_usd_per_mtok::text, v.valid_from, v.valid_to,
           CASE WHEN v.free THEN 1 ELSE 0 END AS free, v.change_kind, v.recorded_at,
           v.last_seen_at,
           CASE WHEN {LLM_NOT_EXCLUDED_SQL} THEN 0 ELSE 1 END
             AS quarantined,
           {_FRESH} AS fresh_until,
           CASE WHEN o.source = 'reference' THEN (
               SELECT min(lv.valid_from) FROM llm_price_version lv
               JOIN llm_offering lo ON lo.id = lv.offering_id
               WHERE lo.source <> 'reference' AND lo.provider = o.provider
                 AND lv.model_slug = COALESCE(v.model_slug, o.model_slug))
           END AS covered_from
    FROM llm_price_version v JOIN llm_offering o ON o.id = v.offering_id
    {_SUCCESSOR.format(v="llm_price_version")}
    WHERE COALESCE(v.model_slug, o.model_slug) IS NOT NULL AND o.modality = 'text'
      AND {{only}}
"""
LLM_SCHEMA: dict[str, Any] = {
    "id": pl.Int64,
    "offering_id": pl.Int64,
    "source": pl.Categorical,
    # Join keys elsewhere (analytics, api) stay text: polars joins no category with text.
    "provider": pl.String,
    "provider_model_id": pl.String,
    "model": pl.String,
    "input_usd_per_mtok": MONEY,
    "output_usd_per_mtok": MONEY,
    "valid_from": pl.String,
    "valid_to": pl.String,
    "free": pl.Int8,
    "change_kind": pl.Categorical,
    "recorded_at": pl.String,
    "variant": pl.Categorical,
    "context_tier": pl.String,  # read with string functions (analytics.countable)
    "last_seen_at": pl.String,
    "quarantined": pl.Int8,
    "fresh_until": pl.String,
    "covered_from": pl.String,
}

GPU_SQL = f"""
    SELECT v.id, v.offering_id, v.usd_per_gpu_hour::text, v.valid_from, v.valid_to,
           v.change_kind, v.last_seen_at,
           CASE WHEN {GPU_NOT_EXCLUDED_SQL} THEN 0 ELSE 1 END
             AS quarantined,
           {_FRESH} AS fresh_until,
           CASE WHEN o.source = 'reference' THEN (
               SELECT min(gv.valid_from) FROM gpu_rate_version gv
               JOIN gpu_offering go ON go.id = gv.offering_id
               WHERE go.source <> 'reference' AND go.provider = o.provider AND go.gpu = o.gpu
                 AND go.gpu_count = o.gpu_count AND go.pricing = o.pricing)
           END AS covered_from
    FROM gpu_rate_version v JOIN gpu_offering o ON o.id = v.offering_id
    {_SUCCESSOR.format(v="gpu_rate_version")}
    WHERE (o.os IS NULL OR o.os = 'linux') AND (o.statistic IS NULL OR o.statistic = 'min')
      AND {{only}}
"""
GPU_SCHEMA: dict[str, Any] = {
    "id": pl.Int64,
    "offering_id": pl.Int64,
    "source": pl.Categorical,
    "provider": pl.String,
    "gpu": pl.String,
    "gpu_count": pl.Int64,
    "pricing": pl.Categorical,
    "region": pl.Categorical,
    "statistic": pl.Categorical,
    "usd_per_gpu_hour": MONEY,
    "valid_from": pl.String,
    "valid_to": pl.String,
    "change_kind": pl.Categorical,
    "last_seen_at": pl.String,
    "quarantined": pl.Int8,
    "fresh_until": pl.String,
    "covered_from": pl.String,
}
ALL_ROWS = "TRUE"
_TIME = pl.Datetime("us", "UTC")
Rows = Callable[[str, dict[str, Any]], pl.DataFrame]  # (sql, schema) -> typed rows


def any_id(ids: Iterable[int]) -> str:
    """SQL ``ANY`` of the ids as one array literal (the planner reads each by its key;
    no bind parameters: COPY takes none)."""
    return "ANY('{" + ",".join(str(int(i)) for i in ids) + "}'::bigint[])"


@dataclass(frozen=True)
class VersionRead:
    """How one kind's version frame is read: ``sql`` gives each version's own columns
    (``schema`` less ``offering_columns``, in order); the offering columns are read
    once per offering and mapped onto its versions by ``offering_id``. Read per
    version, the text of a million versions held several copies of itself during a
    load (1M versions: 112 MB more at the peak, and slower; measured)."""

    sql: str
    schema: dict[str, Any]  # every column of the frame, in its order
    offering_table: str
    offering_columns: tuple[str, ...]

    @property
    def version_schema(self) -> dict[str, Any]:
        return {c: t for c, t in self.schema.items() if c not in self.offering_columns}

    @property
    def offering_schema(self) -> dict[str, Any]:
        return {"id": pl.Int64} | {c: self.schema[c] for c in self.offering_columns}

    def offering_sql(self, ids: pl.Series) -> str:
        columns = ", ".join(self.offering_columns)
        return f"SELECT id, {columns} FROM {self.offering_table} WHERE id = {any_id(ids)}"

    def assemble(self, parts: list[pl.DataFrame], read_rows: Rows) -> list[pl.DataFrame]:
        """Each frame of version rows in ``parts`` with its offerings' columns, the
        offerings of all of them read once (``read_rows(sql, schema)``), or not at all
        when there are no versions."""
        ids = pl.concat([p["offering_id"] for p in parts]).unique().sort()
        offerings = (
            read_rows(self.offering_sql(ids), self.offering_schema)
            if not ids.is_empty()
            else pl.DataFrame(schema=self.offering_schema)
        )
        return [self.with_offerings(p, offerings) for p in parts]

    def with_offerings(self, versions: pl.DataFrame, offerings: pl.DataFrame) -> pl.DataFrame:
        """``versions`` with their offerings' columns, in ``schema`` order."""
        ids = offerings["id"]
        return versions.with_columns(
            pl.col("offering_id")
            .replace_strict(ids, offerings[c], default=None, return_dtype=offerings[c].dtype)
            .alias(c)
            for c in self.offering_columns
        ).select(list(self.schema))


LLM_READ = VersionRead(
    LLM_SQL,
    LLM_SCHEMA,
    "llm_offering",
    ("source", "provider", "provider_model_id", "variant", "context_tier"),
)
GPU_READ = VersionRead(
    GPU_SQL,
    GPU_SCHEMA,
    "gpu_offering",
    ("source", "provider", "gpu", "gpu_count", "pricing", "region", "statistic"),
)


def _with_horizons(sql: str, only: str = ALL_ROWS) -> str:
    """``sql`` with the per-source horizons written in (COPY takes no bind parameters)."""
    return sql.replace("{horizon}", horizon_seconds_sql()).replace("{only}", only)


def _csv_schema(schema: dict[str, Any]) -> dict[str, Any]:
    # CSV text is read as plain strings; the final types are applied by _typed.
    return {c: pl.String if t == pl.Categorical else t for c, t in schema.items()}


def copy_frame(conn: Connection, sql: str, schema: dict[str, Any]) -> pl.DataFrame:
    """Rows of ``sql`` through CSV text (``COPY ... TO STDOUT``)."""
    buffer = io.BytesIO()
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(
        f"COPY ({_with_horizons(sql)}) TO STDOUT WITH (FORMAT csv, HEADER false)"
    ) as copy:
        for chunk in copy:
            buffer.write(chunk)
    csv_schema = _csv_schema(schema)
    if buffer.tell() == 0:
        frame = pl.DataFrame(schema=csv_schema)
    else:
        buffer.seek(0)
        frame = pl.read_csv(
            buffer, has_header=False, new_columns=list(schema), schema_overrides=csv_schema
        )
    times = [c for c in _TIMES if c in schema]
    frame = frame.with_columns(
        pl.col(c).str.to_datetime("%Y-%m-%d %H:%M:%S%.f%#z", time_zone="UTC") for c in times
    )
    return _typed(frame, schema)


def _typed(frame: pl.DataFrame, schema: dict[str, Any]) -> pl.DataFrame:
    """The reader-independent column types: timestamps, Decimal money, booleans, categories."""
    casts = []
    for column, dtype in schema.items():
        if column in _TIMES:
            casts.append(pl.col(column).cast(_TIME))
        elif column in _FLAGS:
            casts.append(pl.col(column).cast(pl.Boolean))
        else:
            casts.append(pl.col(column).cast(dtype))
    return frame.with_columns(casts)


def adbc_uri(engine: Engine) -> str:
    """The engine's database as a libpq URI (ADBC's driver speaks libpq)."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class Reader:
    """An ADBC connection kept between reads (connecting loads the server's type
    catalogue: tens of milliseconds, paid once instead of on every refresh)."""

    def __init__(self, engine: Engine) -> None:
        self.uri = adbc_uri(engine)
        self.conn: Any = None

    @contextmanager
    def snapshot(self) -> Iterator[Any]:
        """A cursor in one read-only REPEATABLE READ transaction: every query it runs
        sees the same snapshot (``pg_current_snapshot()`` names it)."""
        import adbc_driver_postgresql.dbapi as adbc

        if self.conn is None:
            # autocommit: the driver would otherwise open its own READ COMMITTED transaction.
            self.conn = adbc.connect(self.uri, autocommit=True)
        try:
            with self.conn.cursor() as cursor:
                cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                # A full load hashes every version to find successors: in memory.
                cursor.execute("SET LOCAL work_mem = '256MB'")
                try:
                    yield cursor
                finally:
                    cursor.execute("ROLLBACK")
        except Exception:
            self.close()  # a broken connection is not reused
            raise

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with suppress(Exception):  # already gone with its server: nothing to release
                conn.close()


@contextmanager
def snapshot_reader(engine: Engine) -> Iterator[Any]:
    """A cursor of a connection of its own, in one snapshot (``Reader.snapshot``)."""
    reader = Reader(engine)
    try:
        with reader.snapshot() as cursor:
            yield cursor
    finally:
        reader.close()


def first_row(cursor: Any, sql: str) -> tuple[Any, ...]:
    """The first row of ``sql`` (the driver's own fetchone needs pyarrow)."""
    cursor.execute(sql)
    return pl.DataFrame(cursor.fetch_arrow()).row(0)


def arrow_frame(
    cursor: Any, sql: str, schema: dict[str, Any], only: str = ALL_ROWS, order_by: str = ""
) -> Any:
    """Rows of ``sql`` (narrowed by ``only``, sorted by ``order_by``) through ADBC's
    binary COPY, typed."""
    order = f" ORDER BY {order_by}" if order_by else ""
    cursor.execute(_with_horizons(sql, only) + order)
    frame = pl.DataFrame(cursor.fetch_arrow())
    if frame.is_empty():
        frame = pl.DataFrame(schema=dict.fromkeys(schema, pl.String))
    return _typed(frame.rename(dict(zip(frame.columns, schema, strict=True))), schema)


def version_frames(cursor: Any, read: VersionRead, *parts: tuple[str, str]) -> list[pl.DataFrame]:
    """A kind's version rows, every column, per part (``arrow_frame``'s ``only`` and
    ``order_by``), in one snapshot's cursor."""
    versions = [arrow_frame(cursor, read.sql, read.version_schema, o, by) for o, by in parts]
    return read.assemble(versions, lambda sql, schema: arrow_frame(cursor, sql, schema))


def version_frame(
    cursor: Any, read: VersionRead, only: str = ALL_ROWS, order_by: str = ""
) -> pl.DataFrame:
    """A kind's version rows (``arrow_frame``'s ``only`` and ``order_by``), every column."""
    [frame] = version_frames(cursor, read, (only, order_by))
    return frame


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


def with_tiers(frame: pl.DataFrame) -> pl.DataFrame:
    """LLM version rows of catalog models, with the catalog tier (not a price row otherwise)."""
    # A mapped column, not a join: a join gathers every column into a new frame,
    # which doubles the memory of a full load for a moment.
    tiered = frame.with_columns(
        tier=pl.col("model").replace_strict(tier_of(), default=None, return_dtype=pl.String),
        self_hosted=pl.lit(False),
    )
    if tiered["tier"].null_count():
        tiered = tiered.filter(pl.col("tier").is_not_null())
    return tiered


def llm_versions(engine: Engine) -> pl.DataFrame:
    """Text prices of resolved models (every variant/tier), with the catalog tier.

    Which rows count is ``costcurve.analytics.countable.countable_prices``.
    """
    with snapshot_reader(engine) as cursor:
        return with_tiers(version_frame(cursor, LLM_READ))


def gpu_versions(engine: Engine) -> pl.DataFrame:
    """Linux GPU rental rates (marketplace aggregates: the minimum only)."""
    with snapshot_reader(engine) as cursor:
        return version_frame(cursor, GPU_READ)


def csv_llm_versions(conn: Connection) -> pl.DataFrame:
    """``llm_versions`` through CSV text: the baseline the bench compares against."""

    def read_rows(sql: str, schema: dict[str, Any]) -> pl.DataFrame:
        return copy_frame(conn, sql, schema)

    [frame] = LLM_READ.assemble([read_rows(LLM_READ.sql, LLM_READ.version_schema)], read_rows)
    return with_tiers(frame)
