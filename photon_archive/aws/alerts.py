"""The SNS topic alerts go to. Email and Slack are the topic's subscriptions (an email subscription,
AWS Chatbot for Slack), so the system publishes one message and knows nothing of them.

Every call raises the project's failure classes (``errors.py``) in place of botocore's.
"""

from __future__ import annotations

import functools
import os

from dagster import ConfigurableResource

from photon_archive.alerts import Alert
from photon_archive.aws.clients import client, translated


@functools.cache
def _topic_arn(name: str, endpoint: str | None, region: str | None) -> str:
    identity = client("sts").get_caller_identity()
    partition = str(identity["Arn"]).split(":")[1]
    return f"arn:{partition}:sns:{client('sns').meta.region_name}:{identity['Account']}:{name}"


def topic_arn(topic: str) -> str:
    """``topic`` as an ARN: a name is completed with the caller's partition and account and the
    client's region (``sts:GetCallerIdentity`` needs no permission), once per process."""
    if topic.startswith("arn:"):
        return topic
    return _topic_arn(topic, os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_DEFAULT_REGION"))


class AlertTopic(ConfigurableResource):  # type: ignore[type-arg]
    """Where alerts are published: an SNS topic's ARN or name; empty, nowhere (the sensors log them)."""

    topic: str

    def publish(self, alert: Alert) -> bool:
        """Publish ``alert`` as one message; False when no topic is configured."""
        if not self.topic:
            return False
        with translated(f"SNS topic {self.topic}"):
            client("sns").publish(TopicArn=topic_arn(self.topic), Subject=alert.subject, Message=alert.body)
        return True
