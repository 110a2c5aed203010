"""The ledger by night and site, on PostgreSQL and SQLite: the pairs it holds and when each was last
written, and one pair's objects with their first ingest."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import create_engine

from photon_archive.catalog.nights import night_objects, night_sites
from photon_archive.catalog.store import record_objects
from photon_archive.errors import Rejected
from photon_archive.naming import parse_key
from photon_archive.records import LedgerRecord

NIGHT, NEXT = date(2026, 11, 24), date(2026, 11, 25)
T0 = datetime(2026, 11, 24, 12, 0)
UPLOADED = datetime(2026, 11, 24, 3, 0)


def _record(
    key: str, state: str, run_id: str | None, etag: str = "e1", reason: str | None = None
) -> LedgerRecord:
    try:
        base: str | None = parse_key(key).base_filename
    except Rejected:  # a bad name has no base filename, as the ingest records it
        base = None
    return LedgerRecord(
        key,
        state,
        run_id,
        etag=etag,
        last_modified=UPLOADED,
        prefix=key.partition("/")[0],
        base_filename=base,
        reason=reason,
    )


SRO = "data/sro-kb001ms-20261124-00000001-EX10.jpg"
SRO_TXT = "data/sro-kb001ms-20261124-00000001-EX00.txt"
SRO_OTHER_CAMERA = "allsky/sro-sq01-20261124-00000009-EX10.jpg"
SRO_NEXT = "data/sro-kb001ms-20261125-00000001-EX10.jpg"
SROX = "data/srox-kb001ms-20261124-00000001-EX10.jpg"  # another site that starts with the same letters
MRC = "data/mrc-kb20261124-20261124-00000001-EX10.jpg"  # the night's digits in the instrument too
BAD = "data/junk.jpg"


def _ledger(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        record_objects(
            connection,
            [
                _record(SRO, "ingested", "run-1"),
                _record(SRO_TXT, "rejected", "run-1", reason="the header file is empty (zero bytes)"),
                _record(SRO_OTHER_CAMERA, "queued", None),
                _record(SRO_NEXT, "ingested", "run-1"),
                _record(SROX, "failed", "run-1"),
                _record(MRC, "ingested", "run-1"),
                _record(BAD, "rejected", "run-1", reason="bad name"),
            ],
            T0,
        )
    with engine.begin() as connection:
        # A forced replay of the same version, and a later version of the next night's jpg.
        record_objects(connection, [_record(SRO, "ingested", "run-2")], T0 + timedelta(hours=1))
        record_objects(
            connection, [_record(SRO_NEXT, "ingested", "run-3", etag="e2")], T0 + timedelta(hours=2)
        )
    engine.dispose()


def test_the_pairs_are_the_sites_and_nights_of_the_names_each_with_its_latest_write(
    migrated_catalog_url: str,
) -> None:
    _ledger(migrated_catalog_url)
    engine = create_engine(migrated_catalog_url)
    with engine.connect() as connection:
        every = night_sites(connection)
        lately = night_sites(connection, written_after=T0)
        of_night = night_sites(connection, night=NIGHT)
    engine.dispose()

    assert every == {
        (NIGHT, "sro"): T0 + timedelta(hours=1),
        (NEXT, "sro"): T0 + timedelta(hours=2),
        (NIGHT, "srox"): T0,
        (NIGHT, "mrc"): T0,
    }
    assert lately == {(NIGHT, "sro"): T0 + timedelta(hours=1), (NEXT, "sro"): T0 + timedelta(hours=2)}
    assert set(of_night) == {(NIGHT, "sro"), (NIGHT, "srox"), (NIGHT, "mrc")}


def test_a_pairs_objects_are_its_own_with_the_first_ingest_of_the_version_held(
    migrated_catalog_url: str,
) -> None:
    _ledger(migrated_catalog_url)
    engine = create_engine(migrated_catalog_url)
    with engine.connect() as connection:
        sro = night_objects(connection, NIGHT, "sro")
        sro_next = night_objects(connection, NEXT, "sro")
        mrc = night_objects(connection, NIGHT, "mrc")
    engine.dispose()

    assert [(o.key, o.state, o.reason) for o in sro] == [
        (SRO_OTHER_CAMERA, "queued", None),
        (SRO_TXT, "rejected", "the header file is empty (zero bytes)"),
        (SRO, "ingested", None),
    ]
    assert all((o.night, o.site, o.uploaded_at) == (NIGHT, "sro", UPLOADED) for o in sro)
    assert [o.ingested_at for o in sro] == [None, None, T0]  # the first run, not the replay
    assert [(o.key, o.ingested_at) for o in sro_next] == [(SRO_NEXT, T0 + timedelta(hours=2))]
    assert [o.key for o in mrc] == [MRC]
