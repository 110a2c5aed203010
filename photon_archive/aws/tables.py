"""The three DynamoDB tables other services read: upload log, expiration tracker, info images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError
from dagster import ConfigurableResource

from photon_archive.aws.clients import client
from photon_archive.info_images import READER_PATH_FIELDS, InfoImageFile, metadata_pk
from photon_archive.records import ExpirationEntry, UploadLogItem


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
            _unless_condition_failed(error)

    def site_metadata(self, site: str) -> dict[str, str]:
        """The ``{site}#metadata`` item the upload API writes (``channel1..3`` = base filename)."""
        item = (
            client("dynamodb")
            .get_item(TableName=self.info_images, Key={"pk": {"S": metadata_pk(site)}}, ConsistentRead=True)
            .get("Item", {})
        )
        return {name: value["S"] for name, value in item.items() if "S" in value}

    def write_info_image(self, file: InfoImageFile, expiration_timestamp: int) -> str:
        """Put one file on its channel; returns "added", "replaced" or "superseded".

        Files of the exposure already on the channel add their path and flag; a newer exposure
        replaces the item whole; an older one leaves it. Both writes are conditional, so concurrent
        runs end with the newest exposure, whole, whatever the interleaving.
        """
        dynamodb = client("dynamodb")
        for _ in range(10):
            try:
                dynamodb.update_item(**self._add_to_item(file, expiration_timestamp))
                return "added"
            except ClientError as error:
                _unless_condition_failed(error)
            try:
                dynamodb.put_item(**self._new_item(file, expiration_timestamp))
                return "replaced"
            except ClientError as error:
                _unless_condition_failed(error)
            current = dynamodb.get_item(
                TableName=self.info_images, Key={"pk": {"S": file.pk}}, ConsistentRead=True
            ).get("Item", {})
            if current.get("exposure_order", {}).get("S", "") > file.exposure_order:
                return "superseded"
            # The same exposure was put there meanwhile, by another run: add to it.
        raise RuntimeError(f"info-image channel {file.pk} kept changing under {file.key}")

    def _add_to_item(self, file: InfoImageFile, expiration_timestamp: int) -> dict[str, Any]:
        names = {f"#path{number}": field for number, field in enumerate(file.path_fields)}
        values: dict[str, Any] = {
            ":base": {"S": file.base_filename},
            ":key": {"S": file.key},
            ":expires": {"N": str(expiration_timestamp)},
        }
        assignments = [f"{name} = :key" for name in names] + ["expiration_timestamp = :expires"]
        if file.flag:
            names["#flag"] = file.flag
            values[":true"] = {"BOOL": True}
            assignments.append("#flag = :true")
        if file.header is not None:
            values[":header"] = _header_map(file.header)
            assignments.append("header = :header")
        return {
            "TableName": self.info_images,
            "Key": {"pk": {"S": file.pk}},
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": "base_filename = :base",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def _new_item(self, file: InfoImageFile, expiration_timestamp: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": file.pk},
            "base_filename": {"S": file.base_filename},
            "data_type": {"S": file.data_type},
            "file_date": {"S": file.file_date},
            "exposure_order": {"S": file.exposure_order},
            "expiration_timestamp": {"N": str(expiration_timestamp)},
        }
        for field in file.path_fields:
            item[field] = {"S": file.key}
        for flag in INFO_FLAGS:
            item[flag] = {"BOOL": flag == file.flag}
        if file.header is not None:
            item["header"] = _header_map(file.header)
        return {
            "TableName": self.info_images,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk) OR exposure_order < :order",
            "ExpressionAttributeValues": {":order": {"S": file.exposure_order}},
        }


INFO_FLAGS = tuple(READER_PATH_FIELDS)


def _header_map(header: dict[str, str]) -> dict[str, Any]:
    return {"M": {keyword: {"S": value} for keyword, value in header.items()}}


def _unless_condition_failed(error: ClientError) -> None:
    if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
        raise error
