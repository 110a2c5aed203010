"""Every query the catalog's readers send is answered from an index (SPEC §3, LEGACY.md "What the
readers do"), checked with EXPLAIN on PostgreSQL over a catalog of realistic size.

The statements are built the way photonranch-api builds them: SQLAlchemy filters on the model's
columns, values as the HTTP request carries them (strings), ``jpg_medium_exists.is_(True)`` in the
listings (``IS true``) and ``== True`` in the all-sites query (``= true``), which PostgreSQL treats
as different predicates when matching a partial index. Values are bound client-side by psycopg2, as for the
API, so the planner sees the constants.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, Select, create_engine, select, text
from sqlalchemy.engine import URL

from photon_archive.catalog.models import AllskyImage, ExposureColumns, Image
from photon_archive.catalog.schema import upgrade
from photon_archive_tests.postgres import create_database, drop_database

ROWS_PER_TABLE = 200_000

# Busy sites first: a site's share of the exposures falls with its position (see FILL).
SITES = ["sro", "mrc", "saf", "aro", "eco", "mrc2", "tst", "cvo", "dht", "ecx", "wmd", "fat", "lcs", "bpl"]
INSTRUMENTS = ["sq003ms", "kb001ms", "ec002cs", "zs004ms"]
FILTERS = ["w", "up", "gp", "rp", "ip", "zs", "Ha", "O3", "S2", "air"]
EXPOSURE_TIMES = [0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 180.0, 300.0]
# (user_id, username): Auth0 subjects as the frontend sends them; the first observers are the busiest.
OBSERVERS = [
    ("google-oauth2|100237144850212372011", "Ana Duarte"),
    ("google-oauth2|104431295562219810237", "Kofi Mensah"),
    ("auth0|5f3c21a9b6e1d0006f6e2a41", "Mei Tanaka"),
    ("auth0|60a7d2e3c4b5a60070b1c3d2", "Jonas Berg"),
    ("google-oauth2|117805522318044930126", "Priya Nair"),
    ("auth0|61b8e4f5a6c7d80068d2e4f3", "Guest Observer"),
]

# Nights over four years (exposures between 01:00 and 11:00 UTC), sites and observers skewed, 95% of
# exposures with their medium jpg, a header of the usual keywords; sort_date follows capture_date.
COLUMNS = """
    base_filename, data_type, site, capture_date, sort_date, right_ascension, declination, altitude,
    azimuth, airmass, exposure_time, filter_used, user_id, username, header, header_source,
    fits_01_exists, fits_10_exists, jpg_medium_exists, jpg_small_exists
"""
FILL = """
INSERT INTO images ({columns})
SELECT
    name,
    'EX', site, captured, captured + interval '2 seconds', ra, dec, alt, az, 1 / sin(radians(alt)),
    exposure, filter, user_id, username,
    format(
        '{"SITEID": "%s", "INSTRUME": "%s", "DATE-OBS": "%s", "DAY-OBS": "%s", "ORIGNAME": "%s-EX00.fits", '
        '"EXPTIME": "%s", "FILTER": "%s", "USERNAME": "%s", "USERID": "%s", "RA": "%s", "DEC": "%s", '
        '"SMARTSTK": "no"}',
        site, instrument, replace(captured::text, ' ', 'T'), night, name, exposure, filter, username,
        user_id, ra, dec
    ),
    'txt', random() < 0.8, true, has_jpg, has_jpg
FROM (
    SELECT
        g,
        sites[1 + floor(power(random(), 1.6) * cardinality(sites))::int] AS site,
        instruments[1 + floor(random() * cardinality(instruments))::int] AS instrument,
        timestamp '2022-01-01 01:00' + floor(random() * 1461) * interval '1 day'
            + random() * interval '10 hours' AS captured,
        exposure_times[1 + floor(random() * cardinality(exposure_times))::int] AS exposure,
        filters[1 + floor(random() * cardinality(filters))::int] AS filter,
        user_ids[1 + floor(power(random(), 2) * cardinality(user_ids))::int] AS user_id,
        random() * 24 AS ra, random() * 150 - 60 AS dec, 20 + random() * 70 AS alt, random() * 360 AS az,
        random() < 0.95 AS has_jpg
    FROM generate_series(1, :rows) AS g,
        (
            SELECT CAST(:sites AS text[]) AS sites, CAST(:instruments AS text[]) AS instruments,
                   CAST(:exposure_times AS float[]) AS exposure_times, CAST(:filters AS text[]) AS filters,
                   CAST(:user_ids AS text[]) AS user_ids
        ) AS choices
) AS exposure
CROSS JOIN LATERAL (
    SELECT to_char(captured - interval '12 hours', 'YYYYMMDD') AS night
) AS day
CROSS JOIN LATERAL (
    SELECT format('%s-%s-%s-%s', site, instrument, night, lpad(g::text, 8, '0')) AS name
) AS named
JOIN (SELECT unnest(CAST(:user_ids AS text[])) AS user_id, unnest(CAST(:usernames AS text[])) AS username)
    AS observer USING (user_id)
""".replace("{columns}", COLUMNS)

# What the requests carry: a mid-sized site, one of its observers, the frontend's noon-to-noon window
# (UTC, formatted as moment's 'YYYY-MM-DD HH:mm:ss') around a night in the middle of the data.
SITE = "eco"
USER_ID, USERNAME = OBSERVERS[1]
NIGHT_START, NIGHT_END = "2024-03-14 19:00:00", "2024-03-15 19:00:00"
BASE_FILENAME = f"{SITE}-kb001ms-20240314-00104242"

Model = type[ExposureColumns]


def _latest(model: Model, **extra: str) -> Select[Any]:
    """GET /{site}/latest_images/{n}[?userid=]: the site's newest exposures that have a jpg."""
    filters = [model.site == SITE, model.jpg_medium_exists.is_(True)]
    if "user_id" in extra:
        filters.append(model.user_id == extra["user_id"])
    return select(model).order_by(model.sort_date.desc()).filter(*filters).limit(20)


def _latest_of_every_site(model: Model) -> Select[Any]:
    """GET /latest_image_all_sites: one query per configured site, written with ``== True``."""
    return (
        select(model)
        .filter(model.site == SITE)
        .filter(model.jpg_medium_exists == True)  # noqa: E712 - the reader's own predicate, "= true"
        .order_by(model.sort_date.desc())
        .limit(1)
    )


def _filtered(model: Model, **params: str) -> Select[Any]:
    """GET /filtered_images?...: each query-string parameter given becomes one filter."""
    columns = {
        "username": lambda v: model.username == v,
        "user_id": lambda v: model.user_id == v,
        "site": lambda v: model.site == v,
        "filter": lambda v: model.filter_used == v,
        "exposure_time_min": lambda v: model.exposure_time >= v,
        "exposure_time_max": lambda v: model.exposure_time <= v,
        "start_date": lambda v: model.capture_date >= v,
        "end_date": lambda v: model.capture_date <= v,
        "filename": lambda v: model.base_filename.like(v),
    }
    filters = [columns[name](value) for name, value in params.items()]
    filters.append(model.jpg_medium_exists.is_(True))
    return select(model).order_by(model.sort_date.desc()).filter(*filters)


def _site_night(model: Model, **params: str) -> Select[Any]:
    """The frontend's query on every site load: the site's images of the latest night."""
    return _filtered(model, site=SITE, start_date=NIGHT_START, end_date=NIGHT_END, **params)


@dataclass(frozen=True)
class ReaderQuery:
    name: str
    build: Callable[[Model], Select[Any]]


READER_QUERIES = [
    ReaderQuery("latest_images", _latest),
    ReaderQuery("latest_images_of_a_user", lambda m: _latest(m, user_id=USER_ID)),
    ReaderQuery("latest_image_all_sites", _latest_of_every_site),
    ReaderQuery("filtered_site_night", _site_night),
    ReaderQuery("filtered_site_night_user_id", lambda m: _site_night(m, user_id=USER_ID)),
    ReaderQuery("filtered_site_night_username", lambda m: _site_night(m, username=USERNAME)),
    ReaderQuery("filtered_site_night_filter", lambda m: _site_night(m, filter="Ha")),
    ReaderQuery(
        "filtered_site_night_exposure_time",
        lambda m: _site_night(m, exposure_time_min="10", exposure_time_max="120"),
    ),
    ReaderQuery("filtered_site_night_filename", lambda m: _site_night(m, filename=f"{SITE}-kb001ms-%")),
    ReaderQuery(
        "filtered_site_night_every_filter",
        lambda m: _site_night(
            m,
            username=USERNAME,
            user_id=USER_ID,
            filter="rp",
            exposure_time_min="1",
            exposure_time_max="300",
            filename="%-00010%",
        ),
    ),
    ReaderQuery(
        "image_by_filename",
        lambda m: select(m).filter(m.base_filename == BASE_FILENAME, m.jpg_medium_exists.is_(True)),
    ),
    ReaderQuery("header_by_filename", lambda m: select(m.header).filter(m.base_filename == BASE_FILENAME)),
    # The download endpoint's files of a site within a date range: the same window, no jpg condition,
    # a fits flag instead, the bounds as datetimes made from the request's timestamps.
    ReaderQuery(
        "files_within_date_range",
        lambda m: select(m).filter(
            m.site == SITE,
            m.capture_date >= datetime.fromisoformat(NIGHT_START),
            m.capture_date <= datetime.fromisoformat(NIGHT_END),
            m.fits_10_exists.is_(True),
        ),
    ),
]

FIRST_REVISION = "0001"  # the one that creates images and allsky_images
INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


@pytest.fixture(scope="module")
def filled_catalog(postgres_admin_url: URL) -> Iterator[Engine]:
    """One catalog for the whole module, both exposure tables filled, migrated and analyzed.

    The rows go in at the first revision and the later migrations run over them, as they do over
    production's years of rows.
    """
    name = f"photon_archive_test_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_admin_url, name).render_as_string(hide_password=False)
    try:
        upgrade(url, FIRST_REVISION)
        engine = create_engine(url)
        params = {
            "rows": ROWS_PER_TABLE,
            "sites": SITES,
            "instruments": INSTRUMENTS,
            "filters": FILTERS,
            "exposure_times": EXPOSURE_TIMES,
            "user_ids": [user_id for user_id, _ in OBSERVERS],
            "usernames": [username for _, username in OBSERVERS],
        }
        with engine.begin() as connection:
            # Unlogged: no WAL for 400,000 throwaway rows on a shared server. Plans do not change.
            connection.execute(text("ALTER TABLE images SET UNLOGGED"))
            connection.execute(text("ALTER TABLE allsky_images SET UNLOGGED"))
            connection.execute(text("SELECT setseed(0.2024)"))
            connection.execute(text(FILL), params)
            # Both tables have the same indexes and are asked the same queries: one set of rows.
            connection.execute(text(f"INSERT INTO allsky_images ({COLUMNS}) SELECT {COLUMNS} FROM images"))
        upgrade(url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE images, allsky_images"))
            for table in ("images", "allsky_images"):
                rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                assert rows == ROWS_PER_TABLE, f"{table} holds {rows} rows"
        yield engine
        engine.dispose()
    finally:
        drop_database(postgres_admin_url, name)


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.parametrize("model", [Image, AllskyImage], ids=lambda m: m.__tablename__)
@pytest.mark.parametrize("query", READER_QUERIES, ids=lambda q: q.name)
def test_reader_query_is_answered_from_an_index(
    filled_catalog: Engine, query: ReaderQuery, model: Model
) -> None:
    table = model.__tablename__  # type: ignore[attr-defined]
    compiled = query.build(model).compile(dialect=filled_catalog.dialect)
    with filled_catalog.connect() as connection:
        indexes = set(
            connection.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = :table"), {"table": table}
            ).scalars()
        )
        shown = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars().all()
        # psycopg2 parses the JSON plan: a list of one {"Plan": ...}.
        plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar_one()
    print(f"\n{query.name} on {table}:\n" + "\n".join(shown))
    nodes = list(_plan_nodes(plan[0]["Plan"]))
    seq_scans = [node for node in nodes if node["Node Type"] == "Seq Scan"]
    assert not seq_scans, f"{query.name} reads {table} sequentially"
    used = {node["Index Name"] for node in nodes if node["Node Type"] in INDEX_NODES}
    assert used & indexes, f"{query.name} uses no index of {table}"
