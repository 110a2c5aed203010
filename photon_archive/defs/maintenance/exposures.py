"""The ``expire_exposures`` job: expired exposures go, their objects, then their catalog row, then
their tracker entry. Which are due, and how one is deleted, is ``maintenance/exposures.py``."""

from datetime import UTC, datetime

from dagster import OpExecutionContext, Output, ResourceParam

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.tables import Tables
from photon_archive.catalog.resource import Catalog
from photon_archive.defs.maintenance.config import (
    MaintenanceConfig,
    deletions_output,
    refuse_beside_legacy,
    scheduled_job,
)
from photon_archive.defs.policies import contract_op
from photon_archive.defs.resources import Retention
from photon_archive.maintenance.exposures import delete_exposure, due_exposures
from photon_archive.maintenance.report import Deletions

JOB = "expire_exposures"


@contract_op
def delete_expired_exposures(
    context: OpExecutionContext,
    config: MaintenanceConfig,
    bucket: Bucket,
    tables: Tables,
    catalog: Catalog,
    retention: ResourceParam[Retention],
) -> Output[Deletions]:
    """Objects, catalog row and tracker entry of every expired exposure, in that order."""
    refuse_beside_legacy(retention, JOB)
    now = config.moment()
    report = Deletions(config.dry_run)
    for exposure in due_exposures(tables, catalog.engine(), retention.rules(), now):
        objects, rows = delete_exposure(
            bucket, catalog.engine(), exposure.s3_directory, exposure.base_filename, config.dry_run
        )
        entries = 0
        if exposure.tracked:
            entries = 1
            if not config.dry_run:
                entries = int(tables.delete_expiration_entry_if_expired(exposure.base_filename, now))
        expired = datetime.fromtimestamp(exposure.expired_at, UTC).isoformat()
        report.add(
            f"`{exposure.s3_directory}/{exposure.base_filename}` (expired {expired}): "
            f"{objects} objects, {rows} row, {entries} tracker entry",
            exposures=1,
            objects=objects,
            rows=rows,
            tracker_entries=entries,
        )
    return deletions_output(context, report, ("exposures", "objects", "rows", "tracker_entries"))


expire_exposures, expire_exposures_schedule = scheduled_job(
    delete_expired_exposures,
    JOB,
    "Delete expired exposures: their objects, catalog row and expiration-tracker entry.",
    schedule_name="expire_exposures_every_5_minutes",
    cron="*/5 * * * *",
)
