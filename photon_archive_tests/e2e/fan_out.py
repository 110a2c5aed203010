"""The bucket's events fanned out through an SNS topic, as they must be for two consumers (LEGACY.md):
S3 refuses two destinations for the same events on overlapping prefixes, so the bucket sends them
to a topic, and the topic to the old system's trigger and to photon_archive's event queue alike."""

from __future__ import annotations

import json
from dataclasses import dataclass

from photon_archive.aws.clients import client
from photon_archive.events import parse_event_message
from photon_archive.settings import Settings

OBJECT_EVENTS = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]


@dataclass(frozen=True)
class FanOut:
    topic_arn: str
    # Stands for the old system's insert_data Lambda, which the topic feeds as it feeds our queue.
    legacy_trigger_url: str

    def events_for_the_old_system(self) -> list[str]:
        """The keys of every object event the old system's trigger has received, drained."""
        sqs = client("sqs")
        keys: list[str] = []
        while messages := sqs.receive_message(
            QueueUrl=self.legacy_trigger_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", []):
            for message in messages:
                keys += [event.key for event in parse_event_message(message["Body"])]
                sqs.delete_message(QueueUrl=self.legacy_trigger_url, ReceiptHandle=message["ReceiptHandle"])
        return keys


def fan_out(settings: Settings, legacy_trigger: str = "legacy-insert-data") -> FanOut:
    """Route the bucket's object events through a topic to the event queue and the old system's
    trigger, in place of the event queue's direct configuration."""
    sns, sqs = client("sns"), client("sqs")
    topic_arn: str = sns.create_topic(Name=f"{settings.bucket}-object-events")["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=topic_arn,
        AttributeName="Policy",
        AttributeValue=_allow(
            "s3.amazonaws.com", "sns:Publish", topic_arn, f"arn:aws:s3:::{settings.bucket}"
        ),
    )
    urls = [
        sqs.get_queue_url(QueueName=settings.event_queue)["QueueUrl"],
        sqs.create_queue(QueueName=legacy_trigger)["QueueUrl"],
    ]
    for url in urls:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.set_queue_attributes(
            QueueUrl=url,
            Attributes={"Policy": _allow("sns.amazonaws.com", "sqs:SendMessage", arn, topic_arn)},
        )
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    client("s3").put_bucket_notification_configuration(
        Bucket=settings.bucket,
        NotificationConfiguration={
            "TopicConfigurations": [
                {"Id": "object-events-fan-out", "TopicArn": topic_arn, "Events": OBJECT_EVENTS}
            ]
        },
    )
    return FanOut(topic_arn, urls[1])


def _allow(service: str, action: str, resource: str, source: str) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": action,
        "Resource": resource,
        "Condition": {"ArnLike": {"aws:SourceArn": source}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
