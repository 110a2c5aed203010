"""What every maintenance job shares: its launchpad config, its tags, its schedule, its output.

Each job decides against one instant, ``now``, read from its config: empty means the real time, an
ISO timestamp pins it, so an operator can ask "what would expire by Friday?" with a dry run and the
tests can move time forward without waiting for it.

The jobs that delete from the shared account (the bucket, the DynamoDB tables) never act where the
deployment does not write it (``Settings.writes_shared_account``: the dual run beside the old
system, which keeps them itself): their schedules skip every tick saying why, and a run launched by
hand fails at once with the same words, before it reads anything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dagster import (
    Config,
    DefaultScheduleStatus,
    Failure,
    JobDefinition,
    MetadataValue,
    OpDefinition,
    OpExecutionContext,
    Output,
    ResourceParam,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    in_process_executor,
    job,
    schedule,
)
from pydantic import Field

from photon_archive.defs.resources import Retention
from photon_archive.maintenance.report import Deletions
from photon_archive.settings import Settings

MAINTENANCE_TAG = "photon_archive/maintenance"
"""The instance's tag concurrency limit on this key lets one maintenance run go at a time."""


def maintenance_tags(name: str) -> dict[str, str]:
    return {MAINTENANCE_TAG: name}


def scheduled_job(
    step: OpDefinition,
    name: str,
    description: str,
    schedule_name: str,
    cron: str,
    shared_account: bool = True,
) -> tuple[JobDefinition, ScheduleDefinition]:
    """A maintenance job of one step, tagged for the one-at-a-time limit, with its running schedule;
    one that deletes from the ``shared_account`` (its step calls ``refuse_beside_legacy``) has a
    schedule that skips where the deployment does not write it."""

    @job(name=name, executor_def=in_process_executor, tags=maintenance_tags(name), description=description)
    def maintenance() -> None:
        step()

    if not shared_account:
        return maintenance, ScheduleDefinition(
            name=schedule_name,
            job=maintenance,
            cron_schedule=cron,
            execution_timezone="UTC",
            default_status=DefaultScheduleStatus.RUNNING,
        )

    @schedule(
        name=schedule_name,
        job=maintenance,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
    )
    def tick(
        context: ScheduleEvaluationContext, retention: ResourceParam[Retention]
    ) -> RunRequest | SkipReason:
        refusal = refusal_beside_legacy(retention, name)
        return SkipReason(refusal) if refusal else RunRequest()

    return maintenance, tick


def refusal_beside_legacy(settings: Settings, job_name: str) -> str | None:
    """Why ``job_name``, which deletes from the shared account, must not act in this deployment;
    None where it may."""
    if settings.writes_shared_account:
        return None
    return (
        f"{job_name} deletes from the shared bucket and tables, and the {settings.deployment} deployment "
        "never acts on them: the old system beside it keeps them"
    )


def refuse_beside_legacy(settings: Settings, job_name: str) -> None:
    """The first line of a step that deletes from the shared account: fail at once where the
    deployment does not write it."""
    refusal = refusal_beside_legacy(settings, job_name)
    if refusal:
        raise Failure(refusal, allow_retries=False)


class MaintenanceConfig(Config):
    dry_run: bool = Field(default=False, description="Report what would be deleted and delete nothing.")
    now: str = Field(
        default="",
        description="The instant to decide against, ISO 8601 (UTC if it has no zone); empty: real time.",
    )

    def moment(self) -> datetime:
        """``now`` as an aware UTC datetime."""
        if not self.now.strip():
            return datetime.now(UTC)
        try:
            moment = datetime.fromisoformat(self.now.strip())
        except ValueError:
            raise ValueError(f"now {self.now!r} is not an ISO 8601 timestamp") from None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def deletions_output(
    context: OpExecutionContext, report: Deletions, kinds: tuple[str, ...]
) -> Output[Deletions]:
    """The op's output: every kind's count (zeros included) and the list, also logged."""
    metadata: dict[str, Any] = {"dry_run": report.dry_run}
    metadata.update({kind: report.counts[kind] for kind in kinds})
    metadata["deleted"] = MetadataValue.md(report.markdown())
    summary = ", ".join(f"{report.counts[kind]} {kind}" for kind in kinds)
    context.log.info(f"{'would delete' if report.dry_run else 'deleted'} {summary}")
    return Output(report, metadata=metadata)
