"""Info-image expiry (SPEC §8): a channel item past ``expiration_timestamp`` goes with its objects.

The objects are the keys the item's ``{ext}_{reduction}_file_path`` attributes hold, plus the
thumbnail the ingest wrote beside its medium jpg. They are deleted before the item, so a run killed
in between leaves the item to name them again. The item's delete is conditional on it still
showing the same exposure, still expired: a newer exposure that took the channel meanwhile stays.
The ``{site}#metadata`` items the upload API writes are never touched.
"""

from datetime import UTC, datetime

from dagster import (
    OpExecutionContext,
    Output,
    ResourceParam,
)

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.tables import Tables
from photon_archive.defs.maintenance.config import (
    MaintenanceConfig,
    deletions_output,
    refuse_beside_legacy,
    scheduled_job,
)
from photon_archive.defs.policies import contract_op
from photon_archive.defs.resources import Retention
from photon_archive.info_images import channel_objects
from photon_archive.maintenance.report import Deletions

JOB = "expire_info_images"


@contract_op
def delete_expired_info_images(
    context: OpExecutionContext,
    config: MaintenanceConfig,
    bucket: Bucket,
    tables: Tables,
    retention: ResourceParam[Retention],
) -> Output[Deletions]:
    refuse_beside_legacy(retention, JOB)
    now = config.moment()
    report = Deletions(config.dry_run)
    for channel in tables.expired_channels(now):
        keys = channel_objects(channel.paths)
        deleted = True
        if not config.dry_run:
            if keys:
                bucket.delete(keys)
            deleted = tables.delete_channel_if_still_expired(channel, now)
            if not deleted:
                context.log.info(f"{channel.pk} changed after it was read; a later run sees it again")
        expired = datetime.fromtimestamp(channel.expiration_timestamp, UTC).isoformat()
        report.add(
            f"`{channel.pk}` showing {channel.base_filename} (expired {expired}): {len(keys)} objects",
            items=int(deleted),
            objects=len(keys),
        )
    return deletions_output(context, report, ("items", "objects"))


expire_info_images, expire_info_images_schedule = scheduled_job(
    delete_expired_info_images,
    JOB,
    "Delete info-image channel items past their expiration_timestamp, and their objects.",
    schedule_name="expire_info_images_hourly",
    cron="20 * * * *",
)
