"""The ingest job: objects in (from a sensor or the launchpad), catalog and notifications out.

Two steps, so that "re-execute from failure" after a datastream outage re-sends notifications
without redoing the batch: ``ingest_objects`` commits everything durable, ``notify_datastream``
tells the frontend. Both keep the contract of ``defs/policies.py``: transient failures retry with
backoff before the run fails, a misconfiguration or a bug fails the step at once.
"""

import time
from datetime import UTC, datetime
from typing import Any

from dagster import (
    Config,
    MetadataValue,
    OpExecutionContext,
    Output,
    ResourceParam,
    in_process_executor,
    job,
)

from photon_archive.aws.bucket import Bucket
from photon_archive.aws.queues import Datastream
from photon_archive.aws.tables import Tables
from photon_archive.catalog.resource import Catalog
from photon_archive.defs.assets import lineage_events
from photon_archive.defs.metadata_tables import rejection_table
from photon_archive.defs.policies import contract_op, refuse_oversized_run
from photon_archive.defs.resources import IngestRules
from photon_archive.ingest.batch import Services, ingest_batch
from photon_archive.ingest.decisions import BatchResult
from photon_archive.ingest.objects import ObjectEvent, ObjectRef

# Objects per catalog transaction: bounded so a large replay never holds one huge transaction.
BATCH_OBJECTS = 500
# Rejections listed in a run's metadata; its log names every one.
LISTED_REJECTIONS = 200


class ObjectConfig(Config):
    """One object; only ``key`` is needed from the launchpad, the rest is read from S3."""

    key: str
    event: str = ObjectEvent.CREATED.value
    size: int | None = None
    etag: str | None = None
    last_modified: str | None = None  # ISO 8601, the object's own time
    event_time: str | None = None  # ISO 8601, when an event reported it

    def ref(self) -> ObjectRef:
        return ObjectRef(
            key=self.key,
            event=ObjectEvent(self.event),
            size=self.size,
            etag=self.etag,
            last_modified=_moment(self.last_modified),
            event_time=_moment(self.event_time),
        )


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class IngestConfig(Config):
    objects: list[ObjectConfig]


def ingest_run_config(refs: list[ObjectRef]) -> dict[str, Any]:
    """The run config of an ingest run for ``refs``, as a sensor or a test launches it."""
    objects = []
    for ref in refs:
        entry: dict[str, Any] = {"key": ref.key, "event": ref.event.value}
        if ref.size is not None:
            entry["size"] = ref.size
        if ref.etag is not None:
            entry["etag"] = ref.etag
        if ref.last_modified is not None:
            entry["last_modified"] = ref.last_modified.isoformat()
        if ref.event_time is not None:
            entry["event_time"] = ref.event_time.isoformat()
        objects.append(entry)
    return {"ops": {"ingest_objects": {"config": {"objects": objects}}}}


@contract_op
def ingest_objects(
    context: OpExecutionContext,
    config: IngestConfig,
    bucket: Bucket,
    tables: Tables,
    catalog: Catalog,
    ingest_rules: ResourceParam[IngestRules],
) -> Output[BatchResult]:
    """Catalog rows, ledger, thumbnails, upload log and expiration entries for every object."""
    refuse_oversized_run(len(config.objects), ingest_rules.max_objects_per_run)
    services = Services(bucket, tables, catalog.engine(), ingest_rules.settings())
    return run_batches(context, [o.ref() for o in config.objects], services)


def run_batches(
    context: OpExecutionContext, refs: list[ObjectRef], services: Services, done: str = "ingested"
) -> Output[BatchResult]:
    """Ingest ``refs`` a bounded batch at a time, logging ``done`` so far after each; the run's
    metadata says what happened."""
    started = time.monotonic()
    result = ingest_in_batches(context, refs, services, done)
    return Output(
        result,
        metadata={
            "objects": result.objects,
            "ingested": result.ingested,
            "rejected": result.rejected,
            "removed": result.removed,
            "failed": result.failed,
            "exposures": result.exposures,
            "thumbnails_written": result.thumbnails_written,
            "lag_seconds": MetadataValue.float(_lag_seconds(result)),
            "seconds": MetadataValue.float(round(time.monotonic() - started, 3)),
            "rejections": rejection_table(result.rejections[:LISTED_REJECTIONS]),
        },
    )


def ingest_in_batches(
    context: OpExecutionContext, refs: list[ObjectRef], services: Services, done: str = "ingested"
) -> BatchResult:
    """Ingest ``refs`` a bounded batch at a time, logging the progress of a run of several batches
    ("replayed 500 of 750 objects") and the rejections, and telling the asset graph what was written."""
    result = BatchResult()
    for start in range(0, len(refs), BATCH_OBJECTS):
        batch = refs[start : start + BATCH_OBJECTS]
        result.absorb(ingest_batch(batch, services, context.run_id))
        if len(refs) > BATCH_OBJECTS:
            context.log.info(f"{done} {start + len(batch)} of {len(refs)} objects")
    for key, reason in result.rejections:
        context.log.warning(f"rejected {key}: {reason}")
    for event in lineage_events(result, _lag_seconds(result)):
        context.log_event(event)
    return result


def _lag_seconds(result: BatchResult) -> float:
    """From the oldest upload of the batch to now."""
    lag = (datetime.now(UTC) - result.oldest_upload).total_seconds() if result.oldest_upload else 0.0
    return round(lag, 3)


@contract_op
def notify_datastream(context: OpExecutionContext, result: BatchResult, datastream: Datastream) -> None:
    """One message per exposure of the batch, after its catalog rows are committed."""
    sent = datastream.send(result.notifications)
    context.log.info(f"sent {sent} datastream notifications")


@job(executor_def=in_process_executor, tags={"photon_archive/job": "ingest"})
def ingest() -> None:
    """Ingest a batch of S3 objects: from the sensors, or from the launchpad with a list of keys."""
    notify_datastream(ingest_objects())
