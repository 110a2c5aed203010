"""What a sensor or an operator hands the ingest job: references to S3 objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class ObjectEvent(StrEnum):
    CREATED = "created"
    REMOVED = "removed"


@dataclass(frozen=True)
class ObjectRef:
    """One object as an event or a listing saw it; what is unknown is read from S3 at ingest.

    ``last_modified`` is the object's own time, as S3 keeps it (listings, HEAD and GET agree on it,
    to the second); it is what the catalog, the upload log and the expiry are dated by. An event
    does not carry it: its ``event_time`` is when S3 sent the event, later by milliseconds or, for
    a long upload, by seconds, so it orders events but never dates an object.
    """

    key: str
    event: ObjectEvent = ObjectEvent.CREATED
    size: int | None = None
    etag: str | None = None
    last_modified: datetime | None = None
    event_time: datetime | None = None

    @property
    def complete(self) -> bool:
        return self.size is not None and self.etag is not None and self.last_modified is not None

    @property
    def seen_at(self) -> datetime | None:
        """When this version or removal happened, as far as the reference tells: for ordering."""
        return self.last_modified or self.event_time


def naive_utc(moment: datetime) -> datetime:
    """The catalog stores naive UTC timestamps (legacy columns have no zone)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
