"""gpu index prints

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gpu_index_print",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("gpu", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("tenor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("interval", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("usd_per_gpu_hour", sa.Numeric(), nullable=True),
        sa.Column("contributor_count", sa.Integer(), nullable=False),
        sa.Column("p10_usd_per_gpu_hour", sa.Numeric(), nullable=True),
        sa.Column("p90_usd_per_gpu_hour", sa.Numeric(), nullable=True),
        sa.Column("contributors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("excluded", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("withheld_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("method_version", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "gpu",
            "tenor",
            "segment",
            "interval",
            "period_start",
            "method_version",
            "revision",
            name="uq_gpu_index_print",
        ),
    )
    op.create_index(
        "ix_gpu_index_print_series",
        "gpu_index_print",
        ["gpu", "tenor", "segment", "interval", "period_start"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_gpu_index_print_series", table_name="gpu_index_print")
    op.drop_table("gpu_index_print")
