"""The sensors' first start against a bucket with years of history: after a baseline they ask for
nothing old and go on as usual with what is new; without one, the cutover
(``PHOTON_ARCHIVE_ANNOUNCE_SINCE``) keeps the history they ingest from being announced."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dagster import SensorResult

from photon_archive.catalog.rows import FLAGS
from photon_archive.naming import parse_key
from photon_archive.provision import set_bucket_notifications
from photon_archive_tests.archive import Archive
from photon_archive_tests.history import (
    adopt,
    base_filename,
    figures,
    legacy_row,
    listing,
    placeholders,
    run_baseline,
    upload,
)
from photon_archive_tests.sensors.ticks import (
    drain_event_queue,
    event_queue_tick,
    prefix_scan_tick,
    requested_objects,
    run_requested,
)
from photon_archive_workshop.sample import SampleFile, sample_exposures

SITES = ("sro", "saf", "mrc")
FIRST_NIGHT = date(2023, 4, 2)


def _ticks(archive: Archive, events: int = 2, scans: int = 4) -> list[str]:
    """A few ticks of both sensors, each scan from the last one's cursor; every key they asked for."""
    asked: list[str] = []
    for _ in range(events):
        tick = event_queue_tick(archive)
        asked += [o["key"] for o in requested_objects(tick)] if isinstance(tick, SensorResult) else []
    cursor = None
    for _ in range(scans):
        scan = prefix_scan_tick(archive, cursor)
        asked += [o["key"] for o in requested_objects(scan)]
        cursor = scan.cursor
    return asked


def _upload_log(archive: Archive) -> list[str]:
    return sorted(item["filename"]["S"] for item in archive.table_items(archive.settings.upload_log_table))


def _announced(archive: Archive) -> list[str]:
    return sorted(message["data"]["base_filename"] for message in archive.datastream())


def _today_upload(archive: Archive) -> tuple[str, list[str]]:
    """One new exposure, as an observatory sends it tonight."""
    keys = archive.upload_sample(night=datetime.now(UTC).date(), count=1, first_counter=900)
    return parse_key(keys[0]).base_filename, keys


def _next_second() -> None:
    """Wait out the second of the last upload: S3 lists times to the second."""
    time.sleep(1.0)


def test_after_a_baseline_the_sensors_ask_for_nothing_old_and_announce_a_new_upload(archive: Archive) -> None:
    drain_event_queue(archive)
    complete = [base_filename(site, FIRST_NIGHT, 1) for site in SITES]
    missing = sample_exposures(night=FIRST_NIGHT, count=2, first_counter=2)  # rows the legacy never wrote
    history = upload(archive, [f for base in complete for f in placeholders("data", base)] + missing)
    adopt(archive, "images", [legacy_row(base, FIRST_NIGHT) for base in complete])
    _next_second()

    assert run_baseline(archive).success

    assert _ticks(archive) == []  # the history's events and the thumbnails the baseline made included
    assert _announced(archive) == [] and _upload_log(archive) == []
    assert set(history) <= {row["key"] for row in archive.query("SELECT key FROM object_ledger")}

    base, keys = _today_upload(archive)
    tick = event_queue_tick(archive)
    assert sorted(o["key"] for o in requested_objects(tick)) == sorted(keys)
    run_requested(archive, tick)
    assert _announced(archive) == [base]
    assert _upload_log(archive) == sorted(keys)
    assert archive.row(base)["jpg_small_exists"] is True
    # The sweep goes on as usual: the new thumbnail, and nothing from the history.
    thumbnail = next(key for key in archive.keys("data/") if base in key and key.endswith("EX11.jpg"))
    assert [o["key"] for o in requested_objects(prefix_scan_tick(archive))] == [thumbnail]


def test_without_a_baseline_nothing_uploaded_before_the_cutover_is_announced(archive: Archive) -> None:
    set_bucket_notifications(archive.settings, enabled=False)
    old = sample_exposures(night=FIRST_NIGHT, count=3)
    # The legacy system made a thumbnail beside every medium jpg of data/.
    thumbnails = [f for file in old if file.key.endswith("EX10.jpg") for f in _thumbnail_of(file)]
    history = upload(archive, old + thumbnails)
    cutover = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    while datetime.now(UTC) < cutover:
        time.sleep(0.05)
    base, keys = _today_upload(archive)
    archive = archive.configured(announce_since=cutover.isoformat())
    before = listing(archive, "data/")

    # Four objects a sweep page, so that pages end between a jpg and the thumbnail beside it.
    scan = prefix_scan_tick(archive, sweep_page=4)
    for _ in range(12):
        run_requested(archive, scan)
        scan = prefix_scan_tick(archive, scan.cursor, sweep_page=4)
    assert requested_objects(scan) == []

    ingested = {row["key"] for row in archive.query("SELECT key FROM object_ledger WHERE state = 'ingested'")}
    assert set(history) | set(keys) <= ingested
    assert {parse_key(key).base_filename for key in history} <= {
        row["base_filename"] for row in archive.query("SELECT base_filename FROM images")
    }
    announced = _announced(archive)
    assert announced and set(announced) == {base}
    logged = _upload_log(archive)
    assert set(keys) <= set(logged) and all(parse_key(key).base_filename == base for key in logged)
    assert all(listing(archive, "data/")[key] == before[key] for key in history)  # no thumbnail remade


def _thumbnail_of(jpg: SampleFile) -> list[SampleFile]:
    name = parse_key(jpg.key)
    return placeholders(name.prefix, name.base_filename, ["EX11.jpg"])


@dataclass
class Bucket:
    """Years of history, with the catalog the legacy system left for it."""

    keys: list[str] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"images": [], "allsky_images": []})
    complete: set[str] = field(default_factory=set)  # exposures whose row holds everything already
    missing: set[str] = field(default_factory=set)  # no row
    lacking: dict[str, str] = field(default_factory=dict)  # base -> the flag its row lacks
    unthumbnailed: set[str] = field(default_factory=set)  # a medium jpg, and no thumbnail beside it


# How many exposures of data/ are in each state; the rest are complete.
EXPOSURES = 600
MISSING_ROWS = 10  # half with the thumbnail the legacy system made, half without
LACKING_JPG_FLAG = 5
LACKING_FITS_FLAG = 3
UNTHUMBNAILED = 10
ALLSKY_EXPOSURES = 20


def _years_of_history() -> tuple[Bucket, list[SampleFile]]:
    bucket = Bucket()
    files: list[SampleFile] = []
    for index in range(EXPOSURES):
        site, night, counter = SITES[index % 3], FIRST_NIGHT + timedelta(days=7 * (index // 3)), index + 1
        base = base_filename(site, night, counter)

        def real() -> list[SampleFile]:
            return sample_exposures(night=night, count=1, site=site, first_counter=counter)  # noqa: B023

        kind = index - MISSING_ROWS
        if kind < 0:
            bucket.missing.add(base)
            files += real()
            if index % 2:
                files += placeholders("data", base, ["EX11.jpg"])
            else:
                bucket.unthumbnailed.add(base)
            continue
        if kind < LACKING_JPG_FLAG:
            # Its thumbnail is there, so the jpg is never read: a placeholder will do.
            bucket.lacking[base] = "jpg_medium_exists"
            files += placeholders("data", base)
        elif kind < LACKING_JPG_FLAG + LACKING_FITS_FLAG:
            bucket.lacking[base] = "fits_10_exists"  # read for its header: the row has no header source
            files += real() + placeholders("data", base, ["EX11.jpg"])
        elif kind < LACKING_JPG_FLAG + LACKING_FITS_FLAG + UNTHUMBNAILED:
            bucket.lacking[base] = "jpg_small_exists"
            bucket.unthumbnailed.add(base)
            files += placeholders("data", base, ["EX00.txt", "EX01.fits.bz2", "EX10.fits.fz"])
            files += [file for file in real() if file.key.endswith("EX10.jpg")]
        else:
            bucket.complete.add(base)
            files += placeholders("data", base)
        flags = [flag for flag in FLAGS if flag != bucket.lacking.get(base)]
        bucket.rows["images"].append(legacy_row(base, night, flags))
    for index in range(ALLSKY_EXPOSURES):
        night = FIRST_NIGHT + timedelta(days=index)
        base = base_filename("sro", night, index + 1, "sq01")
        files += placeholders("allsky", base, ["EX00.txt", "EX10.jpg", "EX11.jpg"])
        bucket.rows["allsky_images"].append(
            legacy_row(base, night, ["jpg_medium_exists", "jpg_small_exists"])
        )
        bucket.complete.add(base)
    for site in SITES[:2]:
        for channel in (1, 2, 3):
            base = base_filename(site, FIRST_NIGHT, channel)
            info = placeholders("info-images", base, ["EX00.txt", "EX10.jpg", "EX11.jpg"])
            files += [SampleFile(f.key, f.body, f.content_type, {"info-channel": str(channel)}) for f in info]
    return bucket, files


def test_a_first_start_against_years_of_history_floods_nobody(archive: Archive) -> None:
    set_bucket_notifications(archive.settings, enabled=False)  # the history predates the event queue
    bucket, files = _years_of_history()
    history = upload(archive, files)
    for table, legacy in bucket.rows.items():
        adopt(archive, table, legacy)
    set_bucket_notifications(archive.settings, enabled=True)
    drain_event_queue(archive)
    rows_before = _rows(archive)
    before = listing(archive)
    _next_second()

    baseline = run_baseline(archive)
    asked = _ticks(archive)

    shown = figures(baseline)
    assert (shown["listed"], shown["rejected"]) == (len(history), 0)  # no placeholder was ever read
    assert asked == []
    assert _announced(archive) == []
    assert _upload_log(archive) == []
    for table in (archive.settings.info_images_table, archive.settings.expiration_table):
        assert archive.table_items(table) == []
    after = listing(archive)
    assert all(after[key] == before[key] for key in before)  # no thumbnail that was there remade
    made = {parse_key(key).base_filename for key in set(after) - set(before)}
    assert made == bucket.unthumbnailed
    ledger = archive.query("SELECT key, state, run_id FROM object_ledger")
    assert sorted(row["key"] for row in ledger) == sorted(after)
    assert {(row["state"], row["run_id"]) for row in ledger} == {("ingested", baseline.run_id)}
    rows = _rows(archive)
    assert {base: rows[base] for base in bucket.complete} == {
        base: rows_before[base] for base in bucket.complete
    }
    assert all(rows[base][flag] for base in bucket.missing for flag in FLAGS)
    assert all(rows[base]["header_source"] == "txt" for base in bucket.missing)
    assert all(rows[base][flag] is True for base, flag in bucket.lacking.items())
    print(
        f"{len(history)} historical objects: {shown['recorded']} recorded as they stand, "
        f"{shown['ingested']} ingested into {shown['rows']} rows, "
        f"{shown['thumbnails_written']} thumbnails made"
    )

    base, keys = _today_upload(archive)
    tick = event_queue_tick(archive)
    assert sorted(o["key"] for o in requested_objects(tick)) == sorted(keys)
    run_requested(archive, tick)
    assert _announced(archive) == [base]
    assert _upload_log(archive) == sorted(keys)


def _rows(archive: Archive) -> dict[str, dict[str, Any]]:
    return {
        row["base_filename"]: row
        for table in ("images", "allsky_images")
        for row in archive.query(f"SELECT * FROM {table}")
    }
