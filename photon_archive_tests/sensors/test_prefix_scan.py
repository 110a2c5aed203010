"""The prefix-scan sensor: with no events at all, it alone finds every object."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from dagster import (
    DagsterEvent,
    DagsterEventType,
    RunRequest,
    RunsFilter,
    SensorResult,
    build_sensor_context,
)

from photon_archive.aws.clients import client
from photon_archive.definitions import build_definitions
from photon_archive.defs.sensors.resolutions import resolve_earlier_failures
from photon_archive.ingest.prefix_scan import recent_nights
from photon_archive.naming import parse_key
from photon_archive.provision import set_bucket_notifications
from photon_archive.resolution import RESOLVED_BY_TAG
from photon_archive.run_tags import TAG_ASKED_AGAIN_FOR
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


def _failed_run_of(
    archive: Archive, request: RunRequest, started: bool, will_retry: bool, second: bool
) -> None:
    """The run of ``request``, failed, as the instance records one: ``started`` if its process began
    the job, tagged ``dagster/will_retry`` as run retries tag a failure; ``second`` if the request
    itself asked again for objects of an earlier one."""
    job = build_definitions(archive.settings).resolve_job_def("ingest")
    tags = {**request.tags, "dagster/run_key": str(request.run_key)}
    if second:
        tags[TAG_ASKED_AGAIN_FOR] = "scan-earlier"
    run = archive.instance.create_run_for_job(job_def=job, run_config=request.run_config, tags=tags)
    if started:
        start = DagsterEvent(event_type_value=DagsterEventType.RUN_START.value, job_name=job.name)
        archive.instance.report_dagster_event(start, run_id=run.run_id)
    archive.instance.report_run_failed(run)
    archive.instance.add_run_tags(run.run_id, {"dagster/will_retry": str(will_retry).lower()})


@pytest.mark.parametrize(
    ("started", "will_retry", "second", "asked_again"),
    [
        (False, False, False, True),  # its launch and its retry met a code server that was away
        (False, True, False, False),  # its retry is on the way
        (True, False, False, False),  # it ran and failed: its objects wait for an operator
        (False, False, True, False),  # asked again once already: the launch keeps failing
    ],
)
def test_objects_of_a_run_that_failed_before_it_started_are_asked_for_again_under_a_new_run_key(
    archive: Archive, started: bool, will_retry: bool, second: bool, asked_again: bool
) -> None:
    set_bucket_notifications(archive.settings, enabled=False)
    keys = _upload(archive, datetime.now(UTC).date(), 1)
    first = prefix_scan_tick(archive)
    assert first.run_requests is not None
    (request,) = first.run_requests
    assert request.run_key is not None
    _failed_run_of(archive, request, started, will_retry, second)
    archive.query("UPDATE object_ledger SET updated_at = updated_at - interval '1 hour' RETURNING key")

    again = prefix_scan_tick(archive, first.cursor)

    if not asked_again:
        assert again.run_requests == []
        assert {archive.ledger(key)["state"] for key in keys} == {"queued"}
        return
    assert _keys(again) == sorted(keys)
    assert again.run_requests is not None
    (asked,) = again.run_requests
    assert asked.run_key != request.run_key
    assert {archive.ledger(key)["run_key"] for key in keys} == {asked.run_key}
    job = build_definitions(archive.settings).resolve_job_def("ingest")
    tags = {**asked.tags, "dagster/run_key": str(asked.run_key)}
    assert job.execute_in_process(run_config=asked.run_config, instance=archive.instance, tags=tags).success
    assert {archive.ledger(key)["state"] for key in keys} == {"ingested"}
    # The failure no longer waits for an operator: the new run's success resolved it.
    context = build_sensor_context(instance=archive.instance)
    resolve_earlier_failures(context)
    (failed,) = archive.instance.get_runs(RunsFilter(tags={"dagster/run_key": str(request.run_key)}))
    assert failed.tags.get(RESOLVED_BY_TAG) is not None
    assert not set(_keys(prefix_scan_tick(archive, again.cursor))) & set(keys)  # only its thumbnail


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
