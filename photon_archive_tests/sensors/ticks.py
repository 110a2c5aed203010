"""Evaluating the sensors for real in a test, reading what they asked for and running it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dagster import SensorResult, SkipReason, build_sensor_context

from photon_archive.aws.clients import client
from photon_archive.definitions import build_definitions
from photon_archive.defs.resources import Delivery, resources_for
from photon_archive.defs.sensors.event_queue import s3_event_queue
from photon_archive.defs.sensors.prefix_scan import s3_prefix_scan
from photon_archive_tests.archive import Archive


def event_queue_tick(archive: Archive, **delivery: Any) -> SensorResult | SkipReason:
    """One tick of ``s3_event_queue`` on the archive's resources; ``delivery``, if given, replaces the
    archive's settings for its budget."""
    resources = resources_for(archive.settings)
    if delivery:
        resources["delivery"] = Delivery(**delivery)
    context = build_sensor_context(instance=archive.instance, resources=resources)
    result = s3_event_queue(context)
    assert isinstance(result, SensorResult | SkipReason)
    return result


def prefix_scan_tick(archive: Archive, cursor: str | None = None, **delivery: Any) -> SensorResult:
    """One tick of ``s3_prefix_scan`` on the archive's resources from ``cursor``; ``delivery``, if
    given, changes some of the archive's settings (``sweep_page``, ``scan_lookback_days`` …)."""
    resources = resources_for(archive.settings)
    resources["delivery"] = replace(archive.settings.extended_as(Delivery), **delivery)
    context = build_sensor_context(instance=archive.instance, resources=resources, cursor=cursor)
    result = s3_prefix_scan(context)
    assert isinstance(result, SensorResult)
    return result


def run_requested(archive: Archive, result: SensorResult | SkipReason) -> None:
    """Run every ingest run the tick requested, as the daemon would launch them."""
    if isinstance(result, SkipReason):
        return
    job = build_definitions(archive.settings).resolve_job_def("ingest")
    for request in result.run_requests or []:
        assert job.execute_in_process(run_config=request.run_config, instance=archive.instance).success


def queue_url(name: str) -> str:
    return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def requested_objects(result: SensorResult | SkipReason) -> list[dict[str, Any]]:
    """Every object of every run the tick requested, as the run config names it."""
    assert isinstance(result, SensorResult)
    return [
        entry
        for request in result.run_requests or []
        for entry in request.run_config["ops"]["ingest_objects"]["config"]["objects"]
    ]


def drain_event_queue(archive: Archive) -> None:
    """Delete whatever is on the event queue (the test event S3 sends when notifications are set up)."""
    sqs = client("sqs")
    url = queue_url(archive.settings.event_queue)
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
