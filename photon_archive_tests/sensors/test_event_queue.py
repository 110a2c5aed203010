"""The event-queue sensor, evaluated for real against moto's queue and the PostgreSQL ledger."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from dagster import SensorResult

from photon_archive.aws.clients import client
from photon_archive.definitions import build_definitions
from photon_archive.naming import parse_key
from photon_archive_tests.archive import Archive
from photon_archive_tests.sensors.ticks import (
    drain_event_queue,
    event_queue_tick,
    queue_url,
    requested_objects,
)
from photon_archive_tests.test_events import s3_record


def test_uploads_become_runs_and_their_messages_are_deleted_once_queued(archive: Archive) -> None:
    drain_event_queue(archive)
    keys = archive.upload_sample(count=3)

    result = event_queue_tick(archive)

    objects = requested_objects(result)
    assert sorted(o["key"] for o in objects) == sorted(keys)
    assert all(o["event"] == "created" and o["size"] > 0 and o["etag"] for o in objects)
    states = {r["key"]: r["state"] for r in archive.query("SELECT key, state FROM object_ledger")}
    assert states == dict.fromkeys(keys, "queued")
    assert isinstance(result, SensorResult) and result.run_requests is not None
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=queue_url(archive.settings.event_queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    (request,) = result.run_requests
    assert request.tags["photon_archive/source"] == "event"
    assert request.tags["photon_archive/prefix"] == "data"
    assert request.tags["photon_archive/site"] == "sro"


def test_a_redelivered_message_launches_nothing_new(archive: Archive) -> None:
    drain_event_queue(archive)
    archive.upload_sample(count=1)
    sqs = client("sqs")
    url = queue_url(archive.settings.event_queue)
    bodies = [
        m["Body"]
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
    ]
    assert bodies
    first = event_queue_tick(archive)
    assert len(requested_objects(first)) == 4

    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    second = event_queue_tick(archive)

    assert requested_objects(second) == []


def test_runs_are_bounded_by_the_setting_and_keep_an_exposure_together(archive: Archive) -> None:
    drain_event_queue(archive)
    keys = archive.upload_sample(count=5)

    result = event_queue_tick(archive.configured(max_objects_per_run=8))

    assert isinstance(result, SensorResult)
    assert result.run_requests is not None
    sizes = [len(r.run_config["ops"]["ingest_objects"]["config"]["objects"]) for r in result.run_requests]
    assert max(sizes) <= 8 and sum(sizes) == len(keys)
    assert len({r.run_key for r in result.run_requests}) == len(result.run_requests)


def test_a_malformed_message_is_dead_lettered_with_its_reason_and_the_rest_go_on(archive: Archive) -> None:
    drain_event_queue(archive)
    sqs = client("sqs")
    sqs.send_message(QueueUrl=queue_url(archive.settings.event_queue), MessageBody="{not json")
    keys = archive.upload_sample(count=1)

    result = event_queue_tick(archive)

    assert sorted(o["key"] for o in requested_objects(result)) == sorted(keys)
    dead = sqs.receive_message(
        QueueUrl=queue_url(archive.settings.event_dead_letter_queue),
        MessageAttributeNames=["All"],
        MaxNumberOfMessages=10,
    )["Messages"]
    assert [m["Body"] for m in dead] == ["{not json"]
    assert "not valid JSON" in dead[0]["MessageAttributes"]["reason"]["StringValue"]


def test_a_message_above_the_size_setting_is_dead_lettered_naming_the_limit(archive: Archive) -> None:
    drain_event_queue(archive)
    small, large = archive.upload_sample(count=1)[:2]
    drain_event_queue(archive)
    url = queue_url(archive.settings.event_queue)
    padded = json.dumps({"Records": [s3_record(large)], "padding": "x" * 2000})
    client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"Records": [s3_record(small)]}))
    client("sqs").send_message(QueueUrl=url, MessageBody=padded)

    result = event_queue_tick(archive.configured(max_event_message_bytes=1000))

    assert [o["key"] for o in requested_objects(result)] == [small]
    dead = client("sqs").receive_message(
        QueueUrl=queue_url(archive.settings.event_dead_letter_queue),
        MessageAttributeNames=["All"],
        MaxNumberOfMessages=10,
    )["Messages"]
    assert [m["Body"] for m in dead] == [padded]
    reason = dead[0]["MessageAttributes"]["reason"]["StringValue"]
    assert "larger than the limit of 1,000 bytes (max_event_message_bytes)" in reason


def test_removals_and_unwatched_prefixes(archive: Archive) -> None:
    drain_event_queue(archive)
    keys = archive.upload_sample(count=1)
    assert len(requested_objects(event_queue_tick(archive))) == 4
    s3 = client("s3")
    s3.delete_object(Bucket=archive.settings.bucket, Key=keys[-1])
    s3.put_object(
        Bucket=archive.settings.bucket, Key="test/sro-kb001ms-20261124-00000001-EX00.txt", Body=b"x"
    )

    objects = requested_objects(event_queue_tick(archive))

    assert [(o["key"], o["event"]) for o in objects] == [(keys[-1], "removed")]


def test_sns_wrapped_events_and_url_encoded_keys(archive: Archive) -> None:
    drain_event_queue(archive)
    key = "data/sro-kb001ms-20261124-00000001-EX00.txt"
    archive.put(key, b"header")
    drain_event_queue(archive)
    record = {
        "eventName": "ObjectCreated:Put",
        "eventTime": "2026-11-25T01:02:03.000Z",
        "s3": {
            "bucket": {"name": archive.settings.bucket},
            "object": {"key": key.replace("/", "%2F"), "size": 6},
        },
    }
    envelope = {"Type": "Notification", "Message": json.dumps({"Records": [record]})}
    client("sqs").send_message(
        QueueUrl=queue_url(archive.settings.event_queue), MessageBody=json.dumps(envelope)
    )

    objects = requested_objects(event_queue_tick(archive))

    assert Counter(o["key"] for o in objects) == {key: 1}


def test_a_key_with_a_nul_byte_is_queued_and_recognised_when_redelivered(archive: Archive) -> None:
    drain_event_queue(archive)
    record = {
        "eventName": "ObjectCreated:Put",
        "eventTime": "2026-11-25T01:02:03.000Z",
        "s3": {
            "bucket": {"name": archive.settings.bucket},
            "object": {"key": "data%2Fx%00", "size": 1, "eTag": "e"},
        },
    }
    url = queue_url(archive.settings.event_queue)
    requested = []
    for _ in range(2):
        client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"Records": [record]}))
        requested.append([o["key"] for o in requested_objects(event_queue_tick(archive))])

    assert requested == [["data/x\x00"], []]
    # PostgreSQL cannot hold a NUL: the ledger writes it escaped.
    assert archive.query("SELECT key, state FROM object_ledger") == [
        {"key": "data/x\\x00", "state": "queued"}
    ]


def test_a_creation_redelivered_after_the_removal_does_not_bring_the_object_back(archive: Archive) -> None:
    drain_event_queue(archive)
    keys = archive.upload_sample(count=1)
    sqs = client("sqs")
    url = queue_url(archive.settings.event_queue)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    creation = next(m["Body"] for m in messages if "EX10.fits.fz" in m["Body"])
    job = build_definitions(archive.settings).resolve_job_def("ingest")

    def runevent_queue_tick() -> list[dict]:
        result = event_queue_tick(archive)
        for request in (result.run_requests or []) if isinstance(result, SensorResult) else []:
            assert job.execute_in_process(run_config=request.run_config, instance=archive.instance).success
        return requested_objects(result) if isinstance(result, SensorResult) else []

    runevent_queue_tick()
    fits = next(key for key in keys if key.endswith("EX10.fits.fz"))
    client("s3").delete_object(Bucket=archive.settings.bucket, Key=fits)
    assert [o["event"] for o in runevent_queue_tick() if o["key"] == fits] == ["removed"]
    assert archive.ledger(fits)["state"] == "removed"

    sqs.send_message(QueueUrl=url, MessageBody=creation)

    assert runevent_queue_tick() == []
    assert archive.ledger(fits)["state"] == "removed"
    assert archive.row(parse_key(fits).base_filename)["fits_10_exists"] is False


@pytest.mark.parametrize(
    "order",
    [("event", "listing", "event", "replay", "event"), ("listing", "event", "replay", "listing")],
    ids=["event first", "listing first"],
)
def test_an_object_gives_the_same_values_whichever_path_saw_it_in_any_order(
    archive: Archive, order: tuple[str, ...]
) -> None:
    """An exposure without a header is dated by its upload time: an event, a listing and a replay
    must all date it the same, to the catalog, the upload log and the ledger."""
    drain_event_queue(archive)
    keys = archive.upload_sample(count=1, files=("jpg",))
    base = parse_key(keys[0]).base_filename
    tick = event_queue_tick(archive)
    assert isinstance(tick, SensorResult) and tick.run_requests
    event_config = tick.run_requests[0].run_config
    replay_config = {"ops": {"replay_objects": {"config": {"prefix": "data", "force": True}}}}
    definitions = build_definitions(archive.settings)

    def run(path: str) -> bool:
        if path == "listing":
            return archive.ingest([archive.ref(key) for key in keys]).success
        job, config = ("ingest", event_config) if path == "event" else ("replay", replay_config)
        result = definitions.resolve_job_def(job).execute_in_process(config, instance=archive.instance)
        return result.success

    def seen() -> tuple[object, ...]:
        row = {k: v for k, v in archive.row(base).items() if k != "image_id"}
        log = sorted(
            (i["filename"]["S"], i["upload_timestamp_s"]["N"], i["expire_timestamp_s"]["N"])
            for i in archive.table_items(archive.settings.upload_log_table)
            if i["filename"]["S"] in keys  # a replay also takes in the thumbnail the first run wrote
        )
        ledger = sorted(
            (r["key"], r["last_modified"], r["etag"], r["size"]) for r in map(archive.ledger, keys)
        )
        return row, log, ledger

    uploaded = client("s3").head_object(Bucket=archive.settings.bucket, Key=keys[0])["LastModified"]
    first: tuple[object, ...] | None = None
    for path in order:
        assert run(path)
        first = first or seen()
        assert seen() == first, path
    row = archive.row(base)
    assert row["capture_date"] == row["sort_date"] == uploaded.replace(tzinfo=None)
