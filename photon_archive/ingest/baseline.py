"""The baseline: the ledger made to match a bucket with years of history before the sensors first
start, so that their sweep finds nothing new in it (README: *Baselining the ledger before the first
start*). Plain Python: the job is ``defs/baseline.py``.

Left to themselves, the sensors take every object the ledger lacks for a new upload: a datastream
message per old exposure, upload-log items for years-old files, thumbnails looked for and remade,
every row rewritten by today's rules. The baseline lists a prefix a page at a time and records each
object in the ledger as it stands (etag, size, time; ``ingested``, by the baseline's run). Where the
catalog lacks what an object gives its row (no row yet, a flag off, no header), the object goes
through the ingest instead, with ``BASELINE_REACH``: no announcement, nothing written to the shared
tables, a thumbnail made only where none exists. A row that already holds what its files give is
not touched.

Two kinds of object are left alone. A key the ledger already has, in any state or version: so a
re-run, or a re-execution from failure, goes on where the last one stopped, and a version the ledger
has not seen is the sensors' news. And an object uploaded since the baseline began, which is news
too: the sensors ingest and announce it.

``plan_page`` and what it uses decide, on plain values; ``baseline_pages`` does the I/O, a page at a
time, each page's records in one transaction after its ingest.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from sqlalchemy import Engine

from photon_archive.aws.bucket import Bucket
from photon_archive.catalog.store import known_objects, record_objects, stored_rows
from photon_archive.errors import Rejected
from photon_archive.ingest.decisions import BatchResult, Reach, Thumbnails
from photon_archive.ingest.objects import ObjectEvent, ObjectRef, naive_utc
from photon_archive.naming import (
    CATALOG_FLAGS,
    EXPOSURE_TABLE,
    FileKind,
    ObjectName,
    Prefix,
    parse_key,
    thumbnail_key,
)
from photon_archive.records import LedgerRecord, ObjectInfo, ObjectState, StoredRow

# S3 lists at most 1,000 keys a request: a page is one request.
PAGE_SIZE = 1000
BASELINE_REACH = Reach(announce=False, shared_tables=False, thumbnails=Thumbnails.WHEN_MISSING)
# The ledger's reason for an object recorded as it stands, without an ingest.
RECORDED = "recorded as found by the baseline"
# What a .txt gives its row besides flags.
HEADER = "header"
THUMBNAIL_FLAG = CATALOG_FLAGS[FileKind.THUMBNAIL_JPG]

Ingest = Callable[[list[ObjectRef]], BatchResult]


def listing_prefixes(prefixes: Sequence[str], site: str, watched: Sequence[str]) -> list[str]:
    """Where to list: each prefix (the watched ones when none is named), narrowed to ``site``."""
    named = list(dict.fromkeys(prefix.strip("/") for prefix in prefixes)) or list(watched)
    unwatched = [prefix for prefix in named if prefix not in watched]
    if unwatched:
        raise ValueError(
            f"prefix {', '.join(repr(p) for p in unwatched)} is not watched: the sensors watch only "
            f"{', '.join(watched)} (PHOTON_ARCHIVE_PREFIXES)"
        )
    if site and not (site.isascii() and site.isalnum()):
        raise ValueError(f"site {site!r} must be letters and digits, as in the object names")
    return [f"{prefix}/{site}-" if site else f"{prefix}/" for prefix in named]


def gives(name: ObjectName) -> frozenset[str]:
    """What ingesting an object puts in its exposure's row: its flag, the header of a ``.txt``, and
    the thumbnail's flag for a medium jpg the ingest makes one of."""
    given = {name.catalog_flag} if name.catalog_flag else set()
    if name.kind is FileKind.HEADER:
        given.add(HEADER)
    if name.makes_thumbnail:
        given.add(THUMBNAIL_FLAG)
    return frozenset(given)


def adds_to(name: ObjectName, row: StoredRow | None) -> bool:
    """Whether ingesting the object would add to its row: there is none yet, or it lacks something
    the object gives."""
    if row is None:
        return True
    held = row.flags | ({HEADER} if row.has_header else set())
    return not gives(name) <= held


def rows_to_read(page: Iterable[ObjectInfo]) -> dict[str, set[str]]:
    """Per exposure prefix, the base filenames whose rows decide the page."""
    wanted: dict[str, set[str]] = {}
    for info in page:
        try:
            name = parse_key(info.key)
        except Rejected:
            continue
        if name.prefix in EXPOSURE_TABLE:
            wanted.setdefault(name.prefix, set()).add(name.base_filename)
    return wanted


def listed_before(info: ObjectInfo, began: datetime) -> bool:
    """Whether the object was uploaded before the baseline began. S3 lists times to the whole
    second, so an object of the second the baseline began in may have come after it: it is left to
    the sensors, like anything later."""
    return info.last_modified < began.replace(microsecond=0)


@dataclass
class PagePlan:
    """What becomes of each object of a listing page."""

    record: list[ObjectInfo] = field(default_factory=list)  # as they stand: their rows have it all
    ingest: list[ObjectInfo] = field(default_factory=list)  # to bring their rows up to date
    known: int = 0  # already in the ledger
    newer: int = 0  # uploaded since the baseline began


def plan_page(
    page: Sequence[ObjectInfo],
    known: Collection[str],
    rows: Mapping[tuple[str, str], StoredRow],
    began: datetime,
) -> PagePlan:
    """Each object of ``page`` recorded, ingested or left alone, given the keys the ledger has and
    the rows (by prefix and base filename) the catalog holds."""
    plan = PagePlan()
    for info in page:
        if info.key in known:
            plan.known += 1
        elif not listed_before(info, began):
            plan.newer += 1
        elif _adds(info.key, rows):
            plan.ingest.append(info)
        else:
            plan.record.append(info)
    return plan


def _adds(key: str, rows: Mapping[tuple[str, str], StoredRow]) -> bool:
    try:
        name = parse_key(key)
    except Rejected:
        return True  # the ingest rejects it, with its reason
    if name.prefix not in EXPOSURE_TABLE:
        # Info images have no row; a prefix the ingest does not catalog is rejected there.
        return name.prefix not in set(Prefix)
    return adds_to(name, rows.get((name.prefix, name.base_filename)))


def thumbnails_to_look_for(
    ingested: Iterable[ObjectInfo], listed: Collection[str], known: Collection[str]
) -> list[str]:
    """The thumbnails the ingest of ``ingested`` may have written: those of its medium jpgs that the
    page did not list and the ledger lacks. Each is recorded once found, so that no sensor takes a
    thumbnail of an old exposure for a new upload."""
    wanted = []
    for info in ingested:
        try:
            name = parse_key(info.key)
        except Rejected:
            continue
        if name.makes_thumbnail and (key := thumbnail_key(name)) not in listed and key not in known:
            wanted.append(key)
    return wanted


def recorded(info: ObjectInfo, run_id: str) -> LedgerRecord:
    """The ledger row of an object recorded as it stands."""
    name = parse_key(info.key)
    return LedgerRecord(
        key=info.key,
        state=ObjectState.INGESTED.value,
        run_id=run_id,
        etag=info.etag,
        size=info.size,
        last_modified=naive_utc(info.last_modified),
        prefix=name.prefix,
        base_filename=name.base_filename,
        reason=RECORDED,
    )


def rows_of(infos: Iterable[ObjectInfo]) -> list[str]:
    """``prefix/base_filename`` of each exposure the objects belong to, once each, in order."""
    rows: dict[str, None] = {}
    for info in infos:
        try:
            name = parse_key(info.key)
        except Rejected:
            continue
        if name.prefix in EXPOSURE_TABLE:
            rows[f"{name.prefix}/{name.base_filename}"] = None
    return list(rows)


@dataclass
class Figures:
    """What the baseline did with a page, or with a prefix (the sum of its pages)."""

    # What became of each object listed: recorded, ingested, or left alone.
    listed: int = 0
    recorded: int = 0  # as they stand, without an ingest
    ingested: int = 0  # sent through the ingest to bring their rows up to date
    already_in_ledger: int = 0
    uploaded_since: int = 0  # since the baseline began: left to the sensors
    # What the ingest did.
    rows: int = 0  # the rows the ingested objects belong to
    rejected: int = 0  # bad names, bad bytes
    thumbnails_written: int = 0
    # The thumbnails of ingested jpgs that the page did not list, recorded once found: made by the
    # ingest, or listed on a later page (where they count as already in the ledger).
    thumbnails_recorded: int = 0

    def absorb(self, other: Figures) -> None:
        for figure in fields(self):
            setattr(self, figure.name, getattr(self, figure.name) + getattr(other, figure.name))


@dataclass(frozen=True)
class Page:
    first: str
    last: str
    figures: Figures
    rows: list[str]  # prefix/base_filename of the rows brought up to date (in a dry run, to be)


def baseline_pages(
    listing_prefix: str,
    bucket: Bucket,
    engine: Engine,
    began: datetime,
    run_id: str,
    ingest: Ingest | None,
    page_size: int = PAGE_SIZE,
) -> Iterator[Page]:
    """Baseline what ``listing_prefix`` lists, a page at a time; ``ingest`` None is a dry run, which
    lists and plans every page and writes nothing."""
    start_after = ""
    while listed := list(bucket.list_objects(listing_prefix, start_after, limit=page_size)):
        keys = {info.key for info in listed}
        with engine.connect() as connection:
            known = set(known_objects(connection, keys))
            rows = {
                (prefix, base): row
                for prefix, bases in rows_to_read(listed).items()
                for base, row in stored_rows(connection, EXPOSURE_TABLE[prefix], bases).items()
            }
        plan = plan_page(listed, known, rows, began)
        result, found = BatchResult(), []
        if ingest is not None:
            if plan.ingest:
                result = ingest([_ref(info) for info in plan.ingest])
            for key in thumbnails_to_look_for(plan.ingest, keys, known):
                if (info := bucket.head(key)) is not None:
                    found.append(info)
            with engine.begin() as connection:
                records = [recorded(info, run_id) for info in [*plan.record, *found]]
                record_objects(connection, records, datetime.now(UTC).replace(tzinfo=None))
        rows_updated = rows_of(plan.ingest)
        figures = Figures(
            listed=len(listed),
            recorded=len(plan.record),
            ingested=len(plan.ingest),
            already_in_ledger=plan.known,
            uploaded_since=plan.newer,
            rows=len(rows_updated),
            rejected=result.rejected,
            thumbnails_written=result.thumbnails_written,
            thumbnails_recorded=len(found),
        )
        yield Page(listed[0].key, listed[-1].key, figures, rows_updated)
        if len(listed) < page_size:
            return
        start_after = listed[-1].key


def _ref(info: ObjectInfo) -> ObjectRef:
    return ObjectRef(info.key, ObjectEvent.CREATED, info.size, info.etag, info.last_modified)
