"""The two queues: S3 object events in, datastream notifications out.

Every call raises the project's failure classes (``errors.py``) in place of botocore's.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dagster import ConfigurableResource

from photon_archive.aws.clients import client, translated
from photon_archive.errors import Transient
from photon_archive.event_polling import Polling, drain_more

SQS_BATCH = 10  # the most SendMessageBatch / DeleteMessageBatch take


@functools.cache
def _queue_url(name: str, endpoint: str | None) -> str:
    return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def queue_url(name: str) -> str:
    """Looked up once per process and queue, not once per message."""
    return _queue_url(name, os.environ.get("AWS_ENDPOINT_URL"))


class Datastream(ConfigurableResource):  # type: ignore[type-arg]
    """The web frontend's datastream queue (``datastreamIncomingQueue-{stage}``)."""

    queue_name: str

    def send(self, messages: Sequence[dict[str, Any]]) -> int:
        """Send ``messages`` ten to a request; returns how many were sent."""
        if not messages:
            return 0
        sqs = client("sqs")
        with translated(_where(self.queue_name)):
            url = queue_url(self.queue_name)
            for start in range(0, len(messages), SQS_BATCH):
                chunk = messages[start : start + SQS_BATCH]
                entries = [{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(chunk)]
                response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
                failed = response.get("Failed", [])
                if failed:
                    said = f"{_where(self.queue_name)} refused {len(failed)} messages: {failed[0]}"
                    if any(entry.get("SenderFault") for entry in failed):
                        raise RuntimeError(said)  # a message we made wrong: a bug
                    raise Transient(said)
        return len(messages)


@dataclass(frozen=True)
class ReceivedMessage:
    message_id: str
    receipt_handle: str
    body: str


class EventQueue(ConfigurableResource):  # type: ignore[type-arg]
    """The queue the bucket sends its ObjectCreated/ObjectRemoved events to, and its dead letters."""

    queue_name: str
    dead_letter_queue_name: str

    def receive(self, polling: Polling) -> list[ReceivedMessage]:
        """One long poll, then short polls while they find messages, as ``event_polling`` rules; each
        message received stays hidden from every other receiver for ``polling.visibility_s``."""
        sqs = client("sqs")
        with translated(_where(self.queue_name)):
            url = queue_url(self.queue_name)
        received: list[ReceivedMessage] = []

        def poll(wait_s: int) -> int:
            with translated(_where(self.queue_name)):
                response = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=min(SQS_BATCH, polling.batch - len(received)),
                    WaitTimeSeconds=wait_s,
                    VisibilityTimeout=polling.visibility_s,
                )
            messages = response.get("Messages", [])
            received.extend(ReceivedMessage(m["MessageId"], m["ReceiptHandle"], m["Body"]) for m in messages)
            return len(messages)

        last_reply = poll(polling.wait_s)
        draining_since = time.monotonic()
        while drain_more(polling, len(received), last_reply, time.monotonic() - draining_since):
            last_reply = poll(0)
        return received

    def delete(self, messages: Sequence[ReceivedMessage]) -> None:
        sqs = client("sqs")
        with translated(_where(self.queue_name)):
            url = queue_url(self.queue_name)
            for start in range(0, len(messages), SQS_BATCH):
                chunk = messages[start : start + SQS_BATCH]
                entries = [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(chunk)]
                sqs.delete_message_batch(QueueUrl=url, Entries=entries)

    def dead_letter(self, message: ReceivedMessage, reason: str) -> None:
        """Move a message no retry can fix to the dead-letter queue, with the reason beside it."""
        with translated(_where(self.dead_letter_queue_name)):
            client("sqs").send_message(
                QueueUrl=queue_url(self.dead_letter_queue_name),
                MessageBody=message.body,
                MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000]}},
            )
        self.delete([message])

    def dead_letter_count(self) -> int:
        """How many messages the dead-letter queue holds, whether someone is looking at them or not;
        SQS's approximate counts, read without taking a message off the queue."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        with translated(_where(self.dead_letter_queue_name)):
            attributes = client("sqs").get_queue_attributes(
                QueueUrl=queue_url(self.dead_letter_queue_name), AttributeNames=names
            )["Attributes"]
        return sum(int(attributes.get(name, 0)) for name in names)


def _where(queue_name: str) -> str:
    return f"SQS queue {queue_name}"
