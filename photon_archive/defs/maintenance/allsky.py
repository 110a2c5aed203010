"""All-sky retention (SPEC §9): exposures older than the retention go, objects first, then the row.

An all-sky exposure's age counts from its first upload as the object ledger records it, the same
clock the exposure expiry uses, so a night uploaded late is kept for the whole retention period.
"""

from datetime import UTC, datetime, timedelta

from dagster import OpExecutionContext, Output, ResourceParam

from photon_archive.aws.bucket import Bucket
from photon_archive.catalog.resource import Catalog
from photon_archive.defs.maintenance.config import (
    MaintenanceConfig,
    deletions_output,
    refuse_beside_legacy,
    scheduled_job,
)
from photon_archive.defs.policies import contract_op
from photon_archive.defs.resources import Retention
from photon_archive.maintenance.exposures import aged_exposures, delete_exposure
from photon_archive.maintenance.report import Deletions
from photon_archive.naming import Prefix

PREFIX = Prefix.ALLSKY
JOB = "expire_allsky"


@contract_op
def delete_old_allsky(
    context: OpExecutionContext,
    config: MaintenanceConfig,
    bucket: Bucket,
    catalog: Catalog,
    retention: ResourceParam[Retention],
) -> Output[Deletions]:
    """Objects and ``allsky_images`` row of every all-sky exposure past the retention."""
    refuse_beside_legacy(retention, JOB)
    now = config.moment()
    lifetime = retention.allsky_retention_seconds()
    report = Deletions(config.dry_run)
    with catalog.engine().connect() as connection:
        aged = aged_exposures(connection, PREFIX, now - timedelta(seconds=lifetime))
    for exposure in sorted(aged, key=lambda a: (a.first_upload, a.base_filename)):
        if exposure.first_upload + lifetime > int(now.timestamp()):
            continue
        objects, rows = delete_exposure(
            bucket, catalog.engine(), PREFIX, exposure.base_filename, config.dry_run
        )
        uploaded = datetime.fromtimestamp(exposure.first_upload, UTC).isoformat()
        report.add(
            f"`{PREFIX}/{exposure.base_filename}` (uploaded {uploaded}): {objects} objects, {rows} row",
            exposures=1,
            objects=objects,
            rows=rows,
        )
    return deletions_output(context, report, ("exposures", "objects", "rows"))


expire_allsky, expire_allsky_schedule = scheduled_job(
    delete_old_allsky,
    JOB,
    "Delete all-sky exposures older than the retention: their objects and allsky_images row.",
    schedule_name="expire_allsky_daily",
    cron="40 3 * * *",
)
