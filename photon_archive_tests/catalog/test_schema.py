"""The migrated schema is the one other services read (SPEC §3), on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, create_engine, inspect

from photon_archive.catalog.models import Base
from photon_archive.catalog.schema import VERSION_TABLE, downgrade, upgrade

# SPEC §3: every images column, with the type family it must have.
IMAGES_COLUMNS = {
    "image_id": Integer,
    "base_filename": String,
    "site": String,
    "capture_date": DateTime,
    "sort_date": DateTime,
    "right_ascension": Float,
    "declination": Float,
    "altitude": Float,
    "azimuth": Float,
    "header": Text,
    "filter_used": String,
    "airmass": Float,
    "exposure_time": Float,
    "user_id": String,
    "username": String,
    "fits_01_exists": Boolean,
    "fits_10_exists": Boolean,
    "jpg_medium_exists": Boolean,
    "jpg_small_exists": Boolean,
    "data_type": String,
}

# The readers' indexes (name suffix -> key columns): a partial index would serve only one of the
# API's spellings of "has a jpg" (test_reader_queries.py shows each in use).
READER_INDEXES = {
    "site_jpg_medium_exists_sort_date": ["site", "jpg_medium_exists", "sort_date"],
    "site_user_id_jpg_medium_exists_sort_date": ["site", "user_id", "jpg_medium_exists", "sort_date"],
    "site_capture_date": ["site", "capture_date"],
}


def test_live_postgres_schema_has_every_images_column_constraint_and_index(postgres_url: str) -> None:
    upgrade(postgres_url)
    engine = create_engine(postgres_url)
    inspector = inspect(engine)
    for table in ("images", "allsky_images"):
        columns = {column["name"]: column for column in inspector.get_columns(table)}
        for name, family in IMAGES_COLUMNS.items():
            assert name in columns, f"{table}.{name} is missing"
            assert isinstance(columns[name]["type"], family), f"{table}.{name} is {columns[name]['type']}"
        assert inspector.get_pk_constraint(table)["constrained_columns"] == ["image_id"]
        assert columns["image_id"]["autoincrement"] is True
        for flag in ("fits_01_exists", "fits_10_exists", "jpg_medium_exists", "jpg_small_exists"):
            assert columns[flag]["nullable"] is False
        unique = [c["column_names"] for c in inspector.get_unique_constraints(table)]
        assert ["base_filename"] in unique
        indexes = {index["name"]: index for index in inspector.get_indexes(table)}
        for name, key in READER_INDEXES.items():
            assert indexes[f"ix_{table}_{name}"]["column_names"] == key
            assert "postgresql_where" not in indexes[f"ix_{table}_{name}"]["dialect_options"]
    ledger = {column["name"] for column in inspector.get_columns("object_ledger")}
    assert {"key", "etag", "size", "last_modified", "base_filename", "state", "reason", "run_id"} <= ledger
    engine.dispose()


def test_upgrade_from_empty_to_head_and_back_down(catalog_url: str) -> None:
    upgrade(catalog_url)
    upgrade(catalog_url)  # already at head: nothing to do
    engine = create_engine(catalog_url)
    assert {"images", "allsky_images", "object_ledger"} <= set(inspect(engine).get_table_names())
    downgrade(catalog_url)
    assert set(inspect(engine).get_table_names()) <= {VERSION_TABLE}
    upgrade(catalog_url)
    assert {"images", "allsky_images", "object_ledger"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_models_and_migrations_describe_the_same_schema(postgres_url: str) -> None:
    upgrade(postgres_url)
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}), Base.metadata
        )
    engine.dispose()
    assert differences == []


@pytest.mark.parametrize("table", ["images", "allsky_images"])
def test_base_filename_is_unique(migrated_catalog_url: str, table: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    engine = create_engine(migrated_catalog_url)
    insert = text(
        f"INSERT INTO {table} (base_filename, site) VALUES ('sro-kb001ms-20220629-00010442', 'sro')"
    )
    with engine.begin() as connection:
        connection.execute(insert)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert)
    engine.dispose()
