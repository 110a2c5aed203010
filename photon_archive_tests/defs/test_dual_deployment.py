"""The dual deployment beside the old system, on real parts: its ingests write its own catalog and
ledger and nothing the old system's readers see, and the maintenance jobs that delete from the
shared account refuse to act on it. The shared account's state is made the way the old system
makes it: ingests of a deployment that writes it (``local``), before the dual one starts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dagster import ExecuteInProcessResult, RunRequest, build_schedule_context

from photon_archive.aws.clients import client
from photon_archive.definitions import build_definitions
from photon_archive.defs.maintenance import maintenance_schedules
from photon_archive.defs.resources import resources_for
from photon_archive_tests.archive import Archive

SHARED_ACCOUNT_JOBS = {
    "expire_exposures": "delete_expired_exposures",
    "expire_upload_log": "delete_expired_upload_log_items",
    "expire_info_images": "delete_expired_info_images",
    "expire_allsky": "delete_old_allsky",
}
# Later than anything here expires, even an all-sky image's 30 days.
FAR_FUTURE = "2036-01-01T00:00:00Z"


def upload_night(archive: Archive, first_counter: int) -> list[str]:
    """Exposures of every kind that reaches the shared account: a regular one, one that expires (the
    tracker), an info image on channel 2 (the channel items) and an all-sky image."""
    keys = archive.upload_sample(count=1, first_counter=first_counter)
    keys += archive.upload_sample(count=1, data_type="EP", first_counter=first_counter + 1)
    keys += archive.upload_sample(prefix="info-images", channel=2, count=1, first_counter=first_counter + 2)
    keys += archive.upload_sample(prefix="allsky", count=1, first_counter=first_counter + 3)
    return keys


def shared_account(archive: Archive) -> dict[str, Any]:
    """Everything the old system's readers see: the bucket's keys and the three tables' items."""
    pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=archive.settings.bucket)
    state: dict[str, Any] = {
        "bucket": sorted(item["Key"] for page in pages for item in page.get("Contents", []))
    }
    settings = archive.settings
    for table in (settings.upload_log_table, settings.expiration_table, settings.info_images_table):
        state[table] = sorted(json.dumps(item, sort_keys=True) for item in archive.table_items(table))
    return state


@pytest.fixture
def old_system(archive: Archive) -> dict[str, Any]:
    """The shared account as the old system left it, with a night of its own; its state."""
    assert archive.ingest(upload_night(archive, first_counter=1)).success
    thumbnails = archive.keys("data/") + archive.keys("info-images/") + archive.keys("allsky/")
    assert archive.ingest([key for key in thumbnails if key.endswith("11.jpg")]).success
    archive.datastream()
    state = shared_account(archive)
    assert all(state[table] for table in state), "the old system writes every part of the account"
    return state


def test_a_dual_ingest_writes_its_catalog_and_nothing_the_readers_see(
    dual: Archive, old_system: dict[str, Any]
) -> None:
    uploaded = upload_night(dual, first_counter=11)

    assert dual.ingest(uploaded).success

    ledger = dual.query("SELECT key, state FROM object_ledger WHERE key = ANY(:k)", k=uploaded)
    assert {row["key"]: row["state"] for row in ledger} == dict.fromkeys(uploaded, "ingested")
    for key in uploaded[:8]:  # the regular and the expiring exposure, every file but the thumbnail
        row = dual.row(key.split("/")[1].rsplit("-", 1)[0])
        assert (row["fits_01_exists"], row["jpg_medium_exists"], row["jpg_small_exists"]) == (
            True,
            True,
            False,
        )
    assert len(dual.query("SELECT 1 FROM allsky_images")) == 2
    assert dual.datastream() == []
    assert shared_account(dual) == {**old_system, "bucket": sorted(old_system["bucket"] + uploaded)}


def test_a_forced_dual_replay_remakes_no_thumbnail(dual: Archive, old_system: dict[str, Any]) -> None:
    job = build_definitions(dual.settings).resolve_job_def("replay")

    result = job.execute_in_process(
        run_config={"ops": {"replay_objects": {"config": {"prefix": "data", "force": True}}}},
        instance=dual.instance,
    )

    assert result.success
    assert result.output_for_node("replay_objects").ingested == len(
        [k for k in old_system["bucket"] if k.startswith("data/")]
    )
    assert dual.datastream() == []
    assert shared_account(dual) == old_system


def _refusal(result: ExecuteInProcessResult) -> str:
    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    error = failure.step_failure_data.error  # type: ignore[union-attr]
    assert error is not None
    return error.message


@pytest.mark.parametrize(("job_name", "op_name"), SHARED_ACCOUNT_JOBS.items())
def test_a_maintenance_job_that_deletes_shared_things_refuses_beside_the_old_system(
    dual: Archive, old_system: dict[str, Any], job_name: str, op_name: str
) -> None:
    job = build_definitions(dual.settings).resolve_job_def(job_name)

    result = job.execute_in_process(
        run_config={"ops": {op_name: {"config": {"now": FAR_FUTURE}}}},
        instance=dual.instance,
        raise_on_error=False,
    )

    assert (
        f"{job_name} deletes from the shared bucket and tables, and the dual deployment never acts on them"
        in _refusal(result)
    )
    assert shared_account(dual) == old_system
    assert len(dual.query("SELECT 1 FROM images")) == 2


def test_their_schedules_skip_beside_the_old_system_saying_why(dual: Archive) -> None:
    beside = build_schedule_context(resources=resources_for(dual.settings))
    owning = build_schedule_context(resources=resources_for(dual.configured(deployment="aws").settings))
    skipped = {}
    for schedule in maintenance_schedules:
        result = schedule.evaluate_tick(beside)
        if result.skip_message:
            skipped[schedule.job_name] = result.skip_message
        else:
            assert [type(request) for request in result.run_requests or []] == [RunRequest]
        assert [type(request) for request in schedule.evaluate_tick(owning).run_requests or []] == [
            RunRequest
        ]
    assert set(skipped) == set(SHARED_ACCOUNT_JOBS)
    assert all("the dual deployment never acts on them" in message for message in skipped.values())


def test_run_history_is_pruned_beside_the_old_system_too(dual: Archive) -> None:
    job = build_definitions(dual.settings).resolve_job_def("prune_run_history")

    result = job.execute_in_process(
        run_config={"ops": {"delete_old_runs": {"config": {"dry_run": True}}}}, instance=dual.instance
    )

    assert result.success
