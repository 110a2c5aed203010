"""Upload-log expiry (SPEC §6): items past ``expire_timestamp_s`` are deleted within the hour.

DynamoDB's native TTL may take days, and the API lists a site's recent uploads from this table, so
the job does not wait for it. Each delete is conditional on the item still being past its expiry: a
file uploaded again meanwhile got a fresh item under the same key, and keeps it.
"""

from datetime import UTC, datetime

from dagster import (
    OpExecutionContext,
    Output,
    ResourceParam,
)

from photon_archive.aws.tables import Tables
from photon_archive.defs.maintenance.config import (
    MaintenanceConfig,
    deletions_output,
    refuse_beside_legacy,
    scheduled_job,
)
from photon_archive.defs.policies import contract_op
from photon_archive.defs.resources import Retention
from photon_archive.maintenance.report import Deletions

JOB = "expire_upload_log"


@contract_op
def delete_expired_upload_log_items(
    context: OpExecutionContext,
    config: MaintenanceConfig,
    tables: Tables,
    retention: ResourceParam[Retention],
) -> Output[Deletions]:
    refuse_beside_legacy(retention, JOB)
    now = config.moment()
    report = Deletions(config.dry_run)
    for item in tables.expired_upload_log_items(now):
        if config.dry_run or tables.delete_upload_log_item_if_expired(item, now):
            expired = datetime.fromtimestamp(item.expire_timestamp_s, UTC).isoformat()
            report.add(f"`{item.filename}` of {item.site} (expired {expired})", items=1)
    return deletions_output(context, report, ("items",))


expire_upload_log, expire_upload_log_schedule = scheduled_job(
    delete_expired_upload_log_items,
    JOB,
    "Delete recent-uploads-log items past their expire_timestamp_s.",
    schedule_name="expire_upload_log_hourly",
    cron="10 * * * *",
)
