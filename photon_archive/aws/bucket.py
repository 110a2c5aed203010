"""The observatory bucket: reads bounded in size, ranged reads for headers, thumbnail writes.

Every call raises the project's failure classes (``errors.py``) in place of botocore's; an object
that is not there is an answer, not a failure: ``head`` returns None and a read raises ``ObjectGone``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from dagster import ConfigurableResource

from photon_archive.aws.clients import client, translated
from photon_archive.errors import Misconfigured, Rejected, Transient
from photon_archive.records import ObjectInfo

MISSING = ("NoSuchKey", "404", "NotFound")


class ObjectGone(Exception):
    """The object was deleted before it could be read: the batch records it as vanished."""


def is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING


def _where(bucket: str, key: str = "", prefix: str | None = None) -> str:
    """The resource a failure names: the bucket, and the key or the prefix of the call."""
    if key:
        return f"S3 bucket {bucket}, key {key}"
    if prefix is not None:
        return f"S3 bucket {bucket}, prefix {prefix or '(all)'}"
    return f"S3 bucket {bucket}"


class RangeReader:
    """A read-only file over one S3 object that fetches only the byte ranges that are read.

    Header parsing reads a few blocks from the front of files that can be hundreds of megabytes;
    each ``read`` that runs past the buffer costs one ranged GET of at least ``chunk`` bytes.
    """

    def __init__(self, bucket: str, key: str, size: int, chunk: int = 256 * 1024) -> None:
        self.bucket, self.key, self.size, self.chunk = bucket, key, size, chunk
        self.position = 0
        self.bytes_fetched = 0
        self._buffer = b""
        self._buffer_start = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self.position
        end = min(self.position + n, self.size)
        out = bytearray()
        while self.position < end:
            offset = self.position - self._buffer_start
            if 0 <= offset < len(self._buffer):
                taken = self._buffer[offset : offset + (end - self.position)]
                out += taken
                self.position += len(taken)
            else:
                # Past the buffer: fetch from here on, never again what was already fetched.
                self._buffer = self._get(self.position, min(max(end, self.position + self.chunk), self.size))
                self._buffer_start = self.position
        return bytes(out)

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def _get(self, start: int, end: int) -> bytes:
        with translated(_where(self.bucket, self.key)):
            try:
                response = client("s3").get_object(
                    Bucket=self.bucket, Key=self.key, Range=f"bytes={start}-{end - 1}"
                )
            except ClientError as error:
                if is_missing(error):
                    raise ObjectGone(self.key) from error
                raise
            data: bytes = response["Body"].read()
        self.bytes_fetched += len(data)
        return data


class Bucket(ConfigurableResource):  # type: ignore[type-arg]
    """The bucket observatories upload to."""

    bucket: str

    def current_etag(self, key: str) -> str | None:
        """The etag of the version ``key`` holds now; None where there is no such object."""
        info = self.head(key)
        return info.etag if info is not None else None

    def head(self, key: str) -> ObjectInfo | None:
        with translated(_where(self.bucket, key)):
            try:
                response = client("s3").head_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if is_missing(error):
                    return None
                raise
        return ObjectInfo(
            key=key,
            size=int(response["ContentLength"]),
            etag=str(response["ETag"]).strip('"'),
            last_modified=response["LastModified"],
            metadata=dict(response.get("Metadata", {})),
        )

    def read(self, key: str, max_bytes: int, limit: str) -> bytes:
        """The whole object, refused before download when it is larger than ``max_bytes``.

        ``limit`` names the setting that ``max_bytes`` comes from, so the rejection says what to change.
        """
        with translated(_where(self.bucket, key)):
            try:
                response = client("s3").get_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if is_missing(error):
                    raise ObjectGone(key) from error
                raise
            size = int(response["ContentLength"])
            if size > max_bytes:
                response["Body"].close()
                raise Rejected(f"object is {size:,} bytes, above the limit of {max_bytes:,} bytes ({limit})")
            data: bytes = response["Body"].read()
        return data

    def open_range(self, key: str, size: int) -> RangeReader:
        return RangeReader(self.bucket, key, size)

    def put(self, key: str, body: bytes, content_type: str, metadata: dict[str, str] | None = None) -> None:
        with translated(_where(self.bucket, key)):
            client("s3").put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata or {}
            )

    def list_objects(
        self, prefix: str, start_after: str = "", limit: int | None = None
    ) -> Iterator[ObjectInfo]:
        """The objects under ``prefix`` after ``start_after`` (at most ``limit``), in key order."""
        paginator = client("s3").get_paginator("list_objects_v2")
        pagination = {"MaxItems": limit, "PageSize": min(limit, 1000)} if limit else {}
        pages = paginator.paginate(
            Bucket=self.bucket, Prefix=prefix, StartAfter=start_after, PaginationConfig=pagination
        )
        with translated(_where(self.bucket, prefix=prefix)):
            for page in pages:
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=item["Key"],
                        size=int(item["Size"]),
                        etag=str(item["ETag"]).strip('"'),
                        last_modified=item["LastModified"],
                        metadata={},
                    )

    def delete(self, keys: list[str]) -> int:
        """Delete ``keys`` (1,000 per request); a key already gone counts as deleted."""
        s3 = client("s3")
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            with translated(_where(self.bucket)):
                response = s3.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )
            errors = response.get("Errors", [])
            if errors:
                said = (
                    f"S3 refused to delete {len(errors)} objects of {_where(self.bucket)}, e.g. {errors[0]}"
                )
                if str(errors[0].get("Code")) in ("AccessDenied", "403"):
                    raise Misconfigured(said)
                raise Transient(said)
        return len(keys)
