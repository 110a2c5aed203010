"""Provisioning against moto's server: everything the system needs exists, and a second run is harmless."""

from __future__ import annotations

import json

from photon_archive.aws.clients import client
from photon_archive.provision import provision
from photon_archive.settings import Settings


def _drain(queue_url: str) -> list[dict]:
    sqs = client("sqs")
    bodies: list[dict] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_provisioning_creates_bucket_queues_and_tables(aws_settings: Settings) -> None:
    settings = aws_settings
    assert settings.bucket in {b["Name"] for b in client("s3").list_buckets()["Buckets"]}
    sqs = client("sqs")
    for name in (settings.event_queue, settings.event_dead_letter_queue, "datastreamIncomingQueue-dev"):
        sqs.get_queue_url(QueueName=name)
    event_url = sqs.get_queue_url(QueueName=settings.event_queue)["QueueUrl"]
    redrive = json.loads(
        sqs.get_queue_attributes(QueueUrl=event_url, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    assert redrive["deadLetterTargetArn"].endswith(settings.event_dead_letter_queue)
    dynamodb = client("dynamodb")
    keys = {
        name: dynamodb.describe_table(TableName=name)["Table"]["KeySchema"]
        for name in ("info-images", "data-expiration-tracker", "recent-uploads-log")
    }
    assert keys["info-images"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert keys["data-expiration-tracker"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert keys["recent-uploads-log"] == [
        {"AttributeName": "site", "KeyType": "HASH"},
        {"AttributeName": "filename", "KeyType": "RANGE"},
    ]


def test_bucket_sends_created_and_removed_events_to_the_event_queue(aws_settings: Settings) -> None:
    settings = aws_settings
    url = client("sqs").get_queue_url(QueueName=settings.event_queue)["QueueUrl"]
    _drain(url)
    s3 = client("s3")
    s3.put_object(Bucket=settings.bucket, Key="data/sro-kb001ms-20220629-00010442-EX00.txt", Body=b"x")
    s3.delete_object(Bucket=settings.bucket, Key="data/sro-kb001ms-20220629-00010442-EX00.txt")
    events = [record["eventName"] for body in _drain(url) for record in body.get("Records", [])]
    assert events == ["ObjectCreated:Put", "ObjectRemoved:Delete"]


def test_provisioning_twice_is_harmless(aws_settings: Settings) -> None:
    settings = aws_settings
    s3 = client("s3")
    s3.put_object(Bucket=settings.bucket, Key="data/kept.txt", Body=b"observatory data")
    url = client("sqs").get_queue_url(QueueName=settings.event_queue)["QueueUrl"]
    _drain(url)

    again = provision(settings)

    assert again["event_queue_url"] == url
    assert s3.get_object(Bucket=settings.bucket, Key="data/kept.txt")["Body"].read() == b"observatory data"
    # No second s3:TestEvent, no lost notification configuration.
    assert _drain(url) == []
    configuration = s3.get_bucket_notification_configuration(Bucket=settings.bucket)
    assert len(configuration["QueueConfigurations"]) == 1
