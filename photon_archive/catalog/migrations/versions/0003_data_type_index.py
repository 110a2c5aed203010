"""images, allsky_images: an index by data type, for the expiry and retention jobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("images", "allsky_images")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_data_type", table, ["data_type"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_data_type", table_name=table)
