"""The prefix-scan sensor: with no events at all, it alone finds every object."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dagster import SensorResult

from photon_archive.aws.clients import client
from photon_archive.ingest.prefix_scan import recent_nights
from photon_archive.naming import parse_key
from photon_archive.provision import set_bucket_notifications
from photon_archive_tests.archive import Archive
from photon_archive_tests.sensors.ticks import (
    drain_event_queue,
    event_queue_tick,
    prefix_scan_tick,
    requested_objects,
    run_requested,
)
from photon_archive_workshop.sample import sample_exposures


def _keys(result: SensorResult) -> list[str]:
    return sorted(
        entry["key"]
        for request in result.run_requests or []
        for entry in request.run_config["ops"]["ingest_objects"]["config"]["objects"]
    )


def _upload(
    archive: Archive, night: date, count: int, site: str = "sro", first_counter: int = 1
) -> list[str]:
    return archive.upload_sample(night=night, count=count, site=site, first_counter=first_counter)


def test_with_notifications_off_the_scan_alone_ingests_everything(archive: Archive) -> None:
    set_bucket_notifications(archive.settings, enabled=False)
    last_night = datetime.now(UTC).date() - timedelta(days=1)
    keys = _upload(archive, last_night, 2) + _upload(archive, last_night, 1, site="tst")

    first = prefix_scan_tick(archive)
    assert _keys(first) == sorted(keys)
    assert first.run_requests is not None
    assert all(r.tags["photon_archive/source"] == "scan" for r in first.run_requests)
    run_requested(archive, first)

    rows = archive.query("SELECT base_filename, jpg_small_exists FROM images ORDER BY base_filename")
    assert len(rows) == 3 and all(row["jpg_small_exists"] for row in rows)

    second = prefix_scan_tick(archive, first.cursor)
    thumbnails = [key for key in archive.keys("data/") if key.endswith("EX11.jpg")]
    assert len(thumbnails) == 3
    assert _keys(second) == sorted(thumbnails)  # the thumbnails the runs wrote are objects too
    run_requested(archive, second)

    assert _keys(prefix_scan_tick(archive, second.cursor)) == []
    assert {r["state"] for r in archive.query("SELECT state FROM object_ledger")} == {"ingested"}


def test_a_changed_object_is_found_again(archive: Archive) -> None:
    set_bucket_notifications(archive.settings, enabled=False)
    (key,) = _upload(archive, datetime.now(UTC).date(), 1)[:1]
    first = prefix_scan_tick(archive)
    run_requested(archive, first)
    archive.put(key, sample_exposures(night=datetime.now(UTC).date(), count=1, seed=9)[0].body, "text/plain")

    assert key in _keys(prefix_scan_tick(archive, first.cursor))


def test_recent_nights_are_listed_per_source_and_older_ones_by_the_sweep(archive: Archive) -> None:
    set_bucket_notifications(archive.settings, enabled=False)
    today = datetime.now(UTC).date()
    old = _upload(archive, today - timedelta(days=30), 3)
    first = prefix_scan_tick(archive, sweep_page=5)  # the sweep's first page learns the source
    assert len(_keys(first)) == 5
    run_requested(archive, first)
    fresh = _upload(archive, today, 1, first_counter=50)

    second = prefix_scan_tick(archive, first.cursor, sweep_page=5)

    # The source's recent night is listed whole; the sweep goes on through the old night.
    assert set(fresh) <= set(_keys(second))
    assert set(_keys(second)) - set(fresh) <= set(old)
    assert len(set(_keys(second)) - set(fresh)) == 5


def test_recent_nights_span_the_lookback_and_tomorrow() -> None:
    assert recent_nights(date(2026, 3, 1), 2) == ["20260227", "20260228", "20260301", "20260302"]


def test_a_queued_object_whose_run_never_appeared_is_requested_again(archive: Archive) -> None:
    set_bucket_notifications(archive.settings, enabled=False)
    keys = _upload(archive, datetime.now(UTC).date(), 1)
    first = prefix_scan_tick(archive)
    assert _keys(first) == sorted(keys)
    # The daemon died before launching the run: no run exists under the run key.
    archive.query("UPDATE object_ledger SET updated_at = updated_at - interval '1 hour' RETURNING key")

    again = prefix_scan_tick(archive, first.cursor)

    assert _keys(again) == sorted(keys)
    assert again.run_requests is not None and first.run_requests is not None
    assert {r.run_key for r in again.run_requests} == {r.run_key for r in first.run_requests}
    assert client("s3").list_objects_v2(Bucket=archive.settings.bucket)["KeyCount"] == len(keys)


def test_a_removal_whose_run_request_was_lost_is_asked_for_again_by_the_scan(archive: Archive) -> None:
    drain_event_queue(archive)
    keys = archive.upload_sample(count=1)
    tick = event_queue_tick(archive)
    assert isinstance(tick, SensorResult)
    run_requested(archive, tick)
    fits = next(key for key in keys if key.endswith("EX10.fits.fz"))
    client("s3").delete_object(Bucket=archive.settings.bucket, Key=fits)
    # The event sensor queues the removal, then the daemon dies before the run is submitted.
    lost = {o["key"]: o["event"] for o in requested_objects(event_queue_tick(archive))}
    assert lost[fits] == "removed"
    assert archive.ledger(fits)["state"] == "queued"
    assert fits not in _keys(prefix_scan_tick(archive))  # not yet: its run may still be on its way

    archive.query(
        "UPDATE object_ledger SET updated_at = updated_at - :age WHERE key = :k RETURNING 1",
        age=timedelta(minutes=3),
        k=fits,
    )
    scan = prefix_scan_tick(archive)

    requested = [
        (entry["key"], entry["event"])
        for request in scan.run_requests or []
        for entry in request.run_config["ops"]["ingest_objects"]["config"]["objects"]
    ]
    assert requested == [(fits, "removed")]
    run_requested(archive, scan)
    assert archive.ledger(fits)["state"] == "removed"
    assert archive.row(parse_key(fits).base_filename)["fits_10_exists"] is False
