"""The low-latency path: S3 object events from the event queue become ingest runs."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import ResourceParam, SensorEvaluationContext, SensorResult, SkipReason

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.queues import EventQueue, ReceivedMessage
from photon_archive.catalog.resource import Catalog
from photon_archive.defs.resources import Delivery
from photon_archive.defs.sensors.requests import ingest_sensor, request_fate_in, run_request
from photon_archive.errors import Rejected
from photon_archive.events import parse_event_message
from photon_archive.ingest.delivery import request_new
from photon_archive.ingest.objects import ObjectEvent, ObjectRef


@ingest_sensor(
    # The daemon evaluates sensors about every 5 s; asking for less means no tick is skipped. A tick
    # long-polls the queue for most of that (``event_polling.py``), on a thread of the daemon's own
    # (the instance's ``sensors: use_threads``), so the other sensors tick meanwhile.
    minimum_interval_seconds=1,
    description="Drains the S3 event queue into ingest runs, deleting a message once its objects are queued.",
)
def s3_event_queue(
    context: SensorEvaluationContext,
    event_queue: EventQueue,
    bucket: Bucket,
    catalog: Catalog,
    delivery: ResourceParam[Delivery],
) -> SensorResult | SkipReason:
    messages = event_queue.receive(delivery.polling())
    if not messages:
        return SkipReason(f"the event queue stayed empty for {delivery.event_wait_seconds} s")
    refs: list[ObjectRef] = []
    readable: list[ReceivedMessage] = []
    for message in messages:
        try:
            events = parse_event_message(message.body, delivery.max_event_message_bytes)
        except Rejected as rejection:
            context.log.warning(f"event message {message.message_id} dead-lettered: {rejection.reason}")
            event_queue.dead_letter(message, rejection.reason)
            continue
        readable.append(message)
        refs.extend(
            ObjectRef(
                key=event.key,
                event=ObjectEvent.REMOVED if event.removed else ObjectEvent.CREATED,
                size=event.size,
                etag=event.etag,
                event_time=event.event_time,
            )
            for event in events
            if event.bucket in ("", bucket.bucket)
        )
    plans = request_new(
        refs,
        catalog.engine(),
        delivery,
        "event",
        datetime.now(UTC).replace(tzinfo=None),
        request_fate_in(context.instance),
        bucket.current_etag,
    )
    # Only now, with every object queued in the ledger, may the messages go.
    event_queue.delete(readable)
    context.log.info(f"{len(messages)} messages, {len(refs)} object events, {len(plans)} runs requested")
    return SensorResult(run_requests=[run_request(plan) for plan in plans])
