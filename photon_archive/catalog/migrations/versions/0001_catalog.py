"""catalog: images, allsky_images and the object ledger

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

EXPOSURE_TABLES = ("images", "allsky_images")


def _create_exposure_table(name: str) -> None:
    op.create_table(
        name,
        sa.Column("image_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("base_filename", sa.String(), nullable=False),
        sa.Column("site", sa.String()),
        sa.Column("capture_date", sa.DateTime()),
        sa.Column("sort_date", sa.DateTime()),
        sa.Column("right_ascension", sa.Float(), comment="decimal hours"),
        sa.Column("declination", sa.Float(), comment="decimal degrees"),
        sa.Column("altitude", sa.Float()),
        sa.Column("azimuth", sa.Float()),
        sa.Column("header", sa.Text(), comment="JSON object, keyword -> value as a string"),
        sa.Column("filter_used", sa.String()),
        sa.Column("airmass", sa.Float()),
        sa.Column("exposure_time", sa.Float()),
        sa.Column("user_id", sa.String()),
        sa.Column("username", sa.String()),
        sa.Column("fits_01_exists", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("fits_10_exists", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("jpg_medium_exists", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("jpg_small_exists", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("data_type", sa.String()),
        sa.Column("header_source", sa.String(length=16)),
        sa.PrimaryKeyConstraint("image_id", name=f"pk_{name}"),
        sa.UniqueConstraint("base_filename", name=f"uq_{name}_base_filename"),
    )
    op.create_index(
        f"ix_{name}_site_sort_date",
        name,
        ["site", sa.text("sort_date DESC")],
        postgresql_where=sa.text("jpg_medium_exists"),
        sqlite_where=sa.text("jpg_medium_exists"),
    )


def upgrade() -> None:
    for name in EXPOSURE_TABLES:
        _create_exposure_table(name)
    op.create_table(
        "object_ledger",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("etag", sa.String()),
        sa.Column("size", sa.BigInteger()),
        sa.Column("last_modified", sa.DateTime()),
        sa.Column("prefix", sa.String()),
        sa.Column("base_filename", sa.String()),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("run_id", sa.String(length=64)),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_object_ledger"),
    )
    for column in ("base_filename", "run_id", "state", "updated_at"):
        op.create_index(f"ix_object_ledger_{column}", "object_ledger", [column])


def downgrade() -> None:
    op.drop_table("object_ledger")
    for name in reversed(EXPOSURE_TABLES):
        op.drop_table(name)
