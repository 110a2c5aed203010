"""What both sensors share on the Dagster side: how they are declared, a planned run as a run
request, and what became of the runs requested under a run key."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRecord,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    sensor,
)

from photon_archive.defs.ingest import ingest_run_config
from photon_archive.defs.sensors.resolutions import RUN_KEY_TAG
from photon_archive.ingest.delivery import PlannedRun, RequestFate
from photon_archive.run_tags import TAG_ASKED_AGAIN_FOR


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


def request_fate_in(instance: DagsterInstance) -> Callable[[str], RequestFate]:
    """What became of the runs requested under a run key, in this Dagster instance. A run retried
    or re-executed keeps its run key, so the retries count too. A request is asked again once: where
    the runs of a request made again never started either, the launch is failing for some other
    reason than a deploy, and its failed runs wait for an operator, as their alerts say. Each run key
    is looked up once in the life of the answer (a tick's), however many objects it names."""

    @functools.cache
    def fate(run_key: str) -> RequestFate:
        records = instance.get_run_records(filters=RunsFilter(tags={RUN_KEY_TAG: run_key}))
        if not records:
            return RequestFate.NO_RUN
        asked_again = any(TAG_ASKED_AGAIN_FOR in record.dagster_run.tags for record in records)
        if not asked_again and all(_failed_before_start(record) for record in records):
            return RequestFate.NEVER_STARTED
        return RequestFate.IN_HAND

    return fate


def _failed_before_start(record: RunRecord) -> bool:
    """A run that failed before its process started the job (the code server that was to launch it
    went away), with no retry to follow: Dagster's retry of such a run fails to be made while the
    server is away, and the run is then tagged ``dagster/will_retry=false``."""
    run = record.dagster_run
    return (
        run.status == DagsterRunStatus.FAILURE
        and record.start_time is None
        and not run.is_complete_and_waiting_to_retry
    )
