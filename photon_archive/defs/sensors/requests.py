"""What both sensors share on the Dagster side: how they are declared, a planned run as a run
request, and whether a run key has a run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dagster import DagsterInstance, DefaultSensorStatus, RunRequest, RunsFilter, SensorDefinition, sensor

from photon_archive.defs.ingest import ingest_run_config
from photon_archive.ingest.delivery import PlannedRun


def ingest_sensor(
    minimum_interval_seconds: int, description: str
) -> Callable[[Callable[..., Any]], SensorDefinition]:
    """A sensor that requests ``ingest`` runs, running as soon as the daemon starts."""
    return sensor(
        job_name="ingest",
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description=description,
    )


def run_request(plan: PlannedRun) -> RunRequest:
    """The ingest run of ``plan``, under its run key, so the same plan made twice launches one run."""
    return RunRequest(run_key=plan.run_key, run_config=ingest_run_config(plan.refs), tags=plan.tags)


def run_exists_in(instance: DagsterInstance) -> Callable[[str], bool]:
    """Whether any run was launched under a run key, in this Dagster instance."""

    def exists(run_key: str) -> bool:
        filters = RunsFilter(tags={"dagster/run_key": run_key})
        return bool(instance.get_run_records(filters=filters, limit=1))

    return exists
