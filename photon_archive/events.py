"""S3 event notifications, as they arrive on the event queue: which objects were created or removed.

A message is an S3 event (``{"Records": [...]}``), the same wrapped in an SNS notification, S3's
``s3:TestEvent``, or an S3 event as EventBridge delivers it (``{"source": "aws.s3", "detail-type":
..., "detail": {...}}``, the body an EventBridge rule sends to its queue target). Keys in records
are URL-encoded (``+`` is a space). AWS's page on EventBridge's S3 events says nothing either way
for ``detail.object.key``; AWS's own readers of them (Lambda Powertools, Data Prepper) decode it as
the record's key, and so does this. No watched name holds a character the encoding changes, so on
every key the naming rules accept either reading is the same. Anything else is refused with a
``Rejected`` whose reason says what is wrong, so one bad message never stalls the queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from photon_archive.errors import Rejected
from photon_archive.naming import decode_event_key

MAX_MESSAGE_BYTES = 256 * 1024  # SQS's own limit on a message body
# EventBridge's detail-types for the objects the catalog follows, and whether each is a removal.
# "Object Deleted" covers DeleteObject and Lifecycle Expiration alike (``detail.reason``): either
# way the object is gone. The other detail-types S3 sends (restores, tags, ACLs, storage classes)
# name nothing for the catalog.
BRIDGED_DETAIL_TYPES = {"Object Created": False, "Object Deleted": True}


@dataclass(frozen=True)
class S3Event:
    """One object event of one record."""

    bucket: str
    key: str
    removed: bool
    size: int | None
    etag: str | None
    event_time: datetime | None
    sequencer: str | None


def parse_event_message(body: str, max_bytes: int = MAX_MESSAGE_BYTES) -> list[S3Event]:
    """The object events in one queue message; an empty list for test events and other event kinds.

    ``max_bytes`` bounds what one message may cost to parse (the setting ``max_event_message_bytes``).
    """
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise Rejected(
            f"event message is {size:,} bytes, larger than the limit of {max_bytes:,} bytes "
            "(max_event_message_bytes)"
        )
    document = _json(body, "event message")
    if isinstance(document, dict) and document.get("Type") == "Notification" and "Message" in document:
        inner = document["Message"]
        if not isinstance(inner, str):
            raise Rejected("SNS notification's Message is not a string")
        document = _json(inner, "SNS notification's Message")
    if not isinstance(document, dict):
        raise Rejected(f"event message is a JSON {type(document).__name__}, not an object")
    if document.get("Event") == "s3:TestEvent":
        return []
    if "detail-type" in document:
        return _bridged(document)
    records = document.get("Records")
    if not isinstance(records, list):
        raise Rejected("event message has no Records list")
    events = []
    for index, record in enumerate(records):
        event = _record(record, index)
        if event is not None:
            events.append(event)
    return events


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise Rejected(f"{what} is not valid JSON: {error}") from None


def _record(record: Any, index: int) -> S3Event | None:
    where = f"record {index}"
    if not isinstance(record, dict):
        raise Rejected(f"{where} is not a JSON object")
    name = record.get("eventName")
    if not isinstance(name, str):
        raise Rejected(f"{where} has no eventName")
    if name.startswith("s3:"):
        name = name[3:]
    if not name.startswith(("ObjectCreated:", "ObjectRemoved:")):
        return None  # restores, replication, tagging…: nothing for the catalog
    s3 = record.get("s3")
    return _object_event(
        where,
        "s3",
        s3 if isinstance(s3, dict) else {},
        removed=name.startswith("ObjectRemoved:"),
        moment=_time(record.get("eventTime"), where, "eventTime"),
    )


def _bridged(event: dict[str, Any]) -> list[S3Event]:
    """The object an EventBridge event names: one event, or none for a detail-type that is not
    an object's creation or removal."""
    where = "EventBridge event"
    if event.get("source") != "aws.s3":
        raise Rejected(f"{where} comes from source {event.get('source')!r}, not aws.s3")
    detail_type = event["detail-type"]
    if not isinstance(detail_type, str):
        raise Rejected(f"{where} has a detail-type that is not a string: {detail_type!r}")
    if detail_type not in BRIDGED_DETAIL_TYPES:
        return []
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise Rejected(f"{where} has no detail object")
    moment = _time(event.get("time"), where, "time")
    return [_object_event(where, "detail", detail, BRIDGED_DETAIL_TYPES[detail_type], moment)]


def _object_event(
    where: str, path: str, holder: dict[str, Any], removed: bool, moment: datetime | None
) -> S3Event:
    """The event of the ``bucket`` and ``object`` in ``holder`` (a record's ``s3``, an EventBridge
    event's ``detail``), which the message names ``path``."""
    bucket, obj = holder.get("bucket"), holder.get("object")
    if not isinstance(obj, dict) or not isinstance(obj.get("key"), str) or not obj["key"]:
        raise Rejected(f"{where} has no {path}.object.key")
    size = obj.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise Rejected(f"{where} has a size that is not a byte count: {size!r}")
    etag = obj.get("eTag", obj.get("etag"))
    return S3Event(
        bucket=str(bucket.get("name", "")) if isinstance(bucket, dict) else "",
        key=decode_event_key(obj["key"]),
        removed=removed,
        size=size,
        etag=etag.strip('"') if isinstance(etag, str) and etag else None,
        event_time=moment,
        sequencer=obj.get("sequencer") if isinstance(obj.get("sequencer"), str) else None,
    )


def _time(value: Any, where: str, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Rejected(f"{where} has {field} {value!r}, which is not a string")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Rejected(f"{where} has {field} {value!r}, which is not ISO 8601") from None
