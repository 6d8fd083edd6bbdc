"""indexes for the price-change feed: versions by recording time, predecessors by end

``/v1/changes`` (and the dashboard's Changes page) reads the newest recorded
versions and joins each to the version that ended where it began; without these
it scanned and hash-joined every version.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_llm_version_recorded", "llm_price_version", ["recorded_at", "id"], unique=False
    )
    op.create_index(
        "ix_llm_version_offering_end",
        "llm_price_version",
        ["offering_id", "valid_to"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_llm_version_offering_end", table_name="llm_price_version")
    op.drop_index("ix_llm_version_recorded", table_name="llm_price_version")
