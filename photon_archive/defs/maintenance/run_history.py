"""Run-history pruning (SPEC §10): Dagster runs, and with them their event logs, past an age.

Every ingest run leaves its events in the instance's storage; without pruning, that storage grows
with every upload for ever. A run is pruned once it was created longer ago than ``older_than_days``
and is no longer in flight; the run doing the pruning is never among them. The object ledger keeps
the run ids of pruned runs: what happened to a file stays answered by its ledger row.
"""

from datetime import timedelta

from dagster import (
    DagsterRunStatus,
    OpExecutionContext,
    Output,
    RunRecord,
    RunsFilter,
)
from pydantic import Field

from photon_archive.defs.maintenance.config import MaintenanceConfig, deletions_output, scheduled_job
from photon_archive.defs.policies import contract_op
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


@contract_op
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
    return deletions_output(context, report, ("runs",))


prune_run_history, prune_run_history_schedule = scheduled_job(
    delete_old_runs,
    "prune_run_history",
    "Delete Dagster runs (and their event logs) older than a configurable age.",
    schedule_name="prune_run_history_daily",
    cron="50 3 * * *",
    shared_account=False,  # Dagster's own run storage
)
