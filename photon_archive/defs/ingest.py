"""The ingest job: objects in (from a sensor or the launchpad), catalog and notifications out.

Two steps, so that "re-execute from failure" after a datastream outage re-sends notifications
without redoing the batch: ``ingest_objects`` commits everything durable, ``notify_datastream``
tells the frontend. Both keep the contract of ``defs/policies.py``: transient failures retry with
backoff before the run fails, a misconfiguration or a bug fails the step at once.
"""

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dagster import (
    Field,
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
from photon_archive.run_tags import TAG_JOB, missing, outcome_tags, scope_tags

# Objects per catalog transaction: bounded so a large replay never holds one huge transaction.
BATCH_OBJECTS = 500
# Rejections listed in a run's metadata; its log names every one.
LISTED_REJECTIONS = 200


# The ingest op's config is declared in Dagster's plain schema. As a ``Config`` class each field would
# be a "source" (a value, or ``{"env": NAME}``) and optional fields ``Noneable``, which Dagster
# validates at over twice the CPU, for every object of every run (``bench ingest``: about a tenth
# of a millisecond per object each time a run's config is resolved).
OBJECT_SCHEMA = {
    "key": Field(str, description="the object's key; only this is needed, the rest is read from S3"),
    "event": Field(
        str,
        is_required=False,
        description=f"{ObjectEvent.CREATED.value} (the default) or {ObjectEvent.REMOVED.value}",
    ),
    "size": Field(int, is_required=False, description="bytes, as listed or as the event said"),
    "etag": Field(str, is_required=False),
    "last_modified": Field(str, is_required=False, description="ISO 8601, the object's own time"),
    "event_time": Field(str, is_required=False, description="ISO 8601, when an event reported it"),
}
INGEST_SCHEMA = {"objects": Field([OBJECT_SCHEMA], description="the objects to ingest")}


def object_ref(entry: Mapping[str, Any]) -> ObjectRef:
    """The object one entry of the ``objects`` config names."""
    return ObjectRef(
        key=entry["key"],
        event=ObjectEvent(entry.get("event", ObjectEvent.CREATED.value)),
        size=entry.get("size"),
        etag=entry.get("etag"),
        last_modified=_moment(entry.get("last_modified")),
        event_time=_moment(entry.get("event_time")),
    )


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


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


@contract_op(config_schema=INGEST_SCHEMA)
def ingest_objects(
    context: OpExecutionContext,
    bucket: Bucket,
    tables: Tables,
    catalog: Catalog,
    ingest_rules: ResourceParam[IngestRules],
) -> Output[BatchResult]:
    """Catalog rows, ledger, thumbnails, upload log and expiration entries for every object."""
    objects = context.op_config["objects"]
    refuse_oversized_run(len(objects), ingest_rules.max_objects_per_run)
    services = Services(bucket, tables, catalog.engine(), ingest_rules.settings())
    return run_batches(context, [object_ref(entry) for entry in objects], services)


def run_batches(
    context: OpExecutionContext, refs: list[ObjectRef], services: Services, done: str = "ingested"
) -> Output[BatchResult]:
    """Ingest ``refs`` a bounded batch at a time, logging ``done`` so far after each; the run's
    metadata and tags say what happened."""
    started = time.monotonic()
    fill_in_tags(context, scope_tags(ref.key for ref in refs))
    result = ingest_in_batches(context, refs, services, done)
    tag_run(context, outcome_tags(result.ingested, result.rejected, result.failed))
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


def fill_in_tags(context: OpExecutionContext, tags: Mapping[str, str]) -> None:
    """Add the ``tags`` the run lacks, for the Runs page to filter on: a run launched from the
    launchpad has no scope tags until it knows what it selected; one a sensor tagged keeps its own."""
    tag_run(context, tags, keep_given=True)


def tag_run(context: OpExecutionContext, tags: Mapping[str, str], keep_given: bool = False) -> None:
    """Add ``tags`` to the op's run (``keep_given``: only those it does not have yet). An op invoked
    directly, outside a run, has no run to tag."""
    run = context.instance.get_run_by_id(context.run_id)
    if run is None:
        return
    new = missing(tags, run.tags) if keep_given else dict(tags)
    if new:
        context.instance.add_run_tags(context.run_id, new)


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


@job(executor_def=in_process_executor, tags={TAG_JOB: "ingest"})
def ingest() -> None:
    """Ingest a batch of S3 objects: from the sensors, or from the launchpad with a list of keys."""
    notify_datastream(ingest_objects())
