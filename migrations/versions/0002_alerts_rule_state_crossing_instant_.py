"""alerts: rule state, crossing instant, outbox status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:09:51.963223
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENT_BENCHMARK_FK = "alert_event_benchmark_result_id_fkey"


def upgrade() -> None:
    op.create_index(
        "ix_alert_delivery_due", "alert_delivery", ["status", "next_attempt_at"], unique=False
    )
    op.create_check_constraint(
        "ck_alert_delivery_status",
        "alert_delivery",
        "status IN ('pending', 'delivered', 'failed', 'cancelled')",
    )
    # Existing rows (if any) get attempt 1 / crossed_at = fired_at before NOT NULL applies.
    op.add_column(
        "alert_delivery_attempt",
        sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"),
    )
    op.alter_column("alert_delivery_attempt", "attempt", server_default=None)
    op.add_column("alert_delivery_attempt", sa.Column("duration_ms", sa.Integer(), nullable=True))
    op.add_column("alert_event", sa.Column("crossed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE alert_event SET crossed_at = fired_at")
    op.alter_column("alert_event", "crossed_at", nullable=False)
    op.add_column("alert_event", sa.Column("benchmark_result_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        _EVENT_BENCHMARK_FK, "alert_event", "benchmark_result", ["benchmark_result_id"], ["id"]
    )
    op.add_column("alert_rule", sa.Column("last_value", sa.Numeric(), nullable=True))
    op.add_column(
        "alert_rule", sa.Column("last_evaluated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "alert_rule", sa.Column("evaluated_through", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_check_constraint("ck_alert_rule_threshold", "alert_rule", "threshold >= 0")
    op.create_check_constraint(
        "ck_alert_rule_direction", "alert_rule", "direction IN ('below', 'above')"
    )
    op.create_check_constraint(
        "ck_alert_rule_metric",
        "alert_rule",
        "metric IN ('input', 'output', 'blended', 'usd_per_gpu_hour')",
    )


def downgrade() -> None:
    op.drop_constraint("ck_alert_rule_metric", "alert_rule", type_="check")
    op.drop_constraint("ck_alert_rule_direction", "alert_rule", type_="check")
    op.drop_constraint("ck_alert_rule_threshold", "alert_rule", type_="check")
    op.drop_column("alert_rule", "evaluated_through")
    op.drop_column("alert_rule", "last_evaluated_at")
    op.drop_column("alert_rule", "last_value")
    op.drop_constraint(_EVENT_BENCHMARK_FK, "alert_event", type_="foreignkey")
    op.drop_column("alert_event", "benchmark_result_id")
    op.drop_column("alert_event", "crossed_at")
    op.drop_column("alert_delivery_attempt", "duration_ms")
    op.drop_column("alert_delivery_attempt", "attempt")
    op.drop_constraint("ck_alert_delivery_status", "alert_delivery", type_="check")
    op.drop_index("ix_alert_delivery_due", table_name="alert_delivery")
