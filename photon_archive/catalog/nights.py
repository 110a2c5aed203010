"""The ledger by night and site: which pairs it holds, which were written lately, and one pair's rows.

The ledger keeps no night or site column: both are in the base filename,
``{site}-{instrument}-{YYYYMMDD}-{counter}`` (SPEC §1), which the ingest records for every object
whose name parses. The site is what comes before the first dash, the night the eight digits before
the last one (the counter is eight digits); an object whose name does not parse has no base
filename, and so no night. One pair's rows are a range scan of the ``base_filename`` index on
``{site}-``; the pairs written since a time an index scan of ``updated_at``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, Table, and_, func, select
from sqlalchemy.sql.elements import ColumnElement

from photon_archive.catalog.models import LedgerEntry, ObjectRun, ObjectState
from photon_archive.catalog.whereabouts import starting_with
from photon_archive.nightly import NightObject

# From the end of a base filename: "-YYYYMMDD-CCCCCCCC" is 18 characters, the night its 2nd to 9th.
_NIGHT_FROM_END = 16


def _night_of(column: ColumnElement[str | None]) -> ColumnElement[str]:
    return func.substr(column, func.length(column) - _NIGHT_FROM_END, 8)


def _site_of(connection: Connection, column: ColumnElement[str | None]) -> ColumnElement[str]:
    position = func.strpos if connection.dialect.name == "postgresql" else func.instr
    return func.substr(column, 1, position(column, "-") - 1)


def _yyyymmdd(night: date) -> str:
    return f"{night.year:04d}{night.month:02d}{night.day:02d}"


def _night(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def night_sites(
    connection: Connection, written_after: datetime | None = None, night: date | None = None
) -> dict[tuple[date, str], datetime]:
    """Each (night, site) of the ledger's objects with the time its latest object was written; only
    the objects written after ``written_after`` (naive UTC) count when it is given, and only those of
    ``night`` when that is."""
    ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
    base = ledger.c.base_filename
    night_of, site_of = _night_of(base).label("night"), _site_of(connection, base).label("site")
    where: ColumnElement[bool] = base.is_not(None)
    if written_after is not None:
        where &= ledger.c.updated_at > written_after
    if night is not None:
        where &= night_of == _yyyymmdd(night)
    query = select(night_of, site_of, func.max(ledger.c.updated_at).label("latest")).where(where)
    pairs: dict[tuple[date, str], datetime] = {}
    for row in connection.execute(query.group_by(night_of, site_of)):
        parsed = _night(row.night)
        if parsed is not None and row.site:
            pairs[(parsed, row.site)] = row.latest
    return pairs


def night_objects(connection: Connection, night: date, site: str) -> list[NightObject]:
    """The ledger's objects of ``night`` and ``site``, in key order, each with its upload time (as
    S3 gave it) and the time the version the ledger holds was first ingested (its history's
    earliest ``ingested``; the ledger's last write where the history has none)."""
    ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
    history: Table = ObjectRun.__table__  # type: ignore[assignment]
    base = ledger.c.base_filename
    first_ingest = (
        select(func.min(history.c.recorded_at))
        .where(
            and_(
                history.c.key == ledger.c.key,
                history.c.state == ObjectState.INGESTED.value,
                history.c.etag.is_not_distinct_from(ledger.c.etag),
            )
        )
        .scalar_subquery()
        .label("first_ingest")
    )
    query = (
        select(ledger.c.key, ledger.c.state, ledger.c.reason, ledger.c.last_modified, ledger.c.updated_at)
        .add_columns(first_ingest)
        .where(starting_with(base, f"{site}-") & (_night_of(base) == _yyyymmdd(night)))
        .order_by(ledger.c.key)
    )
    objects = []
    for row in connection.execute(query):
        ingested = (row.first_ingest or row.updated_at) if row.state == ObjectState.INGESTED else None
        objects.append(NightObject(row.key, site, night, row.state, row.reason, row.last_modified, ingested))
    return objects
