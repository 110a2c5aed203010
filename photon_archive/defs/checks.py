"""Asset checks: what should always hold in the catalog, run on a schedule and shown in the UI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetSelection,
    DefaultScheduleStatus,
    ResourceParam,
    ScheduleDefinition,
    asset_check,
    define_asset_job,
)
from sqlalchemy import Table, and_, func, select

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.tables import Tables
from photon_archive.catalog.models import LedgerEntry, ObjectState
from photon_archive.catalog.resource import Catalog
from photon_archive.catalog.store import EXPOSURE_TABLES
from photon_archive.defs.assets import S3_OBJECTS, THUMBNAILS
from photon_archive.defs.metadata_tables import rejection_table, waiting_table
from photon_archive.defs.resources import Retention
from photon_archive.maintenance.exposures import EXPIRY_INTERVAL, due_exposures
from photon_archive.naming import EXPOSURE_TABLE, THUMBNAIL_SOURCE_REDUCTION

THUMBNAIL_GRACE = timedelta(minutes=10)
REJECTION_WINDOW = timedelta(days=1)
# A requested object is ingested within minutes; one still queued after this waits for an operator.
QUEUE_GRACE = timedelta(minutes=30)
LISTED = 50


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def exposures_missing_thumbnails(catalog: Catalog, now: datetime) -> list[str]:
    """Thumbnail sources (``{dt}10.jpg``) ingested more than the grace period ago whose exposure
    still has no thumbnail."""
    ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
    medium = ledger.c.key.like(f"%{THUMBNAIL_SOURCE_REDUCTION}.jpg")
    missing: list[str] = []
    with catalog.engine().connect() as connection:
        for prefix, table_name in EXPOSURE_TABLE.items():
            rows = EXPOSURE_TABLES[table_name]
            query = (
                select(ledger.c.key)
                .join(rows, rows.c.base_filename == ledger.c.base_filename)
                .where(
                    and_(
                        ledger.c.prefix == prefix,
                        ledger.c.state == ObjectState.INGESTED.value,
                        medium,
                        ledger.c.last_modified < now - THUMBNAIL_GRACE,
                        rows.c.jpg_small_exists.is_(False),
                    )
                )
                .order_by(ledger.c.key)
            )
            missing.extend(connection.execute(query).scalars())
    return missing


def recent_rejections(catalog: Catalog, now: datetime) -> list[tuple[str, str]]:
    ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
    query = (
        select(ledger.c.key, ledger.c.reason)
        .where(ledger.c.state == ObjectState.REJECTED.value, ledger.c.updated_at >= now - REJECTION_WINDOW)
        .order_by(ledger.c.updated_at.desc())
    )
    with catalog.engine().connect() as connection:
        return [(row.key, row.reason or "") for row in connection.execute(query)]


def objects_waiting_in_queue(catalog: Catalog, now: datetime) -> tuple[int, list[tuple[str, str, datetime]]]:
    """How many objects have been ``queued`` longer than the grace period, and the longest-waiting ones
    with their run keys: a run that failed for good (retries spent, nobody re-executed it) leaves its
    objects there, since a run exists under their run key and no sensor asks for them again."""
    ledger: Table = LedgerEntry.__table__  # type: ignore[assignment]
    waiting = and_(ledger.c.state == ObjectState.QUEUED.value, ledger.c.updated_at < now - QUEUE_GRACE)
    with catalog.engine().connect() as connection:
        count = connection.execute(select(func.count()).where(waiting)).scalar_one()
        rows = connection.execute(
            select(ledger.c.key, ledger.c.run_key, ledger.c.updated_at)
            .where(waiting)
            .order_by(ledger.c.updated_at)
            .limit(LISTED)
        )
        return count, [(row.key, row.run_key or "", row.updated_at) for row in rows]


@asset_check(
    asset=THUMBNAILS, description="No exposure has had its medium jpg for 10 minutes without a thumbnail."
)
def thumbnails_follow_medium_jpgs(catalog: Catalog) -> AssetCheckResult:
    missing = exposures_missing_thumbnails(catalog, _now())
    return AssetCheckResult(
        passed=not missing,
        metadata={"missing": len(missing), "jpgs": "\n".join(missing[:LISTED]) or "none"},
    )


@asset_check(
    asset=S3_OBJECTS, description="No object was rejected in the last day (with the reasons if some were)."
)
def no_rejections_in_the_last_day(catalog: Catalog) -> AssetCheckResult:
    rejections = recent_rejections(catalog, _now())
    return AssetCheckResult(
        passed=not rejections,
        severity=AssetCheckSeverity.WARN,
        metadata={"rejected": len(rejections), "reasons": rejection_table(rejections[:LISTED])},
    )


@asset_check(
    asset=S3_OBJECTS,
    description="No object has waited 30 minutes for its run: re-execute the failed run it names, or replay.",
)
def no_object_waits_for_a_run(catalog: Catalog) -> AssetCheckResult:
    count, waiting = objects_waiting_in_queue(catalog, _now())
    return AssetCheckResult(passed=not count, metadata={"waiting": count, "objects": waiting_table(waiting)})


@asset_check(asset="images", description="No expired exposure still has objects one expiry interval later.")
def expired_exposures_are_gone(
    catalog: Catalog, tables: Tables, bucket: Bucket, retention: ResourceParam[Retention]
) -> AssetCheckResult:
    overdue = due_exposures(tables, catalog.engine(), retention.rules(), datetime.now(UTC) - EXPIRY_INTERVAL)
    lingering = [
        f"{due.s3_directory}/{due.base_filename}"
        for due in overdue
        if next(bucket.list_objects(f"{due.s3_directory}/{due.base_filename}-", limit=1), None)
    ]
    return AssetCheckResult(
        passed=not lingering,
        metadata={"lingering": len(lingering), "exposures": "\n".join(lingering[:LISTED]) or "none"},
    )


asset_checks = [
    thumbnails_follow_medium_jpgs,
    no_rejections_in_the_last_day,
    no_object_waits_for_a_run,
    expired_exposures_are_gone,
]
checks_job = define_asset_job("asset_checks", selection=AssetSelection.all_asset_checks())
checks_schedule = ScheduleDefinition(
    job=checks_job, cron_schedule="*/10 * * * *", default_status=DefaultScheduleStatus.RUNNING
)
