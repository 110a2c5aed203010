"""Reading the catalogs for the comparison, on real PostgreSQL (and SQLite for ours): read-only
transactions, code-point order whatever the column's collation, and the selection by name."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, create_engine, insert, text
from sqlalchemy.exc import DBAPIError

from photon_archive.catalog.comparison import Selection
from photon_archive.catalog.engine import engine_for
from photon_archive.catalog.side_by_side import legacy_table, ordered_rows, read_only
from photon_archive.catalog.store import EXPOSURE_TABLES
from photon_archive_tests.legacy_catalog import create_legacy_catalog, insert_legacy_rows, legacy_rows


def test_a_legacy_read_cannot_write_even_if_asked_to(legacy_database_url: str) -> None:
    create_legacy_catalog(legacy_database_url)
    with (
        read_only(engine_for(legacy_database_url)) as connection,
        pytest.raises(DBAPIError, match="cannot execute INSERT in a read-only transaction"),
    ):
        connection.execute(
            text("INSERT INTO images (base_filename) VALUES ('sro-kb001ms-20261124-00000001')")
        )
    assert legacy_rows(legacy_database_url) == []


NAMES = ["sroa-kb-20261124-1", "sro_kb-20261124-1", "sro-kb-20261124-1", "Sro-kb-20261124-1"]


def reordering_collation(connection: Connection) -> str | None:
    """A collation of this server that orders ``NAMES`` otherwise than by code point: ICU's root
    locale when the server has ICU, else any locale the machine gave it; None on a server that has
    neither (one built without ICU, on a machine with no locales but C)."""
    candidates = connection.execute(
        text(
            "SELECT collname FROM pg_collation"
            " WHERE collencoding IN (-1, pg_char_to_encoding('UTF8'))"
            " ORDER BY collname <> 'und-x-icu', collname"
        )
    ).scalars()
    values = ", ".join(f"('{name}')" for name in NAMES)
    for collation in list(candidates):
        try:
            with connection.begin_nested():  # a server built without ICU still lists ICU's collations
                ordered = connection.execute(
                    text(f'SELECT n FROM (VALUES {values}) AS v(n) ORDER BY n COLLATE "{collation}"')
                ).scalars()
                if list(ordered) != sorted(NAMES):
                    return str(collation)
        except DBAPIError:
            continue
    return None


def test_legacy_rows_come_in_code_point_order_whatever_the_collation_of_the_column(
    legacy_database_url: str,
) -> None:
    create_legacy_catalog(legacy_database_url)
    engine = create_engine(legacy_database_url)
    with engine.begin() as connection:  # a locale's collation orders case and punctuation its own way
        collation = reordering_collation(connection)
        if collation is None:
            pytest.skip(
                f"the server at {engine.url.render_as_string(hide_password=True)} has no collation"
                " that orders names otherwise than by code point (no ICU, no locale but C), so no"
                " column can be made to"
            )
        connection.execute(
            text(f'ALTER TABLE images ALTER COLUMN base_filename TYPE varchar COLLATE "{collation}"')
        )
    engine.dispose()
    names = [*NAMES, None]
    insert_legacy_rows(legacy_database_url, [{"base_filename": n, "site": "first"} for n in names])
    insert_legacy_rows(legacy_database_url, [{"base_filename": "sro-kb-20261124-1", "site": "second"}])

    with read_only(engine_for(legacy_database_url)) as connection:
        table = legacy_table(connection, "images")
        assert table is not None
        rows = list(ordered_rows(connection, table, ["site"], Selection()))

    assert [row["base_filename"] for row in rows] == [
        None,
        "Sro-kb-20261124-1",
        "sro-kb-20261124-1",
        "sro-kb-20261124-1",
        "sro_kb-20261124-1",
        "sroa-kb-20261124-1",
    ]
    assert [row["site"] for row in rows[2:4]] == ["first", "second"]  # duplicates by image_id


def test_a_selection_by_site_and_nights_reads_only_those_names(migrated_catalog_url: str) -> None:
    names = [
        "sro-kb001ms-20261123-00000001",
        "sro-kb001ms-20261124-00000002",
        "sro-sq01-20261125-00000003",
        "sro-kb001ms-20261126-00000004",
        "sroa-kb001ms-20261124-00000005",
        "saf-kb001ms-20261124-00000006",
        "s_o-kb001ms-20261124-00000007",  # LIKE's wildcard in a name is not a wildcard here
    ]
    table = EXPOSURE_TABLES["images"]
    engine = engine_for(migrated_catalog_url)
    with engine.begin() as connection:
        connection.execute(insert(table), [{"base_filename": name, "site": name[:3]} for name in names])

    def selected(selection: Selection) -> list[str]:
        with read_only(engine) as connection:
            return [str(row["base_filename"]) for row in ordered_rows(connection, table, ["site"], selection)]

    nights = Selection.parse("sro", "2026-11-24", "2026-11-25")
    assert selected(nights) == ["sro-kb001ms-20261124-00000002", "sro-sq01-20261125-00000003"]
    assert selected(Selection.parse(last_night="2026-11-23")) == ["sro-kb001ms-20261123-00000001"]
    assert selected(Selection.parse("sro")) == sorted(names[:4])
    assert selected(Selection()) == sorted(names)
