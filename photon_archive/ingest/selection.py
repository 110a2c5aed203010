"""What a replay selects: the objects of a range of nights, and those it may leave alone."""

from __future__ import annotations

from datetime import date

from photon_archive.errors import Rejected
from photon_archive.ingest.objects import ObjectRef
from photon_archive.naming import parse_key
from photon_archive.records import KnownObject, ObjectState


def in_nights(key: str, first_night: str, last_night: str) -> bool:
    """Whether ``key``'s night (from its name) lies in the range, each end ``YYYY-MM-DD`` or open when
    empty; a bad name is selected only when the range is open at both ends."""
    if not (first_night or last_night):
        return True
    try:
        night = parse_key(key).date
    except Rejected:
        return False
    first = date.fromisoformat(first_night) if first_night else date.min
    last = date.fromisoformat(last_night) if last_night else date.max
    return first <= night <= last


def already_done(known: KnownObject | None, ref: ObjectRef) -> bool:
    """Whether the ledger has ingested or rejected the version ``ref`` names."""
    finished = (ObjectState.INGESTED, ObjectState.REJECTED)
    return known is not None and known.etag == ref.etag and known.state in finished
