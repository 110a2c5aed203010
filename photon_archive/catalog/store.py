"""Atomic, order-independent writes to the catalog.

Every object contributes to its exposure's row through one ``INSERT … ON CONFLICT (base_filename)
DO UPDATE`` that carries the merge rules of ``rows.py`` into SQL, so that concurrent runs converge
inside the database: the final row is the same for every arrival order and interleaving.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, Table, and_, case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from photon_archive.catalog.models import AllskyImage, Image, LedgerEntry, ObjectRun, ObjectState
from photon_archive.catalog.rows import FLAGS, HEADER_COLUMNS, HEADER_RANK, UPLOAD_DATED, Contribution
from photon_archive.records import KnownObject, LedgerRecord, StoredRow

EXPOSURE_TABLES: dict[str, Table] = {
    "images": Image.__table__,  # type: ignore[dict-item]
    "allsky_images": AllskyImage.__table__,  # type: ignore[dict-item]
}


def _insert(connection: Connection, table: Table):  # type: ignore[no-untyped-def]
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _rank(source: ColumnElement[str | None]) -> ColumnElement[int]:
    return case(*((source == name, rank) for name, rank in HEADER_RANK.items()), else_=0)


def _earlier(connection: Connection, a: ColumnElement[datetime], b: ColumnElement[datetime]):  # type: ignore[no-untyped-def]
    # LEAST on Postgres, the two-argument min() on SQLite: both ignore NULL in the way we need here.
    return func.least(a, b) if connection.dialect.name == "postgresql" else func.min(a, b)


def upsert_exposures(connection: Connection, table_name: str, contributions: Iterable[Contribution]) -> int:
    """Merge every contribution into its row; returns how many statements ran.

    One multi-row statement may not touch a row twice, so contributions are sent in layers where
    each exposure appears at most once, and each layer in base-filename order so that concurrent
    transactions take row locks in the same order and cannot deadlock.
    """
    table = EXPOSURE_TABLES[table_name]
    layers: list[list[dict[str, object]]] = []
    seen: defaultdict[str, int] = defaultdict(int)
    for contribution in sorted(contributions, key=lambda c: c.base_filename):
        depth = seen[contribution.base_filename]
        seen[contribution.base_filename] += 1
        if depth == len(layers):
            layers.append([])
        layers[depth].append(contribution.values())
    if not layers:
        return 0
    statement = _insert(connection, table)
    new = statement.excluded
    wins = (_rank(new.header_source) > 0) & (_rank(new.header_source) >= _rank(table.c.header_source))
    no_header_yet = table.c.header_source.is_(None)
    assignments: dict[str, object] = {flag: table.c[flag] | new[flag] for flag in FLAGS}
    for column in HEADER_COLUMNS:
        keep: ColumnElement[object] = table.c[column]
        if column in UPLOAD_DATED:
            keep = case((no_header_yet, _earlier(connection, table.c[column], new[column])), else_=keep)
        assignments[column] = case((wins, new[column]), else_=keep)
    assignments["site"] = func.coalesce(table.c.site, new.site)
    assignments["data_type"] = func.coalesce(table.c.data_type, new.data_type)
    # RETURNING lets SQLAlchemy send each layer as multi-row statements instead of one per row.
    statement = statement.on_conflict_do_update(index_elements=["base_filename"], set_=assignments).returning(
        table.c.image_id
    )
    for layer in layers:
        connection.execute(statement, layer).all()
    return len(layers)


def clear_flags(connection: Connection, table_name: str, removals: Iterable[tuple[str, str]]) -> None:
    """Turn off the flag of each removed (base_filename, flag); a row that does not exist stays absent."""
    table = EXPOSURE_TABLES[table_name]
    for base_filename, flag in sorted(set(removals)):
        connection.execute(update(table).where(table.c.base_filename == base_filename).values({flag: False}))


def header_sources(connection: Connection, table_name: str, base_filenames: Sequence[str]) -> dict[str, str]:
    """The header source already stored for each exposure that has one."""
    if not base_filenames:
        return {}
    table = EXPOSURE_TABLES[table_name]
    rows = connection.execute(
        select(table.c.base_filename, table.c.header_source).where(
            table.c.base_filename.in_(sorted(set(base_filenames))), table.c.header_source.is_not(None)
        )
    )
    return {row.base_filename: row.header_source for row in rows}


def stored_rows(
    connection: Connection, table_name: str, base_filenames: Iterable[str]
) -> dict[str, StoredRow]:
    """What the rows of ``base_filenames`` already hold: the flags that are on, and whether a header
    (an empty one is none) is there. An exposure without a row is not in the result."""
    table = EXPOSURE_TABLES[table_name]
    has_header = and_(table.c.header.is_not(None), table.c.header != "").label("has_header")
    wanted = sorted(set(base_filenames))
    stored: dict[str, StoredRow] = {}
    for start in range(0, len(wanted), 500):
        query = select(table.c.base_filename, has_header, *(table.c[flag] for flag in FLAGS)).where(
            table.c.base_filename.in_(wanted[start : start + 500])
        )
        for row in connection.execute(query):
            on = frozenset(flag for flag in FLAGS if row._mapping[flag])
            stored[row.base_filename] = StoredRow(on, bool(row.has_header))
    return stored


def record_objects(connection: Connection, records: Iterable[LedgerRecord], now: datetime) -> None:
    """Upsert one ledger row per object, in key order; the latest outcome and run replace the earlier.

    The outcomes that name a run are appended to the objects' history (``object_runs``) in the same
    transaction, so the history holds every run the ledger has named; a ``queued`` record names none.
    """
    rows = _ledger_rows(records, now)
    if not rows:
        return
    table: Table = LedgerEntry.__table__  # type: ignore[assignment]
    statement = _insert(connection, table)
    updated = {name: statement.excluded[name] for name in rows[0] if name not in ("key", "first_seen_at")}
    upsert = statement.on_conflict_do_update(index_elements=["key"], set_=updated).returning(table.c.key)
    connection.execute(upsert, rows).all()
    _append_history(connection, rows, now)


def _append_history(connection: Connection, rows: Sequence[Mapping[str, object]], now: datetime) -> None:
    history: Table = ObjectRun.__table__  # type: ignore[assignment]
    entries = [
        {name: row[name] for name in ("key", "run_id", "state", "reason", "etag")} | {"recorded_at": now}
        for row in rows
        if row["run_id"] is not None
    ]
    if entries:
        # RETURNING lets SQLAlchemy send the rows as multi-row INSERTs rather than one per row.
        connection.execute(insert(history).returning(history.c.entry_id), entries).all()


def claim_objects(
    connection: Connection, records: Iterable[LedgerRecord], known: Mapping[str, KnownObject], now: datetime
) -> set[str]:
    """Write ``records`` only where the ledger still holds what ``known`` says it held; the keys written.

    Two sensor ticks that read the ledger at the same moment both find an object new; whichever writes
    second finds the row taken (a key now present, or a row changed since it was read) and leaves it,
    so only one of them asks for a run. A key absent from ``known`` is inserted if still absent; a
    known one is updated only if its ``updated_at`` and ``run_key`` are still those that were read.
    """
    records = list(records)
    rows = _ledger_rows(records, now)
    table: Table = LedgerEntry.__table__  # type: ignore[assignment]
    stored = {_storable(key) or "": key for key in known}
    fresh = [row for row in rows if row["key"] not in stored]
    claimed: set[str] = set()
    if fresh:
        insert = (
            _insert(connection, table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
        )
        claimed.update(connection.execute(insert, fresh).scalars())
    for row in rows:
        if row["key"] not in stored:
            continue
        seen = known[stored[row["key"]]]
        values = {name: value for name, value in row.items() if name not in ("key", "first_seen_at")}
        unchanged = (table.c.key == row["key"]) & (table.c.updated_at == seen.updated_at)
        unchanged &= table.c.run_key.is_(None) if seen.run_key is None else table.c.run_key == seen.run_key
        update_ = update(table).where(unchanged).values(values).returning(table.c.key)
        claimed.update(connection.execute(update_).scalars())
    unstored = {_storable(row.key) or "": row.key for row in records}
    return {unstored[key] for key in claimed}


def _ledger_rows(records: Iterable[LedgerRecord], now: datetime) -> list[dict[str, object]]:
    return [
        {
            "key": _storable(r.key),
            "etag": r.etag,
            "size": r.size,
            "last_modified": r.last_modified,
            "prefix": _storable(r.prefix),
            "base_filename": r.base_filename,
            "state": r.state,
            "reason": _storable(r.reason),
            "run_id": r.run_id,
            "run_key": r.run_key,
            "first_seen_at": now,
            "updated_at": now,
        }
        for r in sorted({r.key: r for r in records}.values(), key=lambda r: r.key)
    ]


def _storable(text: str | None) -> str | None:
    """Text as PostgreSQL can hold it: a NUL (which a junk key may carry) written as ``\\x00``."""
    return text.replace("\x00", "\\x00") if text else text


def known_objects(connection: Connection, keys: Iterable[str]) -> dict[str, KnownObject]:
    """The ledger's view of ``keys`` (absent keys are simply not in the result)."""
    table: Table = LedgerEntry.__table__  # type: ignore[assignment]
    stored = {_storable(key) or "": key for key in keys}
    wanted = sorted(stored)
    known: dict[str, KnownObject] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        known.update({stored[k]: v for k, v in _known(connection, table.c.key.in_(chunk)).items()})
    return known


def known_objects_between(connection: Connection, first: str, after_last: str) -> dict[str, KnownObject]:
    """The ledger's keys in ``[first, after_last)``: one range scan of the primary key."""
    table: Table = LedgerEntry.__table__  # type: ignore[assignment]
    return _known(connection, (table.c.key >= first) & (table.c.key < after_last))


def waiting_run_keys(connection: Connection, queued_before: datetime) -> list[str]:
    """The run keys of objects ``queued`` since before ``queued_before``: one per requested run."""
    table: Table = LedgerEntry.__table__  # type: ignore[assignment]
    waiting = (table.c.state == ObjectState.QUEUED.value) & (table.c.updated_at < queued_before)
    query = select(table.c.run_key).where(waiting & table.c.run_key.is_not(None)).distinct()
    return sorted(connection.execute(query).scalars())


def queued_under(connection: Connection, run_keys: Sequence[str], limit: int) -> dict[str, KnownObject]:
    """At most ``limit`` objects still ``queued`` under ``run_keys``."""
    table: Table = LedgerEntry.__table__  # type: ignore[assignment]
    where = (table.c.state == ObjectState.QUEUED.value) & table.c.run_key.in_(run_keys)
    return _known(connection, where, limit)


def _known(
    connection: Connection, where: ColumnElement[bool], limit: int | None = None
) -> dict[str, KnownObject]:
    table: Table = LedgerEntry.__table__  # type: ignore[assignment]
    rows = connection.execute(
        select(
            table.c.key,
            table.c.etag,
            table.c.state,
            table.c.updated_at,
            table.c.run_key,
            table.c.last_modified,
        )
        .where(where)
        .order_by(table.c.key)
        .limit(limit)
    )
    return {
        row.key: KnownObject(row.etag, row.state, row.updated_at, row.run_key, row.last_modified)
        for row in rows
    }
