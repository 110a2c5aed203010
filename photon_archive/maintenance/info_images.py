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
    op,
)

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.tables import ChannelItem, Tables
from photon_archive.defs.policies import TRANSIENT_RETRY, retry_contract
from photon_archive.errors import Rejected
from photon_archive.maintenance.config import MaintenanceConfig, scheduled_job
from photon_archive.maintenance.report import Deletions
from photon_archive.naming import parse_key, thumbnail_key


def channel_objects(channel: ChannelItem) -> list[str]:
    """The keys a channel item names, and the thumbnail of each medium jpg among them."""
    keys = set(channel.paths)
    for key in list(keys):
        try:
            name = parse_key(key)
        except Rejected:
            continue
        if name.makes_thumbnail:
            keys.add(thumbnail_key(name))
    return sorted(keys)


@op(retry_policy=TRANSIENT_RETRY)
def delete_expired_info_images(
    context: OpExecutionContext, config: MaintenanceConfig, bucket: Bucket, tables: Tables
) -> Output[Deletions]:
    with retry_contract():
        now = config.moment()
        report = Deletions(config.dry_run)
        for channel in tables.expired_channels(now):
            keys = channel_objects(channel)
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
        return report.output(context, ("items", "objects"))


expire_info_images, expire_info_images_schedule = scheduled_job(
    delete_expired_info_images,
    "expire_info_images",
    "Delete info-image channel items past their expiration_timestamp, and their objects.",
    schedule_name="expire_info_images_hourly",
    cron="20 * * * *",
)
