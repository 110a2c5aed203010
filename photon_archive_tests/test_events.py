"""S3 event messages as the event queue delivers them."""

from __future__ import annotations

import json

import pytest

from photon_archive.errors import Rejected
from photon_archive.events import parse_event_message


def s3_record(key: str, name: str = "ObjectCreated:Put", **object_fields: object) -> dict:
    """One record of an S3 event notification, as S3 writes it for the default bucket."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventTime": "2026-11-25T03:04:05.678Z",
        "eventName": name,
        "s3": {"bucket": {"name": "photonranch-001"}, "object": {"key": key, **object_fields}},
    }


def bridged_event(key: str, detail_type: str = "Object Created", **object_fields: object) -> dict:
    """An S3 event as EventBridge delivers it to a rule's queue target (AWS's example of it)."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-25T03:04:05Z",
        "region": "us-east-1",
        "resources": ["arn:aws:s3:::photonranch-001"],
        "detail": {
            "version": "0",
            "bucket": {"name": "photonranch-001"},
            "object": {"key": key, **object_fields},
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "reason": "PutObject" if detail_type == "Object Created" else "DeleteObject",
        },
    }


def test_a_direct_s3_event_gives_its_objects_with_decoded_keys() -> None:
    body = json.dumps(
        {
            "Records": [
                s3_record(
                    "data%2Fsro-kb001ms-20261124-00000001-EX00.txt", size=5760, eTag='"abc"', sequencer="0A"
                ),
                s3_record("data/my+file%2B1.txt", "ObjectRemoved:Delete"),
            ]
        }
    )
    created, removed = parse_event_message(body)
    assert created.key == "data/sro-kb001ms-20261124-00000001-EX00.txt"
    assert (created.size, created.etag, created.sequencer, created.removed) == (5760, "abc", "0A", False)
    assert created.event_time is not None and created.event_time.microsecond == 678000
    assert created.bucket == "photonranch-001"
    assert removed.key == "data/my file+1.txt" and removed.removed


def test_an_sns_wrapped_event_is_unwrapped() -> None:
    inner = json.dumps({"Records": [s3_record("allsky/x.jpg")]})
    body = json.dumps({"Type": "Notification", "MessageId": "1", "Message": inner})
    assert [event.key for event in parse_event_message(body)] == ["allsky/x.jpg"]


def test_test_events_and_other_event_kinds_name_no_objects() -> None:
    assert parse_event_message(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    restored = {"Records": [s3_record("data/x", "ObjectRestore:Completed")]}
    assert parse_event_message(json.dumps(restored)) == []


def test_an_eventbridge_event_gives_the_object_its_s3_record_would() -> None:
    key = "data%2Fsro-kb001ms-20261124-00000001-EX00.txt"
    record = {**s3_record(key, size=5760, sequencer="0A", eTag='"abc"'), "eventTime": "2026-11-25T03:04:05Z"}

    (bridged,) = parse_event_message(json.dumps(bridged_event(key, size=5760, sequencer="0A", etag="abc")))

    assert [bridged] == parse_event_message(json.dumps({"Records": [record]}))
    assert bridged.key == "data/sro-kb001ms-20261124-00000001-EX00.txt" and not bridged.removed
    assert (bridged.bucket, bridged.size, bridged.etag) == ("photonranch-001", 5760, "abc")
    assert bridged.event_time is not None and bridged.event_time.isoformat() == "2026-11-25T03:04:05+00:00"


@pytest.mark.parametrize("reason", ["DeleteObject", "Lifecycle Expiration"])
def test_an_eventbridge_deletion_is_a_removal_whatever_deleted_it(reason: str) -> None:
    event = bridged_event("data/my+file%2B1.txt", "Object Deleted", etag="d41d8cd98f00b204e9800998ecf8427e")
    event["detail"] |= {"reason": reason, "deletion-type": "Permanently Deleted"}

    (removed,) = parse_event_message(json.dumps(event))

    assert (removed.key, removed.removed, removed.size) == ("data/my file+1.txt", True, None)


@pytest.mark.parametrize(
    "detail_type",
    ["Object Restore Completed", "Object Tags Added", "Object ACL Updated", "Object Storage Class Changed"],
)
def test_other_eventbridge_events_of_s3_name_no_objects(detail_type: str) -> None:
    assert parse_event_message(json.dumps(bridged_event("data/x.fits", detail_type, size=5))) == []


def _without_detail(event: dict) -> dict:
    return {name: value for name, value in event.items() if name != "detail"}


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({**bridged_event("data/x"), "source": "aws.ec2"}, "EventBridge event comes from source 'aws.ec2'"),
        ({**bridged_event("data/x"), "detail-type": 7}, "EventBridge event has a detail-type that is not"),
        (_without_detail(bridged_event("data/x")), "EventBridge event has no detail object"),
        (bridged_event(""), "EventBridge event has no detail.object.key"),
        (bridged_event("data/x", size=-1), "EventBridge event has a size that is not a byte count"),
        ({**bridged_event("data/x"), "time": "yesterday"}, "has time 'yesterday', which is not ISO 8601"),
    ],
)
def test_a_malformed_eventbridge_event_is_rejected_with_what_is_wrong(event: dict, reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        parse_event_message(json.dumps(event))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON list"),
        ("{}", "no Records"),
        ('{"Records": [7]}', "record 0 is not a JSON object"),
        ('{"Records": [{"s3": {}}]}', "no eventName"),
        ('{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {}}}]}', "no s3.object.key"),
        ('{"Type": "Notification", "Message": 5}', "Message is not a string"),
        ('{"Type": "Notification", "Message": "{{"}', "SNS notification's Message is not valid JSON"),
        (json.dumps({"Records": [s3_record("data/x", size="big")]}), "size that is not a byte count"),
        (json.dumps({"Records": [{**s3_record("data/x"), "eventTime": "yesterday"}]}), "not ISO 8601"),
        ("x" * 300_000, "larger than the limit"),
    ],
)
def test_a_malformed_message_is_rejected_with_what_is_wrong(body: str, reason: str) -> None:
    with pytest.raises(Rejected, match=reason):
        parse_event_message(body)
