"""The emulator answers as AWS does where provisioning reads it back."""

from __future__ import annotations

from photon_archive.aws.clients import client
from photon_archive_workshop.emulator import Emulator

QUEUE = "arn:aws:sqs:us-east-1:123456789012:watcher"


def test_a_bucket_sending_to_eventbridge_says_so_beside_its_other_notifications(emulator: Emulator) -> None:
    emulator.reset()
    s3 = client("s3")
    s3.create_bucket(Bucket="observatory")
    client("sqs").create_queue(QueueName="watcher")
    queue = {"Id": "watcher", "QueueArn": QUEUE, "Events": ["s3:ObjectRemoved:*"]}

    def listed() -> dict:
        answer = s3.get_bucket_notification_configuration(Bucket="observatory")
        return {name: value for name, value in answer.items() if name != "ResponseMetadata"}

    s3.put_bucket_notification_configuration(
        Bucket="observatory",
        NotificationConfiguration={"QueueConfigurations": [queue], "EventBridgeConfiguration": {}},
    )
    with_bridge = listed()
    s3.put_bucket_notification_configuration(
        Bucket="observatory", NotificationConfiguration={"QueueConfigurations": [queue]}
    )

    assert with_bridge == {"QueueConfigurations": [queue], "EventBridgeConfiguration": {}}
    assert listed() == {"QueueConfigurations": [queue]}
