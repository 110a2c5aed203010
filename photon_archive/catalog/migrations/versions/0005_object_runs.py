"""object runs: every run's outcome for each object, which the ledger's one row per key forgets

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "object_runs",
        sa.Column("entry_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("etag", sa.String()),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_object_runs"),
    )
    op.create_index("ix_object_runs_key", "object_runs", ["key"])


def downgrade() -> None:
    op.drop_table("object_runs")
