"""Expired exposures (SPEC §7): their objects, then their catalog row, then their tracker entry.

Which exposures are due comes from two sources, and an exposure is due when either says so:

- the ``data-expiration-tracker`` entries whose ``expiration_timestamp_s`` has passed, the contract
  other services know;
- the catalog itself: every ``images`` row of a data type some rule expires, with its expiry
  recomputed by ``retention.expiry_seconds`` from the earliest upload the object ledger records for
  the exposure's files (a file's ``last_modified``, or when the ledger first saw it if that is
  earlier). This is the tracker's own rule applied to what the tracker was written from, so when
  DynamoDB's native TTL (or anyone) removes an entry first, the exposure is still found on the run
  after its expiry. A row the ledger knows nothing of (imported from the legacy table) falls back to
  its ``capture_date``.

The ledger times are never earlier than the uploads they record, so the second source can only
find an exposure later than the tracker would, never earlier. Its query reads only rows of the
expiring data types old enough for the shortest rule, which the job keeps few by deleting them.

Deleting in the order objects, row, entry means a run killed at any point leaves something that
still names the exposure (the row or the entry) for the next run, which lists the prefix again,
deletes what is left and tolerates what is gone. The ``ObjectRemoved`` events of these deletions
reach the ingest later and only clear flags: a removal never creates a row.

The job that does it is ``defs/maintenance/exposures.py``; the all-sky retention job deletes with
``delete_exposure`` too.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, delete, func, or_, select

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.tables import Tables
from photon_archive.catalog.models import LedgerEntry
from photon_archive.catalog.store import EXPOSURE_TABLES
from photon_archive.naming import EXPOSURE_TABLE, Prefix
from photon_archive.retention import expiry_seconds


@dataclass(frozen=True)
class Due:
    """An exposure to delete, and whether a tracker entry names it."""

    s3_directory: str
    base_filename: str
    expired_at: int  # epoch seconds
    tracked: bool


@dataclass(frozen=True)
class Aged:
    """A catalog row and the earliest upload of its files."""

    base_filename: str
    site: str
    data_type: str
    first_upload: int  # epoch seconds, whole (as the tracker counts them)


def due_exposures(
    tables: Tables, engine: Engine, rules: dict[tuple[str | None, str], int], now: datetime
) -> list[Due]:
    """Every exposure expired at ``now`` by the tracker or by the catalog, oldest first."""
    now_s = int(now.timestamp())
    due: dict[tuple[str, str], Due] = {}
    for entry in tables.expired_exposure_entries(now):
        due[(entry.s3_directory, entry.base_filename)] = Due(
            entry.s3_directory, entry.base_filename, entry.expiration_timestamp_s, True
        )
    if rules:
        shortest = timedelta(seconds=min(rules.values()))
        with engine.connect() as connection:
            aged = aged_exposures(
                connection, Prefix.DATA, now - shortest, {data_type for _, data_type in rules}
            )
        for exposure in aged:
            lifetime = expiry_seconds(exposure.site, exposure.data_type, rules)
            if lifetime is not None and exposure.first_upload + lifetime <= now_s:
                expired_at = exposure.first_upload + lifetime
                due.setdefault(
                    (Prefix.DATA, exposure.base_filename),
                    Due(Prefix.DATA, exposure.base_filename, expired_at, False),
                )
    return sorted(due.values(), key=lambda d: (d.expired_at, d.s3_directory, d.base_filename))


def aged_exposures(
    connection: Connection, prefix: str, uploaded_before: datetime, data_types: set[str] | None = None
) -> list[Aged]:
    """The catalog rows under ``prefix`` whose first upload is at or before ``uploaded_before``."""
    table = EXPOSURE_TABLES[EXPOSURE_TABLE[prefix]]
    ledger = LedgerEntry.__table__
    cutoff = uploaded_before.astimezone(UTC).replace(tzinfo=None)
    modified, seen = func.min(ledger.c.last_modified), func.min(ledger.c.first_seen_at)
    files, captured = func.count(ledger.c.key), func.min(table.c.capture_date)
    query = (
        select(table.c.base_filename, table.c.site, table.c.data_type, modified, seen, files, captured)
        .select_from(
            table.outerjoin(
                ledger, and_(ledger.c.base_filename == table.c.base_filename, ledger.c.prefix == prefix)
            )
        )
        .group_by(table.c.base_filename, table.c.site, table.c.data_type)
        .having(or_(modified <= cutoff, seen <= cutoff, and_(files == 0, captured <= cutoff)))
    )
    if data_types is not None:
        query = query.where(table.c.data_type.in_(sorted(data_types)))
    aged = []
    for base, site, data_type, first_modified, first_seen, count, capture in connection.execute(query):
        times = [t for t in (first_modified, first_seen) if t is not None] if count else [capture]
        first = min(times)
        aged.append(Aged(base, site or "", data_type or "", int(first.replace(tzinfo=UTC).timestamp())))
    return aged


def delete_exposure(
    bucket: Bucket, engine: Engine, s3_directory: str, base_filename: str, dry_run: bool
) -> tuple[int, int]:
    """Delete every object of the exposure, then its row; returns (objects, rows) deleted or due.

    The trailing dash of the listing prefix is what keeps ``tst-cam1-…`` from reaching into a
    neighbour whose name merely starts the same.
    """
    keys = [info.key for info in bucket.list_objects(f"{s3_directory}/{base_filename}-")]
    if keys and not dry_run:
        bucket.delete(keys)
    table = EXPOSURE_TABLES.get(EXPOSURE_TABLE.get(s3_directory, ""))
    if table is None:
        return len(keys), 0
    this_row = table.c.base_filename == base_filename
    with engine.begin() as connection:
        if dry_run:
            rows = connection.execute(select(func.count()).select_from(table).where(this_row)).scalar_one()
        else:
            rows = connection.execute(delete(table).where(this_row)).rowcount
    return len(keys), rows


# How often the job runs, so how long past its expiry an exposure may still be seen.
EXPIRY_INTERVAL = timedelta(minutes=5)
