"""A daemon killed while the event-queue sensor long-polls its queue loses no object.

The sensor's tick runs in the code server the daemon started, which a ``kill -9`` of the daemon leaves
behind for a while: its long poll may still take the upload's messages, queue the objects and delete
the messages for a daemon that is gone. Whichever way it goes (the messages come back once their
visibility timeout runs out, or the objects wait ``queued`` until the prefix scan asks for them again),
the restarted daemon ingests every object once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest
from dagster import DagsterRunStatus, RunsFilter
from dagster._core.storage.dagster_run import NOT_FINISHED_STATUSES

from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.night import NightWatch
from photon_archive_tests.e2e.stack import DagsterStack, StackFactory, wait_for

pytestmark = pytest.mark.e2e

# The tick's long poll takes the whole of SQS's longest wait, so the daemon is killed inside it; the
# visibility timeout is the shortest the settings accept for it, so a message taken by the dead
# daemon's tick comes back within a minute.
WAIT_S = 20
POLLING = {
    "PHOTON_ARCHIVE_EVENT_WAIT_SECONDS": str(WAIT_S),
    "PHOTON_ARCHIVE_EVENT_DRAIN_SECONDS": "1",
    "PHOTON_ARCHIVE_EVENT_VISIBILITY_TIMEOUT_SECONDS": str(WAIT_S + 1 + 15),
}
# Limits, not measures: the stack's start, and the archive converging after the restart, which may
# wait out the visibility timeout, or the shipped requeue delay (two minutes) and a prefix scan.
STEP_LIMIT_S = 300.0
CONVERGE_LIMIT_S = 600.0


def _requested(run_config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The objects an ingest run was asked for, as its run config names them."""
    return list(run_config["ops"]["ingest_objects"]["config"]["objects"])


def _event_tick_status(stack: DagsterStack) -> str | None:
    tick = stack.latest_ticks().get("s3_event_queue")
    return None if tick is None else str(tick["status"])


def wait_inside_a_quiet_long_poll(stack: DagsterStack) -> None:
    """Until the event-queue sensor's tick is long-polling an empty queue: a tick has found it empty
    (the s3:TestEvent of provisioning is gone), and the next one has begun."""
    wait_for(
        "a tick finds the event queue empty",
        lambda: _event_tick_status(stack) == "SKIPPED",
        STEP_LIMIT_S,
        0.2,
    )
    wait_for("the next tick long-polls", lambda: _event_tick_status(stack) == "STARTED", STEP_LIMIT_S, 0.1)


@pytest.mark.timeout(1500)
@pytest.mark.parametrize("moment", ["before the upload", "once the objects are queued"])
def test_a_daemon_killed_inside_the_long_poll_loses_nothing_and_ingests_once(
    dagster_stack_factory: StackFactory, archive: Archive, moment: str
) -> None:
    stack = dagster_stack_factory(environment=POLLING)
    wait_inside_a_quiet_long_poll(stack)
    watch = NightWatch(archive, [])

    if moment == "before the upload":
        stack.kill_daemon()
        watch.uploaded_keys = archive.upload_sample(count=1)
    else:
        watch.uploaded_keys = archive.upload_sample(count=1)
        wait_for(
            "the tick queues the uploaded objects",
            lambda: all(watch.ledger().get(key, {}).get("state") for key in watch.uploaded_keys),
            STEP_LIMIT_S,
            interval_s=0.05,
        )
        stack.kill_daemon()
    stack.start_daemon()

    watch.wait_until_done(f"the archive converges after a daemon killed {moment}", CONVERGE_LIMIT_S)
    ledger = watch.ledger()
    assert sorted(ledger) == watch.all_keys
    assert {row["state"] for row in ledger.values()} == {"ingested"}
    assert sorted(watch.images()) == watch.base_filenames
    with stack.instance() as instance:
        # The ledger says `ingested` within the run, before the run itself ends.
        wait_for(
            "every ingest run has ended",
            lambda: not instance.get_runs(RunsFilter(job_name="ingest", statuses=NOT_FINISHED_STATUSES)),
            STEP_LIMIT_S,
        )
        runs = instance.get_runs(RunsFilter(job_name="ingest", statuses=[DagsterRunStatus.SUCCESS]))
        handled = Counter(entry["key"] for run in runs for entry in _requested(run.run_config))
    assert {key: handled[key] for key in watch.uploaded_keys} == dict.fromkeys(watch.uploaded_keys, 1)
    ingested = Counter(
        row["key"] for row in archive.query("SELECT key FROM object_runs WHERE state = 'ingested'")
    )
    assert {key: ingested[key] for key in watch.all_keys} == dict.fromkeys(watch.all_keys, 1)
