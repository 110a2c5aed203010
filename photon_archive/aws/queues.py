"""The two queues: S3 object events in, datastream notifications out."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from dagster import ConfigurableResource

from photon_archive.aws.clients import client

SQS_BATCH = 10  # the most SendMessageBatch / DeleteMessageBatch take


@functools.cache
def _queue_url(name: str, endpoint: str | None) -> str:
    return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def queue_url(name: str) -> str:
    """Looked up once per process and queue, not once per message."""
    import os

    return _queue_url(name, os.environ.get("AWS_ENDPOINT_URL"))


class Datastream(ConfigurableResource):  # type: ignore[type-arg]
    """The web frontend's datastream queue (``datastreamIncomingQueue-{stage}``)."""

    queue_name: str

    def send(self, messages: Sequence[dict[str, Any]]) -> int:
        """Send ``messages`` ten to a request; returns how many were sent."""
        if not messages:
            return 0
        sqs = client("sqs")
        url = queue_url(self.queue_name)
        for start in range(0, len(messages), SQS_BATCH):
            chunk = messages[start : start + SQS_BATCH]
            entries = [{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(chunk)]
            response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
            failed = response.get("Failed", [])
            if failed:
                raise RuntimeError(f"the datastream queue refused {len(failed)} messages: {failed[0]}")
        return len(messages)
