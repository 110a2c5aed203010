"""Marking the failed runs a later run made good: each is tagged ``photon_archive/resolved_by`` with
the id of the successful run that resolved it (the rules are ``photon_archive/resolution.py``), so
whoever reads the Runs page's Failed tab sees which failures still wait for someone.

The cursor is the update time of the last successful run looked at; a tick takes the successes
after it, oldest first, a bounded number at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import (
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from photon_archive.resolution import RESOLVED_BY_TAG, RunFacts, resolved_by
from photon_archive.run_tags import TAG_ASKED_AGAIN_FOR

# Dagster's own tags: the run a re-execution or retry descends from, and a sensor's run key.
ROOT_RUN_ID_TAG = "dagster/root_run_id"
RUN_KEY_TAG = "dagster/run_key"
SUCCESSES_PER_TICK = 100


@sensor(
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Tags each failed run a later successful run resolved photon_archive/resolved_by=<its id>.",
)
def resolve_earlier_failures(context: SensorEvaluationContext) -> SkipReason:
    instance = context.instance
    after = datetime.fromtimestamp(float(context.cursor), UTC) if context.cursor else None
    successes = instance.get_run_records(
        filters=RunsFilter(statuses=[DagsterRunStatus.SUCCESS], updated_after=after),
        order_by="update_timestamp",
        ascending=True,
        limit=SUCCESSES_PER_TICK,
    )
    tagged = 0
    for record in successes:
        success = record.dagster_run
        facts = _facts(success, record.create_timestamp)
        for run_id in resolved_by(facts, _failed_before(instance, success)):
            instance.add_run_tags(run_id, {RESOLVED_BY_TAG: success.run_id})
            context.log.info(f"run {run_id} resolved by {success.run_id}")
            tagged += 1
        context.update_cursor(str(record.update_timestamp.timestamp()))
    return SkipReason(f"{tagged} failed runs marked resolved by {len(successes)} successful runs")


def _failed_before(instance: DagsterInstance, success: DagsterRun) -> list[RunFacts]:
    """The failed runs of ``success``'s lineage, of its run key and of those it asked again for."""
    root = success.root_run_id or success.run_id
    failed = [DagsterRunStatus.FAILURE]
    filters = [
        RunsFilter(statuses=failed, run_ids=[root]),
        RunsFilter(statuses=failed, tags={ROOT_RUN_ID_TAG: root}),
    ]
    own_key = success.tags.get(RUN_KEY_TAG)
    run_keys = _asked_again_for(success) | ({own_key} if own_key else set())
    filters += [RunsFilter(statuses=failed, tags={RUN_KEY_TAG: run_key}) for run_key in sorted(run_keys)]
    return [
        _facts(record.dagster_run, record.create_timestamp)
        for runs in filters
        for record in instance.get_run_records(filters=runs)
    ]


def _facts(run: DagsterRun, created: datetime) -> RunFacts:
    return RunFacts(
        run_id=run.run_id,
        root_run_id=run.root_run_id,
        run_key=run.tags.get(RUN_KEY_TAG),
        created=created.timestamp(),
        resolved_by=run.tags.get(RESOLVED_BY_TAG),
        asked_again_for=_asked_again_for(run),
    )


def _asked_again_for(run: DagsterRun) -> frozenset[str]:
    return frozenset(run.tags.get(TAG_ASKED_AGAIN_FOR, "").split())
