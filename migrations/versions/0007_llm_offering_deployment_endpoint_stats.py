"""llm offering deployment/region/endpoint identity, serving attributes, endpoint stats

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KEY = ["source", "provider", "provider_model_id", "variant", "context_tier", "modality"]
_NEW_KEY = [*_OLD_KEY, "deployment", "region", "endpoint"]
_STAT_MEASURES = [
    f"p{p}_{m}" for m in ("throughput_tps", "latency_ms") for p in (50, 75, 90, 95, 99)
]


def upgrade() -> None:
    for name in ("deployment", "region", "endpoint", "quantization"):
        op.add_column(
            "llm_offering", sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    op.add_column("llm_offering", sa.Column("context_length", sa.Integer(), nullable=True))
    # Existing rows have NULL in the new key columns, so the wider key stays unique.
    op.drop_constraint("uq_llm_offering_key", "llm_offering", type_="unique")
    op.create_unique_constraint(
        "uq_llm_offering_key", "llm_offering", _NEW_KEY, postgresql_nulls_not_distinct=True
    )
    op.create_table(
        "llm_endpoint_stat",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("offering_id", sa.BigInteger(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.Numeric(asdecimal=True), nullable=True) for name in _STAT_MEASURES),
        sa.Column("uptime_pct", sa.Numeric(asdecimal=True), nullable=True),
        sa.Column("request_count", sa.Integer(), nullable=True),
        sa.Column("window_minutes", sa.Integer(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["offering_id"], ["llm_offering.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("offering_id", "observed_at", name="uq_llm_endpoint_stat"),
    )
    op.create_index(op.f("ix_llm_endpoint_stat_offering_id"), "llm_endpoint_stat", ["offering_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_llm_endpoint_stat_offering_id"), table_name="llm_endpoint_stat")
    op.drop_table("llm_endpoint_stat")
    op.drop_constraint("uq_llm_offering_key", "llm_offering", type_="unique")
    op.create_unique_constraint(
        "uq_llm_offering_key", "llm_offering", _OLD_KEY, postgresql_nulls_not_distinct=True
    )
    for name in ("context_length", "quantization", "endpoint", "region", "deployment"):
        op.drop_column("llm_offering", name)
