"""The old system's catalog as its handler left it, for tests: the ``images`` table of LEGACY.md's
DDL (no unique constraint, no index but the key, no NOT NULL: flags NULL until set, the header a
JSON string), in a PostgreSQL database of its own, and the rows put in it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import create_engine, text

# LEGACY.md's DDL, for ``images`` and, where a test wants one, an ``allsky_images`` made the same way.
LEGACY_DDL = """
CREATE TABLE {table} (
  image_id SERIAL PRIMARY KEY,
  base_filename VARCHAR, data_type VARCHAR, site VARCHAR,
  capture_date TIMESTAMP, sort_date TIMESTAMP,
  right_ascension FLOAT, declination FLOAT, altitude FLOAT, azimuth FLOAT,
  airmass FLOAT, exposure_time FLOAT,
  filter_used VARCHAR, username VARCHAR, user_id VARCHAR, header VARCHAR,
  fits_01_exists BOOLEAN, fits_10_exists BOOLEAN, jpg_medium_exists BOOLEAN, jpg_small_exists BOOLEAN
)
"""

LEGACY_COLUMNS = (
    "base_filename",
    "data_type",
    "site",
    "capture_date",
    "sort_date",
    "right_ascension",
    "declination",
    "altitude",
    "azimuth",
    "airmass",
    "exposure_time",
    "filter_used",
    "username",
    "user_id",
    "header",
    "fits_01_exists",
    "fits_10_exists",
    "jpg_medium_exists",
    "jpg_small_exists",
)
"""Every column but the key, as the handler wrote them."""


def create_legacy_catalog(database_url: str, tables: Sequence[str] = ("images",)) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for table in tables:
            connection.execute(text(LEGACY_DDL.format(table=table)))
    engine.dispose()


def insert_legacy_rows(
    database_url: str, rows: Iterable[Mapping[str, object]], table: str = "images"
) -> None:
    """Insert ``rows`` in order (so ``image_id`` follows it); a column a row leaves out is NULL."""
    values = [{column: row.get(column) for column in LEGACY_COLUMNS} for row in rows]
    if not values:
        return
    names = ", ".join(LEGACY_COLUMNS)
    placeholders = ", ".join(f":{column}" for column in LEGACY_COLUMNS)
    engine = create_engine(database_url)
    with engine.begin() as connection:
        for row in values:
            connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({placeholders})"), row)
    engine.dispose()


def legacy_rows(database_url: str, table: str = "images") -> list[dict[str, Any]]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = [
            dict(row._mapping) for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY image_id"))
        ]
    engine.dispose()
    return rows
