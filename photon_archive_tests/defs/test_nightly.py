"""Nights at a glance on real parts: two sites' uploads of two nights ingested, a rejection among
them, and the nightly report's partitions, refreshes and figures as the sensor and the schedule give
them, each equal to what the ledger holds."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dagster import RunRequest, SensorResult, SkipReason, build_schedule_context, build_sensor_context
from sqlalchemy import create_engine, text

from photon_archive.definitions import build_definitions
from photon_archive.defs.nightly import nightly_report_daily, nightly_report_refresh
from photon_archive.defs.resources import resources_for
from photon_archive_tests.archive import Archive
from photon_archive_tests.nights import EMPTY_HEADER, FIRST, NOT_AN_IMAGE, PAIRS, SECOND


def _key(night: date, site: str) -> str:
    return f"{night.isoformat()}|{site}"


def _ledger(archive: Archive, night: date, site: str) -> list[dict[str, Any]]:
    return archive.query(
        "SELECT key, state, reason FROM object_ledger WHERE base_filename LIKE :pattern ORDER BY key",
        pattern=f"{site}-%-{night:%Y%m%d}-%",
    )


def _tick(archive: Archive, cursor: str | None = None) -> SensorResult | SkipReason:
    context = build_sensor_context(
        instance=archive.instance, resources=resources_for(archive.settings), cursor=cursor
    )
    result = nightly_report_refresh(context)
    assert isinstance(result, SensorResult | SkipReason)
    return result


def _refresh(archive: Archive, requests: list[RunRequest]) -> dict[str, dict[str, Any]]:
    """Run each requested refresh as the daemon would; each partition's report metadata."""
    job = build_definitions(archive.settings).resolve_job_def("nightly_report_job")
    reports = {}
    for request in requests:
        assert request.partition_key is not None
        result = job.execute_in_process(
            partition_key=request.partition_key, instance=archive.instance, tags=request.tags
        )
        (materialization,) = result.asset_materializations_for_node("nightly_report")
        reports[str(request.partition_key)] = {
            name: value.value for name, value in materialization.metadata.items()
        }
    return reports


def _add_partitions(archive: Archive, result: SensorResult) -> None:
    for request in result.dynamic_partitions_requests or []:
        archive.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_the_sensor_adds_each_night_and_site_and_each_report_counts_what_the_ledger_holds(
    ingested: tuple[Archive, list[str], str],
) -> None:
    archive, _, _ = ingested

    first = _tick(archive)

    assert isinstance(first, SensorResult)
    added = {r.partitions_def_name: set(r.partition_keys) for r in first.dynamic_partitions_requests or []}
    assert added == {"nights": {FIRST.isoformat(), SECOND.isoformat()}, "sites": {"sro", "mrc"}}
    assert {str(r.partition_key) for r in first.run_requests or []} == {_key(*pair) for pair in PAIRS}
    # The reports wait in the run queue behind any ingest run (priority 0).
    assert {r.tags["dagster/priority"] for r in first.run_requests or []} == {"-1"}
    _add_partitions(archive, first)
    reports = _refresh(archive, list(first.run_requests or []))
    for night, site in PAIRS:
        report, ledger = reports[_key(night, site)], _ledger(archive, night, site)
        states = Counter(row["state"] for row in ledger)
        assert report["objects"] == len(ledger) > 0
        for state in ("ingested", "rejected", "queued", "failed", "removed"):
            assert report[state] == states[state], (night, site, state)
        rejected = [(row["reason"], 1, row["key"]) for row in ledger if row["state"] == "rejected"]
        table = [(r.data["reason"], r.data["count"], r.data["example"]) for r in report["rejections"].records]
        assert table == rejected
        assert 0 <= report["latency_median_seconds"] <= report["latency_p95_seconds"] < 3600
    (empty,) = reports[_key(SECOND, "mrc")]["rejections"].records
    assert (empty.data["example"], empty.data["reason"]) == (
        EMPTY_HEADER,
        "the header file is empty (zero bytes)",
    )
    assert reports[_key(FIRST, "sro")]["rejections"].records[0].data["example"] == NOT_AN_IMAGE


def test_a_later_tick_refreshes_only_the_night_and_site_written_since(
    ingested: tuple[Archive, list[str], str],
) -> None:
    archive, _, _ = ingested
    first = _tick(archive)
    assert isinstance(first, SensorResult) and first.cursor is not None
    _add_partitions(archive, first)
    launched = {request.run_key for request in first.run_requests or []}

    again = _tick(archive, first.cursor)
    later = archive.upload_sample(night=SECOND, site="sro", count=1, first_counter=7)
    archive.ingest(later)
    after_upload = _tick(archive, first.cursor if isinstance(again, SkipReason) else again.cursor)

    # The daemon launches a run key once: what a tick asks for again is no new run.
    assert isinstance(again, SkipReason) or {r.run_key for r in again.run_requests or []} <= launched
    assert isinstance(after_upload, SensorResult)
    new = [request for request in after_upload.run_requests or [] if request.run_key not in launched]
    assert [str(request.partition_key) for request in new] == [_key(SECOND, "sro")]
    assert not after_upload.dynamic_partitions_requests
    (report,) = _refresh(archive, new).values()
    ledger = _ledger(archive, SECOND, "sro")
    assert set(later) <= {row["key"] for row in ledger}
    assert (report["objects"], report["ingested"]) == (len(ledger), len(ledger))


def test_the_first_tick_adds_every_night_but_refreshes_only_the_last_days(
    ingested: tuple[Archive, list[str], str],
) -> None:
    archive, _, _ = ingested
    engine = create_engine(archive.settings.database_url)
    with engine.begin() as connection:  # the first night ingested three days before the second
        connection.execute(
            text(
                "UPDATE object_ledger SET updated_at = updated_at - interval '3 days' "
                "WHERE base_filename LIKE :p"
            ),
            {"p": f"%-{FIRST:%Y%m%d}-%"},
        )
    engine.dispose()

    first = _tick(archive)

    assert isinstance(first, SensorResult)
    added = {r.partitions_def_name: set(r.partition_keys) for r in first.dynamic_partitions_requests or []}
    assert added["nights"] == {FIRST.isoformat(), SECOND.isoformat()}
    assert {str(r.partition_key) for r in first.run_requests or []} == {
        _key(SECOND, "sro"),
        _key(SECOND, "mrc"),
    }


def test_the_daily_schedule_refreshes_every_site_of_the_previous_night(
    ingested: tuple[Archive, list[str], str],
) -> None:
    archive, _, _ = ingested
    context = build_schedule_context(
        instance=archive.instance,
        scheduled_execution_time=datetime.combine(SECOND + timedelta(days=1), datetime.min.time(), UTC)
        + timedelta(hours=14),
        resources=resources_for(archive.settings),
    )

    requests = nightly_report_daily(context)

    assert isinstance(requests, list)
    assert sorted(str(request.partition_key) for request in requests) == [
        _key(SECOND, "mrc"),
        _key(SECOND, "sro"),
    ]
    assert set(archive.instance.get_dynamic_partitions("nights")) == {SECOND.isoformat()}
    reports = _refresh(archive, requests)
    assert reports[_key(SECOND, "mrc")]["rejected"] == 1
