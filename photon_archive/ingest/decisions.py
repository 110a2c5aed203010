"""The decisions of one ingest batch, as functions of plain values.

Given the references a run was handed, what S3 says of each object, what the catalog and the
ledger already hold and what was read, these functions say what to read next and what follows from
it: each object's outcome and contributions to its row, the channel items, upload-log items,
expiration entries, ledger records and notifications. ``batch.py`` does the I/O around them, in
the documented order; nothing here reads or writes anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from photon_archive.catalog.rows import Contribution, header_rank
from photon_archive.errors import Rejected
from photon_archive.headers import (
    DEFAULT_RIGHT_ASCENSION_UNIT,
    HeaderLimits,
    ParsedHeader,
    right_ascension_in,
)
from photon_archive.info_images import CHANNEL_METADATA, InfoImageFile, channel_for, info_image_file
from photon_archive.ingest.objects import ObjectEvent, ObjectRef, naive_utc
from photon_archive.naming import EXPOSURE_TABLE, FileKind, ObjectName, Prefix, parse_key, thumbnail_key
from photon_archive.records import (
    ExpirationEntry,
    KnownObject,
    LedgerRecord,
    ObjectInfo,
    ObjectState,
    UploadLogItem,
)
from photon_archive.retention import expiry_seconds
from photon_archive.thumbnails import DEFAULT_HEIGHT, DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS

INFO_PREFIX = Prefix.INFO_IMAGES
# How long upload-log and info-image items live unless the settings say otherwise (the legacy's 48 h).
DEFAULT_ITEM_TTL = timedelta(hours=48)
GONE = "no longer in the bucket when ingested"


class Thumbnails(StrEnum):
    """When an ingest writes a medium jpg's thumbnail."""

    WHEN_OLDER = "when_older"  # none is there, or the one there is older than its jpg (the default)
    ALWAYS = "always"  # remade every time: a replay after the thumbnail rules changed
    WHEN_MISSING = "when_missing"  # only where none exists: the baseline of a bucket with history
    NEVER = "never"  # the bucket is not written at all: a run beside the old system


@dataclass(frozen=True)
class Reach:
    """What an ingest touches beyond its own catalog and ledger: what the readers see.

    An object is announced (a datastream message for its exposure, an upload-log item) unless
    announcements are off or it was uploaded before ``announce_since``: an exposure from before the
    cutover is news to nobody, however it comes to be ingested.
    """

    announce: bool = True
    announce_since: datetime | None = None  # aware UTC
    shared_tables: bool = True  # the expiration tracker and the info-image channels
    thumbnails: Thumbnails = Thumbnails.WHEN_OLDER

    def announces(self, uploaded: datetime) -> bool:
        return self.announce and (self.announce_since is None or uploaded >= self.announce_since)

    def thumbnails_for(self, uploaded: datetime) -> Thumbnails:
        """The thumbnail policy for a jpg uploaded at ``uploaded``. One from before the cutover gets a
        thumbnail only where none exists: the one there is what the readers have shown for years,
        and a remade one would be a new upload, announced when it is ingested."""
        before_cutover = self.announce_since is not None and uploaded < self.announce_since
        if before_cutover and self.thumbnails is Thumbnails.WHEN_OLDER:
            return Thumbnails.WHEN_MISSING
        return self.thumbnails

    def within(self, bounds: Reach) -> Reach:
        """This reach kept within ``bounds``, the deployment's: what a job asks for (a forced
        replay's thumbnails, a baseline's) never goes where the deployment does not reach."""
        cutovers = [moment for moment in (self.announce_since, bounds.announce_since) if moment is not None]
        return Reach(
            announce=self.announce and bounds.announce,
            announce_since=max(cutovers, default=None),
            shared_tables=self.shared_tables and bounds.shared_tables,
            thumbnails=Thumbnails.NEVER if bounds.thumbnails is Thumbnails.NEVER else self.thumbnails,
        )


@dataclass(frozen=True)
class IngestSettings:
    thumbnail_height: int = DEFAULT_HEIGHT
    max_image_pixels: int = DEFAULT_MAX_PIXELS
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    upload_log_ttl: timedelta = DEFAULT_ITEM_TTL
    info_image_ttl: timedelta = DEFAULT_ITEM_TTL
    expiration_rules: dict[tuple[str | None, str], int] = field(default_factory=dict)
    header_limits: HeaderLimits = field(default_factory=HeaderLimits)
    right_ascension_unit: str = DEFAULT_RIGHT_ASCENSION_UNIT
    reach: Reach = field(default_factory=Reach)


@dataclass
class BatchResult:
    """What a batch did, for run metadata, lineage, the notification step and the operator."""

    states: Counter[tuple[str, str]] = field(default_factory=Counter)  # (prefix, state) -> objects
    exposure_keys: set[tuple[str, str]] = field(default_factory=set)  # (prefix, base filename) ingested
    thumbnails_written: int = 0
    oldest_upload: datetime | None = None
    rejections: list[tuple[str, str]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)

    def count(self, state: str | None = None, prefix: str | None = None) -> int:
        return sum(n for (p, s), n in self.states.items() if state in (None, s) and prefix in (None, p))

    @property
    def objects(self) -> int:
        return self.count()

    @property
    def ingested(self) -> int:
        return self.count(ObjectState.INGESTED)

    @property
    def rejected(self) -> int:
        return self.count(ObjectState.REJECTED)

    @property
    def removed(self) -> int:
        return self.count(ObjectState.REMOVED)

    @property
    def failed(self) -> int:
        return self.count(ObjectState.FAILED)

    @property
    def exposures(self) -> int:
        return len(self.exposure_keys)

    def absorb(self, other: BatchResult) -> None:
        """Add the figures of a further batch of the same run."""
        self.states.update(other.states)
        self.exposure_keys |= other.exposure_keys
        self.thumbnails_written += other.thumbnails_written
        if other.oldest_upload and (self.oldest_upload is None or other.oldest_upload < self.oldest_upload):
            self.oldest_upload = other.oldest_upload
        self.rejections.extend(other.rejections)
        self.notifications.extend(n for n in other.notifications if n not in self.notifications)


# --------------------------------------------------------------------------------------------------
# what the names alone decide


Named = tuple[ObjectRef, ObjectName]


@dataclass(frozen=True)
class Sorted:
    """A batch's references sorted by what their names say."""

    created: list[Named]
    removals: list[Named]
    ledger: list[LedgerRecord]  # the names refused, and the removals


def sort_refs(refs: Iterable[ObjectRef], run_id: str) -> Sorted:
    """The last reference of each key, by kind: creations to examine, removals, and refused names."""
    created: list[Named] = []
    removals: list[Named] = []
    ledger: list[LedgerRecord] = []
    for ref in {ref.key: ref for ref in refs}.values():
        try:
            name = parse_key(ref.key)
            if name.prefix not in set(Prefix):
                raise Rejected(f"prefix '{name.prefix}' is not one this ingest catalogs")
        except Rejected as rejection:
            ledger.append(_ref_record(ref, None, ObjectState.REJECTED, run_id, rejection.reason))
            continue
        if ref.event is ObjectEvent.REMOVED:
            removals.append((ref, name))
            ledger.append(_ref_record(ref, name, ObjectState.REMOVED, run_id, "removed from the bucket"))
        else:
            created.append((ref, name))
    return Sorted(created, removals, ledger)


def needs_head(ref: ObjectRef) -> bool:
    """Whether S3 must be asked about an object before it is examined.

    An event's reference is never complete (the object's own time is not in the event), and an
    info image's channel may be in its metadata, which only a HEAD shows."""
    return not ref.complete or ref.key.startswith(f"{INFO_PREFIX}/")


def described(ref: ObjectRef) -> ObjectInfo:
    """A complete reference, as S3 would describe the object."""
    assert ref.size is not None and ref.etag is not None and ref.last_modified is not None
    return ObjectInfo(ref.key, ref.size, ref.etag, ref.last_modified, {})


def present(
    created: Sequence[Named], infos: Sequence[ObjectInfo | None], run_id: str
) -> tuple[list[tuple[ObjectName, ObjectInfo]], list[LedgerRecord]]:
    """The created objects S3 still has, and a ``removed`` record for each it no longer has."""
    found: list[tuple[ObjectName, ObjectInfo]] = []
    gone: list[LedgerRecord] = []
    for (ref, name), info in zip(created, infos, strict=True):
        if info is None:
            gone.append(_ref_record(ref, name, ObjectState.REMOVED, run_id, GONE))
        else:
            found.append((name, info))
    return found, gone


# --------------------------------------------------------------------------------------------------
# what to read, from what the catalog, the ledger and DynamoDB already hold

Present = Sequence[tuple[ObjectName, ObjectInfo]]


def fits_header_candidates(objects: Present) -> dict[tuple[str, str], ObjectName]:
    """(prefix, base filename) -> the best fits file of each exposure with no ``.txt`` in the batch:
    the catalog is asked whether it already holds as good a header for these."""
    with_txt = {name.base_filename for name, _ in objects if name.kind is FileKind.HEADER}
    best: dict[tuple[str, str], ObjectName] = {}
    for name, _ in objects:
        if name.prefix not in EXPOSURE_TABLE or name.base_filename in with_txt:
            continue
        if name.kind in (FileKind.LARGE_FITS, FileKind.SMALL_FITS):
            slot = (name.prefix, name.base_filename)
            if slot not in best or header_rank(name.kind.value) > header_rank(best[slot].kind.value):
                best[slot] = name
    return best


def fits_headers_to_read(
    candidates: Mapping[tuple[str, str], ObjectName], stored: Mapping[str, str]
) -> set[str]:
    """Keys of the fits files whose header is worth reading: no better header is stored (``stored``
    is base filename -> the header source the catalog holds)."""
    return {
        name.key
        for (_, base), name in candidates.items()
        if header_rank(stored.get(base)) < header_rank(name.kind.value)
    }


def thumbnail_lookups(objects: Present) -> list[str]:
    """The ledger entries that tell whether a thumbnail source has ever had a thumbnail."""
    sources = [name for name, _ in objects if name.makes_thumbnail]
    return [n.key for n in sources] + [thumbnail_key(n) for n in sources]


def never_thumbnailed(objects: Present, known: Mapping[str, KnownObject]) -> set[str]:
    """Thumbnail sources no run has handled and whose thumbnail the ledger has never seen: their
    thumbnail cannot exist yet, so no HEAD is spent looking for it."""
    handled = (ObjectState.INGESTED, ObjectState.REJECTED, ObjectState.FAILED)
    return {
        name.key
        for name, _ in objects
        if name.makes_thumbnail
        and thumbnail_key(name) not in known
        and (name.key not in known or known[name.key].state not in handled)
    }


def sites_needing_metadata(objects: Present) -> set[str]:
    """Sites whose ``{site}#metadata`` item must be read: an info image there has no channel metadata."""
    return {
        name.site
        for name, info in objects
        if name.prefix == INFO_PREFIX and CHANNEL_METADATA not in info.metadata
    }


@dataclass(frozen=True)
class Work:
    """What examining one object takes: which header to read, whether it makes a thumbnail, its
    channel; or, decided before anything is written, why it is refused."""

    name: ObjectName
    info: ObjectInfo
    header: str | None = None  # "txt", "fits" or None
    thumbnail: bool = False
    thumbnail_unseen: bool = False  # no HEAD needed: the thumbnail cannot exist yet
    channel: int | None = None
    refused: str | None = None


def plan(
    objects: Present,
    fits_to_read: set[str],
    unseen: set[str],
    site_metadata: Mapping[str, Mapping[str, str]],
) -> list[Work]:
    """The work of each object present. An info image's channel is decided here, before any write,
    so that a file refused for want of one leaves no thumbnail or item behind."""
    work = []
    for name, info in objects:
        channel: int | None = None
        if name.prefix == INFO_PREFIX:
            try:
                channel = channel_for(name, info.metadata, site_metadata.get(name.site, {}))
            except Rejected as rejection:
                work.append(Work(name, info, refused=rejection.reason))
                continue
        header = "txt" if name.kind is FileKind.HEADER else "fits" if name.key in fits_to_read else None
        work.append(Work(name, info, header, name.makes_thumbnail, name.key in unseen, channel))
    return work


def thumbnail_wanted(existing: ObjectInfo | None, source: ObjectInfo, policy: Thumbnails) -> bool:
    """Whether to write a thumbnail, given the one there (None when there is none or it was not
    looked up) and the policy."""
    if policy is Thumbnails.NEVER:
        return False
    if existing is None or policy is Thumbnails.ALWAYS:
        return True
    return policy is Thumbnails.WHEN_OLDER and existing.last_modified < source.last_modified


def thumbnail_metadata(work: Work) -> dict[str, str]:
    """An info image's thumbnail goes to the channel its source was given."""
    return {} if work.channel is None else {CHANNEL_METADATA: str(work.channel)}


# --------------------------------------------------------------------------------------------------
# what follows from what was read


@dataclass(frozen=True)
class Outcome:
    """What examining one object found, and what it contributes."""

    name: ObjectName
    info: ObjectInfo
    state: ObjectState = ObjectState.INGESTED
    reason: str | None = None
    contributions: tuple[Contribution, ...] = ()
    thumbnail_written: bool = False
    header_cards: dict[str, str] | None = None
    channel: int | None = None  # info images: the channel the file goes to (None once superseded)


def examined(
    work: Work, parsed: ParsedHeader | None, thumbnail_written: bool, settings: IngestSettings
) -> Outcome:
    """The outcome of an object examined without fault: ``parsed`` is the header read, if any."""
    name = work.name
    base = Contribution(
        name.base_filename, name.site, name.data_type, naive_utc(work.info.last_modified), name.catalog_flag
    )
    contributions = [base]
    if parsed is not None:
        source = "txt" if work.header == "txt" else name.kind.value
        contributions[0] = with_header(base, parsed, source, settings.right_ascension_unit)
    # Written, or there already: the thumbnail exists. An ingest that never writes one cannot say;
    # the thumbnail's own object sets the flag when it is ingested.
    if work.thumbnail and settings.reach.thumbnails is not Thumbnails.NEVER:
        contributions.append(replace(base, flag="jpg_small_exists"))
    warnings = "; ".join(parsed.warnings) if parsed is not None else ""
    return Outcome(
        name,
        work.info,
        reason=warnings or None,
        contributions=tuple(contributions),
        thumbnail_written=thumbnail_written,
        header_cards=parsed.cards if parsed is not None and work.header == "txt" else None,
        channel=work.channel,
    )


def refused(work: Work, reason: str) -> Outcome:
    return Outcome(work.name, work.info, ObjectState.REJECTED, reason)


def vanished(work: Work) -> Outcome:
    return Outcome(work.name, work.info, ObjectState.REMOVED, GONE)


def failed(work: Work, error: Exception) -> Outcome:
    return Outcome(work.name, work.info, ObjectState.FAILED, f"unexpected {type(error).__name__}: {error}")


def with_header(
    base: Contribution, parsed: ParsedHeader, source: str, right_ascension_unit: str
) -> Contribution:
    """``base`` carrying the catalog columns a parsed header gives (the upload time without DATE-OBS),
    right ascension in the configured unit."""
    columns = parsed.columns
    capture = columns.capture_date or base.upload_time
    header_columns: dict[str, object] = {
        "capture_date": capture,
        "sort_date": capture,
        "right_ascension": right_ascension_in(columns.right_ascension, right_ascension_unit),
        "declination": columns.declination,
        "altitude": columns.altitude,
        "azimuth": columns.azimuth,
        "header": parsed.header_json(),
        "filter_used": columns.filter_used,
        "airmass": columns.airmass,
        "exposure_time": columns.exposure_time,
        "user_id": columns.user_id,
        "username": columns.username,
        "header_source": source,
    }
    return replace(base, header_columns=header_columns)


def channel_files(outcomes: Iterable[Outcome]) -> list[tuple[Outcome, InfoImageFile]]:
    """The channel item writes of a batch's info images, in upload order."""
    ingested = [o for o in outcomes if o.state is ObjectState.INGESTED and o.channel is not None]
    return [
        (o, info_image_file(o.name, o.channel, o.header_cards))  # type: ignore[arg-type]
        for o in sorted(ingested, key=lambda o: (o.info.last_modified, o.name.key))
    ]


def superseded(outcome: Outcome) -> Outcome:
    """An info image whose channel already shows a newer exposure: ingested, announced to nobody."""
    reason = f"channel {outcome.channel} of {outcome.name.site} already shows a newer exposure"
    return replace(outcome, reason=reason, channel=None)


def ingested_exposures(outcomes: Iterable[Outcome], prefix: str) -> list[Contribution]:
    """The contributions of one prefix's ingested objects to their rows."""
    return [
        c
        for o in outcomes
        if o.name.prefix == prefix and o.state is ObjectState.INGESTED
        for c in o.contributions
    ]


def cleared_flags(removals: Iterable[Named], prefix: str) -> list[tuple[str, str]]:
    """(base filename, flag) of each removal under one prefix: the flags to turn off."""
    return [(n.base_filename, n.catalog_flag) for _, n in removals if n.prefix == prefix and n.catalog_flag]


def upload_log_items(outcomes: Iterable[Outcome], ttl: timedelta, reach: Reach) -> list[UploadLogItem]:
    """One item per ingested object under ``data/`` and ``allsky/`` that ``reach`` announces (SPEC §6)."""
    items = []
    for outcome in outcomes:
        if outcome.state is not ObjectState.INGESTED or outcome.name.prefix not in EXPOSURE_TABLE:
            continue
        if not reach.announces(outcome.info.last_modified):
            continue
        uploaded = int(outcome.info.last_modified.timestamp())
        items.append(
            UploadLogItem(
                site=outcome.name.site,
                filename=outcome.name.key,
                upload_timestamp_s=uploaded,
                expire_timestamp_s=uploaded + int(ttl.total_seconds()),
                size_bytes=outcome.info.size,
            )
        )
    return items


def expiration_entries(
    outcomes: Iterable[Outcome], rules: dict[tuple[str | None, str], int]
) -> list[ExpirationEntry]:
    """One entry per expiring exposure under ``data/``, from its earliest upload in the batch."""
    earliest: dict[str, tuple[int, ObjectName]] = {}
    for outcome in outcomes:
        name = outcome.name
        if outcome.state is not ObjectState.INGESTED or name.prefix != Prefix.DATA:
            continue
        lifetime = expiry_seconds(name.site, name.data_type, rules)
        if lifetime is None:
            continue
        expires = int(outcome.info.last_modified.timestamp()) + lifetime
        if name.base_filename not in earliest or expires < earliest[name.base_filename][0]:
            earliest[name.base_filename] = (expires, name)
    return [ExpirationEntry(base, name.prefix, expires) for base, (expires, name) in sorted(earliest.items())]


def ledger_record(outcome: Outcome, run_id: str) -> LedgerRecord:
    return LedgerRecord(
        key=outcome.name.key,
        state=outcome.state.value,
        run_id=run_id,
        etag=outcome.info.etag,
        size=outcome.info.size,
        last_modified=naive_utc(outcome.info.last_modified),
        prefix=outcome.name.prefix,
        base_filename=outcome.name.base_filename,
        reason=outcome.reason,
    )


def summary(outcomes: Sequence[Outcome], ledger: Iterable[LedgerRecord], reach: Reach) -> BatchResult:
    """The batch's figures, rejections and notifications (one per exposure with an object that
    ``reach`` announces, SPEC §5)."""
    result = BatchResult()
    for record in ledger:
        result.states[(record.prefix or "", record.state)] += 1
        if record.state == ObjectState.REJECTED:
            result.rejections.append((record.key, record.reason or ""))
    result.thumbnails_written = sum(o.thumbnail_written for o in outcomes)
    sites: dict[tuple[str, str], tuple[str, int | None]] = {}
    for outcome in outcomes:
        if outcome.state is not ObjectState.INGESTED:
            continue
        uploaded = outcome.info.last_modified
        if result.oldest_upload is None or uploaded < result.oldest_upload:
            result.oldest_upload = uploaded
        # An info image that lost its channel to a newer exposure is news to nobody.
        if (outcome.name.prefix != INFO_PREFIX or outcome.channel) and reach.announces(uploaded):
            name = outcome.name
            sites[(name.prefix, name.base_filename)] = (name.site, outcome.channel)
    result.exposure_keys = set(sites)
    result.notifications = [
        notification(prefix, base, site, channel) for (prefix, base), (site, channel) in sorted(sites.items())
    ]
    return result


def notification(prefix: str, base_filename: str, site: str, channel: int | None) -> dict[str, Any]:
    """The datastream message the frontend reads (SPEC §5); info images also name their channel."""
    data: dict[str, Any] = {"s3_directory": prefix, "base_filename": base_filename, "site": site}
    if channel is not None:
        data["channel"] = channel
    return {"topic": "imagedata", "site": site, "data": data}


def _ref_record(
    ref: ObjectRef, name: ObjectName | None, state: ObjectState, run_id: str, reason: str
) -> LedgerRecord:
    return LedgerRecord(
        key=ref.key,
        state=state.value,
        run_id=run_id,
        etag=ref.etag,
        size=ref.size,
        last_modified=naive_utc(ref.seen_at) if ref.seen_at else None,
        prefix=name.prefix if name else ref.key.rpartition("/")[0] or None,
        base_filename=name.base_filename if name else None,
        reason=reason,
    )
