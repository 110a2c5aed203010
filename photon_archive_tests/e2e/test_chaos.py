"""A rough night: 400 objects arrive while the daemon is killed twice and the event queue delivers a
tenth of its messages twice. Nothing may be lost, nothing handled twice (ARCHITECTURE invariants 3-4).

The night is short and small on purpose. What the test is about (requests lost with a killed daemon
and taken up again, runs whose worker died with it, duplicate messages) needs a steady stream of
uploads across both kills, not many of them: runs batch whatever arrived, so more uploads only mean
more work for every process on the machine and a longer test, whose time is then mostly the fixed
delays of recovery (the requeue delay, run monitoring's start timeout)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from dagster import DagsterRunStatus, RunsFilter

from photon_archive.aws.clients import client
from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.night import NightWatch, Uploader, by_exposure
from photon_archive_tests.e2e.stack import StackFactory
from photon_archive_workshop.sample import sample_exposures

pytestmark = pytest.mark.e2e

EXPOSURES = 100  # four files each: 400 uploads, and 100 thumbnails made by the archive
UPLOAD_SECONDS = 60.0  # the uploads are spread over this long, the daemon killed after a third and two
DAEMON_DOWN_S = 5.0
# How long the archive may take to converge once the upload is over: a limit, not a measure of speed.
# A request lost with a killed daemon waits out the requeue delay (the shipped two minutes) and the
# next prefix scan (30 s); a run whose worker died with the daemon waits out run monitoring's start
# timeout (180 s) before a retry takes it over. Beyond those fixed delays the limit leaves room for a
# machine four times slower than a busy 2-core one.
CONVERGE_LIMIT_S = 720.0
# The whole test: the stack's start, the upload with both restarts, convergence and the checks.
TEST_LIMIT_S = 1500
MIRROR_QUEUE = "photon-archive-chaos-mirror"


class Redeliverer:
    """Sends every tenth of the bucket's event messages to the event queue a second time.

    The bucket notifies a mirror queue besides the event queue; this thread reads the mirror and
    sends the body of every tenth message to the event queue again, a few hundred milliseconds after
    the first delivery, as SQS's at-least-once delivery may.
    """

    def __init__(self, archive: Archive) -> None:
        sqs = client("sqs")
        self.mirror_url = sqs.create_queue(QueueName=MIRROR_QUEUE)["QueueUrl"]
        self.event_url = sqs.get_queue_url(QueueName=archive.settings.event_queue)["QueueUrl"]
        mirror_arn = sqs.get_queue_attributes(QueueUrl=self.mirror_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        s3 = client("s3")
        configuration = s3.get_bucket_notification_configuration(Bucket=archive.settings.bucket)
        queues = configuration.get("QueueConfigurations", [])
        assert queues, "the bucket must notify the event queue"
        queues.append({"Id": "chaos-mirror", "QueueArn": mirror_arn, "Events": queues[0]["Events"]})
        s3.put_bucket_notification_configuration(
            Bucket=archive.settings.bucket, NotificationConfiguration={"QueueConfigurations": queues}
        )
        self.seen = 0
        self.redelivered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Redeliverer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def event_backlog(self) -> int:
        """Messages on the event queue that the sensor has not yet deleted."""
        attributes = client("sqs").get_queue_attributes(
            QueueUrl=self.event_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def _run(self) -> None:
        sqs = client("sqs")
        while not self._stop.is_set():
            messages = sqs.receive_message(
                QueueUrl=self.mirror_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            for message in messages:
                if '"s3:TestEvent"' in message["Body"]:
                    continue
                if self.seen % 10 == 0:
                    sqs.send_message(QueueUrl=self.event_url, MessageBody=message["Body"])
                    self.redelivered += 1
                self.seen += 1
            if messages:
                entries = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                ]
                sqs.delete_message_batch(QueueUrl=self.mirror_url, Entries=entries)


@pytest.fixture
def redeliverer(archive: Archive) -> Iterator[Redeliverer]:
    redeliverer = Redeliverer(archive).start()
    try:
        yield redeliverer
    finally:
        redeliverer.stop()


def _requested(run_config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The objects an ingest run was asked for, as its run config names them."""
    return run_config["ops"]["ingest_objects"]["config"]["objects"]


@pytest.mark.timeout(TEST_LIMIT_S)
def test_daemon_crashes_and_duplicate_events_lose_nothing_and_handle_nothing_twice(
    dagster_stack_factory: StackFactory, archive: Archive, redeliverer: Redeliverer
) -> None:
    # The shipped requeue delay, not a shorter one: a restarted daemon resumes an interrupted tick and
    # submits the run requests it had recorded, and on a loaded machine that can take over a minute.
    # A requeue before then asks for the same objects a second time (harmless, but handled twice).
    stack = dagster_stack_factory()
    files = sample_exposures(count=EXPOSURES)
    watch = NightWatch(archive, [file.key for file in files])
    uploader = Uploader(
        archive.settings.bucket,
        by_exposure(files),
        workers=4,
        seconds_between_exposures=UPLOAD_SECONDS / EXPOSURES,
    ).start()

    for share in (1 / 3, 2 / 3):
        uploader.wait_until_uploaded(int(uploader.total * share), timeout_s=UPLOAD_SECONDS * 3)
        stack.kill_daemon()
        print(f"daemon killed with {uploader.uploaded} of {uploader.total} objects uploaded")
        time.sleep(DAEMON_DOWN_S)
        stack.start_daemon()
    finished = uploader.join(timeout_s=UPLOAD_SECONDS * 3)

    # Done: the archive holds everything, and every event (one per object) has had its second delivery
    # and been read.
    deadline = finished + CONVERGE_LIMIT_S
    while (
        (gaps := watch.outstanding()) or redeliverer.seen < len(watch.all_keys) or redeliverer.event_backlog()
    ) and time.monotonic() < deadline:
        print(
            f"{time.monotonic() - finished:.0f} s after the upload: {len(gaps)} kinds of gaps, "
            f"{redeliverer.seen} events read from the mirror, "
            f"{redeliverer.event_backlog()} messages on the event queue"
        )
        time.sleep(5)
    print(
        f"converged {time.monotonic() - finished:.0f} s after the upload ended; "
        f"{redeliverer.redelivered} of {redeliverer.seen} event messages delivered twice"
    )
    assert not gaps, f"{CONVERGE_LIMIT_S:.0f} s after the upload:\n" + "\n".join(gaps)
    assert redeliverer.seen == len(watch.all_keys) and redeliverer.redelivered == len(watch.all_keys) // 10

    # The ledger has every object once, ingested, and no other; the catalog has every exposure whole.
    ledger = watch.ledger()
    assert sorted(ledger) == watch.all_keys
    assert {row["state"] for row in ledger.values()} == {"ingested"}
    assert sorted(watch.images()) == watch.base_filenames

    # No object was handled by two successful runs, and each ledger row names the run that did.
    with stack.instance() as instance:
        runs = instance.get_runs(RunsFilter(job_name="ingest", statuses=[DagsterRunStatus.SUCCESS]))
        handled_by = {run.run_id: {entry["key"] for entry in _requested(run.run_config)} for run in runs}
    handled = Counter(key for keys in handled_by.values() for key in keys)
    twice = sorted(key for key, count in handled.items() if count > 1)
    by_whom = [
        f"{run.run_id} ({run.tags.get('dagster/run_key')}, parent {run.parent_run_id})"
        for run in runs
        if twice and twice[0] in handled_by[run.run_id]
    ]
    assert not twice, (
        f"{len(twice)} objects handled by two successful runs, e.g. {twice[:5]}, {twice[0]} by {by_whom}"
    )
    assert all(row["key"] in handled_by.get(row["run_id"], set()) for row in ledger.values())
    print(f"{len(runs)} successful ingest runs for {len(ledger)} objects")
