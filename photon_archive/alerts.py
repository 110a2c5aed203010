"""What an alert says, and when one is due: a failed run, dead-lettered event messages, objects
waiting for a run. Pure: the sensors in ``defs/sensors/alerts.py`` read the facts and publish.

Each alert is one incident, said once: a failed run once (a retry is a new run, and its own alert
says whether another follows), the dead-letter queue when its count rises above the count last
alerted, a waiting object's run key once while its objects wait.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from photon_archive.headlines import first_line

# SNS takes subjects of fewer than 100 characters, on one line.
SUBJECT_LIMIT = 99
# The run tags an operator filters the Runs page by (ingest/delivery.py, the maintenance jobs).
PROJECT_TAG_PREFIX = "photon_archive/"
# How many waiting objects an alert names for each run key; the check lists them all.
NAMED_OBJECTS = 5


@dataclass(frozen=True)
class Alert:
    subject: str
    body: str


def alert(subject: str, body: str) -> Alert:
    """An alert whose subject SNS accepts: one line, under its length limit."""
    line = " ".join(subject.split())
    if len(line) > SUBJECT_LIMIT:
        line = line[: SUBJECT_LIMIT - 3] + "..."
    return Alert(line, body)


def error_cause(message: str, class_name: str | None) -> str:
    """The cause an error message gives, on one line: its first line, without the prefix naming
    Dagster's ``Failure`` (whose description is the cause), which every failure of the contract is."""
    line = first_line(message)
    head, separator, rest = line.partition(": ")
    if separator and class_name == "Failure" and head.rsplit(".", 1)[-1] == "Failure":
        return rest
    return line


@dataclass(frozen=True)
class FailedRun:
    """What an operator needs of a failed run: which, why, what it held, and whether it comes back."""

    job_name: str
    run_id: str
    causes: Sequence[tuple[str, str]]  # (step key, first line of its error); the run's own if no step failed
    tags: Mapping[str, str]
    retry_number: int  # 0 for a run launched anew, n for the instance's nth retry of it
    will_retry: bool  # whether the instance retries it (its dagster/will_retry tag)
    max_retries: int


def run_failure_alert(run: FailedRun, webserver_url: str) -> Alert:
    cause = "; ".join(f"{step}: {why}" if step else why for step, why in run.causes) or "no cause recorded"
    held = ", ".join(
        f"{name.removeprefix(PROJECT_TAG_PREFIX)} {value}"
        for name, value in sorted(run.tags.items())
        if name.startswith(PROJECT_TAG_PREFIX)
    )
    attempt = f" (retry {run.retry_number} of {run.max_retries})" if run.retry_number else ""
    if run.will_retry:
        outlook = f"a retry follows: retry {run.retry_number + 1} of {run.max_retries}, a new run"
    else:
        outlook = "no retry follows: once the cause is fixed, open the run and Re-execute > From failure"
    lines = [
        f"Run {run.run_id} of job {run.job_name} failed{attempt}.",
        f"Cause: {cause}",
        *([f"Tags: {held}"] if held else []),
        f"Retry: {outlook}.",
        f"Run: {run_link(webserver_url, run.run_id)}",
    ]
    return alert(f"photon_archive: {run.job_name} run failed: {cause}", "\n".join(lines))


def run_link(webserver_url: str, run_id: str) -> str:
    return f"{webserver_url.rstrip('/')}/runs/{run_id}"


def dead_letter_alert(count: int, last_alerted: int, queue: str, queue_url: str) -> Alert | None:
    """An alert when the dead-letter queue holds more than when it was last alerted, else None.

    The count the next tick compares with is ``count`` either way: once an operator has dealt with
    the messages, the next one to arrive is alerted again.
    """
    if count <= last_alerted:
        return None
    new = count - last_alerted
    body = "\n".join(
        [
            f"{count} event messages are on the dead-letter queue {queue} ({new} new since the last alert).",
            "Each is a message the event-queue sensor could not read; its `reason` attribute says why.",
            "Look without taking them off the queue:",
            f"  aws sqs receive-message --queue-url {queue_url} --max-number-of-messages 10 "
            "--message-attribute-names reason --visibility-timeout 0",
            "See the README, Operating it > Runbook > Dead-lettered event messages.",
        ]
    )
    return alert(f"photon_archive: {new} event messages dead-lettered ({count} on {queue})", body)


@dataclass(frozen=True)
class Waiting:
    """Objects ``queued`` longer than the grace period: how many, and the longest-waiting ones."""

    count: int
    objects: Sequence[tuple[str, str, datetime]]  # (key, run key, queued since)


def waiting_alert(
    waiting: Waiting, alerted: Sequence[str], grace: timedelta
) -> tuple[Alert | None, list[str]]:
    """An alert naming the run keys of waiting objects not alerted yet, and the run keys alerted
    from now on: those still waiting, so the list stays as short as the listing it comes from."""
    by_run_key: dict[str, list[tuple[str, datetime]]] = {}
    for key, run_key, queued in waiting.objects:
        by_run_key.setdefault(run_key, []).append((key, queued))
    new = [run_key for run_key in by_run_key if run_key not in alerted]
    remembered = [run_key for run_key in by_run_key if run_key in alerted] + new
    if not new:
        return None, remembered
    lines = [
        f"{waiting.count} objects have been queued for more than {grace // timedelta(minutes=1)} minutes "
        "without being ingested. The run that was to ingest them, by its run key (filter the Runs page "
        "by the tag dagster/run_key):"
    ]
    for run_key in new:
        objects = by_run_key[run_key]
        since = f"{objects[0][1]:%Y-%m-%d %H:%M} UTC"
        lines.append(f"- {run_key or '(no run key)'}: {len(objects)} objects, queued since {since}")
        lines.extend(f"    {key}" for key, _ in objects[:NAMED_OBJECTS])
    lines.append(
        "A run that failed for good is re-executed from failure; anything else is replayed. "
        "See the README, Operating it > Runbook, and the check no_object_waits_for_a_run."
    )
    subject = f"photon_archive: objects waiting for run {new[0] or '(no run key)'}"
    if len(new) > 1:
        subject = f"photon_archive: objects waiting for {len(new)} runs"
    return alert(subject, "\n".join(lines)), remembered
