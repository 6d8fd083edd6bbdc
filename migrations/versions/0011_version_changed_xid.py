"""changed_xid on the version tables: which transaction last changed a version

The API's analytics cache keeps every version in memory and, after a data
change, reads only the versions changed since its last load (db/frames.py
``FrameDelta``): the rows whose ``changed_xid`` is not visible in the snapshot
of that load. A sequence or a timestamp would not be sound (transactions commit
in another order than they take numbers); a transaction id tested against a
snapshot is.

Triggers keep the column set:

* a version's own insert or update stamps it (``BEFORE INSERT OR UPDATE``);
* a flag inserted, decided, moved or deleted stamps its version (whether a
  version is quarantined is part of it for the curves), so ``price_flag``
  needs no column of its own and a deleted flag is not lost;
* an LLM offering whose ``model_slug`` changes stamps its versions (a version
  without its own slug prices the offering's model).

Rows written before this migration keep NULL: a full load reads them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 15:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.columns import Xid8

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONS = ("llm_price_version", "gpu_rate_version")

STAMP = """
CREATE FUNCTION stamp_changed_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.changed_xid := pg_current_xact_id();
  RETURN NEW;
END $$
"""

# A flag changes whether its version counts: stamp the version (old and new one
# when an update moves the flag).
FLAG_STAMPS_VERSION = """
CREATE FUNCTION flag_stamps_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE llm_price_version SET changed_xid = pg_current_xact_id()
      WHERE id = OLD.llm_price_version_id;
    UPDATE gpu_rate_version SET changed_xid = pg_current_xact_id()
      WHERE id = OLD.gpu_rate_version_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE llm_price_version SET changed_xid = pg_current_xact_id()
      WHERE id = NEW.llm_price_version_id;
    UPDATE gpu_rate_version SET changed_xid = pg_current_xact_id()
      WHERE id = NEW.gpu_rate_version_id;
  END IF;
  RETURN NULL;
END $$
"""

OFFERING_STAMPS_VERSIONS = """
CREATE FUNCTION llm_offering_stamps_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE llm_price_version SET changed_xid = pg_current_xact_id() WHERE offering_id = NEW.id;
  RETURN NULL;
END $$
"""


def upgrade() -> None:
    for table in VERSIONS:
        op.add_column(table, sa.Column("changed_xid", Xid8(), nullable=True))
        op.create_index(f"ix_{table}_changed_xid", table, ["changed_xid"], unique=False)
    op.create_index(
        "ix_gpu_version_offering_end", "gpu_rate_version", ["offering_id", "valid_to"], unique=False
    )
    op.execute(STAMP)
    op.execute(FLAG_STAMPS_VERSION)
    op.execute(OFFERING_STAMPS_VERSIONS)
    for table in VERSIONS:
        op.execute(
            f"CREATE TRIGGER {table}_changed_xid BEFORE INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION stamp_changed_xid()"
        )
    op.execute(
        "CREATE TRIGGER price_flag_stamps_version AFTER INSERT OR UPDATE OR DELETE ON price_flag "
        "FOR EACH ROW EXECUTE FUNCTION flag_stamps_version()"
    )
    op.execute(
        "CREATE TRIGGER llm_offering_stamps_versions AFTER UPDATE OF model_slug ON llm_offering "
        "FOR EACH ROW WHEN (OLD.model_slug IS DISTINCT FROM NEW.model_slug) "
        "EXECUTE FUNCTION llm_offering_stamps_versions()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER llm_offering_stamps_versions ON llm_offering")
    op.execute("DROP TRIGGER price_flag_stamps_version ON price_flag")
    for table in VERSIONS:
        op.execute(f"DROP TRIGGER {table}_changed_xid ON {table}")
    op.execute("DROP FUNCTION llm_offering_stamps_versions()")
    op.execute("DROP FUNCTION flag_stamps_version()")
    op.execute("DROP FUNCTION stamp_changed_xid()")
    op.drop_index("ix_gpu_version_offering_end", table_name="gpu_rate_version")
    for table in VERSIONS:
        op.drop_index(f"ix_{table}_changed_xid", table_name=table)
        op.drop_column(table, "changed_xid")
