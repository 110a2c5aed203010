"""The plain values the ingest's rules and its adapters hand each other: what S3 says of an
object, what the ledger holds of it, and the items written for it. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ObjectState(StrEnum):
    """Where an object stands in the ledger."""

    QUEUED = "queued"  # a sensor has requested a run for it; the run has not finished
    INGESTED = "ingested"
    REJECTED = "rejected"
    FAILED = "failed"
    REMOVED = "removed"


@dataclass(frozen=True)
class ObjectInfo:
    """One object as S3 describes it (HEAD or listing)."""

    key: str
    size: int
    etag: str
    last_modified: datetime
    metadata: dict[str, str]


@dataclass(frozen=True)
class LedgerRecord:
    """One object's outcome, written with its run id."""

    key: str
    state: str
    run_id: str | None
    etag: str | None = None
    size: int | None = None
    last_modified: datetime | None = None
    prefix: str | None = None
    base_filename: str | None = None
    reason: str | None = None
    run_key: str | None = None


@dataclass(frozen=True)
class KnownObject:
    """What the ledger holds of one key."""

    etag: str | None
    state: str
    updated_at: datetime
    run_key: str | None
    last_modified: datetime | None = None  # of the version, or of the removal event


@dataclass(frozen=True)
class StoredRow:
    """What an exposure's catalog row already holds of what its files give it."""

    flags: frozenset[str]  # the flags that are on
    has_header: bool


@dataclass(frozen=True)
class UploadLogItem:
    """One ``recent-uploads-log`` item (SPEC §6)."""

    site: str
    filename: str  # the full key
    upload_timestamp_s: int
    expire_timestamp_s: int
    size_bytes: int


@dataclass(frozen=True)
class ExpirationEntry:
    """One ``data-expiration-tracker`` item (SPEC §7)."""

    base_filename: str
    s3_directory: str
    expiration_timestamp_s: int
