"""moto's server, with the answers it gives unlike AWS put right, run as ``python -m`` this module.

- GetBucketNotificationConfiguration: AWS lists ``EventBridgeConfiguration`` (empty) when the bucket
  sends its events to EventBridge; moto 5.2 keeps the setting and sends the events but leaves it out
  of the answer. A reader that writes back what it read, as provisioning does, would switch it off.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.s3.responses import S3Response
from moto.server import main


def list_event_bridge_configuration() -> None:
    """Make moto's bucket-notification answer name EventBridge when it is on, as AWS's does."""
    listed_without = S3Response.get_bucket_notification

    def get_bucket_notification(self: S3Response) -> Any:
        configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if configuration is None or configuration.event_bridge is None:
            return listed_without(self)
        serialized = self.serialized

        def with_event_bridge(result: ActionResult) -> Any:
            return serialized(ActionResult({**result.result, "EventBridgeConfiguration": {}}))  # type: ignore[dict-item]

        self.serialized = with_event_bridge  # type: ignore[method-assign, assignment]
        try:
            return listed_without(self)
        finally:
            del self.serialized

    S3Response.get_bucket_notification = get_bucket_notification  # type: ignore[method-assign]


if __name__ == "__main__":
    list_event_bridge_configuration()
    main()
