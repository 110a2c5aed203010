"""The completeness path: the prefix-scan sensor, which lists the watched prefixes for objects the
ledger lacks (what one tick lists is ``ingest/prefix_scan.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import ResourceParam, SensorEvaluationContext, SensorResult, SkipReason

from photon_archive.aws.bucket import Bucket
from photon_archive.catalog.resource import Catalog
from photon_archive.defs.resources import Delivery
from photon_archive.defs.sensors.requests import ingest_sensor, request_fate_in, run_request
from photon_archive.ingest.delivery import lost_requests, request_new
from photon_archive.ingest.objects import ObjectEvent, ObjectRef
from photon_archive.ingest.prefix_scan import ScanCursor, scan_listing


@ingest_sensor(
    minimum_interval_seconds=30,
    description="Lists the watched prefixes for objects the ledger lacks: a lost event loses no object.",
)
def s3_prefix_scan(
    context: SensorEvaluationContext, bucket: Bucket, catalog: Catalog, delivery: ResourceParam[Delivery]
) -> SensorResult | SkipReason:
    cursor = ScanCursor.loads(context.cursor)
    now = datetime.now(UTC)
    refs = [
        ObjectRef(info.key, ObjectEvent.CREATED, info.size, info.etag, info.last_modified)
        for prefix in delivery.watched_prefixes
        for info in scan_listing(
            bucket, prefix, cursor, now.date(), delivery.scan_lookback_days, delivery.sweep_page
        )
    ]
    request_fate = request_fate_in(context.instance)
    naive_now = now.replace(tzinfo=None)
    listed = {ref.key for ref in refs}
    refs += lost_requests(catalog.engine(), bucket, delivery, naive_now, request_fate, listed)
    plans = request_new(refs, catalog.engine(), delivery, "scan", naive_now, request_fate)
    if not plans:
        return SensorResult(skip_reason=f"{len(refs)} objects listed, none new", cursor=cursor.dumps())
    context.log.info(f"{len(refs)} objects listed, {sum(len(p.refs) for p in plans)} new")
    return SensorResult(run_requests=[run_request(plan) for plan in plans], cursor=cursor.dumps())
