"""offering tables keep free space on each page, so a sighting is a HOT update

Every scrape moves the ``last_seen_at`` of each offering it lists (the upsert in
db/ingest_stage.py). No index covers that column, but a full page cannot hold the
new row version beside the old one, so PostgreSQL wrote it to another page and
inserted an entry into every index (four, one of them the nine-column offering
key). With half of each page free the update stays on its page and touches no
index: the upsert of 20k listed offerings took 145 ms instead of 350 ms
(bench/ingest_throughput.py, measured in one session). The offering tables are
small (one row per offering), so the space costs little; the version tables are
not changed (their ``changed_xid`` index blocks HOT updates anyway).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 06:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OFFERINGS = ("llm_offering", "gpu_offering")
FILLFACTOR = 50


def upgrade() -> None:
    for table in OFFERINGS:
        op.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")
        # Rewrite the existing pages with the free space (a setting alone applies to
        # pages written later); allowed in a transaction, unlike VACUUM FULL.
        op.execute(f"CLUSTER {table} USING {table}_pkey")


def downgrade() -> None:
    for table in OFFERINGS:
        op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
