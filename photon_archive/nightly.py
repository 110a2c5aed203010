"""Nights at a glance: did one site's uploads of one night all get in?

From the ledger's rows of a night and a site (the night and the site are those of the object's
name, SPEC §1), the figures an operator reads first: how many objects, in which state, why the
rejected ones were refused (each reason once, with how many and one key to look at), and how long
an object took from its upload to its ingest. No I/O here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from photon_archive.errors import Rejected
from photon_archive.naming import parse_key
from photon_archive.records import ObjectState


@dataclass(frozen=True)
class NightObject:
    """One ledger row of a night: the object, where it stands, and when it was uploaded and ingested."""

    key: str
    site: str
    night: date
    state: str
    reason: str | None = None
    uploaded_at: datetime | None = None
    ingested_at: datetime | None = None  # the first ingest of the version the ledger holds


@dataclass(frozen=True)
class Rejections:
    """The objects refused for one reason."""

    reason: str
    count: int
    example: str  # the first key, in key order


@dataclass(frozen=True)
class NightSummary:
    night: date
    site: str
    objects: int
    ingested: int
    rejected: int
    queued: int
    failed: int
    removed: int
    rejections: tuple[Rejections, ...]  # the most common reason first
    latency_median_s: float | None  # upload to ingest, of the ingested objects with both times
    latency_p95_s: float | None


def night_and_site(key: str) -> tuple[date, str] | None:
    """The night and the site a key's name gives; None for a name that does not parse."""
    try:
        name = parse_key(key)
    except Rejected:
        return None
    return name.date, name.site


def summarize(night: date, site: str, objects: Iterable[NightObject]) -> NightSummary:
    """The summary of the objects of ``night`` and ``site``; any other object is left out."""
    mine = sorted((o for o in objects if o.night == night and o.site == site), key=lambda o: o.key)
    states = [o.state for o in mine]
    latencies = [
        (o.ingested_at - o.uploaded_at).total_seconds()
        for o in mine
        if o.state == ObjectState.INGESTED and o.uploaded_at is not None and o.ingested_at is not None
    ]
    return NightSummary(
        night=night,
        site=site,
        objects=len(mine),
        ingested=states.count(ObjectState.INGESTED),
        rejected=states.count(ObjectState.REJECTED),
        queued=states.count(ObjectState.QUEUED),
        failed=states.count(ObjectState.FAILED),
        removed=states.count(ObjectState.REMOVED),
        rejections=by_reason(o for o in mine if o.state == ObjectState.REJECTED),
        latency_median_s=statistics.median(latencies) if latencies else None,
        latency_p95_s=percentile(latencies, 0.95) if latencies else None,
    )


def by_reason(rejected: Iterable[NightObject]) -> tuple[Rejections, ...]:
    """Each reason once, with its count and its first key; the most common first, then by reason."""
    keys: dict[str, list[str]] = {}
    for item in rejected:
        keys.setdefault(item.reason or "", []).append(item.key)
    groups = [Rejections(reason, len(found), min(found)) for reason, found in keys.items()]
    return tuple(sorted(groups, key=lambda group: (-group.count, group.reason)))


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the least value that at least ``fraction`` of them do not exceed."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]
