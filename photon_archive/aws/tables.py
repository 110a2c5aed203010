"""The three DynamoDB tables other services read: upload log, expiration tracker, info images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from botocore.exceptions import ClientError
from dagster import ConfigurableResource

from photon_archive.aws.clients import client


@dataclass(frozen=True)
class UploadLogItem:
    site: str
    filename: str  # the full key
    upload_timestamp_s: int
    expire_timestamp_s: int
    size_bytes: int


@dataclass(frozen=True)
class ExpirationEntry:
    base_filename: str
    s3_directory: str
    expiration_timestamp_s: int


class Tables(ConfigurableResource):  # type: ignore[type-arg]
    info_images: str
    expiration_tracker: str
    upload_log: str

    def log_uploads(self, items: Sequence[UploadLogItem]) -> int:
        """Write upload-log items 25 to a request (keyed by site and key, so rewrites are harmless)."""
        unique = {(item.site, item.filename): item for item in items}
        if not unique:
            return 0
        dynamodb = client("dynamodb")
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "site": {"S": item.site},
                        "filename": {"S": item.filename},
                        "upload_timestamp_s": {"N": str(item.upload_timestamp_s)},
                        "expire_timestamp_s": {"N": str(item.expire_timestamp_s)},
                        "size_bytes": {"N": str(item.size_bytes)},
                    }
                }
            }
            for item in unique.values()
        ]
        for start in range(0, len(requests), 25):
            pending = {self.upload_log: requests[start : start + 25]}
            while pending:
                response = dynamodb.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
        return len(requests)

    def track_expiration(self, entry: ExpirationEntry) -> None:
        """Record when an exposure expires; the earliest upload of the exposure fixes it.

        The conditional write keeps whichever expiry is earliest, so the entry is the same whatever
        order the exposure's files are processed in, and a later file never extends it.
        """
        try:
            client("dynamodb").update_item(
                TableName=self.expiration_tracker,
                Key={"pk": {"S": entry.base_filename}},
                UpdateExpression="SET s3_directory = :d, expiration_timestamp_s = :t",
                ConditionExpression="attribute_not_exists(pk) OR expiration_timestamp_s > :t",
                ExpressionAttributeValues={
                    ":d": {"S": entry.s3_directory},
                    ":t": {"N": str(entry.expiration_timestamp_s)},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
