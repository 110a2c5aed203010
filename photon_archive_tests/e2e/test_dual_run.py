"""The dual run on the real daemon: photon_archive beside the old system, on the same bucket events
through an SNS fan-out, writes its own catalog and nothing the old system's readers see; then
compare_with_legacy, launched as from the launchpad, finds every difference planted in a legacy
catalog of the old DDL, each in its category."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from dagster import DagsterEventType

from photon_archive.aws.clients import client
from photon_archive.defs.maintenance import MAINTENANCE_TAG, maintenance_jobs
from photon_archive.settings import Settings
from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.fan_out import fan_out
from photon_archive_tests.e2e.night import Uploader, by_exposure
from photon_archive_tests.e2e.stack import StackFactory, wait_for
from photon_archive_tests.legacy_catalog import create_legacy_catalog, insert_legacy_rows, legacy_rows
from photon_archive_tests.planted_differences import PLANTED_ROWS, plant_differences
from photon_archive_workshop.sample import sample_exposures

pytestmark = pytest.mark.e2e

# How long each wait may take: a limit, not a measure of speed. One round of sensor ticks and runs
# (no thumbnails are written, so no second round) takes well under a minute on a 2-core machine
# busy with other work; the limit leaves room for one four times slower.
LIMIT_S = 300.0
STEP = "compare_catalogs_with_legacy"


def seed_shared_tables(settings: Settings) -> None:
    """What the old system keeps in the shared tables: an upload-log item, an expiration entry, a
    site's channel metadata (the upload API's) and a channel item."""
    items = {
        settings.upload_log_table: {
            "site": {"S": "sro"},
            "filename": {"S": "data/sro-kb001ms-20261123-00000001-EX10.jpg"},
            "upload_timestamp_s": {"N": "1795400000"},
            "expire_timestamp_s": {"N": "1795572800"},
            "size_bytes": {"N": "123456"},
        },
        settings.expiration_table: {
            "pk": {"S": "sro-kb001ms-20261123-00000002"},
            "s3_directory": {"S": "data"},
            "expiration_timestamp_s": {"N": "1796000000"},
        },
        settings.info_images_table: {
            "pk": {"S": "sro#metadata"},
            "channel3": {"S": "sro-kb001ms-20261123-00000003"},
        },
    }
    dynamodb = client("dynamodb")
    for table, item in items.items():
        dynamodb.put_item(TableName=table, Item=item)
    dynamodb.put_item(
        TableName=settings.info_images_table,
        Item={"pk": {"S": "sro#3"}, "base_filename": {"S": "sro-kb001ms-20261123-00000003"}},
    )


def shared_tables(archive: Archive) -> dict[str, list[str]]:
    settings = archive.settings
    return {
        table: sorted(json.dumps(item, sort_keys=True) for item in archive.table_items(table))
        for table in (settings.upload_log_table, settings.expiration_table, settings.info_images_table)
    }


def bucket_keys(settings: Settings) -> set[str]:
    pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=settings.bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_a_dual_run_writes_only_its_catalog_and_compare_with_legacy_finds_every_planted_difference(
    dagster_stack_factory: StackFactory, archive: Archive, legacy_database_url: str
) -> None:
    settings = archive.settings
    fan = fan_out(settings)
    seed_shared_tables(settings)
    before = shared_tables(archive)
    create_legacy_catalog(legacy_database_url)
    stack = dagster_stack_factory(
        environment={
            "PHOTON_ARCHIVE_DEPLOYMENT": "dual",
            "PHOTON_ARCHIVE_LEGACY_DATABASE_URL": legacy_database_url,
        }
    )

    # A small night of every kind the shared account would otherwise hear of: exposures, one that
    # expires, an info image on a channel, an all-sky image.
    files = sample_exposures(count=PLANTED_ROWS)
    files += sample_exposures(count=1, data_type="EP", first_counter=PLANTED_ROWS + 1)
    files += sample_exposures(prefix="info-images", channel=2, count=1, first_counter=PLANTED_ROWS + 2)
    files += sample_exposures(prefix="allsky", count=1)
    uploaded = [file.key for file in files]
    finished = Uploader(settings.bucket, by_exposure(files), workers=4).run()

    def ingested() -> list[dict[str, Any]] | None:
        rows = archive.query("SELECT key, state, run_id FROM object_ledger WHERE key = ANY(:k)", k=uploaded)
        done = {row["key"]: row["state"] for row in rows} == dict.fromkeys(uploaded, "ingested")
        return rows if done else None

    rows = wait_for(f"all {len(uploaded)} objects are ingested", ingested, LIMIT_S)
    print(f"{len(uploaded)} objects ingested {time.monotonic() - finished:.1f} s after the upload ended")
    with stack.instance() as instance:
        runs = [instance.get_run_by_id(run_id) for run_id in {row["run_id"] for row in rows}]
    assert all(run and run.job_name == "ingest" for run in runs), runs
    sources = {run.tags["photon_archive/source"] for run in runs if run}
    assert "event" in sources and sources <= {"event", "scan"}, sources  # the topic reached our queue

    # Nothing the readers see came from us; the old system heard of every object all the same.
    assert archive.datastream() == []
    assert shared_tables(archive) == before
    assert bucket_keys(settings) == set(uploaded)
    assert set(fan.events_for_the_old_system()) == set(uploaded)
    assert len(archive.query("SELECT 1 FROM images")) == PLANTED_ROWS + 1
    assert all(not stack.runs_tagged(MAINTENANCE_TAG, job.name) for job in maintenance_jobs)

    planted = plant_differences(archive.query("SELECT * FROM images"))
    insert_legacy_rows(legacy_database_url, planted.rows)
    legacy_before = legacy_rows(legacy_database_url)

    run_id = stack.launch("compare_with_legacy", {"ops": {STEP: {"config": {"examples": 3}}}})
    run = stack.wait_for_run_to_end(run_id, LIMIT_S)
    assert run["status"] == "SUCCESS", run

    with stack.instance() as instance:
        (output,) = instance.all_logs(run_id, of_type=DagsterEventType.STEP_OUTPUT)
    assert output.dagster_event is not None and output.dagster_event.step_key == STEP
    metadata = output.dagster_event.step_output_data.metadata
    report: dict[str, Any] = json.loads(json.dumps(metadata["examples"].value))
    categories = report["tables"]["images"]["categories"]
    assert {name: category["count"] for name, category in categories.items()} == dict(planted.expected)
    for name, base_filename in planted.where.items():
        assert categories[name]["examples"][0]["base_filename"] == base_filename, name
    assert report["not_compared"] == ["allsky_images, which the legacy catalog does not have"]
    assert metadata["differences"].value == sum(planted.expected.values())
    assert "Not compared: allsky_images" in str(metadata["summary"].value)
    assert legacy_rows(legacy_database_url) == legacy_before
