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
