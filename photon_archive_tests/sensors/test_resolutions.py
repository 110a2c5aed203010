"""The sensor that marks failed runs resolved, on real runs in a Dagster instance: a failed ingest
and a successful one under the same run key, and a failed run and its re-execution from failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dagster import (
    DagsterInstance,
    Failure,
    ReexecutionOptions,
    SkipReason,
    build_sensor_context,
    execute_job,
    in_process_executor,
    instance_for_test,
    job,
    op,
    reconstructable,
)

from photon_archive.definitions import build_definitions
from photon_archive.defs.ingest import ingest_run_config
from photon_archive.defs.sensors.resolutions import resolve_earlier_failures
from photon_archive.resolution import RESOLVED_BY_TAG
from photon_archive_tests.archive import Archive

BROKEN_FLAG = "PHOTON_ARCHIVE_TEST_BROKEN_FLAG"


def _tick(instance: DagsterInstance, cursor: str | None) -> tuple[str, str | None]:
    context = build_sensor_context(instance=instance, cursor=cursor)
    result = resolve_earlier_failures(context)
    assert isinstance(result, SkipReason)
    return result.skip_message or "", context.cursor


def _resolved_by(instance: DagsterInstance, run_id: str) -> str | None:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run.tags.get(RESOLVED_BY_TAG)


def test_a_successful_run_under_a_run_key_resolves_the_failed_runs_of_that_key(archive: Archive) -> None:
    refs = [archive.ref(key) for key in archive.upload_sample(count=1)]
    tags = {"dagster/run_key": "event:resolved-batch"}
    broken = build_definitions(archive.configured(bucket="photonranch-no-such-bucket").settings)
    failed = broken.resolve_job_def("ingest").execute_in_process(
        run_config=ingest_run_config(refs), instance=archive.instance, tags=tags, raise_on_error=False
    )
    unrelated = broken.resolve_job_def("ingest").execute_in_process(
        run_config=ingest_run_config(refs), instance=archive.instance, raise_on_error=False
    )
    succeeded = (
        build_definitions(archive.settings)
        .resolve_job_def("ingest")
        .execute_in_process(run_config=ingest_run_config(refs), instance=archive.instance, tags=tags)
    )
    assert not failed.success and not unrelated.success and succeeded.success

    said, cursor = _tick(archive.instance, None)

    assert _resolved_by(archive.instance, failed.run_id) == succeeded.run_id
    assert _resolved_by(archive.instance, unrelated.run_id) is None
    assert said.startswith("1 failed runs marked resolved")
    said, _ = _tick(archive.instance, cursor)
    assert said == "0 failed runs marked resolved by 0 successful runs"


@op
def step_that_fails_while_broken() -> None:
    if Path(os.environ[BROKEN_FLAG]).exists():
        raise Failure("the world is broken", allow_retries=False)


@job(executor_def=in_process_executor)
def fails_while_broken() -> None:
    step_that_fails_while_broken()


def test_a_re_execution_from_failure_resolves_the_run_it_re_executes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = tmp_path / "broken"
    flag.touch()
    monkeypatch.setenv(BROKEN_FLAG, str(flag))
    with instance_for_test() as instance:
        with execute_job(reconstructable(fails_while_broken), instance) as first:
            assert not first.success
        _, cursor = _tick(instance, None)  # nothing resolves it yet
        assert _resolved_by(instance, first.run_id) is None
        flag.unlink()
        options = ReexecutionOptions.from_failure(first.run_id, instance)
        with execute_job(reconstructable(fails_while_broken), instance, reexecution_options=options) as again:
            assert again.success

        _tick(instance, cursor)

        assert _resolved_by(instance, first.run_id) == again.run_id
