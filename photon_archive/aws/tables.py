"""The three DynamoDB tables other services read: upload log, expiration tracker, info images.

DynamoDB's expression language is spoken here and nowhere else: the ingest and the maintenance jobs
call methods named for what they mean. Every call raises the project's failure classes
(``errors.py``) in place of botocore's; a failed condition is an answer, handled here.

Every maintenance delete is conditional on the item still being due, so an item the ingest rewrote
between the scan and the delete (a new exposure on a channel, a file uploaded again) is left alone,
and an item already gone is simply not deleted again.

The upload log's key is the one its table declares (its sort key is in no source, LEGACY.md):
described once per resource, checked against what the items carry (``table_keys.py``), and then
used by every write and delete.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from dagster import ConfigurableResource
from pydantic import PrivateAttr

from photon_archive.aws.clients import client, translated
from photon_archive.errors import Misconfigured, Transient
from photon_archive.info_images import READER_PATH_FIELDS, InfoImageFile, metadata_pk
from photon_archive.naming import Prefix
from photon_archive.records import ExpirationEntry, UploadLogItem
from photon_archive.table_keys import UPLOAD_LOG, key_attributes, key_problems

# The attributes of a channel item that hold the keys of its objects end so.
PATH_SUFFIX = "_file_path"


@dataclass(frozen=True)
class LoggedUpload:
    """A ``recent-uploads-log`` item as the expiry reads it."""

    site: str
    filename: str  # empty for an item written without one
    expire_timestamp_s: int
    key: dict[str, Any]  # the item's DynamoDB key, as the table's key schema names it


@dataclass(frozen=True)
class ChannelItem:
    """An info-image channel item (``{site}#{channel}``) as the expiry reads it."""

    pk: str
    base_filename: str
    expiration_timestamp: int
    paths: tuple[str, ...]  # the object keys its ``*_file_path`` attributes hold


class Tables(ConfigurableResource):  # type: ignore[type-arg]
    info_images: str
    expiration_tracker: str
    upload_log: str
    _upload_log_key: tuple[str, ...] | None = PrivateAttr(default=None)

    def upload_log_key(self) -> tuple[str, ...]:
        """The upload log's key attributes, hash key first, as its table declares them: described
        once per resource, and refused (``Misconfigured``) if the system's items cannot be keyed so."""
        if self._upload_log_key is None:
            with translated(_where(self.upload_log)):
                table = client("dynamodb").describe_table(TableName=self.upload_log)["Table"]
            problems = key_problems(UPLOAD_LOG, self.upload_log, table)
            if problems:
                raise Misconfigured("; ".join(problems))
            self._upload_log_key = key_attributes(table)
        return self._upload_log_key

    def log_uploads(self, items: Sequence[UploadLogItem]) -> int:
        with translated(_where(self.upload_log)):
            return self._log_uploads(items)

    def _log_uploads(self, items: Sequence[UploadLogItem]) -> int:
        """Write upload-log items 25 to a request, keyed as the table is, so rewrites are harmless.

        Items with the same key (on a table keyed by site and upload second, two files of a site in
        one second) are one item: the last by upload time and name, whatever order they came in.
        """
        if not items:
            return 0
        key = self.upload_log_key()
        ordered = sorted(items, key=lambda item: (item.upload_timestamp_s, item.filename))
        unique = {tuple(getattr(item, name) for name in key): item for item in ordered}
        dynamodb = client("dynamodb")
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        name: {kind: str(getattr(item, name))} for name, kind in UPLOAD_LOG.attributes.items()
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
        with translated(_where(self.expiration_tracker, entry.base_filename)):
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
        with translated(_where(self.info_images, metadata_pk(site))):
            item = (
                client("dynamodb")
                .get_item(
                    TableName=self.info_images, Key={"pk": {"S": metadata_pk(site)}}, ConsistentRead=True
                )
                .get("Item", {})
            )
        return {name: value["S"] for name, value in item.items() if "S" in value}

    def write_info_image(self, file: InfoImageFile, expiration_timestamp: int) -> str:
        """Put one file on its channel; returns "added", "replaced" or "superseded".

        Files of the exposure already on the channel add their path and flag; a newer exposure
        replaces the item whole; an older one leaves it. Both writes are conditional, so concurrent
        runs end with the newest exposure, whole, whatever the interleaving.
        """
        with translated(_where(self.info_images, file.key)):
            return self._write_info_image(file, expiration_timestamp)

    def _write_info_image(self, file: InfoImageFile, expiration_timestamp: int) -> str:
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
        raise Transient(f"info-image channel {file.pk} kept changing under {file.key}")

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

    # --- what maintenance deletes -------------------------------------------------------------

    def expired_upload_log_items(self, now: datetime) -> Iterator[LoggedUpload]:
        """Every upload-log item whose ``expire_timestamp_s`` is at or before ``now``, with its key
        as the table declares it."""
        with translated(_where(self.upload_log)):
            key = self.upload_log_key()
        wanted = dict.fromkeys((*key, "site", "filename", "expire_timestamp_s"))
        names = {f"#a{number}": attribute for number, attribute in enumerate(wanted)}
        expires = next(name for name, attribute in names.items() if attribute == "expire_timestamp_s")
        items = self._scan(
            self.upload_log,
            FilterExpression=f"{expires} <= :now",
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":now": _number(_seconds(now))},
        )
        for item in items:
            yield LoggedUpload(
                site=item["site"]["S"],
                filename=item.get("filename", {}).get("S", ""),
                expire_timestamp_s=int(item["expire_timestamp_s"]["N"]),
                key={attribute: item[attribute] for attribute in key},
            )

    def delete_upload_log_item_if_expired(self, item: LoggedUpload, now: datetime) -> bool:
        """Delete the item unless it was written again since (a file uploaded again keeps its item)."""
        return self._delete_if(
            self.upload_log, item.key, "expire_timestamp_s <= :now", {":now": _number(_seconds(now))}
        )

    def expired_channels(self, now: datetime) -> Iterator[ChannelItem]:
        """Every channel item past its ``expiration_timestamp`` at ``now``; never a site's
        ``{site}#metadata`` item, which the upload API writes."""
        items = self._scan(
            self.info_images,
            FilterExpression="expiration_timestamp <= :now",
            ExpressionAttributeValues={":now": _number(_seconds(now))},
        )
        for item in items:
            pk = item["pk"]["S"]
            if pk == metadata_pk(pk.rpartition("#")[0]) or "base_filename" not in item:
                continue
            paths = [
                value["S"] for name, value in item.items() if name.endswith(PATH_SUFFIX) and "S" in value
            ]
            yield ChannelItem(
                pk=pk,
                base_filename=item["base_filename"]["S"],
                expiration_timestamp=int(item["expiration_timestamp"]["N"]),
                paths=tuple(sorted(set(paths))),
            )

    def delete_channel_if_still_expired(self, channel: ChannelItem, now: datetime) -> bool:
        """Delete the item if it still shows the same exposure, still expired: a newer exposure that
        took the channel since stays."""
        return self._delete_if(
            self.info_images,
            {"pk": {"S": channel.pk}},
            "expiration_timestamp <= :now AND base_filename = :base",
            {":now": _number(_seconds(now)), ":base": {"S": channel.base_filename}},
        )

    def expired_exposure_entries(self, now: datetime) -> Iterator[ExpirationEntry]:
        """Every expiration-tracker entry whose ``expiration_timestamp_s`` is at or before ``now``."""
        items = self._scan(
            self.expiration_tracker,
            FilterExpression="expiration_timestamp_s <= :now",
            ExpressionAttributeValues={":now": _number(_seconds(now))},
        )
        for item in items:
            yield ExpirationEntry(
                base_filename=item["pk"]["S"],
                s3_directory=item.get("s3_directory", {}).get("S", Prefix.DATA),
                expiration_timestamp_s=int(item["expiration_timestamp_s"]["N"]),
            )

    def delete_expiration_entry_if_expired(self, base_filename: str, now: datetime) -> bool:
        """Delete the exposure's entry if it is still expired at ``now``."""
        return self._delete_if(
            self.expiration_tracker,
            {"pk": {"S": base_filename}},
            "expiration_timestamp_s <= :now",
            {":now": _number(_seconds(now))},
        )

    def _scan(self, table: str, **arguments: Any) -> Iterator[dict[str, Any]]:
        """Every item of ``table`` that passes the scan's filter, page after page."""
        pages = (
            client("dynamodb")
            .get_paginator("scan")
            .paginate(TableName=table, ConsistentRead=True, **arguments)
        )
        with translated(_where(table)):
            for page in pages:
                yield from page.get("Items", [])

    def _delete_if(self, table: str, key: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
        """Delete the item if ``condition`` still holds; False when it does not or the item is gone."""
        with translated(_where(table, _key_text(key))):
            try:
                client("dynamodb").delete_item(
                    TableName=table, Key=key, ConditionExpression=condition, ExpressionAttributeValues=values
                )
            except ClientError as error:
                _unless_condition_failed(error)
                return False
        return True


INFO_FLAGS = tuple(READER_PATH_FIELDS)


def _where(table: str, key: str = "") -> str:
    """The resource a failure names: the table, and the item's key where the call has one."""
    return f"DynamoDB table {table}, key {key}" if key else f"DynamoDB table {table}"


def _key_text(key: dict[str, Any]) -> str:
    """An item's key as a failure names it: its attributes' values."""
    return ", ".join(str(next(iter(value.values()), "")) for value in key.values())


def _number(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _header_map(header: dict[str, str]) -> dict[str, Any]:
    return {"M": {keyword: {"S": value} for keyword, value in header.items()}}


def _unless_condition_failed(error: ClientError) -> None:
    if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
        raise error
