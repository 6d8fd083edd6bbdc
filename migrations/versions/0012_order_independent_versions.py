"""order-independent versions: version records with superseded_at, current-belief
views, the observation logs and complete-listing events

``llm_price_version`` and ``gpu_rate_version`` become views of the current
belief over ``*_version_record`` (``superseded_at IS NULL``), so every read of
"now" keeps working unchanged; the start-uniqueness and one-open-version
indexes only constrain believed rows. The logs are backfilled from the
existing versions so an existing history rebuilds to itself: an observation at
``valid_from`` and one at ``last_seen_at``; a closed version that no version
continues at its ``valid_to`` gets that as its stated end.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (value column, type): the logs' copy of each version value, nullable.
_LLM_VALUES = (
    ("input_usd_per_mtok", sa.Numeric()),
    ("output_usd_per_mtok", sa.Numeric()),
    ("cached_input_usd_per_mtok", sa.Numeric()),
    ("cache_write_usd_per_mtok", sa.Numeric()),
    ("cache_write_1h_usd_per_mtok", sa.Numeric()),
    ("free", sa.Boolean()),
    ("original_currency", sqlmodel.sql.sqltypes.AutoString()),
    ("fx_rate", sa.Numeric()),
    ("model_slug", sqlmodel.sql.sqltypes.AutoString()),
)
_GPU_VALUES = (
    ("usd_per_gpu_hour", sa.Numeric()),
    ("usd_per_instance_hour", sa.Numeric()),
    ("offer_count", sa.Integer()),
)
_KINDS = (
    ("llm_price_version", "llm", "llm_offering", "llm_price_observation", _LLM_VALUES),
    ("gpu_rate_version", "gpu", "gpu_offering", "gpu_rate_observation", _GPU_VALUES),
)


def _tz(name: str, *, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _stamp_functions(llm: str, gpu: str) -> list[str]:
    """0011's stamping triggers, writing to ``llm``/``gpu`` (the tables the rows live in)."""
    return [
        f"""
CREATE OR REPLACE FUNCTION flag_stamps_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE {llm} SET changed_xid = pg_current_xact_id() WHERE id = OLD.llm_price_version_id;
    UPDATE {gpu} SET changed_xid = pg_current_xact_id() WHERE id = OLD.gpu_rate_version_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE {llm} SET changed_xid = pg_current_xact_id() WHERE id = NEW.llm_price_version_id;
    UPDATE {gpu} SET changed_xid = pg_current_xact_id() WHERE id = NEW.gpu_rate_version_id;
  END IF;
  RETURN NULL;
END $$
""",
        f"""
CREATE OR REPLACE FUNCTION llm_offering_stamps_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE {llm} SET changed_xid = pg_current_xact_id() WHERE offering_id = NEW.id;
  RETURN NULL;
END $$
""",
    ]


def upgrade() -> None:
    for view, short, offering, log, values in _KINDS:
        record = f"{view}_record"
        op.rename_table(view, record)
        op.add_column(record, _tz("superseded_at"))
        op.drop_constraint(f"uq_{short}_version_start", record, type_="unique")
        op.create_index(
            f"uq_{short}_version_start",
            record,
            ["offering_id", "valid_from"],
            unique=True,
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        op.drop_index(f"uq_{short}_version_open", table_name=record)
        op.create_index(
            f"uq_{short}_version_open",
            record,
            ["offering_id"],
            unique=True,
            postgresql_where=sa.text("valid_to IS NULL AND superseded_at IS NULL"),
        )
        # A simple view is auto-updatable: INSERT/UPDATE ... RETURNING go through it.
        op.execute(f"CREATE VIEW {view} AS SELECT * FROM {record} WHERE superseded_at IS NULL")
        op.create_table(
            log,
            sa.Column("id", sa.BigInteger(), nullable=False),
            sa.Column("offering_id", sa.BigInteger(), nullable=False),
            _tz("instant", nullable=False),
            _tz("observed_at", nullable=False),
            *(sa.Column(name, type_, nullable=True) for name, type_ in values),
            _tz("stated_end"),
            sa.Column("change_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("run_id", sa.BigInteger(), nullable=True),
            sa.Column("source_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
            _tz("recorded_at", nullable=False),
            sa.ForeignKeyConstraint(["offering_id"], [f"{offering}.id"]),
            sa.ForeignKeyConstraint(["run_id"], ["pipeline_run.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_{log}_offering_instant", log, ["offering_id", "instant"])
        _backfill_log(record, log, [name for name, _ in values])
    op.create_table(
        "listing_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        _tz("instant", nullable=False),
        sa.Column("offering_count", sa.Integer(), nullable=False),
        _tz("recorded_at", nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["source"], ["source.slug"]),
        sa.ForeignKeyConstraint(["run_id"], ["pipeline_run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_listing_event_source_instant", "listing_event", ["source", "kind", "instant"]
    )
    # Through the views a trigger would reach believed rows only: stamp the records.
    for sql in _stamp_functions("llm_price_version_record", "gpu_rate_version_record"):
        op.execute(sql)


def _backfill_log(record: str, log: str, values: list[str]) -> None:
    """Two observations per version (its start and its last sighting), stated end if withdrawn."""
    cols = ", ".join(values)
    src = ", ".join(f"v.{c}" for c in values)
    op.execute(
        f"""
        INSERT INTO {log} (offering_id, instant, observed_at, {cols}, stated_end,
                           change_kind, run_id, source_url, recorded_at)
        SELECT v.offering_id, s.instant, s.observed_at, {src},
               CASE WHEN v.valid_to IS NOT NULL AND NOT EXISTS (
                   SELECT 1 FROM {record} n
                   WHERE n.offering_id = v.offering_id AND n.valid_from = v.valid_to
               ) THEN v.valid_to END,
               v.change_kind, v.run_id, v.source_url, v.recorded_at
        FROM {record} v
        CROSS JOIN LATERAL (
            VALUES (v.valid_from, LEAST(v.valid_from, v.last_seen_at), true),
                   (v.last_seen_at, v.last_seen_at,
                    v.last_seen_at > v.valid_from
                    AND (v.valid_to IS NULL OR v.last_seen_at < v.valid_to))
        ) AS s(instant, observed_at, keep)
        WHERE s.keep
        ORDER BY v.offering_id, s.instant
        """
    )


def downgrade() -> None:
    op.drop_index("ix_listing_event_source_instant", table_name="listing_event")
    op.drop_table("listing_event")
    for view, short, _offering, log, _values in reversed(_KINDS):
        record = f"{view}_record"
        op.drop_index(f"ix_{log}_offering_instant", table_name=log)
        op.drop_table(log)
        op.execute(f"DROP VIEW {view}")
        # Superseded versions have no place in the old schema (nor their flags).
        column = "llm_price_version_id" if short == "llm" else "gpu_rate_version_id"
        superseded = f"SELECT id FROM {record} WHERE superseded_at IS NOT NULL"
        op.execute(f"DELETE FROM price_flag WHERE {column} IN ({superseded})")
        op.execute(f"UPDATE alert_event SET {column} = NULL WHERE {column} IN ({superseded})")
        op.execute(f"DELETE FROM {record} WHERE superseded_at IS NOT NULL")
        op.drop_index(f"uq_{short}_version_open", table_name=record)
        op.create_index(
            f"uq_{short}_version_open",
            record,
            ["offering_id"],
            unique=True,
            postgresql_where=sa.text("valid_to IS NULL"),
        )
        op.drop_index(f"uq_{short}_version_start", table_name=record)
        op.create_unique_constraint(
            f"uq_{short}_version_start", record, ["offering_id", "valid_from"]
        )
        op.drop_column(record, "superseded_at")
        op.rename_table(record, view)
    for sql in _stamp_functions("llm_price_version", "gpu_rate_version"):
        op.execute(sql)
