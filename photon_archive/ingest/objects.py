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
    """One object as an event or a listing saw it; what is unknown is read from S3 at ingest."""

    key: str
    event: ObjectEvent = ObjectEvent.CREATED
    size: int | None = None
    etag: str | None = None
    last_modified: datetime | None = None

    @property
    def complete(self) -> bool:
        return self.size is not None and self.etag is not None and self.last_modified is not None


def naive_utc(moment: datetime) -> datetime:
    """The catalog stores naive UTC timestamps (legacy columns have no zone)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
