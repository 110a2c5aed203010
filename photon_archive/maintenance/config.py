"""What every maintenance job shares: its launchpad config, the retention rules, its tags.

Each job decides against one instant, ``now``, read from its config: empty means the real time, an
ISO timestamp pins it, so an operator can ask "what would expire by Friday?" with a dry run and the
tests can move time forward without waiting for it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import (
    Config,
    ConfigurableResource,
    DefaultScheduleStatus,
    JobDefinition,
    OpDefinition,
    ScheduleDefinition,
    in_process_executor,
    job,
)
from pydantic import Field

from photon_archive.retention import DEFAULT_EXPIRATION_RULES, parse_rules

MAINTENANCE_TAG = "photon_archive/maintenance"
"""The instance's tag concurrency limit on this key lets one maintenance run go at a time."""


def maintenance_tags(name: str) -> dict[str, str]:
    return {MAINTENANCE_TAG: name}


def scheduled_job(
    step: OpDefinition, name: str, description: str, schedule_name: str, cron: str
) -> tuple[JobDefinition, ScheduleDefinition]:
    """A maintenance job of one step, tagged for the one-at-a-time limit, with its running schedule."""

    @job(name=name, executor_def=in_process_executor, tags=maintenance_tags(name), description=description)
    def maintenance() -> None:
        step()

    schedule = ScheduleDefinition(
        name=schedule_name,
        job=maintenance,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=DefaultScheduleStatus.RUNNING,
    )
    return maintenance, schedule


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


class Retention(ConfigurableResource):  # type: ignore[type-arg]
    """How long exposures and all-sky images live; the same rules the ingest writes expiries with."""

    expiration_rules: str = DEFAULT_EXPIRATION_RULES
    allsky_retention_days: float = 30.0

    def rules(self) -> dict[tuple[str | None, str], int]:
        return parse_rules(self.expiration_rules)

    def allsky_retention_seconds(self) -> int:
        return int(self.allsky_retention_days * 86_400)
