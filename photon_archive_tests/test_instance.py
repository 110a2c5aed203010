"""The shipped Dagster instances: deploy/dagster.yaml, production's, is a working instance on
PostgreSQL; the repository's own dagster.yaml, the local stack's, needs no database server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, DagsterRunStatus
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from photon_archive.catalog.schema import upgrade
from photon_archive.definitions import build_definitions
from photon_archive.settings import Settings
from photon_archive_workshop.instance import local_dagster_yaml

REPOSITORY = Path(__file__).resolve().parents[1]


def test_shipped_dagster_yaml_keeps_runs_and_events_in_postgres(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(postgres_url)
    monkeypatch.setenv("DAGSTER_PG_HOST", url.host or "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(url.port or 5432))
    monkeypatch.setenv("DAGSTER_PG_USERNAME", url.username or "postgres")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", url.password or "")
    monkeypatch.setenv("DAGSTER_PG_DB", url.database or "")
    shutil.copy(REPOSITORY / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")

    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_retries_enabled
        upgrade(postgres_url)
        job = build_definitions(Settings(database_url=postgres_url)).resolve_job_def("ingest")
        result = job.execute_in_process(
            run_config={"ops": {"ingest_objects": {"config": {"objects": []}}}}, instance=instance
        )
        assert result.success
        run = instance.get_run_by_id(result.run_id)
        assert run is not None
        assert run.status == DagsterRunStatus.SUCCESS

    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        runs = connection.execute(
            text("SELECT status FROM runs WHERE run_id = :r"), {"r": result.run_id}
        ).all()
        events = connection.execute(
            text("SELECT count(*) FROM event_logs WHERE run_id = :r"), {"r": result.run_id}
        ).scalar_one()
    engine.dispose()
    assert runs == [("SUCCESS",)]
    assert events > 5


def test_repository_dagster_yaml_is_the_local_stacks_sqlite_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    assert local_dagster_yaml() == REPOSITORY / "dagster.yaml"
    shutil.copy(local_dagster_yaml(), tmp_path / "dagster.yaml")

    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_retries_enabled


@pytest.mark.parametrize("shipped", ["dagster.yaml", "deploy/dagster.yaml", "deploy/ecs/dagster.yaml"])
def test_every_shipped_instance_dequeues_each_second_on_threads_and_evaluates_sensors_on_threads(
    shipped: str,
) -> None:
    """A run's wait in the queue is at most about a second, a slow launch holds up no other, and the
    event-queue sensor's long poll holds up no other sensor."""
    config = yaml.safe_load((REPOSITORY / shipped).read_text())
    queue = config["run_coordinator"]["config"]
    assert (queue["dequeue_interval_seconds"], queue["dequeue_use_threads"]) == (1, True)
    assert queue["dequeue_num_workers"] >= 2
    assert config["sensors"]["use_threads"] is True
    assert config["sensors"]["num_workers"] >= 3  # the event queue, the prefix scan and the alerts at once
