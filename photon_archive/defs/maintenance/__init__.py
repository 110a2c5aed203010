"""Scheduled maintenance: expirations, upload-log TTL, info-image expiry, all-sky retention and
run-history pruning. Each job deletes, so each is tagged for the instance's one-at-a-time limit,
takes ``dry_run`` and ``now`` from its launchpad config, and can be killed and rerun at any point."""

from __future__ import annotations

from dagster import JobDefinition, ScheduleDefinition

from photon_archive.defs.maintenance.allsky import expire_allsky, expire_allsky_schedule
from photon_archive.defs.maintenance.config import MAINTENANCE_TAG, MaintenanceConfig
from photon_archive.defs.maintenance.exposures import expire_exposures, expire_exposures_schedule
from photon_archive.defs.maintenance.info_images import expire_info_images, expire_info_images_schedule
from photon_archive.defs.maintenance.run_history import prune_run_history, prune_run_history_schedule
from photon_archive.defs.maintenance.upload_log import expire_upload_log, expire_upload_log_schedule

maintenance_jobs: list[JobDefinition] = [
    expire_exposures,
    expire_upload_log,
    expire_info_images,
    expire_allsky,
    prune_run_history,
]
maintenance_schedules: list[ScheduleDefinition] = [
    expire_exposures_schedule,
    expire_upload_log_schedule,
    expire_info_images_schedule,
    expire_allsky_schedule,
    prune_run_history_schedule,
]

__all__ = ["MAINTENANCE_TAG", "MaintenanceConfig", "maintenance_jobs", "maintenance_schedules"]
