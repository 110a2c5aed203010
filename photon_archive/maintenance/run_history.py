"""Run-history pruning (SPEC §10): Dagster runs, and with them their event logs, past an age.

Every ingest run leaves its events in the instance's storage; without pruning, that storage grows
with every upload for ever. A run is pruned once it was created longer ago than ``older_than_days``
and is no longer in flight; the run doing the pruning is never among them. The object ledger keeps
the run ids of pruned runs: what happened to a file stays answered by its ledger row.
"""

from datetime import timedelta

from dagster import (
    DagsterRunStatus,
    DefaultScheduleStatus,
    OpExecutionContext,
    Output,
    RunRecord,
    RunsFilter,
    ScheduleDefinition,
    in_process_executor,
    job,
    op,
)
from pydantic import Field

from photon_archive.maintenance.config import MaintenanceConfig, maintenance_tags
from photon_archive.maintenance.report import Deletions

IN_FLIGHT = {
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
}
PAGE = 500


class PruneConfig(MaintenanceConfig):
    older_than_days: float = Field(default=30.0, description="Delete runs created longer ago than this.")


@op
def delete_old_runs(context: OpExecutionContext, config: PruneConfig) -> Output[Deletions]:
    cutoff = config.moment() - timedelta(days=config.older_than_days)
    filters = RunsFilter(
        created_before=cutoff, statuses=[status for status in DagsterRunStatus if status not in IN_FLIGHT]
    )
    # Listed whole before anything is deleted, so deleting never pulls a page's cursor away.
    old: list[RunRecord] = []
    while page := context.instance.get_run_records(
        filters, limit=PAGE, cursor=old[-1].dagster_run.run_id if old else None
    ):
        old.extend(page)
    report = Deletions(config.dry_run)
    for record in old:
        run = record.dagster_run
        if run.run_id == context.run_id:
            continue
        if not config.dry_run:
            context.instance.delete_run(run.run_id)
        created = record.create_timestamp.isoformat(timespec="seconds")
        report.add(f"`{run.run_id}` {run.job_name} {run.status.value}, created {created}", runs=1)
    return report.output(context, ("runs",))


@job(
    executor_def=in_process_executor,
    tags=maintenance_tags("prune_run_history"),
    description="Delete Dagster runs (and their event logs) older than a configurable age.",
)
def prune_run_history() -> None:
    delete_old_runs()


prune_run_history_schedule = ScheduleDefinition(
    name="prune_run_history_daily",
    job=prune_run_history,
    cron_schedule="50 3 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
)
