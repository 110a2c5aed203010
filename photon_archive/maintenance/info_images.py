"""Info-image expiry (SPEC §8): a channel item past ``expiration_timestamp`` goes with its objects.

The objects are the keys the item's ``{ext}_{reduction}_file_path`` attributes hold, plus the
thumbnail the ingest wrote beside its medium jpg. They are deleted before the item, so a run killed
in between leaves the item to name them again. The item's delete is conditional on it still
showing the same exposure, still expired: a newer exposure that took the channel meanwhile stays.
The ``{site}#metadata`` items the upload API writes are never touched.
"""

from datetime import UTC, datetime
from typing import Any

from dagster import (
    OpExecutionContext,
    Output,
    op,
)

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.tables import Tables
from photon_archive.errors import Rejected
from photon_archive.info_images import metadata_pk
from photon_archive.ingest.job import TRANSIENT_RETRY
from photon_archive.maintenance.config import MaintenanceConfig, scheduled_job
from photon_archive.maintenance.dynamodb import delete_if, number, scan
from photon_archive.maintenance.report import Deletions
from photon_archive.naming import parse_key, thumbnail_key

PATH_SUFFIX = "_file_path"
# Still past its expiry and still the same exposure, as when it was read.
CONDITION = "expiration_timestamp <= :now AND base_filename = :base"


def channel_objects(item: dict[str, Any]) -> list[str]:
    """The keys a channel item names, and the thumbnail of each medium jpg among them."""
    keys = {value["S"] for name, value in item.items() if name.endswith(PATH_SUFFIX) and "S" in value}
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
    now = number(int(config.moment().timestamp()))
    report = Deletions(config.dry_run)
    items = scan(
        tables.info_images,
        FilterExpression="expiration_timestamp <= :now",
        ExpressionAttributeValues={":now": now},
    )
    for item in items:
        pk = item["pk"]["S"]
        site = pk.rpartition("#")[0]
        if pk == metadata_pk(site) or "base_filename" not in item:
            continue
        keys = channel_objects(item)
        deleted = True
        if not config.dry_run:
            if keys:
                bucket.delete(keys)
            values = {":now": now, ":base": item["base_filename"]}
            deleted = delete_if(tables.info_images, {"pk": item["pk"]}, CONDITION, values)
            if not deleted:
                context.log.info(f"{pk} changed after it was read; a later run sees it again")
        expired = datetime.fromtimestamp(int(item["expiration_timestamp"]["N"]), UTC).isoformat()
        report.add(
            f"`{pk}` showing {item['base_filename']['S']} (expired {expired}): {len(keys)} objects",
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
