"""The alert sensors on real parts: moto's SNS with an SQS queue subscribed to the alert topic, the
real event queue, a PostgreSQL ledger, failed runs in a temporary Dagster instance. What a subscriber
receives is read off the subscribed queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dagster import DagsterInstance, SensorDefinition, build_sensor_context, instance_for_test

from photon_archive.aws.clients import client
from photon_archive.aws.queues import queue_url
from photon_archive.definitions import build_definitions
from photon_archive.defs.ingest import ingest_run_config
from photon_archive.defs.resources import resources_for
from photon_archive.defs.sensors.alerts import dead_letter_alerts, run_failure_alerts, waiting_object_alerts
from photon_archive_tests.archive import Archive
from photon_archive_tests.inbox import TOPIC, Subscriber, subscribe
from photon_archive_tests.sensors.ticks import drain_event_queue, event_queue_tick

TAGS = {
    "photon_archive/source": "event",
    "photon_archive/prefix": "data",
    "photon_archive/site": "sro",
    "photon_archive/objects": "5",
}


@pytest.fixture
def subscriber(archive: Archive) -> Subscriber:
    return subscribe()


def tick(
    sensor: SensorDefinition, archive: Archive, cursor: str | None, instance: DagsterInstance | None = None
) -> str | None:
    """One evaluation of ``sensor`` as the daemon makes it, from ``cursor``; returns the next cursor."""
    with build_sensor_context(
        instance=instance or archive.instance, resources=resources_for(archive.settings), cursor=cursor
    ) as context:
        return sensor.evaluate_tick(context).cursor


def failed_ingest(archive: Archive, instance: DagsterInstance | None = None) -> str:
    """An ingest run, tagged as the event sensor tags its runs, into a bucket that does not exist:
    it fails at once. Returns its run id."""
    refs = [archive.ref(key) for key in archive.upload_sample(count=1)]  # described: no HEAD needed
    broken = archive.configured(bucket="photonranch-no-such-bucket")
    job = build_definitions(broken.settings).resolve_job_def("ingest")
    result = job.execute_in_process(
        run_config=ingest_run_config(refs),
        instance=instance or archive.instance,
        tags=TAGS,
        raise_on_error=False,
    )
    assert not result.success
    return result.run_id


def test_a_failed_run_is_alerted_once_with_its_cause_on_one_line_and_its_link(
    archive: Archive, subscriber: Subscriber
) -> None:
    alerted = archive.configured(
        alert_topic=subscriber.topic_arn, webserver_url="https://dagster.example.org/"
    )
    cursor = tick(run_failure_alerts, alerted, None)  # a new sensor starts from now

    run_id = failed_ingest(alerted)
    cursor = tick(run_failure_alerts, alerted, cursor)

    (notification,) = subscriber.received()
    assert notification["Subject"].startswith("photon_archive: ingest run failed: ingest_objects: ")
    assert len(notification["Subject"]) < 100
    lines = notification["Message"].splitlines()
    assert lines[0] == f"Run {run_id} of job ingest failed."
    (cause,) = [line for line in lines if line.startswith("Cause: ")]
    assert cause.startswith("Cause: ingest_objects: ")
    assert "S3 bucket photonranch-no-such-bucket, key data/" in cause
    assert "does not exist (NoSuchBucket)" in cause
    assert "Traceback" not in notification["Message"]
    assert "Tags: job ingest, objects 5, prefix data, site sro, source event" in lines
    assert any(line.startswith("Retry: no retry follows") for line in lines)
    assert f"Run: https://dagster.example.org/runs/{run_id}" in lines

    tick(run_failure_alerts, alerted, cursor)
    assert subscriber.received() == []


def test_a_failed_run_the_instance_retries_says_a_retry_follows(
    archive: Archive, subscriber: Subscriber
) -> None:
    alerted = archive.configured(alert_topic=subscriber.topic_arn)
    with instance_for_test(overrides={"run_retries": {"enabled": True, "max_retries": 2}}) as retrying:
        cursor = tick(run_failure_alerts, alerted, None, retrying)
        run_id = failed_ingest(alerted, retrying)
        tick(run_failure_alerts, alerted, cursor, retrying)

    (notification,) = subscriber.received()
    assert "Retry: a retry follows: retry 1 of 2, a new run." in notification["Message"].splitlines()
    assert f"Run: http://localhost:3000/runs/{run_id}" in notification["Message"].splitlines()


def test_dead_lettered_messages_are_alerted_when_their_count_rises_and_stay_on_the_queue(
    archive: Archive, subscriber: Subscriber
) -> None:
    alerted = archive.configured(alert_topic=TOPIC)  # by name: completed with the account and region
    drain_event_queue(alerted)
    events = queue_url(alerted.settings.event_queue)
    for body in ("not an S3 event", "{}"):
        client("sqs").send_message(QueueUrl=events, MessageBody=body)
    event_queue_tick(alerted)  # the event sensor moves both aside, with their reasons

    cursor = tick(dead_letter_alerts, alerted, None)
    (first,) = subscriber.received()
    assert first["Subject"] == (
        f"photon_archive: 2 event messages dead-lettered (2 on {alerted.settings.event_dead_letter_queue})"
    )
    assert "--visibility-timeout 0" in first["Message"] and "reason" in first["Message"]
    assert "Runbook > Dead-lettered event messages" in first["Message"]

    cursor = tick(dead_letter_alerts, alerted, cursor)
    assert subscriber.received() == []

    client("sqs").send_message(QueueUrl=events, MessageBody="still not an S3 event")
    event_queue_tick(alerted)
    cursor = tick(dead_letter_alerts, alerted, cursor)
    (second,) = subscriber.received()
    assert second["Message"].startswith(
        f"3 event messages are on the dead-letter queue {alerted.settings.event_dead_letter_queue} "
        "(1 new since the last alert)."
    )
    dead_letters = queue_url(alerted.settings.event_dead_letter_queue)
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=dead_letters, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "3"


def test_objects_waiting_too_long_are_alerted_once_under_their_run_key(
    archive: Archive, subscriber: Subscriber
) -> None:
    alerted = archive.configured(alert_topic=subscriber.topic_arn)
    drain_event_queue(alerted)
    keys = alerted.upload_sample(count=1)
    (request,) = event_queue_tick(alerted).run_requests or []  # type: ignore[union-attr]
    cursor = tick(waiting_object_alerts, alerted, None)
    assert subscriber.received() == []  # just requested: not yet a concern

    alerted.query(
        "UPDATE object_ledger SET updated_at = updated_at - :age WHERE state = 'queued' RETURNING 1",
        age=timedelta(minutes=31),
    )
    cursor = tick(waiting_object_alerts, alerted, cursor)
    (notification,) = subscriber.received()
    assert notification["Subject"] == f"photon_archive: objects waiting for run {request.run_key}"
    assert f"- {request.run_key}: {len(keys)} objects, queued since" in notification["Message"]
    assert keys[0] in notification["Message"]

    tick(waiting_object_alerts, alerted, cursor)
    assert subscriber.received() == []


def test_without_an_alert_topic_nothing_is_published_and_the_alert_is_logged(
    archive: Archive, subscriber: Subscriber, capfd: pytest.CaptureFixture[str]
) -> None:
    cursor = tick(run_failure_alerts, archive, None)
    run_id = failed_ingest(archive)
    capfd.readouterr()

    tick(run_failure_alerts, archive, cursor)

    assert subscriber.received() == []
    logged = capfd.readouterr().err
    assert "WARNING - alert not published, PHOTON_ARCHIVE_ALERT_TOPIC is not set" in logged
    assert f"Run {run_id} of job ingest failed." in logged
