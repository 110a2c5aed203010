"""The ``baseline`` job on real parts: a bucket with history and the catalog the legacy system left
for it become a complete ledger, the incomplete rows are brought up to date, and nothing is said to
the readers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from dagster import ExecuteInProcessResult, JobDefinition, ReexecutionOptions, execute_job, reconstructable
from sqlalchemy import create_engine, text

from photon_archive.catalog.rows import FLAGS
from photon_archive.definitions import build_definitions
from photon_archive.defs.baseline import OP_NAME
from photon_archive.settings import Settings
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
from photon_archive_workshop.sample import sample_exposures

NIGHT = date(2025, 3, 14)
COMPLETE = base_filename("sro", NIGHT, 1)  # row and files complete: recorded as they stand
MISSING = base_filename("sro", NIGHT, 2)  # real files, an expiring data type, no row; its thumbnail exists
UNTHUMBNAILED = base_filename("sro", NIGHT, 3)  # a row, but the thumbnail was never made
ALLSKY_COMPLETE = base_filename("sro", NIGHT, 1, "sq01")
ALLSKY_MISSING = base_filename("sro", NIGHT, 2, "sq01")  # the legacy system wrote nothing for allsky/


@dataclass
class Scene:
    keys: list[str]
    rows: list[dict[str, Any]]  # every row of images and allsky_images, before the baseline


def _history(archive: Archive) -> Scene:
    """Exposures in each state the legacy system leaves them, then a second, so that the baseline
    begins after every upload."""
    missing = sample_exposures(night=NIGHT, count=1, first_counter=2, data_type="EP")
    unthumbnailed = sample_exposures(night=NIGHT, count=1, first_counter=3)
    allsky = sample_exposures(night=NIGHT, count=1, first_counter=2, prefix="allsky", files=("txt", "jpg"))
    files = [
        *placeholders("data", COMPLETE),
        *missing,
        *placeholders("data", MISSING, ["EP11.jpg"]),
        *unthumbnailed,
        *placeholders("info-images", COMPLETE, ["EX00.txt", "EX10.jpg", "EX11.jpg"]),
        *placeholders("allsky", ALLSKY_COMPLETE, ["EX00.txt", "EX10.jpg", "EX11.jpg"]),
        *allsky,
    ]
    keys = upload(archive, files)
    adopt(archive, "images", [legacy_row(COMPLETE, NIGHT), legacy_row(UNTHUMBNAILED, NIGHT, FLAGS[:3])])
    adopt(
        archive,
        "allsky_images",
        [legacy_row(ALLSKY_COMPLETE, NIGHT, ["jpg_medium_exists", "jpg_small_exists"])],
    )
    time.sleep(1.0)  # S3 lists times to the second: the baseline leaves that second's uploads to the sensors
    return Scene(keys, _rows(archive))


def _rows(archive: Archive) -> list[dict[str, Any]]:
    return [
        *archive.query("SELECT * FROM images ORDER BY base_filename"),
        *archive.query("SELECT * FROM allsky_images ORDER BY base_filename"),
    ]


def _said_nothing(archive: Archive) -> None:
    """Nothing the readers see was written: no message, no upload-log item, no shared-table item."""
    assert archive.datastream() == []
    assert archive.table_items(archive.settings.upload_log_table) == []
    assert archive.table_items(archive.settings.expiration_table) == []
    assert archive.table_items(archive.settings.info_images_table) == []


def test_a_dry_run_counts_what_it_would_record_and_bring_up_to_date_and_writes_nothing(
    archive: Archive,
) -> None:
    scene = _history(archive)
    before = listing(archive)

    result = run_baseline(archive, dry_run=True)

    shown = figures(result)
    assert shown["dry_run"] is True
    assert shown["listed"] == len(scene.keys)
    # As they stand: the complete exposures (5 + 3 + 3 files) and the unthumbnailed one's header and
    # fits; through the ingest: the missing row's five files, the jpg without a thumbnail, allsky's two.
    assert (shown["recorded"], shown["ingested"]) == (14, 8)
    assert shown["rows"] == 3
    for row in (f"data/{MISSING}", f"data/{UNTHUMBNAILED}", f"allsky/{ALLSKY_MISSING}"):
        assert f"`{row}`" in shown["rows_brought_up_to_date"]
    assert archive.query("SELECT key FROM object_ledger") == []
    assert _rows(archive) == scene.rows
    assert listing(archive) == before
    _said_nothing(archive)


def test_every_object_is_recorded_and_only_the_rows_that_lack_something_are_written(archive: Archive) -> None:
    scene = _history(archive)
    before = listing(archive)

    result = run_baseline(archive)

    after = listing(archive)
    made = sorted(set(after) - set(before))
    assert made == [f"allsky/{ALLSKY_MISSING}-EX11.jpg", f"data/{UNTHUMBNAILED}-EX11.jpg"]
    assert all(after[key] == before[key] for key in before)  # no thumbnail that was there remade
    ledger = {row["key"]: row for row in archive.query("SELECT * FROM object_ledger")}
    assert set(ledger) == set(after)
    assert {(row["state"], row["run_id"]) for row in ledger.values()} == {("ingested", result.run_id)}
    assert all(ledger[key]["etag"] == after[key][0].strip('"') for key in after)
    rows = {row["base_filename"]: row for row in _rows(archive)}
    untouched = {row["base_filename"]: row for row in scene.rows if row["base_filename"] != UNTHUMBNAILED}
    assert {base: rows[base] for base in untouched} == untouched
    assert rows[UNTHUMBNAILED]["jpg_small_exists"] is True
    assert rows[UNTHUMBNAILED]["right_ascension"] == 250.4257  # the legacy row's own, not rewritten
    missing = rows[MISSING]
    assert all(missing[flag] for flag in FLAGS) and missing["header_source"] == "txt"
    assert rows[ALLSKY_MISSING]["jpg_small_exists"] is True
    shown = figures(result)
    assert (shown["listed"], shown["rejected"], shown["thumbnails_written"]) == (len(scene.keys), 0, 2)
    assert shown["prefixes"]["info-images/"]["recorded"] == 3
    _said_nothing(archive)


def test_beside_the_old_system_the_baseline_writes_its_catalog_and_ledger_and_nothing_to_the_bucket(
    dual: Archive,
) -> None:
    scene = _history(dual)
    before = listing(dual)

    result = run_baseline(dual)

    assert listing(dual) == before  # not even the thumbnails the old system never made
    ledger = dual.query("SELECT key FROM object_ledger")
    assert {row["key"] for row in ledger} == set(scene.keys)
    rows = {row["base_filename"]: row for row in _rows(dual)}
    assert MISSING in rows and ALLSKY_MISSING in rows
    assert rows[UNTHUMBNAILED]["jpg_small_exists"] is False  # set once the old system's EX11 arrives
    assert figures(result)["thumbnails_written"] == 0
    _said_nothing(dual)


def test_a_jpg_and_its_thumbnail_on_two_pages_are_both_recorded_and_the_thumbnail_kept(
    archive: Archive,
) -> None:
    _history(archive)
    before = listing(archive)

    result = run_baseline(archive, page_size=1)  # every object a page of its own

    assert listing(archive).keys() - before.keys() == {
        f"allsky/{ALLSKY_MISSING}-EX11.jpg",
        f"data/{UNTHUMBNAILED}-EX11.jpg",
    }
    assert all(listing(archive)[key] == before[key] for key in before)
    ledger = archive.query("SELECT key, run_id FROM object_ledger")
    assert sorted(row["key"] for row in ledger) == sorted(listing(archive))
    # Recorded before they were listed: the two made, and the one there beside a jpg whose row was missing.
    shown = figures(result)
    assert shown["thumbnails_recorded"] == shown["already_in_ledger"] == 3


def baseline_job_from_the_environment() -> JobDefinition:
    """The baseline job as a code location loads it, for a re-execution from failure."""
    return build_definitions(Settings.from_env()).resolve_job_def("baseline")


def test_a_reexecution_from_failure_goes_on_from_what_was_recorded(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHOTON_ARCHIVE_DATABASE_URL", archive.settings.database_url)
    scene = _history(archive)
    refused = f"data/{UNTHUMBNAILED}-EX00.txt"
    _refuse_in_the_ledger(archive, refused)
    job = reconstructable(baseline_job_from_the_environment)
    config = {"ops": {OP_NAME: {"config": {"page_size": 4}}}}

    with execute_job(job, archive.instance, run_config=config) as failed:
        assert not failed.success
    first = {row["key"] for row in archive.query("SELECT key FROM object_ledger")}
    assert first and refused not in first and first < set(scene.keys)
    _execute(archive, "DROP TRIGGER refuse ON object_ledger")
    time.sleep(1.0)
    late = upload(archive, placeholders("info-images", base_filename("sro", NIGHT, 9), ["EX10.jpg"]))
    before = listing(archive)

    options = ReexecutionOptions.from_failure(failed.run_id, archive.instance)
    with execute_job(job, archive.instance, reexecution_options=options) as again:
        assert again.success
        shown = figures(again)

    ledger = {row["key"]: row["run_id"] for row in archive.query("SELECT key, run_id FROM object_ledger")}
    assert set(ledger) == set(listing(archive)) - set(late)  # the late upload is the sensors' news
    assert {ledger[key] for key in first} == {failed.run_id}
    assert ledger[refused] == again.run_id
    assert (shown["already_in_ledger"], shown["uploaded_since"]) == (len(first), 1)
    assert all(listing(archive)[key] == before[key] for key in before)  # no thumbnail made twice
    _said_nothing(archive)

    time.sleep(1.0)
    rerun = figures(run_baseline(archive))  # goes on with what was uploaded since, and nothing else
    assert (rerun["recorded"], rerun["ingested"], rerun["already_in_ledger"]) == (1, 0, len(ledger))


def test_a_prefix_the_sensors_do_not_watch_is_refused_naming_the_watched_ones(archive: Archive) -> None:
    result: ExecuteInProcessResult = run_baseline(archive, raise_on_error=False, prefixes=["downloads"])

    (failure,) = [event for event in result.all_events if event.is_step_failure]
    error = failure.step_failure_data.error  # type: ignore[union-attr]
    assert error is not None
    assert (
        "prefix 'downloads' is not watched: the sensors watch only data, info-images, allsky" in error.message
    )
    assert archive.query("SELECT key FROM object_ledger") == []


def _refuse_in_the_ledger(archive: Archive, key: str) -> None:
    """The catalog refuses to record ``key``, as a database that fails part way through would."""
    _execute(
        archive,
        f"""CREATE FUNCTION refuse_key() RETURNS trigger AS $$
        BEGIN
          IF NEW.key = '{key}' THEN RAISE EXCEPTION 'the catalog refuses %', NEW.key; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    )
    _execute(
        archive,
        "CREATE TRIGGER refuse BEFORE INSERT ON object_ledger FOR EACH ROW EXECUTE FUNCTION refuse_key()",
    )


def _execute(archive: Archive, sql: str) -> None:
    engine = create_engine(archive.settings.database_url)
    with engine.begin() as connection:
        connection.execute(text(sql))
    engine.dispose()
