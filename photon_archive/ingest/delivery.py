"""What both sensors share: which objects still need an ingest, how they become runs, and the
ledger rows that make a request durable before its event message is deleted. Plain Python: the
sensors (``defs/sensors/``) turn the planned runs into Dagster's run requests.

An object version is requested once: the sensor writes a ``queued`` ledger row with the run key
before it returns the run request, and skips any version the ledger already has. A ``queued`` row
is requested again after a while when its request came to nothing: no run appeared (the daemon died
between the two), or every run under its run key failed before it started, with no retry to follow
(its launch and its retry met a code server that was down).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import Engine

from photon_archive.aws.bucket import Bucket
from photon_archive.catalog.models import ObjectState
from photon_archive.catalog.store import (
    claim_objects,
    known_objects,
    queued_under,
    record_objects,
    waiting_run_keys,
)
from photon_archive.errors import Rejected
from photon_archive.ingest.objects import ObjectEvent, ObjectRef, naive_utc
from photon_archive.naming import parse_key
from photon_archive.records import KnownObject, LedgerRecord
from photon_archive.run_tags import TAG_ASKED_AGAIN_FOR, TAG_SOURCE, scope_tags
from photon_archive.settings import Settings


class RequestFate(Enum):
    """What became of the runs requested under a run key, as far as asking again goes."""

    NO_RUN = "no run"  # the request never became a run: it died with the daemon or the code server
    NEVER_STARTED = "never started"  # its runs all failed before they started; no retry follows
    # A run is queued, running or to be retried, or one ran, or the request was a second one: what
    # comes of it is for that run, or an operator, to decide.
    IN_HAND = "in hand"


def asked_in_vain(fate: RequestFate) -> bool:
    """Whether objects still ``queued`` under a run key of this fate wait for nothing, and are lost
    unless asked for again. A run that started and failed is not: its objects wait for an operator
    to re-execute it, as its alert says."""
    return fate is not RequestFate.IN_HAND


@dataclass(frozen=True)
class PlannedRun:
    run_key: str
    refs: list[ObjectRef]
    tags: dict[str, str]


def needs_ingest(
    ref: ObjectRef,
    known: KnownObject | None,
    now: datetime,
    requeue_after: timedelta,
    request_fate: Callable[[str], RequestFate],
    listed: bool = False,
    current_etag: Callable[[str], str | None] | None = None,
) -> bool:
    """Whether ``ref`` is news to the ledger: a version it lacks, or a request that got lost.

    ``listed`` says the ref comes from listing the bucket, so it is the object's current version;
    an event may instead be a late redelivery of a version the ledger has already seen superseded.
    ``current_etag`` asks the bucket which version a key holds now, for the one case times cannot
    settle (see ``_newer_version``).
    """
    if known is None:
        return True
    if ref.event is ObjectEvent.REMOVED:
        return known.state != ObjectState.REMOVED
    if known.state == ObjectState.REMOVED:
        # A creation event older than the removal is a late redelivery, not a new upload.
        return _after(ref.seen_at, known.last_modified)
    if ref.etag is not None and known.etag != ref.etag:
        return listed or _newer_version(ref, known, current_etag)
    if known.state == ObjectState.QUEUED and known.updated_at < now - requeue_after:
        return known.run_key is None or asked_in_vain(request_fate(known.run_key))
    return False


def _after(event: datetime | None, removal: datetime | None) -> bool:
    if event is None or removal is None:
        return True
    return naive_utc(event) > removal


def _newer_version(
    ref: ObjectRef, known: KnownObject, current_etag: Callable[[str], str | None] | None
) -> bool:
    """Whether an event for another version than the ledger's is a newer upload, not a late
    redelivery of an overwritten version (asking for that again would launch a run per copy and
    leave the old etag in the ledger).

    S3 keeps an object's time to the second and an event's to the millisecond, so two versions
    uploaded within one second cannot be ordered by time: there the bucket says which one it holds.
    Unknown times, or no bucket to ask, count as news: an extra run costs little, a skipped version
    is lost.
    """
    if ref.seen_at is None or known.last_modified is None:
        return True
    event, held = _to_second(ref.seen_at), _to_second(known.last_modified)
    if event != held:
        return event > held
    if current_etag is None:
        return True
    current = current_etag(ref.key)
    return current is not None and current != known.etag


def _to_second(moment: datetime) -> datetime:
    return naive_utc(moment).replace(microsecond=0)


def latest_per_key(refs: Iterable[ObjectRef]) -> list[ObjectRef]:
    """One reference per key: the latest event, as far as event times tell."""
    latest: dict[str, ObjectRef] = {}
    epoch = datetime.min
    for ref in sorted(refs, key=lambda r: naive_utc(r.seen_at) if r.seen_at else epoch):
        latest[ref.key] = ref
    return list(latest.values())


def plan_runs(
    refs: Sequence[ObjectRef],
    source: str,
    max_objects_per_run: int,
    never_started: Mapping[str, str] | None = None,
) -> list[PlannedRun]:
    """Runs of at most ``max_objects_per_run`` objects, one prefix each, files of an exposure together.

    The run key is a digest of the object versions, so the same request made twice (a tick
    evaluated again after a daemon restart) launches one run. ``never_started`` names, per key,
    the run key of an earlier request whose runs never started: it goes into the digest, since
    Dagster launches nothing for a run key a sensor has used already, and into a tag, by which the
    new run's success resolves those runs' failures.
    """
    never_started = never_started or {}
    by_prefix: dict[str, list[ObjectRef]] = {}
    for ref in sorted(refs, key=lambda r: r.key):
        by_prefix.setdefault(ref.key.partition("/")[0], []).append(ref)
    plans = []
    for _, group in sorted(by_prefix.items()):
        for start in range(0, len(group), max_objects_per_run):
            chunk = group[start : start + max_objects_per_run]
            digest = hashlib.sha256()
            for ref in chunk:
                version = f"{ref.key}\0{ref.event.value}\0{ref.etag}\0{ref.seen_at}"
                if ref.key in never_started:
                    version += f"\0{never_started[ref.key]}"
                digest.update(f"{version}\n".encode())
            tags = {TAG_SOURCE: source, **scope_tags(ref.key for ref in chunk)}
            if earlier := sorted({never_started[r.key] for r in chunk if r.key in never_started}):
                tags[TAG_ASKED_AGAIN_FOR] = " ".join(earlier)
            plans.append(PlannedRun(f"{source}-{digest.hexdigest()[:40]}", chunk, tags))
    return plans


def request_new(
    refs: Sequence[ObjectRef],
    engine: Engine,
    settings: Settings,
    source: str,
    now: datetime,
    request_fate: Callable[[str], RequestFate],
    current_etag: Callable[[str], str | None] | None = None,
) -> list[PlannedRun]:
    """Plan runs for the refs the ledger does not have yet and record them as queued.

    The read and the write are one transaction, and the write a claim: where another tick queued an
    object in between (the event sensor and the prefix scan both see a thumbnail the archive has just
    written), that tick has it, and the runs planned here leave it out.
    """
    refs = [ref for ref in latest_per_key(refs) if settings.watches(ref.key)]
    requeue_after = timedelta(minutes=settings.requeue_after_minutes)
    listed = source == "scan"  # the prefix scan lists the bucket as it is now
    with engine.begin() as connection:
        known = known_objects(connection, [ref.key for ref in refs])
        new = [
            ref
            for ref in refs
            if needs_ingest(ref, known.get(ref.key), now, requeue_after, request_fate, listed, current_etag)
        ]
        never_started = _never_started(
            {ref.key: known[ref.key] for ref in new if ref.key in known}, request_fate
        )
        plans = plan_runs(new, source, settings.max_objects_per_run, never_started)
        claimed = claim_objects(connection, _queued(plans), known, now)
        if len(claimed) < len(new):
            plans = plan_runs(
                [ref for ref in new if ref.key in claimed],
                source,
                settings.max_objects_per_run,
                never_started,
            )
            record_objects(connection, _queued(plans), now)
    return plans


def _never_started(
    known: Mapping[str, KnownObject], request_fate: Callable[[str], RequestFate]
) -> dict[str, str]:
    """The run key of each object ``queued`` under a request whose runs never started, by key."""
    return {
        key: record.run_key
        for key, record in known.items()
        if record.state == ObjectState.QUEUED
        and record.run_key is not None
        and request_fate(record.run_key) is RequestFate.NEVER_STARTED
    }


def _queued(plans: Iterable[PlannedRun]) -> list[LedgerRecord]:
    return [
        LedgerRecord(
            key=ref.key,
            state=ObjectState.QUEUED.value,
            run_id=None,
            etag=ref.etag,
            size=ref.size,
            last_modified=naive_utc(ref.seen_at) if ref.seen_at else None,
            prefix=ref.key.partition("/")[0],
            base_filename=_base_filename(ref.key),
            run_key=plan.run_key,
        )
        for plan in plans
        for ref in plan.refs
    ]


def lost_requests(
    engine: Engine,
    bucket: Bucket,
    settings: Settings,
    now: datetime,
    request_fate: Callable[[str], RequestFate],
    listed: Collection[str],
) -> list[ObjectRef]:
    """Objects ``queued`` for longer than the requeue delay under a run key whose request came to
    nothing, which the tick's listing did not show, each as what the bucket holds of it now.

    A daemon killed during a tick loses that tick's run requests after the ledger has recorded them
    and the event messages are gone; a code server killed while the daemon launches a run fails the
    run before it starts, and its retry too while the server is away. A listed object is asked for
    again by ``needs_ingest``; this finds the rest: a removal (the object is no longer there to list)
    and an object of a night the listing no longer covers. Each run key is looked up, not each object.
    """
    cutoff = now - timedelta(minutes=settings.requeue_after_minutes)
    with engine.connect() as connection:
        lost = [key for key in waiting_run_keys(connection, cutoff) if asked_in_vain(request_fate(key))]
        if not lost:
            return []
        waiting = queued_under(connection, lost, settings.max_objects_per_run)
    refs = []
    for key in sorted(set(waiting) - set(listed)):
        info = bucket.head(key)
        if info is None:
            refs.append(ObjectRef(key, ObjectEvent.REMOVED))
        else:
            refs.append(ObjectRef(key, ObjectEvent.CREATED, info.size, info.etag, info.last_modified))
    return refs


def _base_filename(key: str) -> str | None:
    try:
        return parse_key(key).base_filename
    except Rejected:
        return None
