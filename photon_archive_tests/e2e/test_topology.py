"""Production's topology on one machine: the code location served by ``dagster code-server start``,
``dagster-daemon run`` and ``dagster-webserver`` as three processes, which reach the code through
``deploy/workspace.yaml``, on the instance of ``deploy/dagster.yaml`` as shipped (PostgreSQL storage,
the queued run coordinator and its limits, run retries, run monitoring).

A night arrives while the code is deployed (the code server killed and started again on its port),
after three maintenance runs from the launchpad that the run queue lets run one at a time; then a run
fails for a fault of the deployment (the frontend's queue is gone) and, once the queue is back, is
re-executed from the UI's GraphQL API.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import yaml
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    QueuedRunCoordinator,
    RunRecord,
    RunsFilter,
)
from dagster._core.remote_origin import GrpcServerCodeLocationOrigin
from dagster._core.storage.tags import GRPC_INFO_TAG, WILL_RETRY_TAG

from photon_archive.aws.clients import client
from photon_archive.defs.maintenance import MAINTENANCE_TAG
from photon_archive.defs.maintenance.upload_log import delete_expired_upload_log_items, expire_upload_log
from photon_archive.naming import parse_key
from photon_archive.provision import provision
from photon_archive.run_tags import TAG_PREFIX
from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.night import NightWatch, Uploader, by_exposure
from photon_archive_tests.e2e.stack import (
    LOCATION_NAME,
    PRODUCTION_DAGSTER_YAML,
    StackFactory,
    wait_for,
)
from photon_archive_workshop.emulator import LOOPBACK
from photon_archive_workshop.sample import sample_exposures

pytestmark = pytest.mark.e2e

EXPOSURES = 24  # four files each: 96 uploads, and 24 thumbnails made by the archive
UPLOAD_SECONDS = 30.0  # the uploads are spread over this long; the code is deployed halfway
# Limits on each wait for the system, not measures of speed. A night this size is ingested within a
# minute of its upload on a busy 2-core machine, the deploy included; a sensor tick cut short by the
# deploy loses its run requests, and a run launched as the code server goes fails before it starts
# (and for good, where its retry is due before the new server is up): the prefix scan asks for their
# objects again after the requeue delay (two minutes and a scan). The limits leave room for that and
# a machine several times slower.
LIMIT_S = 480.0
TEST_LIMIT_S = 1200

INSTANCE = yaml.safe_load(PRODUCTION_DAGSTER_YAML.read_text())
QUEUE = INSTANCE["run_coordinator"]["config"]
MAX_CONCURRENT_RUNS: int = QUEUE["max_concurrent_runs"]
LIMITS = {limit["key"]: limit["limit"] for limit in QUEUE["tag_concurrency_limits"]}


def most_at_once(spans: Iterable[tuple[float, float]]) -> int:
    """The most of ``spans`` (start, end) in progress at one instant; one ending as another starts
    counts as not overlapping."""
    most = running = 0
    for _, step in sorted(edge for start, end in spans for edge in ((start, 1), (end, -1))):
        running += step
        most = max(most, running)
    return most


def queue_spans(
    instance: DagsterInstance, records: Iterable[RunRecord]
) -> Iterator[tuple[RunRecord, tuple[float, float]]]:
    """When each run held a place in the run queue: from the last time the queue handed it to the
    launcher (its STARTING event; a launch that could not reach the code server puts it back) to its
    end. The queue counts a run as in progress over exactly that span."""
    for record in records:
        starting = instance.get_records_for_run(
            record.dagster_run.run_id, of_type=DagsterEventType.RUN_STARTING
        ).records
        if starting and record.end_time is not None:
            yield record, (starting[-1].timestamp, record.end_time)


def what_happened(instance: DagsterInstance, run_id: str) -> str:
    """A run's status and the messages of its engine events and failure, for a failing assertion."""
    run = instance.get_run_by_id(run_id)
    events = instance.all_logs(run_id, of_type={DagsterEventType.ENGINE_EVENT, DagsterEventType.RUN_FAILURE})
    messages = "; ".join(event.message for event in events if event.message)
    return f"{run_id} {run.status.value if run else 'missing'}: {messages}"


def requested(run: DagsterRun) -> set[str]:
    """The keys an ingest run was asked for, as its run config names them."""
    config: Any = run.run_config
    return {entry["key"] for entry in config["ops"]["ingest_objects"]["config"]["objects"]}


def code_location(run: DagsterRun) -> GrpcServerCodeLocationOrigin | None:
    origin = run.remote_job_origin
    location = origin.repository_origin.code_location_origin if origin is not None else None
    return location if isinstance(location, GrpcServerCodeLocationOrigin) else None


@pytest.mark.timeout(TEST_LIMIT_S)
def test_production_topology_ingests_a_night_through_a_deploy_within_the_run_queues_limits(
    dagster_stack_factory: StackFactory, archive: Archive
) -> None:
    started = time.monotonic()
    stack = dagster_stack_factory(production=True, start=False)
    stack.start_code_server()
    stack.start_webserver()
    # Maintenance launched from the launchpad three times over (dry runs: nothing is deleted) waits in
    # the queue for the daemon, which finds it all there at its first look and may start one at a time;
    # they are over before the night begins.
    dry_run = {"ops": {delete_expired_upload_log_items.name: {"config": {"dry_run": True}}}}
    launchpad_runs = [stack.launch(expire_upload_log.name, dry_run) for _ in range(3)]
    stack.start_daemon()
    print(f"code server, webserver and daemon up in {time.monotonic() - started:.0f} s")
    for run_id in launchpad_runs:
        stack.wait_for_run_to_end(run_id, timeout_s=LIMIT_S)

    files = sample_exposures(count=EXPOSURES)
    watch = NightWatch(archive, [file.key for file in files])
    uploader = Uploader(
        archive.settings.bucket,
        by_exposure(files),
        workers=4,
        seconds_between_exposures=UPLOAD_SECONDS / EXPOSURES,
    ).start()
    uploader.wait_until_uploaded(uploader.total // 2, timeout_s=UPLOAD_SECONDS * 4)
    deploy_began = time.time()
    stack.deploy_code_server()
    deployed = time.time()
    print(
        f"code deployed with {uploader.uploaded} of {uploader.total} objects uploaded; "
        f"the code server was down {deployed - deploy_began:.0f} s"
    )
    finished = uploader.join(timeout_s=UPLOAD_SECONDS * 4)

    watch.wait_until_done(
        f"the night of {EXPOSURES} exposures is fully ingested and announced", LIMIT_S, datastream=True
    )
    print(f"night ingested {time.monotonic() - finished:.0f} s after its upload ended")

    # Nothing lost, nothing twice: every object once in the ledger, ingested; every exposure one row.
    ledger = archive.query("SELECT key, state FROM object_ledger")
    assert sorted(row["key"] for row in ledger) == watch.all_keys
    assert {row["state"] for row in ledger} == {"ingested"}
    rows = archive.query("SELECT base_filename FROM images")
    assert sorted(row["base_filename"] for row in rows) == watch.base_filenames

    # A fault of the deployment: the frontend's queue is gone. The run that ingests the next upload
    # fails at its notification step, and so do its automatic retries (run_retries in dagster.yaml).
    sqs = client("sqs")
    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=archive.settings.datastream_queue)["QueueUrl"])
    (late,) = sample_exposures(count=1, first_counter=EXPOSURES + 1, files=("txt",))
    Uploader(archive.settings.bucket, [[late]]).run()

    def given_up() -> dict[str, Any] | None:
        with stack.instance() as instance:
            failures = RunsFilter(job_name="ingest", statuses=[DagsterRunStatus.FAILURE])
            for run in instance.get_runs(failures):
                if late.key in requested(run) and run.tags.get(WILL_RETRY_TAG) == "false":
                    return stack.run(run.run_id)
        return None

    failed = wait_for("the late upload's run fails for good", given_up, LIMIT_S, interval_s=2)
    steps = {step["stepKey"]: step["status"] for step in failed["stepStats"]}
    assert steps["notify_datastream"] == "FAILURE", failed
    assert ledger_state(archive, late.key) == "ingested"

    # The queue is back; the operator re-executes the failed run from failure.
    provision(archive.settings)
    rerun_id = stack.reexecute(failed["runId"], "FROM_FAILURE")
    rerun = stack.wait_for_run_to_end(rerun_id, timeout_s=LIMIT_S)
    assert rerun["status"] == "SUCCESS", rerun
    assert rerun["parentRunId"] == failed["runId"]
    assert [message["data"]["base_filename"] for message in archive.datastream()] == [
        parse_key(late.key).base_filename
    ]

    with stack.instance() as instance:
        coordinator = instance.run_coordinator
        records = instance.get_run_records()
        spans = {record.dagster_run.run_id: span for record, span in queue_spans(instance, records)}
        stories = [what_happened(instance, run_id) for run_id in launchpad_runs]
    runs = [record.dagster_run for record in records]

    # Every run was launched by the daemon through the code server the workspace names, the launchpad's
    # and the re-execution's too; and some after the deploy, through the new code server.
    assert {run.run_id for run in runs} >= set(launchpad_runs) | {rerun_id}
    locations = Counter(
        (location.host, location.port, location.location_name) if (location := code_location(run)) else None
        for run in runs
    )
    assert locations == {(LOOPBACK, stack.code_server_port, LOCATION_NAME): len(runs)}
    assert all(run.tags.get(GRPC_INFO_TAG) for run in runs if run.status != DagsterRunStatus.FAILURE)
    assert any(
        record.start_time is not None
        and record.start_time > deployed
        and record.dagster_run.status == DagsterRunStatus.SUCCESS
        for record in records
    )

    # The run queue of deploy/dagster.yaml was in force and its limits held: never more runs in
    # progress at once than max_concurrent_runs, nor more of one prefix than its tag limit, nor more
    # than one maintenance run, though the three of the launchpad were all waiting at once.
    assert isinstance(coordinator, QueuedRunCoordinator)
    assert coordinator.get_run_queue_config().max_concurrent_runs == MAX_CONCURRENT_RUNS
    assert set(spans) >= set(launchpad_runs)
    assert most_at_once(spans.values()) <= MAX_CONCURRENT_RUNS
    prefixes: dict[str, list[tuple[float, float]]] = {}
    for run in runs:
        if TAG_PREFIX in run.tags and run.run_id in spans:
            prefixes.setdefault(run.tags[TAG_PREFIX], []).append(spans[run.run_id])
    assert all(most_at_once(group) <= LIMITS[TAG_PREFIX] for group in prefixes.values())
    maintenance = [spans[run.run_id] for run in runs if MAINTENANCE_TAG in run.tags and run.run_id in spans]
    assert len(maintenance) >= len(launchpad_runs)
    assert most_at_once(maintenance) <= LIMITS[MAINTENANCE_TAG] == 1
    assert {run.status for run in runs if run.run_id in launchpad_runs} == {DagsterRunStatus.SUCCESS}, stories
    print(
        f"{len(runs)} runs, at most {most_at_once(spans.values())} in progress at once "
        f"(of one prefix: {max(map(most_at_once, prefixes.values()), default=0)}); "
        f"test took {time.monotonic() - started:.0f} s"
    )


def ledger_state(archive: Archive, key: str) -> str:
    (row,) = archive.query("SELECT state FROM object_ledger WHERE key = :k", k=key)
    return str(row["state"])
