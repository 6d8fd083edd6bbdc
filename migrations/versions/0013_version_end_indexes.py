"""indexes on valid_to: current reads without a scan of every past version

"In effect now" is read as open versions (the partial unique index on open
versions) UNION ALL versions closed after now (announced changes, rare): the
second arm needs an index on ``valid_to``, which neither version table had, so
``/v1/prices`` and ``/v1/gpu-rates`` scanned every version that started before
now (db/queries.py ``in_effect_now_arms``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_llm_version_end", "llm_price_version_record", ["valid_to"], unique=False)
    op.create_index("ix_gpu_version_end", "gpu_rate_version_record", ["valid_to"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_gpu_version_end", table_name="gpu_rate_version_record")
    op.drop_index("ix_llm_version_end", table_name="llm_price_version_record")
