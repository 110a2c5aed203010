"""How an event-queue tick receives: one long poll, then short polls draining what waits.

The long poll (ReceiveMessage's ``WaitTimeSeconds``) asks every SQS server and answers as soon as a
message is there, so an upload to a quiet queue is received within moments of its event, and a quiet
queue costs one request per tick. A short poll (``WaitTimeSeconds=0``) samples some of the servers
and may answer empty while messages wait: once the long poll has answered, the tick drains with short
polls while they find messages, up to the batch and for at most the drain's seconds, then hands its
runs over; what a short poll missed the next tick's long poll finds at once.

Every tick must end well inside Dagster's limit on a sensor evaluation, and no message it received may
become visible to the next tick (or another daemon) before it ends: these rules check the settings
that bound a tick against both.
"""

from __future__ import annotations

from dataclasses import dataclass

# SQS's own bounds: a long poll of at most 20 s; a message hidden for at most 12 hours once received.
SQS_MAX_WAIT_S = 20
SQS_MAX_VISIBILITY_S = 12 * 3600
# Dagster's limit on one sensor evaluation (its gRPC call to the code server, 60 s unless
# DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS says otherwise): a tick cut off there requests no runs.
SENSOR_TIMEOUT_S = 60
# What a tick keeps for itself after receiving: the ledger writes of up to a batch of objects, the
# messages' deletes and the run requests. The wait and the drain share what is left.
AFTER_RECEIVE_S = 15


@dataclass(frozen=True)
class Polling:
    """The settings that bound an event-queue tick."""

    wait_s: int  # the long poll's WaitTimeSeconds
    drain_s: float  # how long the short polls after it may go on
    batch: int  # the most messages one tick takes
    visibility_s: int  # how long a received message stays hidden from every other receiver

    @property
    def longest_tick_s(self) -> float:
        """The longest a tick holds its messages: the wait, the drain and what comes after them."""
        return self.wait_s + self.drain_s + AFTER_RECEIVE_S

    def problems(self) -> list[str]:
        """What is wrong with these settings, each naming the rule it breaks; empty when none."""
        found = []
        if not 1 <= self.wait_s <= SQS_MAX_WAIT_S:
            found.append(f"the wait must be 1 to {SQS_MAX_WAIT_S} s (SQS's longest poll), not {self.wait_s}")
        if self.drain_s < 0:
            found.append(f"the drain must be 0 s or more, not {self.drain_s}")
        if self.batch < 1:
            found.append(f"the batch must be at least one message, not {self.batch}")
        if self.longest_tick_s > SENSOR_TIMEOUT_S:
            found.append(
                f"the wait and the drain ({self.wait_s} + {self.drain_s} s) leave less than "
                f"{AFTER_RECEIVE_S} s of Dagster's {SENSOR_TIMEOUT_S} s limit on a sensor tick for "
                "queueing what was received"
            )
        if not self.longest_tick_s <= self.visibility_s <= SQS_MAX_VISIBILITY_S:
            found.append(
                f"the visibility timeout ({self.visibility_s} s) must outlast the longest tick "
                f"(the wait, the drain and {AFTER_RECEIVE_S} s: {self.longest_tick_s:g} s), so that no "
                "message is delivered again while its tick is still queueing it, and be at most "
                f"{SQS_MAX_VISIBILITY_S} s"
            )
        return found


def drain_more(polling: Polling, received: int, last_reply: int, draining_s: float) -> bool:
    """Whether to short-poll again: the batch is not full, the last reply found messages and the
    drain still has time."""
    return received < polling.batch and last_reply > 0 and draining_s < polling.drain_s
