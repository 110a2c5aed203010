"""images, allsky_images: an index for every query the readers send

The partial index of 0001 (``WHERE jpg_medium_exists``) served no reader but the all-sites query:
PostgreSQL matches a partial index only to a predicate it can prove implies it, and it proves neither
``jpg_medium_exists IS TRUE`` (the API's listings) from ``jpg_medium_exists`` nor the reverse. A
boolean key column is matched by both spellings, ``IS TRUE`` and ``= true``, as an index condition.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("images", "allsky_images")

# name suffix -> key columns; the models (catalog/models.py) declare the same.
INDEXES = {
    # A site's newest exposures with a jpg, and the newest one of every site.
    "site_jpg_medium_exists_sort_date": ["site", "jpg_medium_exists", "sort_date"],
    # The same for one observer (the listing's ?userid=).
    "site_user_id_jpg_medium_exists_sort_date": ["site", "user_id", "jpg_medium_exists", "sort_date"],
    # The frontend's filtered query: a site's exposures captured within a window.
    "site_capture_date": ["site", "capture_date"],
}


def upgrade() -> None:
    for table in TABLES:
        for suffix, columns in INDEXES.items():
            op.create_index(f"ix_{table}_{suffix}", table, columns)
        op.drop_index(f"ix_{table}_site_sort_date", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(
            f"ix_{table}_site_sort_date",
            table,
            ["site", sa.text("sort_date DESC")],
            postgresql_where=sa.text("jpg_medium_exists"),
            sqlite_where=sa.text("jpg_medium_exists"),
        )
        for suffix in INDEXES:
            op.drop_index(f"ix_{table}_{suffix}", table_name=table)
