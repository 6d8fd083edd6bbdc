"""dated, versioned capability scores with source and citation; imported score datasets

Revision ID: 0005
Revises: 0008 (given 0003; relinked after main gained 0007-0008)

``model_score`` becomes one row per (source, source model id, benchmark, as_of):
a score as a source published it on a date. ``model_slug`` is the catalog model
it resolved to (null while unresolved; re-resolved on every import), so the
unresolved names stay listed instead of being dropped. ``score_dataset`` records
each imported file by sha256, which makes loading the shipped datasets on every
start a no-op after the first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("model_score", sa.Column("source_model_id", sa.String(), nullable=True))
    op.add_column("model_score", sa.Column("as_of", sa.Date(), nullable=True))
    op.add_column("model_score", sa.Column("released_on", sa.Date(), nullable=True))
    op.add_column("model_score", sa.Column("citation", sa.String(), nullable=True))
    op.execute(
        "UPDATE model_score SET source_model_id = model_slug, as_of = imported_at::date, "
        "source = coalesce(source, 'csv')"
    )
    op.alter_column("model_score", "source_model_id", nullable=False)
    op.alter_column("model_score", "as_of", nullable=False)
    op.alter_column("model_score", "source", nullable=False)
    op.alter_column("model_score", "model_slug", nullable=True)
    op.drop_constraint("uq_model_score", "model_score", type_="unique")
    op.create_unique_constraint(
        "uq_model_score_version",
        "model_score",
        ["source", "source_model_id", "benchmark", "as_of"],
    )
    op.create_table(
        "score_dataset",
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )


def downgrade() -> None:
    op.drop_table("score_dataset")
    op.drop_constraint("uq_model_score_version", "model_score", type_="unique")
    # Keep one row per (model, benchmark): the newest, as the pre-0005 schema held.
    op.execute(
        "DELETE FROM model_score s USING model_score t WHERE s.model_slug = t.model_slug "
        "AND s.benchmark = t.benchmark AND (s.as_of, s.id) < (t.as_of, t.id)"
    )
    op.execute("DELETE FROM model_score WHERE model_slug IS NULL")
    op.alter_column("model_score", "model_slug", nullable=False)
    op.alter_column("model_score", "source", nullable=True)
    op.create_unique_constraint("uq_model_score", "model_score", ["model_slug", "benchmark"])
    for column in ("citation", "released_on", "as_of", "source_model_id"):
        op.drop_column("model_score", column)
