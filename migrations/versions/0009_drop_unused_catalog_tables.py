"""drop the unused catalog copies: canonical_model, model_alias, provider

The reviewed catalog (costcurve/catalog/models.yaml) is the one source of truth
and every reader resolves through it in code; these copies were never
populated (nothing called the sync), so SQL users saw empty tables that
claimed to mirror it. Versions carry their canonical model slug themselves.

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-02 07:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f("ix_model_alias_model_slug"), table_name="model_alias")
    op.drop_table("model_alias")
    op.drop_index(op.f("ix_canonical_model_tier"), table_name="canonical_model")
    op.drop_table("canonical_model")
    op.drop_table("provider")


def downgrade() -> None:
    op.create_table(
        "provider",
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("slug"),
    )
    op.create_table(
        "canonical_model",
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("vendor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("family", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("release_date", sa.Date(), nullable=False),
        sa.Column("open_weights", sa.Boolean(), nullable=False),
        sa.Column("total_params_b", sa.Numeric(), nullable=True),
        sa.Column("active_params_b", sa.Numeric(), nullable=True),
        sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reasoning", sa.Boolean(), nullable=False),
        sa.Column("sources", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("slug"),
    )
    op.create_index(op.f("ix_canonical_model_tier"), "canonical_model", ["tier"], unique=False)
    op.create_table(
        "model_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("provider_model_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("model_slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["model_slug"], ["canonical_model.slug"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "provider_model_id"),
    )
    op.create_index(op.f("ix_model_alias_model_slug"), "model_alias", ["model_slug"], unique=False)
