"""Expired exposures go with all their objects, their row and their tracker entry (SPEC §7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from photon_archive.aws.clients import client
from photon_archive.catalog.engine import engine_for
from photon_archive.catalog.rows import Contribution
from photon_archive.catalog.store import record_objects, upsert_exposures
from photon_archive.ingest.objects import ObjectEvent, ObjectRef
from photon_archive.maintenance.exposures import Aged, aged_exposures
from photon_archive.records import LedgerRecord
from photon_archive_tests.archive import Archive
from photon_archive_tests.maintenance.runs import base_of, run, upload

INTERVAL = 300  # the schedule's five minutes


def _expiries(archive: Archive) -> dict[str, int]:
    return {
        item["pk"]["S"]: int(item["expiration_timestamp_s"]["N"])
        for item in archive.table_items(archive.settings.expiration_table)
    }


def _rows(archive: Archive) -> set[str]:
    return {row["base_filename"] for row in archive.query("SELECT base_filename FROM images")}


def _objects(archive: Archive, base: str) -> list[str]:
    return archive.keys(f"data/{base}-")


def _ingested(archive: Archive, **options: object) -> str:
    keys = upload(archive, count=1, **options)
    assert archive.ingest(keys).success
    return base_of(keys)


def test_each_rule_expires_its_exposures_on_time_and_other_data_types_never(archive: Archive) -> None:
    test_site = _ingested(archive, site="tst", data_type="EP")
    flat = _ingested(archive, site="sro", data_type="EF", first_counter=2)
    preview = _ingested(archive, site="sro", data_type="EP", first_counter=3)
    kept = [_ingested(archive, site="tst", data_type="EX", first_counter=4), _ingested(archive, site="sro")]
    expiries = _expiries(archive)
    assert set(expiries) == {test_site, flat, preview}
    uploaded = expiries[test_site] - 300
    assert expiries[flat] - uploaded in range(86_400, 86_400 + 60)
    assert expiries[preview] - uploaded in range(604_800, 604_800 + 60)
    assert len(_objects(archive, test_site)) == 5  # four uploads and the thumbnail

    early = run(archive, "expire_exposures", at=expiries[test_site] - 1)
    assert early.count("exposures") == 0 and _rows(archive) == {test_site, flat, preview, *kept}

    for gone, base in enumerate([test_site, flat, preview], start=1):
        # A scheduled run lands somewhere in the interval after the expiry.
        outcome = run(archive, "expire_exposures", at=expiries[base] + INTERVAL - 1)
        assert outcome.count("exposures") == 1 and base in outcome.listing
        assert _objects(archive, base) == []
        assert base not in _rows(archive) and base not in _expiries(archive)
        assert len(_rows(archive)) == 5 - gone

    much_later = run(archive, "expire_exposures", at=expiries[preview] + 10 * 365 * 86_400)
    assert much_later.count("exposures") == 0
    assert _rows(archive) == set(kept)
    assert all(len(_objects(archive, base)) == 5 for base in kept)


def test_the_trailing_dash_keeps_neighbours_whose_names_start_the_same(archive: Archive) -> None:
    expiring = _ingested(archive, site="tst", instrument="cam1", data_type="EP")
    neighbour = _ingested(archive, site="tst", instrument="cam10", data_type="EX")
    assert neighbour.startswith("tst-cam1")
    # Not a valid name (a nine-digit counter), but an object all the same, and one that a listing
    # of the base filename without its dash would reach.
    stray = f"data/{expiring}0-EP00.txt"
    archive.put(stray, b"not part of the exposure")

    run(archive, "expire_exposures", at=_expiries(archive)[expiring])

    assert _objects(archive, expiring) == []
    assert len(_objects(archive, neighbour)) == 5
    assert stray in archive.keys("data/")
    assert _rows(archive) == {neighbour}


def test_an_exposure_whose_tracker_entry_vanished_is_still_deleted_on_time(archive: Archive) -> None:
    base = _ingested(archive, site="tst", data_type="EP")
    expires = _expiries(archive)[base]
    # DynamoDB's native TTL deletes expired items whenever it gets round to it, maybe first.
    client("dynamodb").delete_item(TableName=archive.settings.expiration_table, Key={"pk": {"S": base}})

    assert run(archive, "expire_exposures", at=expires - 1).count("exposures") == 0
    assert base in _rows(archive)

    outcome = run(archive, "expire_exposures", at=expires)
    assert (outcome.count("objects"), outcome.count("rows"), outcome.count("tracker_entries")) == (5, 1, 0)
    assert _objects(archive, base) == [] and base not in _rows(archive)


@pytest.mark.parametrize("killed_after", ["objects", "row"])
def test_a_run_killed_part_way_is_finished_by_the_next_one(archive: Archive, killed_after: str) -> None:
    base = _ingested(archive, site="tst", data_type="EF")
    expires = _expiries(archive)[base]
    # What a run killed at that point leaves behind: the deletions before it done, the rest not.
    client("s3").delete_objects(
        Bucket=archive.settings.bucket,
        Delete={"Objects": [{"Key": key} for key in _objects(archive, base)]},
    )
    if killed_after == "row":
        engine = create_engine(archive.settings.database_url)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM images WHERE base_filename = :b"), {"b": base})
        engine.dispose()

    outcome = run(archive, "expire_exposures", at=expires)

    assert outcome.count("objects") == 0
    assert outcome.count("rows") == (1 if killed_after == "objects" else 0)
    assert outcome.count("tracker_entries") == 1
    assert base not in _rows(archive) and _expiries(archive) == {}
    assert run(archive, "expire_exposures", at=expires).count("exposures") == 0


def test_a_dry_run_deletes_nothing_and_lists_what_it_would_delete(archive: Archive) -> None:
    base = _ingested(archive, site="tst", data_type="EP")
    expires = _expiries(archive)[base]

    dry = run(archive, "expire_exposures", at=expires, dry_run=True)

    assert dry.metadata["dry_run"] is True
    assert [dry.count(kind) for kind in ("exposures", "objects", "rows", "tracker_entries")] == [1, 5, 1, 1]
    assert dry.listing.startswith("Would delete") and f"data/{base}" in dry.listing
    assert len(_objects(archive, base)) == 5 and base in _rows(archive) and base in _expiries(archive)

    real = run(archive, "expire_exposures", at=expires)
    assert real.deletions.counts == dry.deletions.counts and real.listing.startswith("Deleted")


def test_the_removal_events_of_expired_objects_do_not_bring_the_row_back(archive: Archive) -> None:
    base = _ingested(archive, site="tst", data_type="EP")
    keys = _objects(archive, base)
    run(archive, "expire_exposures", at=_expiries(archive)[base])

    # The bucket's events for those deletions, and late creation events, reach the ingest afterwards.
    assert archive.ingest([ObjectRef(key, ObjectEvent.REMOVED) for key in keys]).success
    assert archive.ingest([ObjectRef(key) for key in keys]).success

    assert base not in _rows(archive) and _expiries(archive) == {}
    assert {archive.ledger(key)["state"] for key in keys} == {"removed"}


def test_a_row_that_stale_creation_events_bring_back_goes_on_the_next_run(archive: Archive) -> None:
    keys = upload(archive, count=1, site="tst", data_type="EP")
    # Creation events carry size, etag and time, so the ingest may trust them without asking S3.
    events = [archive.ref(key) for key in keys]
    assert archive.ingest(events).success
    base = base_of(keys)
    expires = _expiries(archive)[base]
    run(archive, "expire_exposures", at=expires)

    assert archive.ingest(events).success  # the same events, delivered again after the deletion
    run(archive, "expire_exposures", at=expires + INTERVAL)

    assert base not in _rows(archive) and _expiries(archive) == {} and _objects(archive, base) == []


def test_the_age_of_a_row_is_its_first_upload_on_either_catalog_database(migrated_catalog_url: str) -> None:
    engine = engine_for(migrated_catalog_url)
    first, later = datetime(2026, 11, 24, 2, 0, 0), datetime(2026, 11, 24, 3, 0, 0)
    with engine.begin() as connection:
        upsert_exposures(
            connection,
            "images",
            [
                Contribution("tst-cam1-20261124-00000001", "tst", "EP", later),
                Contribution("tst-cam1-20261124-00000002", "tst", "EX", first),  # a type no rule expires
                Contribution("sro-cam1-20261124-00000003", "sro", "EP", first),  # a row the ledger lacks
            ],
        )
        record_objects(
            connection,
            [
                LedgerRecord(
                    "data/tst-cam1-20261124-00000001-EP00.txt",
                    "ingested",
                    "r",
                    last_modified=later,
                    prefix="data",
                    base_filename="tst-cam1-20261124-00000001",
                ),
                LedgerRecord(
                    "data/tst-cam1-20261124-00000001-EP10.jpg",
                    "ingested",
                    "r",
                    last_modified=first,
                    prefix="data",
                    base_filename="tst-cam1-20261124-00000001",
                ),
            ],
            now=later,
        )
        aged = aged_exposures(connection, "data", first.replace(tzinfo=UTC), {"EP"})
        assert aged_exposures(connection, "data", first.replace(tzinfo=UTC) - timedelta(seconds=1)) == []

    assert sorted(aged, key=lambda a: a.base_filename) == [
        Aged("sro-cam1-20261124-00000003", "sro", "EP", int(first.replace(tzinfo=UTC).timestamp())),
        Aged("tst-cam1-20261124-00000001", "tst", "EP", int(first.replace(tzinfo=UTC).timestamp())),
    ]
