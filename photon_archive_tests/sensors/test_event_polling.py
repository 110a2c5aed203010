"""The event queue's receive loop against moto's SQS over HTTP: one long poll, then short polls
draining while they find messages, up to the batch and within the drain's time.

Each ReceiveMessage the shared boto3 client sends is observed through botocore's own event hooks:
its parameters as sent and how many messages its reply held."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from dagster import SkipReason

from photon_archive.aws.clients import client
from photon_archive.aws.queues import EventQueue, ReceivedMessage
from photon_archive_tests.archive import Archive
from photon_archive_tests.sensors.ticks import drain_event_queue, event_queue_tick, queue_url

# How long a test waits for a thread's receive to end: a limit, not a measure.
RECEIVE_LIMIT_S = 120.0


@dataclass
class Requests:
    """Every ReceiveMessage sent while observed: its parameters, and its reply's message count."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    replies: list[int] = field(default_factory=list)
    first_sent: threading.Event = field(default_factory=threading.Event)


@contextmanager
def receive_requests() -> Iterator[Requests]:
    events = client("sqs").meta.events
    requests = Requests()
    name = uuid.uuid4().hex

    def sent(params: dict[str, Any], **_: Any) -> None:
        requests.sent.append(dict(params))
        requests.first_sent.set()

    def answered(parsed: dict[str, Any], **_: Any) -> None:
        requests.replies.append(len(parsed.get("Messages", [])))

    events.register("provide-client-params.sqs.ReceiveMessage", sent, unique_id=f"sent-{name}")
    events.register("after-call.sqs.ReceiveMessage", answered, unique_id=f"answered-{name}")
    try:
        yield requests
    finally:
        events.unregister("provide-client-params.sqs.ReceiveMessage", unique_id=f"sent-{name}")
        events.unregister("after-call.sqs.ReceiveMessage", unique_id=f"answered-{name}")


def event_queue(archive: Archive) -> EventQueue:
    settings = archive.settings
    return EventQueue(
        queue_name=settings.event_queue, dead_letter_queue_name=settings.event_dead_letter_queue
    )


def send(archive: Archive, count: int) -> None:
    url = queue_url(archive.settings.event_queue)
    for start in range(0, count, 10):
        entries = [
            {"Id": str(i), "MessageBody": f"message {start + i}"} for i in range(min(10, count - start))
        ]
        client("sqs").send_message_batch(QueueUrl=url, Entries=entries)


def waiting(archive: Archive) -> int:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=queue_url(archive.settings.event_queue), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_a_quiet_queue_costs_one_long_poll_per_tick(archive: Archive) -> None:
    drain_event_queue(archive)
    quick = archive.configured(event_wait_seconds=1)

    with receive_requests() as requests:
        result = event_queue_tick(quick)

    assert isinstance(result, SkipReason)
    assert requests.replies == [0]
    (sent,) = requests.sent
    assert sent["WaitTimeSeconds"] == 1
    assert sent["VisibilityTimeout"] == quick.settings.event_visibility_timeout_seconds


def test_a_message_arriving_during_the_wait_is_what_the_long_poll_answers_with(archive: Archive) -> None:
    drain_event_queue(archive)
    polling = replace(archive.settings.polling(), wait_s=20, visibility_s=60)
    received: list[ReceivedMessage] = []

    with receive_requests() as requests:
        receiving = threading.Thread(target=lambda: received.extend(event_queue(archive).receive(polling)))
        receiving.start()
        assert requests.first_sent.wait(RECEIVE_LIMIT_S)
        send(archive, 1)
        receiving.join(RECEIVE_LIMIT_S)

    assert not receiving.is_alive()
    assert [m.body for m in received] == ["message 0"]
    # The long poll answered with the message rather than running out empty; one short poll found
    # nothing more.
    assert requests.replies == [1, 0]
    assert [r["WaitTimeSeconds"] for r in requests.sent] == [20, 0]


def test_the_drain_stops_at_the_first_empty_reply(archive: Archive) -> None:
    drain_event_queue(archive)
    send(archive, 13)

    with receive_requests() as requests:
        received = event_queue(archive).receive(archive.settings.polling())

    assert sorted(m.body for m in received) == sorted(f"message {i}" for i in range(13))
    assert requests.replies[-1] == 0 and all(requests.replies[:-1]) and sum(requests.replies) == 13
    assert [r["WaitTimeSeconds"] for r in requests.sent][1:] == [0] * (len(requests.sent) - 1)


def receive_from_25_waiting(archive: Archive, **polling: Any) -> tuple[Requests, list[ReceivedMessage]]:
    """One receive, with the polling settings changed by ``polling``, from a queue holding 25."""
    drain_event_queue(archive)
    send(archive, 25)
    with receive_requests() as requests:
        received = event_queue(archive).receive(replace(archive.settings.polling(), **polling))
    return requests, received


def test_the_drain_stops_at_the_batch(archive: Archive) -> None:
    requests, received = receive_from_25_waiting(archive, batch=12)

    assert len(received) == 12
    assert sum(r["MaxNumberOfMessages"] for r in requests.sent) == 12
    assert waiting(archive) == 13


def test_the_drain_stops_when_its_time_is_up(archive: Archive) -> None:
    requests, received = receive_from_25_waiting(archive, drain_s=0.0)

    assert len(requests.sent) == 1
    assert 1 <= len(received) <= 10
    assert waiting(archive) == 25 - len(received)


def test_every_polling_setting_reaches_the_sensor_from_its_variable(archive: Archive) -> None:
    drain_event_queue(archive)
    send(archive, 3)
    configured = archive.configured(
        event_wait_seconds=2,
        event_drain_seconds=5.0,
        event_batch_messages=2,
        event_visibility_timeout_seconds=30,
    )

    with receive_requests() as requests:
        event_queue_tick(configured)

    assert [r["WaitTimeSeconds"] for r in requests.sent] == [2]
    assert {r["VisibilityTimeout"] for r in requests.sent} == {30}
    assert sum(requests.replies) == 2
