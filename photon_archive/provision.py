"""Idempotent provisioning of the bucket, queues and tables the system uses.

Run once against a fresh AWS account by ``photon-archive provision``, and against the emulator by the
local stack; running it again changes nothing.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from photon_archive.aws.clients import client
from photon_archive.settings import Settings

# The dead-letter queue takes an event message after this many failed receives, so one poisoned
# message can never be retried forever.
MAX_RECEIVES_BEFORE_DEAD_LETTER = 5
EVENT_MESSAGE_RETENTION_S = 14 * 24 * 3600


@dataclass(frozen=True)
class TableSpec:
    name: str
    hash_key: str
    range_key: str | None
    ttl_attribute: str


def table_specs(settings: Settings) -> list[TableSpec]:
    """The three DynamoDB tables, with the key shapes other services already read."""
    return [
        TableSpec(settings.info_images_table, "pk", None, "expiration_timestamp"),
        TableSpec(settings.expiration_table, "pk", None, "expiration_timestamp_s"),
        TableSpec(settings.upload_log_table, "site", "filename", "expire_timestamp_s"),
    ]


def provision(settings: Settings) -> dict[str, Any]:
    """Create whatever is missing; return the names and addresses of everything."""
    event_queue_url = _provision_event_queue(settings)
    datastream_url = _queue(settings.datastream_queue, {})
    _provision_bucket(settings, event_queue_url)
    for spec in table_specs(settings):
        _provision_table(spec)
    return {
        "bucket": settings.bucket,
        "event_queue_url": event_queue_url,
        "datastream_queue_url": datastream_url,
        "tables": [spec.name for spec in table_specs(settings)],
    }


def _queue(name: str, attributes: dict[str, str]) -> str:
    sqs = client("sqs")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    if attributes:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url


def _queue_arn(url: str) -> str:
    attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _provision_event_queue(settings: Settings) -> str:
    dead_letter_arn = _queue_arn(_queue(settings.event_dead_letter_queue, {}))
    url = _queue(settings.event_queue, {})
    arn = _queue_arn(url)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{settings.bucket}"}},
            }
        ],
    }
    redrive = {
        "deadLetterTargetArn": dead_letter_arn,
        "maxReceiveCount": str(MAX_RECEIVES_BEFORE_DEAD_LETTER),
    }
    client("sqs").set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": json.dumps(policy),
            "RedrivePolicy": json.dumps(redrive),
            "MessageRetentionPeriod": str(EVENT_MESSAGE_RETENTION_S),
        },
    )
    return url


def _provision_bucket(settings: Settings, event_queue_url: str) -> None:
    s3 = client("s3")
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if settings.bucket not in existing:
        s3.create_bucket(Bucket=settings.bucket)
    set_bucket_notifications(settings, enabled=True, event_queue_url=event_queue_url)


def set_bucket_notifications(settings: Settings, enabled: bool, event_queue_url: str | None = None) -> None:
    """Send the bucket's ObjectCreated and ObjectRemoved events to the event queue, or stop sending them."""
    configuration: dict[str, Any] = {}
    if enabled:
        url = event_queue_url or client("sqs").get_queue_url(QueueName=settings.event_queue)["QueueUrl"]
        configuration["QueueConfigurations"] = [
            {
                "Id": "photon-archive-object-events",
                "QueueArn": _queue_arn(url),
                "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
            }
        ]
    s3 = client("s3")
    current = s3.get_bucket_notification_configuration(Bucket=settings.bucket)
    if current.get("QueueConfigurations", []) == configuration.get("QueueConfigurations", []):
        return  # unchanged: S3 would otherwise send the queue another s3:TestEvent
    s3.put_bucket_notification_configuration(Bucket=settings.bucket, NotificationConfiguration=configuration)


def _provision_table(spec: TableSpec) -> None:
    dynamodb = client("dynamodb")
    if spec.name not in dynamodb.list_tables().get("TableNames", []):
        keys = [{"AttributeName": spec.hash_key, "KeyType": "HASH"}]
        attributes = [{"AttributeName": spec.hash_key, "AttributeType": "S"}]
        if spec.range_key:
            keys.append({"AttributeName": spec.range_key, "KeyType": "RANGE"})
            attributes.append({"AttributeName": spec.range_key, "AttributeType": "S"})
        # Created concurrently by someone else: the same outcome.
        with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
            dynamodb.create_table(
                TableName=spec.name,
                KeySchema=keys,
                AttributeDefinitions=attributes,
                BillingMode="PAY_PER_REQUEST",
            )
        dynamodb.get_waiter("table_exists").wait(TableName=spec.name, WaiterConfig={"Delay": 1})
    ttl = dynamodb.describe_time_to_live(TableName=spec.name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        dynamodb.update_time_to_live(
            TableName=spec.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )
