"""Ingest one batch of objects: the I/O of SPEC §3–7 around the decisions of ``decisions.py``.

The order of writes is the contract: S3 work (thumbnails) and DynamoDB items first, then one
catalog transaction that holds the rows and the ledger together, and only after it commits are
the datastream notifications sent (the job's next step). A failure of the world or the deployment
(``Transient``, ``Misconfigured``) propagates to the step's contract; a failure of one object's bytes
becomes its recorded rejection and the batch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import Engine

from photon_archive.aws.bucket import Bucket, ObjectGone
from photon_archive.aws.tables import Tables
from photon_archive.catalog.store import (
    clear_flags,
    header_sources,
    known_objects,
    record_objects,
    upsert_exposures,
)
from photon_archive.errors import Misconfigured, Rejected, Transient
from photon_archive.headers import ParsedHeader, parse_text_header, read_fits_header
from photon_archive.ingest import decisions
from photon_archive.ingest.decisions import BatchResult, IngestSettings, Outcome, Thumbnails, Work
from photon_archive.ingest.objects import ObjectRef
from photon_archive.naming import EXPOSURE_TABLE, thumbnail_key
from photon_archive.records import ObjectInfo
from photon_archive.thumbnails import make_thumbnail

log = logging.getLogger(__name__)

IO_THREADS = 8


@dataclass(frozen=True)
class Services:
    """The adapters one run shares across every object of its batch."""

    bucket: Bucket
    tables: Tables
    engine: Engine
    settings: IngestSettings


def ingest_batch(refs: Sequence[ObjectRef], services: Services, run_id: str) -> BatchResult:
    """Every side effect of one batch, in this order:

    1. S3: a HEAD of each object the references do not fully describe;
    2. reads of what decides the work: the catalog's stored header sources, the ledger's view of
       thumbnails, the sites' channel metadata;
    3. S3: header and jpg reads, thumbnail writes, eight objects at a time;
    4. DynamoDB: channel items, upload-log items, expiration entries;
    5. one catalog transaction: rows, cleared flags and every object's ledger record.

    A batch that fails after step 3 commits nothing, so it removes the thumbnails it made where
    there was none, leaving none that no row names; one it replaced stays, with the newer picture.
    """
    settings = services.settings
    batch = decisions.sort_refs(refs, run_id)
    with ThreadPoolExecutor(max_workers=IO_THREADS) as pool:
        infos = list(pool.map(lambda named: _describe(named[0], services.bucket), batch.created))
    objects, gone = decisions.present(batch.created, infos, run_id)

    candidates = decisions.fits_header_candidates(objects)
    with services.engine.connect() as connection:
        stored: dict[str, str] = {}
        for prefix, table in EXPOSURE_TABLE.items():
            stored.update(header_sources(connection, table, [b for p, b in candidates if p == prefix]))
        known = known_objects(connection, decisions.thumbnail_lookups(objects))
    metadata = {
        site: services.tables.site_metadata(site) for site in decisions.sites_needing_metadata(objects)
    }
    work = decisions.plan(
        objects,
        decisions.fits_headers_to_read(candidates, stored),
        decisions.never_thumbnailed(objects, known),
        metadata,
    )
    made: list[str] = []  # the thumbnails this batch wrote where there was none
    try:
        outcomes = _examine_all(work, services, made)

        reach = settings.reach
        if reach.shared_tables:
            outcomes = _put_on_channels(outcomes, services)
            for entry in decisions.expiration_entries(outcomes, settings.expiration_rules):
                services.tables.track_expiration(entry)
        services.tables.log_uploads(decisions.upload_log_items(outcomes, settings.upload_log_ttl, reach))

        ledger = [*batch.ledger, *gone, *(decisions.ledger_record(o, run_id) for o in outcomes)]
        with services.engine.begin() as connection:
            for prefix, table in EXPOSURE_TABLE.items():
                upsert_exposures(connection, table, decisions.ingested_exposures(outcomes, prefix))
                clear_flags(connection, table, decisions.cleared_flags(batch.removals, prefix))
            record_objects(connection, ledger, datetime.now(UTC).replace(tzinfo=None))
    except BaseException:
        _remove_made_thumbnails(made, services.bucket)
        raise
    return decisions.summary(outcomes, ledger, reach)


def _remove_made_thumbnails(made: list[str], bucket: Bucket) -> None:
    """Delete the thumbnails a failed batch made; the batch's own failure is what the step reports,
    so one of this cleanup is logged, not raised."""
    if not made:
        return
    try:
        bucket.delete(sorted(made))
    except Exception:  # noqa: BLE001 - the failure of the batch is the one to report
        log.exception("the failed batch could not remove the %d thumbnails it wrote: %s", len(made), made)
    else:
        log.warning("the failed batch removed the %d thumbnails it wrote where none was", len(made))


def _describe(ref: ObjectRef, bucket: Bucket) -> ObjectInfo | None:
    return bucket.head(ref.key) if decisions.needs_head(ref) else decisions.described(ref)


def _examine_all(work: Sequence[Work], services: Services, made: list[str]) -> list[Outcome]:
    """Read what each object's work says and write its thumbnail, eight objects at a time; the
    thumbnails written where there was none are added to ``made``, those of a failure too."""
    with ThreadPoolExecutor(max_workers=IO_THREADS) as pool:
        return list(pool.map(lambda item: _examine(item, services, made), work))


def _examine(work: Work, services: Services, made: list[str]) -> Outcome:
    """Read what ``work`` says, write its thumbnail, and turn a failure into its outcome."""
    if work.refused is not None:
        return decisions.refused(work, work.refused)
    try:
        parsed = _read_header(work, services)
        written = _write_thumbnail(work, services, made) if work.thumbnail else False
        return decisions.examined(work, parsed, written, services.settings)
    except Rejected as rejection:
        return decisions.refused(work, rejection.reason)
    except ObjectGone:
        return decisions.vanished(work)
    except (Transient, Misconfigured, ClientError, BotoCoreError):
        raise  # the world, the deployment or a request of ours, not this object: the step decides
    except Exception as error:  # noqa: BLE001 - an unforeseen input must not sink the batch
        log.exception("unexpected failure on %s", work.name.key)
        return decisions.failed(work, error)


def _read_header(work: Work, services: Services) -> ParsedHeader | None:
    limits = services.settings.header_limits
    if work.header == "txt":
        data = services.bucket.read(work.name.key, limits.max_header_text_bytes, "max_header_text_bytes")
        return parse_text_header(data, limits)
    if work.header == "fits":
        reader = services.bucket.open_range(work.name.key, work.info.size)
        return read_fits_header(reader, work.name.compression, limits)
    return None


def _write_thumbnail(work: Work, services: Services, made: list[str]) -> bool:
    """Write the EX11 thumbnail beside a medium jpg unless a newer one is already there; one
    written where there was none (the bucket or the ledger says so) is added to ``made``."""
    settings, bucket = services.settings, services.bucket
    key, policy = thumbnail_key(work.name), settings.reach.thumbnails_for(work.info.last_modified)
    # The ledger's word that no thumbnail can exist yet spares the HEAD; a bucket with history the
    # ledger has not seen (WHEN_MISSING) is always asked.
    looked_up = policy is Thumbnails.WHEN_MISSING or (
        policy is Thumbnails.WHEN_OLDER and not work.thumbnail_unseen
    )
    existing = bucket.head(key) if looked_up else None
    if not decisions.thumbnail_wanted(existing, work.info, policy):
        return False
    data = bucket.read(work.name.key, settings.max_image_bytes, "max_image_bytes")
    thumbnail = make_thumbnail(data, settings.thumbnail_height, settings.max_image_pixels)
    bucket.put(key, thumbnail, "image/jpeg", decisions.thumbnail_metadata(work))
    if existing is None and (looked_up or work.thumbnail_unseen):
        made.append(key)  # list.append is atomic: the I/O threads share the list
    return True


def _put_on_channels(outcomes: list[Outcome], services: Services) -> list[Outcome]:
    """Write each ingested info-image file to its channel's item, in upload order."""
    expires = int((datetime.now(UTC) + services.settings.info_image_ttl).timestamp())
    late = {
        outcome.name.key
        for outcome, file in decisions.channel_files(outcomes)
        if services.tables.write_info_image(file, expires) == "superseded"
    }
    return [decisions.superseded(o) if o.name.key in late else o for o in outcomes]
