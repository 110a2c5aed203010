"""Every maintenance job is wired, tagged for the one-at-a-time limit, and scheduled, running."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, build_schedule_context, validate_run_config

from photon_archive.definitions import build_definitions
from photon_archive.defs.maintenance import MAINTENANCE_TAG, maintenance_jobs, maintenance_schedules
from photon_archive.defs.resources import resources_for
from photon_archive.settings import Settings

CADENCE = {
    "expire_exposures": "*/5 * * * *",
    "expire_upload_log": "10 * * * *",
    "expire_info_images": "20 * * * *",
    "expire_allsky": "40 3 * * *",
    "prune_run_history": "50 3 * * *",
}


def test_each_job_is_tagged_scheduled_running_and_launchable_from_its_schedule() -> None:
    settings = Settings(database_url="sqlite://")
    definitions = build_definitions(settings)
    context = build_schedule_context(resources=resources_for(settings))
    assert {job.name for job in maintenance_jobs} == set(CADENCE)
    schedules = {schedule.job_name: schedule for schedule in maintenance_schedules}
    for name, cron in CADENCE.items():
        job = definitions.resolve_job_def(name)
        assert job.tags[MAINTENANCE_TAG] == name
        assert job.executor_def.name == "in_process"
        schedule = definitions.resolve_schedule_def(schedules[name].name)
        assert schedule.cron_schedule == cron
        assert schedule.default_status == DefaultScheduleStatus.RUNNING
        (request,) = schedule.evaluate_tick(context).run_requests or []
        validate_run_config(job, request.run_config)
