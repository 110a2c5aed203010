"""Adopting the legacy catalog in place (catalog/adoption.py), on PostgreSQL and SQLite.

Each test builds the database the way the old handler left it: the ``images`` table of LEGACY.md
(no unique constraint, no index, NULL flags), written row by row through the serial key, with
duplicate rows of one exposure, right ascensions in hours (before 2023-03-08, from RAHRS) and in
degrees (after, from CRVAL1) beside the headers they came from, jpg-only rows, and rows a fits
fallback wrote with typed JSON header values; and a small ``allsky_images`` of the same shape.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    create_engine,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, MultipleResultsFound

from photon_archive.catalog.adoption import migrate
from photon_archive.catalog.models import Base
from photon_archive.catalog.rows import Contribution
from photon_archive.catalog.schema import AUDIT_TABLE, VERSION_TABLE, include_name, upgrade
from photon_archive.catalog.store import upsert_exposures
from photon_archive.cli import main
from photon_archive.errors import Misconfigured
from photon_archive_tests.legacy_catalog import LEGACY_DDL
from photon_archive_tests.postgres import create_database, drop_database

# LEGACY.md's DDL (legacy_catalog.py) works on SQLite too, which spells the serial key as its rowid alias.
FLAGS = ("fits_01_exists", "fits_10_exists", "jpg_medium_exists", "jpg_small_exists")


def _legacy_table(name: str) -> Table:
    """The table as photonranch-api's own model declares it: the legacy columns, nothing else."""
    return Table(
        name,
        MetaData(),
        Column("image_id", Integer, primary_key=True),
        *(Column(n, String) for n in ("base_filename", "data_type", "site")),
        *(Column(n, DateTime) for n in ("capture_date", "sort_date")),
        *(
            Column(n, Float)
            for n in ("right_ascension", "declination", "altitude", "azimuth", "airmass", "exposure_time")
        ),
        *(Column(n, String) for n in ("filter_used", "username", "user_id", "header")),
        *(Column(flag, Boolean) for flag in FLAGS),
    )


IMAGES, ALLSKY = _legacy_table("images"), _legacy_table("allsky_images")
LEGACY_COLUMNS = tuple(IMAGES.c.keys())

ANA = ("google-oauth2|100237144850212372011", "Ana Duarte")
KOFI = ("auth0|5f3c21a9b6e1d0006f6e2a41", "Kofi Mensah")


def _txt(**cards: object) -> str:
    """A header as the .txt path stored it: every value a string."""
    return json.dumps({key.replace("_", "-"): str(value) for key, value in cards.items()})


def _typed(**cards: object) -> str:
    """A header as the fits fallback stored it: values typed as astropy read them."""
    return json.dumps({key.replace("_", "-"): value for key, value in cards.items()})


def _exposure(
    base: str,
    flags: tuple[bool | None, bool | None, bool | None, bool | None],
    captured: str,
    header: str | None = None,
    ra: float | None = None,
    dec: float | None = None,
    user: tuple[str, str] | None = None,
    **columns: object,
) -> dict[str, Any]:
    site = base.split("-")[0]
    row: dict[str, Any] = {
        "base_filename": base,
        "data_type": "EX",
        "site": site,
        "capture_date": datetime.fromisoformat(captured),
        "sort_date": datetime.fromisoformat(captured),
        "right_ascension": ra,
        "declination": dec,
        "header": header,
        "user_id": user[0] if user else None,
        "username": user[1] if user else None,
    }
    row.update(zip(FLAGS, flags, strict=True))
    row.update(columns)
    return {column: row.get(column) for column in LEGACY_COLUMNS if column != "image_id"}


A, B, C, D = (
    f"sro-kb001ms-{night}-0000000{n}"
    for n, night in enumerate(("20220629", "20230501", "20230601", "20220105"), 1)
)
E, F, G = "sro-kb001ms-20240101-00000005", "sro-kb001ms-20230701-00000006", "sro-kb001ms-20240102-00000007"
H, J = "mrc-sq003ms-20230801-00000008", "mrc-sq003ms-20220301-00000009"
N, Y = None, True
# image_id (the serial hands them out in this order) -> row. Flags are (fits_01, fits_10, jpg_medium,
# jpg_small), None where the legacy handler never set one.
IMAGE_ROWS: dict[int, dict[str, Any]] = dict(
    enumerate(
        [
            # A, 2022: the .txt made a row (RAHRS hours stored) while the jpg made another.
            _exposure(
                A,
                (N, Y, N, N),
                "2022-06-29T03:04:05.500",
                _txt(
                    DATE_OBS="2022-06-29T03:04:05.500",
                    RAHRS=12.5,
                    CRVAL1=187.61,
                    CRVAL2=-12.5,
                    DEC=-12.5,
                    EXPTIME=30,
                    FILTER="rp",
                    ALTITUDE=45.0,
                    AZIMUTH=180.0,
                    AIRMASS=1.41,
                    USERID=ANA[0],
                    USERNAME=ANA[1],
                    SITEID="sro",
                    INSTRUME="kb001ms",
                    SSTKNUM=1,
                ),
                ra=12.5,
                dec=-12.5,
                user=ANA,
                exposure_time=30.0,
                filter_used="rp",
                altitude=45.0,
                azimuth=180.0,
                airmass=1.41,
            ),
            _exposure(A, (N, N, Y, N), "2022-06-29T03:05:10"),
            # B, 2023: three rows; the header's row stored CRVAL1 degrees.
            _exposure(B, (N, N, Y, N), "2023-05-01T05:00:07"),
            _exposure(
                B,
                (Y, N, N, N),
                "2023-05-01T04:59:30",
                _txt(
                    DATE_OBS="2023-05-01T04:59:30",
                    RAHRS=8.25,
                    CRVAL1=123.8,
                    CRVAL2=45.5,
                    DEC=45.49,
                    EXPTIME=60,
                    FILTER="L",
                    USERID=KOFI[0],
                    USERNAME=KOFI[1],
                ),
                ra=123.8,
                dec=45.5,
                user=KOFI,
                exposure_time=60.0,
                filter_used="L",
            ),
            _exposure(B, (N, Y, N, N), "2023-05-01T05:00:02"),
            # C, 2023, one row, degrees, a header with CRVAL1 but no RAHRS.
            _exposure(
                C,
                (Y, Y, Y, Y),
                "2023-06-01T02:10:00",
                _txt(
                    DATE_OBS="2023-06-01T02:10:00",
                    CRVAL1=190.5,
                    CRVAL2=-5.25,
                    EXPTIME=10,
                    FILTER="Ha",
                    USERID=KOFI[0],
                    USERNAME=KOFI[1],
                ),
                ra=190.5,
                dec=-5.25,
                user=KOFI,
                exposure_time=10.0,
                filter_used="Ha",
            ),
            # D, 2022, one row, hours.
            _exposure(
                D,
                (Y, Y, Y, Y),
                "2022-01-05T06:00:00",
                _txt(DATE_OBS="2022-01-05T06:00:00", RAHRS=3.75, DEC=20.0, EXPTIME=5, FILTER="gp"),
                ra=3.75,
                dec=20.0,
                exposure_time=5.0,
                filter_used="gp",
            ),
            # E: a jpg that never had a header.
            _exposure(E, (N, N, Y, N), "2024-01-01T04:00:00"),
            # F: the fits fallback, typed values, CRVAL1 degrees stored.
            _exposure(
                F,
                (Y, N, N, N),
                "2023-07-01T02:00:00",
                _typed(
                    DATE_OBS="2023-07-01T02:00:00",
                    RAHRS=16.5,
                    CRVAL1=247.5,
                    CRVAL2=30.25,
                    EXPTIME=120,
                    FILTER="Ha",
                    ALTITUDE=60.5,
                    AZIMUTH=90.0,
                    AIRMASS=1.15,
                    USERID=ANA[0],
                    USERNAME=ANA[1],
                    SMARTSTK=False,
                    SSTKNUM=3,
                ),
                ra=247.5,
                dec=30.25,
                user=ANA,
                exposure_time=120.0,
                filter_used="Ha",
                altitude=60.5,
                azimuth=90.0,
                airmass=1.15,
            ),
            # G: two header-less rows; the second has the earlier upload time.
            _exposure(G, (N, N, Y, N), "2024-01-02T04:00:05"),
            _exposure(G, (N, Y, N, N), "2024-01-02T04:00:03"),
            # H, another site: a fits fallback's row first, then the .txt's row.
            _exposure(
                H,
                (Y, N, N, N),
                "2023-08-01T03:00:00",
                _typed(
                    DATE_OBS="2023-08-01T03:00:00",
                    RAHRS=20.0,
                    CRVAL1=300.0,
                    CRVAL2=10.0,
                    EXPTIME=30,
                    FILTER="rp",
                ),
                ra=300.0,
                dec=10.0,
                exposure_time=30.0,
                filter_used="rp",
            ),
            _exposure(
                H,
                (N, N, Y, N),
                "2023-08-01T03:00:00.250",
                _txt(
                    DATE_OBS="2023-08-01T03:00:00.250",
                    RAHRS=20.0,
                    CRVAL1=300.1,
                    CRVAL2=10.0,
                    EXPTIME=30,
                    FILTER="rp",
                ),
                ra=300.1,
                dec=10.0,
                exposure_time=30.0,
                filter_used="rp",
            ),
            # J, 2022, flags all set (false, not NULL), hours.
            _exposure(
                J,
                (False, False, Y, False),
                "2022-03-01T05:00:00",
                _txt(DATE_OBS="2022-03-01T05:00:00", RAHRS=7.0, DEC=-30.0, EXPTIME=60, FILTER="w"),
                ra=7.0,
                dec=-30.0,
                exposure_time=60.0,
                filter_used="w",
            ),
        ],
        start=1,
    )
)
SKY = "sro-allsky01-20230901-00000001", "sro-allsky01-20230901-00000002"
ALLSKY_ROWS: dict[int, dict[str, Any]] = dict(
    enumerate(
        [
            _exposure(SKY[0], (N, N, Y, N), "2023-09-01T03:00:05"),
            _exposure(
                SKY[0],
                (N, N, N, N),
                "2023-09-01T03:00:00",
                _txt(DATE_OBS="2023-09-01T03:00:00", RAHRS=1.0, CRVAL1=15.0, CRVAL2=33.0, EXPTIME=5),
                ra=15.0,
                dec=33.0,
                exposure_time=5.0,
            ),
            _exposure(SKY[1], (N, N, Y, N), "2023-09-01T03:10:00"),
        ],
        start=1,
    )
)
# What the fixture implies, exposure by exposure.
SURVIVORS = {A: 1, B: 3, C: 6, D: 7, E: 8, F: 9, G: 10, H: 12, J: 14}
MERGED_INTO = {2: 1, 4: 3, 5: 3, 11: 10, 13: 12}
DEGREE_ROWS = {3: 8.25, 6: 190.5 / 15, 9: 16.5, 12: 20.0}  # survivor -> its header's hours, today's rule

IMAGES_PLAN = [
    "images:",
    "  rows: 14",
    "  duplicate groups (base_filename with more than one row): 4, holding 9 rows; rows to merge away "
    "into adopted_duplicates: 5",
    "  NULL flags (set false): fits_01_exists 8, fits_10_exists 8, jpg_medium_exists 6, jpg_small_exists 11",
    "  right_ascension as the stored header shows it: hours 3, degrees 5, either 0, not shown 6",
    "  rows whose header shows another unit than the configured hours: 5",
    "  rows --recompute-from-headers would change: 4",
    "  columns to add: header_source",
]
ALLSKY_PLAN = [
    "allsky_images:",
    "  rows: 3",
    "  duplicate groups (base_filename with more than one row): 1, holding 2 rows; rows to merge away "
    "into adopted_duplicates: 1",
    "  NULL flags (set false): fits_01_exists 3, fits_10_exists 3, jpg_medium_exists 1, jpg_small_exists 3",
    "  right_ascension as the stored header shows it: hours 0, degrees 1, either 0, not shown 2",
    "  rows whose header shows another unit than the configured hours: 1",
    "  rows --recompute-from-headers would change: 1",
    "  columns to add: header_source",
]
INDEXES = (
    "data_type",
    "site_capture_date",
    "site_jpg_medium_exists_sort_date",
    "site_user_id_jpg_medium_exists_sort_date",
)


def build_legacy_catalog(url: str, allsky: bool = True) -> None:
    """The database as the old handler left it, each row inserted on its own through the serial."""
    engine = create_engine(url)
    ddl = LEGACY_DDL if engine.dialect.name == "postgresql" else LEGACY_DDL.replace("SERIAL", "INTEGER")
    with engine.begin() as connection:
        for table, rows in ((IMAGES, IMAGE_ROWS), (ALLSKY, ALLSKY_ROWS))[: 2 if allsky else 1]:
            connection.execute(text(ddl.format(table=table.name)))
            for image_id, row in rows.items():
                inserted = connection.execute(
                    table.insert().values(row).returning(table.c.image_id)
                ).scalar_one()
                assert inserted == image_id
    engine.dispose()


def snapshot(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in key order."""
    engine = create_engine(url)
    with engine.connect() as connection:
        tables = {}
        for name in sorted(inspect(connection).get_table_names()):
            table = Table(name, MetaData(), autoload_with=connection)
            order = list(table.primary_key.columns) or list(table.c)
            tables[name] = [
                dict(row) for row in connection.execute(select(table).order_by(*order)).mappings()
            ]
    engine.dispose()
    return tables


def schema_of(url: str) -> dict[str, Any]:
    """Tables, columns, constraints and indexes, as the database describes them."""
    engine = create_engine(url)
    inspector = inspect(engine)
    described = {
        name: (
            [
                (c["name"], str(c["type"]), c["nullable"], str(c["default"]))
                for c in inspector.get_columns(name)
            ],
            sorted(str(u["column_names"]) for u in inspector.get_unique_constraints(name)),
            sorted(str(i["name"]) for i in inspector.get_indexes(name)),
        )
        for name in inspector.get_table_names()
    }
    engine.dispose()
    return described


def rows_by_id(url: str, table: str) -> dict[int, dict[str, Any]]:
    return {row["image_id"]: row for row in snapshot(url)[table]}


@pytest.fixture
def legacy_url(catalog_url: str) -> str:
    build_legacy_catalog(catalog_url)
    return catalog_url


@pytest.fixture(params=["postgresql", "sqlite"])
def two_legacy_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two legacy catalogs built alike, on the same kind of database: one per way of adopting."""
    if request.param == "sqlite":
        urls = (f"sqlite:///{tmp_path / 'first.sqlite'}", f"sqlite:///{tmp_path / 'second.sqlite'}")
        for url in urls:
            build_legacy_catalog(url)
        yield urls
        return
    admin: URL = request.getfixturevalue("postgres_admin_url")
    first = str(request.getfixturevalue("postgres_url"))
    name = f"photon_archive_test_{uuid.uuid4().hex[:12]}"
    second = create_database(admin, name).render_as_string(hide_password=False)
    try:
        for url in (first, second):
            build_legacy_catalog(url)
        yield first, second
    finally:
        drop_database(admin, name)


# --------------------------------------------------------------------------------------------------
# the dry run


def test_dry_run_prints_the_plan_with_the_fixtures_figures_and_changes_nothing(legacy_url: str) -> None:
    before, shape = snapshot(legacy_url), schema_of(legacy_url)

    lines = migrate(legacy_url, "hours", dry_run=True)

    printed = "\n".join(lines)
    assert "legacy catalog (images, allsky_images, no version recorded); adoption plan:" in lines[0]
    for expected in (IMAGES_PLAN, ALLSKY_PLAN):
        start = lines.index(expected[0])
        assert lines[start : start + len(expected)] == expected
    assert "  constraints to add: uq_images_base_filename" in lines
    assert "  indexes to add: " + ", ".join(f"ix_images_{suffix}" for suffix in INDEXES) in lines
    assert "  kept as found (not in the models): none" in lines
    for column in FLAGS:
        assert f"{column} (NOT NULL, DEFAULT false)" in printed
    assert "base_filename (NOT NULL)" in printed
    assert "tables to create: object_ledger, object_runs, adopted_duplicates" in lines
    assert f"version {VERSION_TABLE}: to stamp at head 0005" in lines
    assert lines[-1] == "dry run: nothing changed"
    assert snapshot(legacy_url) == before
    assert schema_of(legacy_url) == shape


def test_dry_run_counts_the_rows_in_another_unit_against_the_configured_unit(legacy_url: str) -> None:
    lines = migrate(legacy_url, "degrees", dry_run=True)

    assert "  rows whose header shows another unit than the configured degrees: 3" in lines
    assert "  rows whose header shows another unit than the configured degrees: 0" in lines  # allsky


def test_cli_dry_run_prints_the_plan_from_the_configured_catalog(
    legacy_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PHOTON_ARCHIVE_DATABASE_URL", legacy_url)
    monkeypatch.setenv("PHOTON_ARCHIVE_RIGHT_ASCENSION_UNIT", "degrees")
    before = snapshot(legacy_url)

    assert main(["migrate", "--dry-run"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[1 : 1 + 5] == IMAGES_PLAN[:5]
    assert "  rows whose header shows another unit than the configured degrees: 3" in out
    assert out[-1] == "dry run: nothing changed"
    assert snapshot(legacy_url) == before


def test_dry_run_on_our_own_catalog_says_there_is_nothing_to_adopt(catalog_url: str) -> None:
    upgrade(catalog_url, "0003")

    assert migrate(catalog_url, "hours", dry_run=True)[:2] == [
        f"{catalog_url}: nothing to adopt; the catalog is ours, at revision 0003",
        "migrate would upgrade it to head 0005",
    ]
    assert migrate(catalog_url, "hours")[0] == f"{catalog_url}: nothing to adopt; upgraded from revision 0003"
    assert migrate(catalog_url, "hours", dry_run=True) == [
        f"{catalog_url}: nothing to adopt; the catalog is ours, at head 0005: nothing to do"
    ]


def test_an_empty_database_is_migrated_as_ever(catalog_url: str) -> None:
    assert migrate(catalog_url, "hours", dry_run=True)[0] == (
        f"{catalog_url}: no catalog yet; migrate would create it at head 0005"
    )
    assert not inspect(create_engine(catalog_url)).get_table_names()

    assert migrate(catalog_url, "hours")[-1] == f"catalog at head: {catalog_url}"

    assert {"images", "allsky_images", "object_ledger", VERSION_TABLE} <= set(snapshot(catalog_url))


# --------------------------------------------------------------------------------------------------
# the adoption


def test_adoption_merges_each_duplicate_into_its_lowest_id_and_keeps_every_merged_row_whole(
    legacy_url: str,
) -> None:
    before = {table: rows_by_id(legacy_url, table) for table in ("images", "allsky_images")}

    lines = migrate(legacy_url, "hours")

    assert "adopted in one transaction:" in lines[0]
    assert lines[-1] == f"catalog at head: {legacy_url}"
    images = rows_by_id(legacy_url, "images")
    assert {row["base_filename"]: image_id for image_id, row in images.items()} == SURVIVORS
    audit = snapshot(legacy_url)[AUDIT_TABLE]
    assert {(row["source_table"], row["image_id"]): row["merged_into"] for row in audit} == {
        **{("images", moved): into for moved, into in MERGED_INTO.items()},
        ("allsky_images", 2): 1,
    }
    for row in audit:
        original = before[row["source_table"]][row["image_id"]]
        assert {column: row[column] for column in LEGACY_COLUMNS} == original
        assert isinstance(row["adopted_at"], datetime)
    # A: the header's row survives as it was, with the jpg's flag.
    assert images[1] == before["images"][1] | {
        "fits_01_exists": False,
        "jpg_small_exists": False,
        "jpg_medium_exists": True,
        "header_source": "txt",
    }
    # B: the lowest id survives with the header of the row that had one, and every row's flags.
    assert {
        c: images[3][c] for c in ("capture_date", "right_ascension", "header", "user_id", "header_source")
    } == {
        "capture_date": datetime(2023, 5, 1, 4, 59, 30),
        "right_ascension": 123.8,
        "header": before["images"][4]["header"],
        "user_id": KOFI[0],
        "header_source": "txt",
    }
    assert [images[3][flag] for flag in FLAGS] == [True, True, True, False]
    # G: no header: the earliest upload time of the group, both flags.
    assert (images[10]["capture_date"], images[10]["sort_date"]) == (datetime(2024, 1, 2, 4, 0, 3),) * 2
    assert [images[10][flag] for flag in FLAGS] == [False, True, True, False]
    assert images[10]["header_source"] is None
    # H: the .txt's header wins over the fits fallback's, though its row had the higher id.
    assert images[12]["header"] == before["images"][13]["header"]
    assert images[12]["capture_date"] == datetime(2023, 8, 1, 3, 0, 0, 250000)
    assert images[12]["header_source"] == "txt"
    assert images[9]["header_source"] == "small_fits"  # F: typed values, a fits fallback's
    allsky = rows_by_id(legacy_url, "allsky_images")
    assert sorted(allsky) == [1, 3] and allsky[1]["right_ascension"] == 15.0


def test_rows_without_duplicates_read_as_before_with_null_flags_false(legacy_url: str) -> None:
    before = rows_by_id(legacy_url, "images")

    migrate(legacy_url, "hours")

    after = rows_by_id(legacy_url, "images")
    for image_id in (6, 7, 8, 9, 14):
        expected = {column: before[image_id][column] for column in LEGACY_COLUMNS}
        expected.update({flag: bool(expected[flag]) for flag in FLAGS})
        assert {column: after[image_id][column] for column in LEGACY_COLUMNS} == expected
        assert all(after[image_id][flag] is not None for flag in FLAGS)


def test_adopted_catalog_has_the_models_schema_and_takes_inserts_through_the_store(legacy_url: str) -> None:
    migrate(legacy_url, "hours")

    engine = create_engine(legacy_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "include_name": include_name}
        )
        assert compare_metadata(context, Base.metadata) == []
        assert connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all() == [
            "0005"
        ]
    inspector = inspect(engine)
    for table in ("images", "allsky_images"):
        assert [u["column_names"] for u in inspector.get_unique_constraints(table)] == [["base_filename"]]
        assert {f"ix_{table}_{suffix}" for suffix in INDEXES} <= {
            i["name"] for i in inspector.get_indexes(table)
        }
        columns = {column["name"]: column for column in inspector.get_columns(table)}
        assert not any(columns[flag]["nullable"] for flag in (*FLAGS, "base_filename"))
    assert "object_ledger" in inspector.get_table_names()
    with engine.begin() as connection:
        upsert_exposures(
            connection,
            "images",
            [
                Contribution(
                    "sro-kb001ms-20261124-00000001", "sro", "EX", datetime(2026, 11, 24, 3), "fits_10_exists"
                ),
                Contribution(A, "sro", "EX", datetime(2026, 11, 24, 3), "jpg_small_exists"),
            ],
        )
    images = rows_by_id(legacy_url, "images")
    (new_id,) = set(images) - set(SURVIVORS.values())
    # A fresh id from the serial, above every id the legacy handler gave out (PostgreSQL's ON CONFLICT
    # takes a value of the sequence for A too, so the id is not necessarily the next one).
    assert new_id > max(IMAGE_ROWS)
    assert images[new_id]["base_filename"] == "sro-kb001ms-20261124-00000001"
    assert images[new_id]["fits_10_exists"] and not images[new_id]["jpg_medium_exists"]
    assert images[1]["jpg_small_exists"] and images[1]["jpg_medium_exists"]  # A, upserted onto its survivor
    engine.dispose()


def test_an_adopted_catalog_is_ours_and_a_second_migrate_changes_nothing(legacy_url: str) -> None:
    migrate(legacy_url, "hours")
    adopted, shape = snapshot(legacy_url), schema_of(legacy_url)

    assert migrate(legacy_url, "hours", recompute_from_headers=True) == [
        f"{legacy_url}: nothing to adopt; the catalog is ours, at head 0005: nothing to do"
    ]

    assert snapshot(legacy_url) == adopted
    assert schema_of(legacy_url) == shape


def test_images_alone_are_adopted_and_allsky_images_is_created(catalog_url: str) -> None:
    build_legacy_catalog(catalog_url, allsky=False)

    lines = migrate(catalog_url, "hours")

    assert "tables created: allsky_images, object_ledger, object_runs, adopted_duplicates" in lines
    assert snapshot(catalog_url)["allsky_images"] == []
    assert len(snapshot(catalog_url)["images"]) == len(SURVIVORS)


def test_what_the_models_lack_is_kept_as_found(legacy_url: str) -> None:
    engine = create_engine(legacy_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE INDEX images_username ON images (username)"))
        connection.execute(text("ALTER TABLE images ADD COLUMN reviewed_by VARCHAR"))
        connection.execute(text("UPDATE images SET reviewed_by = 'Mei' WHERE image_id = 4"))
    engine.dispose()

    assert "  kept as found (not in the models): index images_username, column reviewed_by" in (
        migrate(legacy_url, "hours", dry_run=True)
    )
    migrate(legacy_url, "hours")

    assert "images_username" in {
        index["name"] for index in inspect(create_engine(legacy_url)).get_indexes("images")
    }
    assert {row["image_id"]: row["reviewed_by"] for row in snapshot(legacy_url)[AUDIT_TABLE]}[4] == "Mei"
    assert snapshot(legacy_url)["images"][0]["reviewed_by"] is None


def test_recompute_from_headers_turns_the_degree_rows_to_hours_and_changes_nothing_else(
    two_legacy_urls: tuple[str, str],
) -> None:
    plain, recomputed = two_legacy_urls

    migrate(plain, "hours")
    lines = migrate(recomputed, "hours", recompute_from_headers=True)

    assert "  recomputed from headers: 4 rows changed" in lines
    assert "  recomputed from headers: 1 rows changed" in lines  # allsky_images
    left, right = snapshot(plain), snapshot(recomputed)
    for table in (AUDIT_TABLE, "object_ledger", VERSION_TABLE):
        assert _without_adopted_at(right[table]) == _without_adopted_at(left[table])
    changed = {}
    for old, new in zip(left["images"], right["images"], strict=True):
        differs = {column for column in old if old[column] != new[column]}
        if differs:
            changed[old["image_id"]] = (differs, new["right_ascension"])
    assert changed == {image_id: ({"right_ascension"}, hours) for image_id, hours in DEGREE_ROWS.items()}
    assert right["allsky_images"][0]["right_ascension"] == 1.0
    assert right["allsky_images"][1:] == left["allsky_images"][1:]


def _without_adopted_at(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{column: value for column, value in row.items() if column != "adopted_at"} for row in rows]


# --------------------------------------------------------------------------------------------------
# what the readers see


def _latest(table: Table, site: str, user_id: str | None = None) -> Select[Any]:
    filters = [table.c.site == site, table.c.jpg_medium_exists.is_(True)]
    if user_id is not None:
        filters.append(table.c.user_id == user_id)
    return select(table).order_by(table.c.sort_date.desc()).filter(*filters).limit(20)


def _filtered(table: Table, **params: str) -> Select[Any]:
    columns: dict[str, Callable[[str], Any]] = {
        "username": lambda v: table.c.username == v,
        "site": lambda v: table.c.site == v,
        "filter": lambda v: table.c.filter_used == v,
        "exposure_time_min": lambda v: table.c.exposure_time >= v,
        "exposure_time_max": lambda v: table.c.exposure_time <= v,
        "start_date": lambda v: table.c.capture_date >= v,
        "end_date": lambda v: table.c.capture_date <= v,
        "filename": lambda v: table.c.base_filename.like(v),
    }
    filters = [columns[name](value) for name, value in params.items()]
    filters.append(table.c.jpg_medium_exists.is_(True))
    return select(table).order_by(table.c.sort_date.desc()).filter(*filters)


WINDOW = {"start_date": "2022-01-01 00:00:00", "end_date": "2024-12-31 23:59:59"}
# name -> (query, image ids before, image ids after). Where the old handler split an exposure over
# rows, its header's row and its jpg's row each met only part of a filter; the merged row meets it.
READER_QUERIES: dict[str, tuple[Callable[[Table], Select[Any]], list[int], list[int]]] = {
    "latest_images": (lambda t: _latest(t, "sro"), [10, 8, 6, 3, 2, 7], [10, 8, 6, 3, 1, 7]),
    "latest_images_of_a_user": (lambda t: _latest(t, "sro", KOFI[0]), [6], [6, 3]),
    "latest_image_all_sites": (
        lambda t: (
            select(t)
            .filter(t.c.site == "mrc", t.c.jpg_medium_exists == True)  # noqa: E712
            .order_by(t.c.sort_date.desc())
            .limit(1)
        ),
        [13],
        [12],
    ),
    "filtered_site_window": (
        lambda t: _filtered(t, site="sro", **WINDOW),
        [10, 8, 6, 3, 2, 7],
        [10, 8, 6, 3, 1, 7],
    ),
    "filtered_filter": (lambda t: _filtered(t, site="sro", filter="rp", **WINDOW), [], [1]),
    "filtered_exposure_time": (
        lambda t: _filtered(t, site="mrc", exposure_time_min="10", exposure_time_max="120", **WINDOW),
        [13, 14],
        [12, 14],
    ),
    "filtered_filename": (lambda t: _filtered(t, filename="sro-kb001ms-2023%", **WINDOW), [6, 3], [6, 3]),
}


def _ids(url: str, query: Select[Any]) -> list[int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        ids = [row.image_id for row in connection.execute(query)]
    engine.dispose()
    return ids


def test_reader_queries_return_the_same_exposures_before_and_after_less_the_duplicates(
    legacy_url: str,
) -> None:
    before = {name: _ids(legacy_url, build(IMAGES)) for name, (build, _, _) in READER_QUERIES.items()}
    engine = create_engine(legacy_url)
    with engine.connect() as connection, pytest.raises(MultipleResultsFound):
        connection.execute(select(IMAGES).filter(IMAGES.c.base_filename == A)).one()  # the API's 404
    engine.dispose()

    migrate(legacy_url, "hours")

    after = {name: _ids(legacy_url, build(IMAGES)) for name, (build, _, _) in READER_QUERIES.items()}
    assert before == {name: ids for name, (_, ids, _) in READER_QUERIES.items()}
    assert after == {name: ids for name, (_, _, ids) in READER_QUERIES.items()}
    for name in before:  # each exposure once, under its surviving id, and none lost
        assert {MERGED_INTO.get(i, i) for i in before[name]} <= set(after[name])
    engine = create_engine(legacy_url)
    with engine.connect() as connection:
        assert connection.execute(select(IMAGES).filter(IMAGES.c.base_filename == A)).one().image_id == 1
        header = connection.execute(select(IMAGES.c.header).filter(IMAGES.c.base_filename == D)).scalar_one()
        assert json.loads(header)["DATE-OBS"] == "2022-01-05T06:00:00"
    engine.dispose()


# --------------------------------------------------------------------------------------------------
# what is refused


def test_a_version_table_with_an_unknown_revision_is_refused_naming_it(catalog_url: str) -> None:
    upgrade(catalog_url)
    engine = create_engine(catalog_url)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'f00dfeed'"))
    engine.dispose()
    before = snapshot(catalog_url)

    for dry_run in (True, False):
        with pytest.raises(Misconfigured, match=f"{VERSION_TABLE} names revision f00dfeed"):
            migrate(catalog_url, "hours", dry_run=dry_run)

    assert snapshot(catalog_url) == before


def test_a_version_table_with_two_revisions_is_refused(catalog_url: str) -> None:
    upgrade(catalog_url)
    engine = create_engine(catalog_url)
    with engine.begin() as connection:
        connection.execute(text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES ('0003')"))
    engine.dispose()
    before = snapshot(catalog_url)

    with pytest.raises(Misconfigured, match="names several revisions"):
        migrate(catalog_url, "hours")

    assert snapshot(catalog_url) == before


def test_a_legacy_table_lacking_reader_columns_is_refused_naming_them(
    catalog_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(catalog_url)
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE images (image_id INTEGER PRIMARY KEY, base_filename VARCHAR, site VARCHAR)")
        )
        connection.execute(text("INSERT INTO images (image_id, base_filename) VALUES (1, 'x'), (2, 'x')"))
    engine.dispose()
    before, shape = snapshot(catalog_url), schema_of(catalog_url)
    monkeypatch.setenv("PHOTON_ARCHIVE_DATABASE_URL", catalog_url)

    assert main(["migrate"]) == 2

    said = capsys.readouterr().err
    assert "images lacks the columns capture_date, sort_date, right_ascension" in said
    assert "jpg_small_exists, data_type, which the readers need" in said
    assert "header_source" not in said
    assert snapshot(catalog_url) == before and schema_of(catalog_url) == shape


def test_legacy_rows_without_a_base_filename_are_refused_counting_them(legacy_url: str) -> None:
    engine = create_engine(legacy_url)
    with engine.begin() as connection:
        connection.execute(IMAGES.insert().values(site="sro"))
    engine.dispose()
    before = snapshot(legacy_url)

    with pytest.raises(Misconfigured, match="1 rows of images have no base_filename"):
        migrate(legacy_url, "hours")

    assert snapshot(legacy_url) == before


def test_a_failure_part_way_leaves_the_legacy_catalog_as_it_was(legacy_url: str) -> None:
    # A trigger of the database's own refuses the survivors' update, after the audit table is made
    # and filled: the whole adoption must roll back.
    engine = create_engine(legacy_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ "
                    "LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text("CREATE TRIGGER refuse BEFORE UPDATE ON images FOR EACH ROW EXECUTE FUNCTION refuse()")
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE UPDATE ON images BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
    engine.dispose()
    before, shape = snapshot(legacy_url), schema_of(legacy_url)

    with pytest.raises(DBAPIError, match="refused"):
        migrate(legacy_url, "hours")

    assert snapshot(legacy_url) == before
    assert schema_of(legacy_url) == shape
