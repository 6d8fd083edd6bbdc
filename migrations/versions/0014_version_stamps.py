"""version stamps: a flag change marks its version without locking the version row

0011's ``flag_stamps_version`` trigger updated the flagged version's
``changed_xid``. The plausibility screen of one source's ingest writes flags on
other sources' versions (a model's consensus spans sources), so two concurrent
ingests locked version rows in opposite orders and deadlocked. A flag change now
appends a row to ``version_stamp`` (insert-only, never contended), and the
analytics delta (db/frame_delta.py) re-reads the versions stamped since its
snapshot as well as those whose own ``changed_xid`` moved.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.columns import Xid8

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAMP_BY_INSERT = """
CREATE OR REPLACE FUNCTION flag_stamps_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO version_stamp (llm_price_version_id, gpu_rate_version_id)
      VALUES (OLD.llm_price_version_id, OLD.gpu_rate_version_id);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO version_stamp (llm_price_version_id, gpu_rate_version_id)
      VALUES (NEW.llm_price_version_id, NEW.gpu_rate_version_id);
  END IF;
  RETURN NULL;
END $$
"""

STAMP_BY_UPDATE = """
CREATE OR REPLACE FUNCTION flag_stamps_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE llm_price_version_record SET changed_xid = pg_current_xact_id()
      WHERE id = OLD.llm_price_version_id;
    UPDATE gpu_rate_version_record SET changed_xid = pg_current_xact_id()
      WHERE id = OLD.gpu_rate_version_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE llm_price_version_record SET changed_xid = pg_current_xact_id()
      WHERE id = NEW.llm_price_version_id;
    UPDATE gpu_rate_version_record SET changed_xid = pg_current_xact_id()
      WHERE id = NEW.gpu_rate_version_id;
  END IF;
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "version_stamp",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("llm_price_version_id", sa.BigInteger(), nullable=True),
        sa.Column("gpu_rate_version_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "changed_xid", Xid8(), server_default=sa.text("pg_current_xact_id()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_version_stamp_changed_xid", "version_stamp", ["changed_xid"])
    op.execute(STAMP_BY_INSERT)


def downgrade() -> None:
    op.execute(STAMP_BY_UPDATE)
    op.drop_index("ix_version_stamp_changed_xid", table_name="version_stamp")
    op.drop_table("version_stamp")
