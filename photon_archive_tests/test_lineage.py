"""The asset graph: ingest runs materialize what they wrote; the checks go red on a bad catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dagster import AssetKey, SensorResult, TableMetadataValue

from photon_archive.aws.clients import client
from photon_archive.definitions import build_definitions
from photon_archive_tests.archive import Archive
from photon_archive_tests.sensors.ticks import drain_event_queue, event_queue_tick


def _table(value: object) -> TableMetadataValue:
    """A metadata value the UI shows as a table, with its columns."""
    assert isinstance(value, TableMetadataValue)
    return value


def _checks(archive: Archive) -> dict[str, bool]:
    job = build_definitions(archive.settings).resolve_job_def("asset_checks")
    result = job.execute_in_process(instance=archive.instance)
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_an_ingest_run_materializes_each_asset_it_wrote_with_figures(archive: Archive) -> None:
    keys = archive.upload_sample(count=2) + archive.upload_sample(count=1, prefix="allsky")
    result = archive.ingest(keys + ["data/not-a-name.txt"])

    (output,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"][:1]
    rejections = _table(output.step_output_data.metadata["rejections"])  # type: ignore[union-attr]
    assert [record.data["object"] for record in rejections.records] == ["data/not-a-name.txt"]
    assert [column.name for column in rejections.schema.columns] == ["object", "reason"]
    materialized = {m.asset_key: m.metadata for m in result.asset_materializations_for_node("ingest_objects")}
    assert set(materialized) == {AssetKey("images"), AssetKey("allsky_images"), AssetKey("thumbnails")}
    assert materialized[AssetKey("images")]["exposures"].value == 2
    assert materialized[AssetKey("images")]["rejected"].value == 1
    assert materialized[AssetKey("allsky_images")]["ingested"].value == 4
    assert materialized[AssetKey("thumbnails")]["written"].value == 3
    event = archive.instance.get_latest_materialization_event(AssetKey("images"))
    assert event is not None and event.run_id == result.run_id
    observations = [e for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"]
    assert len(observations) == 1


def test_checks_are_green_on_a_clean_catalog_and_red_on_a_crafted_one(archive: Archive) -> None:
    keys = archive.upload_sample(count=2)
    assert archive.ingest(keys).success
    assert _checks(archive) == {
        "thumbnails_follow_medium_jpgs": True,
        "no_rejections_in_the_last_day": True,
        "no_object_waits_for_a_run": True,
        "expired_exposures_are_gone": True,
    }

    jpg = next(key for key in keys if key.endswith("EX10.jpg"))
    base = jpg.split("/")[1].rsplit("-", 1)[0]
    archive.query("UPDATE images SET jpg_small_exists = false WHERE base_filename = :b RETURNING 1", b=base)
    archive.query(
        "UPDATE object_ledger SET last_modified = last_modified - :age WHERE key = :k RETURNING 1",
        age=timedelta(minutes=11),
        k=jpg,
    )
    assert archive.ingest(["data/sro-kb001ms-20261124-1234-EX00.txt"]).success

    assert _checks(archive) == {
        "thumbnails_follow_medium_jpgs": False,
        "no_rejections_in_the_last_day": False,
        "no_object_waits_for_a_run": True,
        "expired_exposures_are_gone": True,
    }
    checks = build_definitions(archive.settings).resolve_job_def("asset_checks")
    evaluations = checks.execute_in_process(instance=archive.instance).get_asset_check_evaluations()
    (rejected,) = [e for e in evaluations if e.check_name == "no_rejections_in_the_last_day"]
    (row,) = [record.data for record in _table(rejected.metadata["reasons"]).records]
    assert row["object"] == "data/sro-kb001ms-20261124-1234-EX00.txt" and row["reason"]


def test_objects_left_queued_by_a_run_that_never_finished_fail_their_check_until_it_runs(
    archive: Archive,
) -> None:
    drain_event_queue(archive)
    keys = archive.upload_sample(count=1)
    tick = event_queue_tick(archive)
    assert isinstance(tick, SensorResult) and len(tick.run_requests or []) == 1
    (request,) = tick.run_requests or []
    assert _checks(archive)["no_object_waits_for_a_run"] is True  # just requested: not yet a concern

    archive.query(
        "UPDATE object_ledger SET updated_at = updated_at - :age WHERE state = 'queued' RETURNING 1",
        age=timedelta(minutes=31),
    )
    job = build_definitions(archive.settings).resolve_job_def("asset_checks")
    result = job.execute_in_process(instance=archive.instance)
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "no_object_waits_for_a_run"
    ]
    assert evaluation.passed is False
    assert evaluation.metadata["waiting"].value == len(keys)
    listed = [record.data for record in _table(evaluation.metadata["objects"]).records]
    assert sorted(str(row["object"]) for row in listed) == sorted(keys)
    assert {row["run_key"] for row in listed} == {request.run_key}

    ingest = build_definitions(archive.settings).resolve_job_def("ingest")
    assert ingest.execute_in_process(run_config=request.run_config, instance=archive.instance).success
    assert _checks(archive)["no_object_waits_for_a_run"] is True


def test_an_expired_exposure_with_objects_fails_its_check_until_the_expiry_job_runs(archive: Archive) -> None:
    keys = archive.upload_sample(count=1, data_type="EF")
    assert archive.ingest(keys).success
    base = keys[0].split("/")[1].rsplit("-", 1)[0]
    day_ago = int((datetime.now(UTC) - timedelta(days=1)).timestamp())
    client("dynamodb").put_item(
        TableName=archive.settings.expiration_table,
        Item={
            "pk": {"S": base},
            "s3_directory": {"S": "data"},
            "expiration_timestamp_s": {"N": str(day_ago)},
        },
    )

    assert _checks(archive)["expired_exposures_are_gone"] is False

    expire = build_definitions(archive.settings).resolve_job_def("expire_exposures")
    assert expire.execute_in_process(instance=archive.instance).success
    assert archive.keys(f"data/{base}-") == []
    assert _checks(archive)["expired_exposures_are_gone"] is True
