"""Ingest one batch of objects: every side effect of SPEC §3–7, batched per run.

The order of writes is the contract: S3 work (thumbnails) and DynamoDB items first, then one
catalog transaction that holds the rows and the ledger together, and only after it commits are
the datastream notifications sent. A failure a rerun can fix propagates (the step retries); a
failure no rerun can fix becomes the object's recorded rejection and the batch goes on.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import Connection, Engine

from photon_archive.aws.bucket import Bucket, ObjectInfo, is_missing
from photon_archive.aws.tables import ExpirationEntry, Tables, UploadLogItem
from photon_archive.catalog.models import ObjectState
from photon_archive.catalog.store import (
    HEADER_RANK,
    Contribution,
    LedgerRecord,
    clear_flags,
    header_sources,
    known_objects,
    record_objects,
    upsert_exposures,
)
from photon_archive.errors import Rejected
from photon_archive.headers import (
    DEFAULT_RIGHT_ASCENSION_UNIT,
    HeaderLimits,
    ParsedHeader,
    parse_text_header,
    read_fits_header,
    right_ascension_in,
)
from photon_archive.info_images import CHANNEL_METADATA, channel_for, info_image_file
from photon_archive.ingest.objects import ObjectEvent, ObjectRef, naive_utc
from photon_archive.naming import FileKind, ObjectName, parse_key, thumbnail_key
from photon_archive.retention import expiry_seconds
from photon_archive.thumbnails import DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS, make_thumbnail

log = logging.getLogger(__name__)

# Where each watched prefix's exposures are catalogued; info images go to their channels instead.
EXPOSURE_TABLE = {"data": "images", "allsky": "allsky_images"}
INFO_PREFIX = "info-images"
PREFIXES = (*EXPOSURE_TABLE, INFO_PREFIX)
IO_THREADS = 8


@dataclass(frozen=True)
class IngestSettings:
    thumbnail_height: int = 128
    max_image_pixels: int = DEFAULT_MAX_PIXELS
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    upload_log_ttl: timedelta = timedelta(hours=48)
    info_image_ttl: timedelta = timedelta(hours=48)
    expiration_rules: dict[tuple[str | None, str], int] = field(default_factory=dict)
    header_limits: HeaderLimits = field(default_factory=HeaderLimits)
    right_ascension_unit: str = DEFAULT_RIGHT_ASCENSION_UNIT
    # Remake thumbnails even when a newer one exists (a replay after the thumbnail rules changed).
    rebuild_thumbnails: bool = False


@dataclass(frozen=True)
class Services:
    """The adapters one run shares across every object of its batch."""

    bucket: Bucket
    tables: Tables
    engine: Engine
    settings: IngestSettings


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


@dataclass
class _Outcome:
    """What examining one created object found."""

    name: ObjectName
    info: ObjectInfo
    state: ObjectState = ObjectState.INGESTED
    reason: str | None = None
    contributions: list[Contribution] = field(default_factory=list)
    thumbnail_written: bool = False
    header_cards: dict[str, str] | None = None
    channel: int | None = None  # info images: the channel the file goes to (None once superseded)


def ingest_batch(refs: Sequence[ObjectRef], services: Services, run_id: str) -> BatchResult:
    result = BatchResult()
    ledger: list[LedgerRecord] = []
    named: list[tuple[ObjectRef, ObjectName]] = []
    for ref in _latest_event_per_key(refs):
        try:
            name = parse_key(ref.key)
            if name.prefix not in PREFIXES:
                raise Rejected(f"prefix '{name.prefix}' is not one this ingest catalogs")
        except Rejected as rejection:
            ledger.append(_ledger(ref, None, ObjectState.REJECTED, run_id, rejection.reason))
            continue
        named.append((ref, name))

    removals = [(ref, name) for ref, name in named if ref.event is ObjectEvent.REMOVED]
    created = [(ref, name) for ref, name in named if ref.event is ObjectEvent.CREATED]
    for ref, name in removals:
        ledger.append(_ledger(ref, name, ObjectState.REMOVED, run_id, "removed from the bucket"))

    outcomes = _examine_all(created, services, ledger, run_id)
    _put_on_channels([o for o in outcomes if o.name.prefix == INFO_PREFIX], services)

    upload_log: list[UploadLogItem] = []
    for outcome in outcomes:
        if outcome.state is ObjectState.INGESTED and outcome.name.prefix in EXPOSURE_TABLE:
            upload_log.append(_upload_log_item(outcome, services.settings))
    services.tables.log_uploads(upload_log)
    for entry in _expiration_entries(outcomes, services.settings):
        services.tables.track_expiration(entry)

    with services.engine.begin() as connection:
        for prefix, table in EXPOSURE_TABLE.items():
            contributions = [
                c
                for o in outcomes
                if o.name.prefix == prefix and o.state is ObjectState.INGESTED
                for c in o.contributions
            ]
            upsert_exposures(connection, table, contributions)
            clear_flags(
                connection,
                table,
                [
                    (n.base_filename, n.catalog_flag)
                    for _, n in removals
                    if n.prefix == prefix and n.catalog_flag
                ],
            )
        for outcome in outcomes:
            ledger.append(_ledger_for(outcome, run_id))
        record_objects(connection, ledger, datetime.now(UTC).replace(tzinfo=None))

    _summarize(result, outcomes, ledger)
    return result


def _latest_event_per_key(refs: Iterable[ObjectRef]) -> list[ObjectRef]:
    """A batch may hold several events of one key: the last one given is the one that stands."""
    return list({ref.key: ref for ref in refs}.values())


def _examine_all(
    created: list[tuple[ObjectRef, ObjectName]], services: Services, ledger: list[LedgerRecord], run_id: str
) -> list[_Outcome]:
    with ThreadPoolExecutor(max_workers=IO_THREADS) as pool:
        infos = list(pool.map(lambda pair: _complete(pair[0], services.bucket), created))
    present: list[tuple[ObjectName, ObjectInfo]] = []
    for (ref, name), info in zip(created, infos, strict=True):
        if info is None:
            ledger.append(
                _ledger(ref, name, ObjectState.REMOVED, run_id, "no longer in the bucket when ingested")
            )
        else:
            present.append((name, info))
    channels, refused = _channels(present, services)
    with services.engine.connect() as connection:
        header_readers = _fits_headers_to_read(present, connection)
        unseen_jpgs = _jpgs_never_thumbnailed(present, connection)

    def examine(pair: tuple[ObjectName, ObjectInfo]) -> _Outcome:
        name, info = pair
        if name.key in refused:
            return _Outcome(name, info, ObjectState.REJECTED, refused[name.key])
        outcome = _Outcome(name, info, channel=channels.get(name.key))
        return _examine(outcome, services, name.key in header_readers, name.key in unseen_jpgs)

    with ThreadPoolExecutor(max_workers=IO_THREADS) as pool:
        return list(pool.map(examine, present))


def _channels(
    present: list[tuple[ObjectName, ObjectInfo]], services: Services
) -> tuple[dict[str, int], dict[str, str]]:
    """The channel of each info-image file, and the reason for each that has none.

    Decided before anything is written, so that a file refused for want of a channel leaves no
    thumbnail or item behind."""
    channels: dict[str, int] = {}
    refused: dict[str, str] = {}
    site_metadata: dict[str, dict[str, str]] = {}
    for name, info in present:
        if name.prefix != INFO_PREFIX:
            continue
        if CHANNEL_METADATA not in info.metadata and name.site not in site_metadata:
            site_metadata[name.site] = services.tables.site_metadata(name.site)
        try:
            channels[name.key] = channel_for(name, info.metadata, site_metadata.get(name.site, {}))
        except Rejected as rejection:
            refused[name.key] = rejection.reason
    return channels, refused


def _complete(ref: ObjectRef, bucket: Bucket) -> ObjectInfo | None:
    # An info image's channel may be in its metadata, which only a HEAD shows; an event's ref is
    # never complete, since the object's own time is not in the event.
    if ref.complete and not ref.key.startswith(f"{INFO_PREFIX}/"):
        assert ref.size is not None and ref.etag is not None and ref.last_modified is not None
        return ObjectInfo(ref.key, ref.size, ref.etag, ref.last_modified, {})
    return bucket.head(ref.key)


def _fits_headers_to_read(present: list[tuple[ObjectName, ObjectInfo]], connection: Connection) -> set[str]:
    """Keys of the fits files whose header is worth reading: the best fits of each exposure that
    has no ``.txt`` header, in this batch or in the catalog, and no better header stored."""
    with_txt = {name.base_filename for name, _ in present if name.kind is FileKind.HEADER}
    best: dict[tuple[str, str], ObjectName] = {}
    for name, _ in present:
        if name.prefix not in EXPOSURE_TABLE:
            continue
        if name.kind in (FileKind.LARGE_FITS, FileKind.SMALL_FITS) and name.base_filename not in with_txt:
            slot = (name.prefix, name.base_filename)
            if slot not in best or HEADER_RANK[name.kind.value] > HEADER_RANK[best[slot].kind.value]:
                best[slot] = name
    if not best:
        return set()
    stored: dict[str, str] = {}
    for prefix, table in EXPOSURE_TABLE.items():
        stored.update(header_sources(connection, table, [b for p, b in best if p == prefix]))
    return {
        name.key
        for (_, base), name in best.items()
        if HEADER_RANK.get(stored.get(base, ""), 0) < HEADER_RANK[name.kind.value]
    }


def _jpgs_never_thumbnailed(present: list[tuple[ObjectName, ObjectInfo]], connection: Connection) -> set[str]:
    """Medium jpgs that no run has ingested and whose thumbnail the ledger has never seen: their
    thumbnail cannot exist yet, so no HEAD is spent looking for it."""
    jpgs = [name for name, _ in present if name.makes_thumbnail]
    if not jpgs:
        return set()
    known = known_objects(connection, [n.key for n in jpgs] + [thumbnail_key(n) for n in jpgs])
    handled = (ObjectState.INGESTED, ObjectState.REJECTED, ObjectState.FAILED)
    return {
        name.key
        for name in jpgs
        if thumbnail_key(name) not in known
        and (name.key not in known or known[name.key].state not in handled)
    }


def _examine(
    outcome: _Outcome, services: Services, wants_fits_header: bool, thumbnail_unseen: bool
) -> _Outcome:
    name, info = outcome.name, outcome.info
    upload_time = naive_utc(info.last_modified)
    base = Contribution(name.base_filename, name.site, name.data_type, upload_time, name.catalog_flag)
    try:
        if name.kind is FileKind.HEADER:
            limit = services.settings.header_limits.max_header_text_bytes
            data = services.bucket.read(name.key, limit, "max_header_text_bytes")
            parsed = parse_text_header(data, services.settings.header_limits)
            base = with_header(base, parsed, "txt", services.settings.right_ascension_unit)
            outcome.reason = _warnings(parsed)
            outcome.header_cards = parsed.cards
        elif wants_fits_header:
            reader = services.bucket.open_range(name.key, info.size)
            parsed = read_fits_header(reader, name.compression, services.settings.header_limits)
            base = with_header(base, parsed, name.kind.value, services.settings.right_ascension_unit)
            outcome.reason = _warnings(parsed)
        outcome.contributions.append(base)
        if name.makes_thumbnail:
            outcome.thumbnail_written = _ensure_thumbnail(outcome, services, thumbnail_unseen)
            small = Contribution(
                name.base_filename, name.site, name.data_type, upload_time, "jpg_small_exists"
            )
            outcome.contributions.append(small)
    except Rejected as rejection:
        outcome.state, outcome.reason, outcome.contributions = ObjectState.REJECTED, rejection.reason, []
    except ClientError as error:
        if not is_missing(error):
            raise
        outcome.state, outcome.reason = ObjectState.REMOVED, "no longer in the bucket when ingested"
        outcome.contributions = []
    except BotoCoreError:
        raise
    except Exception as error:  # noqa: BLE001 - an unforeseen input must not sink the batch
        log.exception("unexpected failure on %s", name.key)
        outcome.state, outcome.reason = ObjectState.FAILED, f"unexpected {type(error).__name__}: {error}"
        outcome.contributions = []
    return outcome


def _put_on_channels(outcomes: list[_Outcome], services: Services) -> None:
    """Write each ingested info-image file to its channel's item, in upload order."""
    expires = int((datetime.now(UTC) + services.settings.info_image_ttl).timestamp())
    for outcome in sorted(outcomes, key=lambda o: (o.info.last_modified, o.name.key)):
        if outcome.state is not ObjectState.INGESTED or outcome.channel is None:
            continue
        file = info_image_file(outcome.name, outcome.channel, outcome.header_cards)
        if services.tables.write_info_image(file, expires) == "superseded":
            outcome.reason = f"channel {file.channel} of {file.site} already shows a newer exposure"
            outcome.channel = None


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
    return Contribution(
        base.base_filename, base.site, base.data_type, base.upload_time, base.flag, header_columns
    )


def _warnings(parsed: ParsedHeader) -> str | None:
    return "; ".join(parsed.warnings) or None


def _ensure_thumbnail(outcome: _Outcome, services: Services, unseen: bool) -> bool:
    """Write the EX11 thumbnail beside a medium jpg unless a newer one is already there."""
    name, info = outcome.name, outcome.info
    key = thumbnail_key(name)
    if not (unseen or services.settings.rebuild_thumbnails):
        existing = services.bucket.head(key)
        if existing is not None and existing.last_modified >= info.last_modified:
            return False
    data = services.bucket.read(name.key, services.settings.max_image_bytes, "max_image_bytes")
    thumbnail = make_thumbnail(data, services.settings.thumbnail_height, services.settings.max_image_pixels)
    # An info image's thumbnail goes to the channel its source was given.
    metadata = {} if outcome.channel is None else {CHANNEL_METADATA: str(outcome.channel)}
    services.bucket.put(key, thumbnail, "image/jpeg", metadata)
    return True


def _upload_log_item(outcome: _Outcome, settings: IngestSettings) -> UploadLogItem:
    uploaded = int(outcome.info.last_modified.timestamp())
    return UploadLogItem(
        site=outcome.name.site,
        filename=outcome.name.key,
        upload_timestamp_s=uploaded,
        expire_timestamp_s=uploaded + int(settings.upload_log_ttl.total_seconds()),
        size_bytes=outcome.info.size,
    )


def _expiration_entries(outcomes: list[_Outcome], settings: IngestSettings) -> list[ExpirationEntry]:
    """One entry per expiring exposure under ``data/``, from its earliest upload in the batch."""
    earliest: dict[str, tuple[int, ObjectName]] = {}
    for outcome in outcomes:
        name = outcome.name
        if outcome.state is not ObjectState.INGESTED or name.prefix != "data":
            continue
        lifetime = expiry_seconds(name.site, name.data_type, settings.expiration_rules)
        if lifetime is None:
            continue
        expires = int(outcome.info.last_modified.timestamp()) + lifetime
        if name.base_filename not in earliest or expires < earliest[name.base_filename][0]:
            earliest[name.base_filename] = (expires, name)
    return [ExpirationEntry(base, name.prefix, expires) for base, (expires, name) in sorted(earliest.items())]


def _ledger(
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


def _ledger_for(outcome: _Outcome, run_id: str) -> LedgerRecord:
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


def _summarize(result: BatchResult, outcomes: list[_Outcome], ledger: list[LedgerRecord]) -> None:
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
        if outcome.name.prefix != INFO_PREFIX or outcome.channel:
            name = outcome.name
            sites[(name.prefix, name.base_filename)] = (name.site, outcome.channel)
    result.exposure_keys = set(sites)
    result.notifications = [
        _notification(prefix, base, site, channel)
        for (prefix, base), (site, channel) in sorted(sites.items())
    ]


def _notification(prefix: str, base_filename: str, site: str, channel: int | None) -> dict[str, Any]:
    """The datastream message the frontend reads (SPEC §5); info images also name their channel."""
    data: dict[str, Any] = {"s3_directory": prefix, "base_filename": base_filename, "site": site}
    if channel is not None:
        data["channel"] = channel
    return {"topic": "imagedata", "site": site, "data": data}
