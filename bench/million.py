"""A million rows: catalog and ledger sizes, and every query the sensors and readers send, timed.

A fresh PostgreSQL catalog, migrated to head, gets 1,000,000 ``images`` rows (50 sites, four years
of nights, a 2-4 KB JSON header each, flags as the ingest sets them), 1,000,000 ``object_ledger``
rows (200,000 exposures of five objects, 20 nights of a 50-site network, a few runs' objects still
``queued``) and one ``object_runs`` row per ingested object. The rows are made by the server
(``INSERT ... SELECT generate_series``) into unlogged tables with their secondary indexes dropped
and then rebuilt, so the fill takes seconds rather than the hours of a real ingest; sizes and plans
are those of the logged tables, which hold the same pages.

Then, after ``ANALYZE``: the size of each table and index and the bytes per row; the median time of
the ledger lookups as ``catalog/store.py`` and ``catalog/whereabouts.py`` send them and of the
readers' queries as ``photon_archive_tests/catalog/test_reader_queries.py`` writes them (LEGACY.md),
each with the plan nodes of one ``EXPLAIN (ANALYZE, BUFFERS)`` to show which index answered; and
what pruning the ledger costs: deleting the oldest nights' rows in batches through the
``updated_at`` index, and the history's through its primary key.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from bench.common import Figure, busy_warning
from photon_archive.catalog import store
from photon_archive.catalog.models import Image
from photon_archive.catalog.schema import upgrade
from photon_archive.catalog.whereabouts import prefix_end, whereabouts
from photon_archive_tests.catalog.test_reader_queries import (
    BASE_FILENAME,
    EXPOSURE_TIMES,
    FILTERS,
    INSTRUMENTS,
    OBSERVERS,
    READER_QUERIES,
)
from photon_archive_tests.catalog.test_reader_queries import SITES as READER_SITES
from photon_archive_tests.postgres import create_database, drop_database

ROWS = 1_000_000
OBJECTS_PER_EXPOSURE = 5  # .txt, EX01.fits.bz2, EX10.fits.fz, EX10.jpg and the EX11.jpg thumbnail
SUFFIXES = ["-EX00.txt", "-EX01.fits.bz2", "-EX10.fits.fz", "-EX10.jpg", "-EX11.jpg"]
# The readers' sites (their queries ask for one of them) and as many more to make a 50-site network.
SITES = READER_SITES + [f"ob{n:02d}" for n in range(len(READER_SITES) + 1, 51)]
LEDGER_NIGHTS = 20
LEDGER_FIRST_NIGHT = datetime(2024, 3, 1)
QUEUED_RUNS = 4  # runs whose objects are still queued: what the sensors' re-request queries find
BATCH = 500  # PHOTON_ARCHIVE_MAX_OBJECTS_PER_RUN's default: a run's objects, a sensor's lookup
PRUNE_BATCH = 10_000
PRUNE_BATCHES = 5
TABLES = ("images", "object_ledger", "object_runs")

# Four years of nights (exposures between 01:00 and 11:00 UTC), one row per exposure, a header of
# 30-50 cards of varied text as a real one has, 95 % with their jpg.
FILL_IMAGES = """
INSERT INTO images (
    base_filename, data_type, site, capture_date, sort_date, right_ascension, declination, altitude,
    azimuth, airmass, exposure_time, filter_used, user_id, username, header, header_source,
    fits_01_exists, fits_10_exists, jpg_medium_exists, jpg_small_exists
)
SELECT
    format('%s-%s-%s-%s', site, instrument, to_char(captured - interval '12 hours', 'YYYYMMDD'),
           lpad(g::text, 8, '0')),
    'EX', site, captured, captured + interval '2 seconds', ra, dec, alt, az, 1 / sin(radians(alt)),
    exposure, filter, user_id, username,
    format('{"SITEID": "%s", "INSTRUME": "%s", "DATE-OBS": "%s", "EXPTIME": "%s", "FILTER": "%s", '
           '"USERID": "%s", "RA": "%s", "DEC": "%s", %s}',
           site, instrument, captured, exposure, filter, user_id, ra, dec, cards),
    'txt', random() < 0.8, true, has_jpg, has_jpg
FROM (
    SELECT
        g,
        sites[1 + g % cardinality(sites)] AS site,
        instruments[1 + (g / cardinality(sites)) % cardinality(instruments)] AS instrument,
        timestamp '2022-01-01 01:00' + floor(random() * 1461) * interval '1 day'
            + random() * interval '10 hours' AS captured,
        exposure_times[1 + floor(random() * cardinality(exposure_times))::int] AS exposure,
        filters[1 + floor(random() * cardinality(filters))::int] AS filter,
        user_ids[1 + floor(random() * cardinality(user_ids))::int] AS user_id,
        random() * 24 AS ra, random() * 150 - 60 AS dec, 20 + random() * 70 AS alt, random() * 360 AS az,
        random() < 0.95 AS has_jpg
    FROM generate_series(1, :rows) AS g,
        (SELECT CAST(:sites AS text[]) AS sites, CAST(:instruments AS text[]) AS instruments,
                CAST(:exposure_times AS float[]) AS exposure_times, CAST(:filters AS text[]) AS filters,
                CAST(:user_ids AS text[]) AS user_ids) AS choices
) AS exposure
JOIN (SELECT unnest(CAST(:user_ids AS text[])) AS user_id, unnest(CAST(:usernames AS text[])) AS username)
    AS observer USING (user_id)
CROSS JOIN LATERAL (
    SELECT string_agg(format('"CARD%s": "%s / %s"', i, md5(g::text || i), left(md5(i::text), 20 + g % 17)),
                      ', ') AS cards
    FROM generate_series(1, 30 + g % 21) AS i
) AS header_cards
"""

# 20 nights of the network, 10,000 exposures a night (200 a site), five objects each; a run per
# 100 exposures (500 objects) as the sensors request them; the newest runs' objects still queued.
FILL_LEDGER = """
INSERT INTO object_ledger (
    key, etag, size, last_modified, prefix, base_filename, state, reason, run_id, run_key,
    first_seen_at, updated_at
)
SELECT
    'data/' || base || suffix, md5(base || suffix), 200000 + (g * 7919) % 60000000, at, 'data', base,
    CASE WHEN queued THEN 'queued' ELSE 'ingested' END, NULL,
    CASE WHEN queued THEN NULL ELSE md5('run' || (g / 100)::text) || '-0000' END,
    'data-' || md5('key' || (g / 100)::text) || '-' || lpad((g / 100)::text, 20, '0'),
    at + interval '2 seconds', at + interval '20 seconds'
FROM (
    SELECT
        g,
        format('%s-%s-%s-%s', sites[1 + g % cardinality(sites)],
               instruments[1 + (g % cardinality(sites)) % cardinality(instruments)],
               to_char(CAST(:first_night AS timestamp) + night * interval '1 day', 'YYYYMMDD'),
               lpad(g::text, 8, '0')) AS base,
        CAST(:first_night AS timestamp) + night * interval '1 day' + interval '13 hours'
            + (g % :per_night) * interval '3.6 seconds' AS at,
        g > :exposures - :queued_exposures AS queued
    FROM generate_series(1, :exposures) AS g
    CROSS JOIN LATERAL (SELECT (g - 1) / :per_night AS night) AS n,
        (SELECT CAST(:sites AS text[]) AS sites, CAST(:instruments AS text[]) AS instruments) AS choices
) AS exposure
CROSS JOIN unnest(CAST(:suffixes AS text[])) AS suffix
"""

# One history row for every object a run has handled, in the order the runs recorded them.
FILL_HISTORY = """
INSERT INTO object_runs (key, run_id, state, reason, etag, recorded_at)
SELECT key, run_id, state, reason, etag, updated_at FROM object_ledger
WHERE run_id IS NOT NULL ORDER BY updated_at, key
"""

# Pruning: the oldest objects a run has finished with, a batch at a time, through the updated_at index.
# ``= ANY(ARRAY(...))`` rather than ``IN (...)``: the planner joins an IN subquery by hashing it
# against a sequential scan of the whole table; an array is looked up key by key in the primary key.
PRUNE_LEDGER = """
DELETE FROM object_ledger WHERE key = ANY(ARRAY(
    SELECT key FROM object_ledger
    WHERE updated_at < :cutoff AND state <> 'queued'
    ORDER BY updated_at LIMIT :batch
))
"""
# The history is appended in time order: its primary key is its age, so a batch is a range of it.
PRUNE_HISTORY = """
DELETE FROM object_runs WHERE entry_id >= :first AND entry_id < :first + :batch
"""


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--million-repeats",
        type=int,
        default=7,
        help="times each query is run for its median (default 7)",
    )


@contextmanager
def filled_catalog(postgres_url: str) -> Iterator[Engine]:
    admin_url = make_url(postgres_url)
    name = f"photon_archive_bench_{uuid.uuid4().hex[:12]}"
    url = create_database(admin_url, name).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        upgrade(url)
        began = time.perf_counter()
        fill(engine)
        print(f"filled and analyzed in {time.perf_counter() - began:.1f} s", flush=True)
        yield engine
    finally:
        engine.dispose()
        drop_database(admin_url, name)


def fill(engine: Engine) -> None:
    exposures = ROWS // OBJECTS_PER_EXPOSURE
    users = [user_id for user_id, _ in OBSERVERS]
    with engine.begin() as connection:
        indexes = _secondary_indexes(connection)
        for table in TABLES:
            connection.execute(text(f"ALTER TABLE {table} SET UNLOGGED"))
        for index_name in indexes:
            connection.execute(text(f'DROP INDEX "{index_name}"'))
        connection.execute(text("SELECT setseed(0.2024)"))
        connection.execute(
            text(FILL_IMAGES),
            {
                "rows": ROWS,
                "sites": SITES,
                "instruments": INSTRUMENTS,
                "filters": FILTERS,
                "exposure_times": EXPOSURE_TIMES,
                "user_ids": users,
                "usernames": [username for _, username in OBSERVERS],
            },
        )
        # The readers' one-file query names an exposure of the reader's site: make it one.
        connection.execute(
            text(
                "UPDATE images SET base_filename = :name WHERE image_id = "
                "(SELECT min(image_id) FROM images WHERE site = :site)"
            ),
            {"name": BASE_FILENAME, "site": BASE_FILENAME.split("-")[0]},
        )
        connection.execute(
            text(FILL_LEDGER),
            {
                "exposures": exposures,
                "per_night": exposures // LEDGER_NIGHTS,
                "queued_exposures": QUEUED_RUNS * BATCH // OBJECTS_PER_EXPOSURE,
                "first_night": LEDGER_FIRST_NIGHT,
                "sites": SITES,
                "instruments": INSTRUMENTS,
                "suffixes": SUFFIXES,
            },
        )
        connection.execute(text(FILL_HISTORY))
        for definition in indexes.values():
            connection.execute(text(definition))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"VACUUM ANALYZE {', '.join(TABLES)}"))


def _secondary_indexes(connection: Connection) -> dict[str, str]:
    """Name -> CREATE INDEX of the indexes of ``TABLES`` that no constraint owns."""
    rows = connection.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:tables) AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)"
        ),
        {"tables": list(TABLES)},
    )
    return {row.indexname: row.indexdef for row in rows}


# --------------------------------------------------------------------------------------------------
# Sizes


def sizes(connection: Connection) -> list[Figure]:
    figures = []
    print(f"\n{'table / index':<58} {'rows':>10} {'heap MB':>8} {'toast MB':>9} {'index MB':>9} {'B/row':>7}")
    for table in TABLES:
        row = connection.execute(
            text(
                "SELECT count(*) AS rows, pg_total_relation_size(:t) AS total, pg_relation_size(:t) AS heap, "
                "pg_table_size(:t) - pg_relation_size(:t) AS toast, pg_indexes_size(:t) AS indexes "
                f"FROM {table}"
            ),
            {"t": table},
        ).one()
        per_row = row.total / row.rows
        print(
            f"{table:<58} {row.rows:>10,} {row.heap / 2**20:>8.1f} {row.toast / 2**20:>9.1f} "
            f"{row.indexes / 2**20:>9.1f} {per_row:>7.0f}"
        )
        label = "ledger" if table == "object_ledger" else table
        conditions = {"rows": row.rows}
        figures.append(Figure(f"million_{label}_bytes_per_row", per_row, "B", conditions=conditions))
        figures.append(Figure(f"million_{label}_total_mb", row.total / 2**20, "MB", conditions=conditions))
        indexes = connection.execute(
            text(
                "SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS size "
                "FROM pg_index WHERE indrelid = CAST(:t AS regclass) ORDER BY 1"
            ),
            {"t": table},
        )
        for index in indexes:
            print(f"  {index.name:<56} {'':>29} {index.size / 2**20:>9.1f} {index.size / row.rows:>7.0f}")
            figures.append(
                Figure(f"million_index_{index.name}_mb", index.size / 2**20, "MB", conditions=conditions)
            )
    return figures


# --------------------------------------------------------------------------------------------------
# Queries


@contextmanager
def statements(connection: Connection) -> Iterator[list[tuple[str, Any]]]:
    """The SQL ``connection`` sends to the server meanwhile, as the driver gets it."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(connection, "before_cursor_execute", record)


def _nodes(plan: dict[str, Any]) -> Iterator[str]:
    node = plan["Node Type"] + (f" {plan['Index Name']}" if "Index Name" in plan else "")
    yield node
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def measure(connection: Connection, name: str, call: Callable[[], object], repeats: int) -> Figure:
    """The median wall time of ``call`` over ``repeats`` runs after one warm-up, and the plan of every
    statement it sends, each plan's nodes and buffers printed."""
    with statements(connection) as sent:
        result = call()
    plans = []
    for statement, parameters in sent:
        explained = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", parameters
        ).scalar_one()[0]
        plan = explained["Plan"]
        buffers = plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)
        plans.append(f"{' > '.join(_nodes(plan))} ({buffers} buffers)")
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - began))
    median = statistics.median(times)
    rows = len(result) if isinstance(result, dict | list | tuple) else ""
    print(f"{name:<36} {median:>9.2f} ms  {len(sent)} statement(s), {rows} rows")
    for plan_text in plans:
        print(f"    {plan_text}")
    return Figure(
        f"million_{name}_ms",
        median,
        "ms",
        conditions={"repeats": repeats, "rows": ROWS, "statements": len(sent)},
    )


def ledger_queries(connection: Connection, repeats: int) -> list[Figure]:
    keys = list(
        connection.execute(
            text("SELECT key FROM object_ledger TABLESAMPLE SYSTEM (1) REPEATABLE (7) LIMIT :n"), {"n": BATCH}
        ).scalars()
    )
    night = (LEDGER_FIRST_NIGHT + timedelta(days=LEDGER_NIGHTS // 2)).strftime("%Y%m%d")
    source = connection.execute(
        text("SELECT base_filename FROM object_ledger WHERE base_filename LIKE :p LIMIT 1"),
        {"p": f"%-{night}-%"},
    ).scalar_one()
    first = "data/" + source.rsplit("-", 1)[0] + "-"
    after_last = prefix_end(first) or ""
    waiting = store.waiting_run_keys(connection, datetime(2100, 1, 1))
    whole_key = keys[0]
    return [
        measure(connection, "known_objects", lambda: store.known_objects(connection, keys), repeats),
        measure(
            connection,
            "known_objects_between",
            lambda: store.known_objects_between(connection, first, after_last),
            repeats,
        ),
        measure(
            connection,
            "waiting_run_keys",
            lambda: store.waiting_run_keys(connection, datetime(2100, 1, 1)),
            repeats,
        ),
        measure(connection, "queued_under", lambda: store.queued_under(connection, waiting, BATCH), repeats),
        measure(connection, "whereis_key", lambda: whereabouts(connection, whole_key).objects, repeats),
        measure(
            connection,
            "whereis_base_filename",
            lambda: whereabouts(connection, whole_key.removeprefix("data/").split("-EX")[0]).objects,
            repeats,
        ),
    ]


def reader_queries(connection: Connection, repeats: int) -> list[Figure]:
    figures = []
    for query in READER_QUERIES:
        compiled = query.build(Image).compile(dialect=connection.dialect)
        statement, parameters = str(compiled), compiled.params
        figures.append(
            measure(
                connection,
                query.name,
                _fetching(connection, statement, parameters),
                repeats,
            )
        )
    return figures


def _fetching(connection: Connection, statement: str, parameters: Any) -> Callable[[], object]:
    return lambda: connection.exec_driver_sql(statement, parameters).fetchall()


def pruning(connection: Connection) -> list[Figure]:
    """Delete the oldest half of the ledger's nights, ``PRUNE_BATCHES`` batches of it, and as many
    history rows by entry_id; each batch its own transaction, as a pruning job would commit."""
    cutoff = LEDGER_FIRST_NIGHT + timedelta(days=LEDGER_NIGHTS // 2)
    params = {"cutoff": cutoff, "batch": PRUNE_BATCH}
    print()
    explained = connection.execute(
        text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {PRUNE_LEDGER}"), params
    ).scalar_one()[0]["Plan"]
    connection.rollback()
    print(f"prune ledger plan: {' > '.join(_nodes(explained))}")
    ledger_times, history_times = [], []
    first = connection.execute(text("SELECT min(entry_id) FROM object_runs")).scalar_one()
    for batch in range(PRUNE_BATCHES):
        began = time.perf_counter()
        deleted = connection.execute(text(PRUNE_LEDGER), params).rowcount
        connection.commit()
        ledger_times.append(1000 * (time.perf_counter() - began))
        began = time.perf_counter()
        history = connection.execute(
            text(PRUNE_HISTORY), {"first": first + batch * PRUNE_BATCH, "batch": PRUNE_BATCH}
        ).rowcount
        connection.commit()
        history_times.append(1000 * (time.perf_counter() - began))
        assert deleted == PRUNE_BATCH and history == PRUNE_BATCH, (deleted, history)
    ledger_ms, history_ms = statistics.median(ledger_times), statistics.median(history_times)
    print(f"prune ledger, {PRUNE_BATCH:,} rows a batch:  {ledger_ms:9.1f} ms median of {PRUNE_BATCHES}")
    print(f"prune history, {PRUNE_BATCH:,} rows a batch: {history_ms:9.1f} ms median of {PRUNE_BATCHES}")
    conditions = {"batch": PRUNE_BATCH, "batches": PRUNE_BATCHES, "rows": ROWS}
    return [
        Figure("million_prune_ledger_batch_ms", ledger_ms, "ms", conditions=conditions),
        Figure("million_prune_history_batch_ms", history_ms, "ms", conditions=conditions),
        Figure(
            "million_prune_ledger_rows_per_s", 1000 * PRUNE_BATCH / ledger_ms, "rows/s", conditions=conditions
        ),
    ]


def run(options: argparse.Namespace) -> list[Figure]:
    if options.million_repeats < 1:
        raise ValueError("--million-repeats must be at least 1")
    print(busy_warning(), flush=True)
    with filled_catalog(options.postgres) as engine, engine.connect() as connection:
        figures = sizes(connection)
        print(f"\n{'query':<36} {'median':>12}")
        figures += ledger_queries(connection, options.million_repeats)
        figures += reader_queries(connection, options.million_repeats)
        connection.rollback()
        figures += pruning(connection)
        # The queries again over the pruned ledger: what a pruned table costs a sensor.
        print("\nafter pruning:")
        after = ledger_queries(connection, options.million_repeats)
        figures += [
            Figure(
                figure.name.replace("million_", "million_pruned_"),
                figure.value,
                figure.unit,
                conditions=figure.conditions,
            )
            for figure in after
        ]
        connection.rollback()
    return figures
