"""An operator's inbox: an SQS queue subscribed to the alert topic on moto's SNS, as an email address
or AWS Chatbot would be subscribed; what a subscriber receives is read off the queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from photon_archive.aws.clients import client

TOPIC = "photon-archive-alerts"


@dataclass(frozen=True)
class Subscriber:
    topic_arn: str
    queue_url: str

    def received(self) -> list[dict[str, Any]]:
        """Every notification delivered since the last call (SNS's envelope: Subject, Message)."""
        sqs = client("sqs")
        notifications = []
        while messages := sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                notifications.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return notifications


def subscribe(topic: str = TOPIC, queue: str = "operator-inbox") -> Subscriber:
    """The alert topic ``topic``, made if missing, with the queue ``queue`` subscribed to it."""
    sns, sqs = client("sns"), client("sqs")
    topic_arn = sns.create_topic(Name=topic)["TopicArn"]
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return Subscriber(topic_arn, url)
