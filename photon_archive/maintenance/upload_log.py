"""Upload-log expiry (SPEC §6): items past ``expire_timestamp_s`` are deleted within the hour.

DynamoDB's native TTL may take days, and the API lists a site's recent uploads from this table, so
the job does not wait for it. Each delete is conditional on the item still being past its expiry: a
file uploaded again meanwhile got a fresh item under the same key, and keeps it.
"""

from datetime import UTC, datetime

from dagster import (
    OpExecutionContext,
    Output,
    op,
)

from photon_archive.aws.tables import Tables
from photon_archive.ingest.job import TRANSIENT_RETRY
from photon_archive.maintenance.config import MaintenanceConfig, scheduled_job
from photon_archive.maintenance.dynamodb import delete_if, number, scan
from photon_archive.maintenance.report import Deletions


@op(retry_policy=TRANSIENT_RETRY)
def delete_expired_upload_log_items(
    context: OpExecutionContext, config: MaintenanceConfig, tables: Tables
) -> Output[Deletions]:
    now = {":now": number(int(config.moment().timestamp()))}
    report = Deletions(config.dry_run)
    items = scan(
        tables.upload_log,
        FilterExpression="#expires <= :now",
        ProjectionExpression="#site, #filename, #expires",
        ExpressionAttributeNames={"#site": "site", "#filename": "filename", "#expires": "expire_timestamp_s"},
        ExpressionAttributeValues=now,
    )
    for item in items:
        key = {"site": item["site"], "filename": item["filename"]}
        if config.dry_run or delete_if(tables.upload_log, key, "expire_timestamp_s <= :now", now):
            expired = datetime.fromtimestamp(int(item["expire_timestamp_s"]["N"]), UTC).isoformat()
            report.add(f"`{item['filename']['S']}` of {item['site']['S']} (expired {expired})", items=1)
    return report.output(context, ("items",))


expire_upload_log, expire_upload_log_schedule = scheduled_job(
    delete_expired_upload_log_items,
    "expire_upload_log",
    "Delete recent-uploads-log items past their expire_timestamp_s.",
    schedule_name="expire_upload_log_hourly",
    cron="10 * * * *",
)
