"""benchmark results: measured setup (pipeline parallelism, duration, completed) and verdict

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 06:00:00

Rows stored before this revision get ``verdict = 'unclassified'`` (never
representative): the verdict is a property of the whole sweep and is set the
next time a point of that sweep is stored (``db.benchmarks.store_points``) or by
``costcurve bench reclassify``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERDICTS = (
    "'representative', 'short', 'latency_only', 'single_point', 'unsaturated', "
    "'synthetic', 'unclassified'"
)


def upgrade() -> None:
    op.add_column(
        "benchmark_result",
        sa.Column("pipeline_parallel_size", sa.Integer(), nullable=False, server_default="1"),
    )
    op.add_column("benchmark_result", sa.Column("duration_s", sa.Numeric(), nullable=True))
    op.add_column("benchmark_result", sa.Column("completed", sa.Integer(), nullable=True))
    op.add_column(
        "benchmark_result",
        sa.Column("verdict", sa.String(), nullable=False, server_default="unclassified"),
    )
    op.add_column("benchmark_result", sa.Column("verdict_reason", sa.String(), nullable=True))
    op.create_check_constraint(
        "ck_benchmark_result_verdict", "benchmark_result", f"verdict IN ({_VERDICTS})"
    )
    # What was measured is in raw.point already: copy it into the new columns.
    op.execute(
        """
        UPDATE benchmark_result SET
            duration_s = (raw -> 'point' ->> 'duration')::numeric,
            completed = (raw -> 'point' ->> 'completed')::integer,
            verdict_reason = 'stored before the representativeness verdict (migration 0008)'
        """
    )


def downgrade() -> None:
    op.drop_constraint("ck_benchmark_result_verdict", "benchmark_result", type_="check")
    for name in ("verdict_reason", "verdict", "completed", "duration_s", "pipeline_parallel_size"):
        op.drop_column("benchmark_result", name)
