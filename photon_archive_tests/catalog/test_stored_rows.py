"""What an exposure's row already holds, as the baseline reads it, on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from photon_archive.catalog.store import stored_rows
from photon_archive.records import StoredRow

FIRST, SECOND, THIRD, ABSENT = (f"sro-kb001ms-20220629-0000000{n}" for n in (1, 2, 3, 4))


@pytest.mark.parametrize("table", ["images", "allsky_images"])
def test_a_flag_counts_when_true_and_a_header_when_there_is_one(
    migrated_catalog_url: str, table: str
) -> None:
    engine = create_engine(migrated_catalog_url)
    insert = text(
        f"INSERT INTO {table} (base_filename, site, header, fits_01_exists, jpg_medium_exists, "
        "jpg_small_exists) VALUES (:b, 'sro', :h, :f, :m, :s)"
    )
    with engine.begin() as connection:
        connection.execute(
            insert,
            [
                {"b": FIRST, "h": '{"SITE": "sro"}', "f": True, "m": False, "s": False},
                {"b": SECOND, "h": "", "f": False, "m": True, "s": True},
                {"b": THIRD, "h": None, "f": False, "m": False, "s": False},
            ],
        )
        stored = stored_rows(connection, table, [FIRST, SECOND, THIRD, ABSENT])
    engine.dispose()

    assert stored == {
        FIRST: StoredRow(frozenset({"fits_01_exists"}), has_header=True),
        SECOND: StoredRow(frozenset({"jpg_medium_exists", "jpg_small_exists"}), has_header=False),
        THIRD: StoredRow(frozenset(), has_header=False),
    }
