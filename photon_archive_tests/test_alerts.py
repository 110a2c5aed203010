"""What an alert says and when one is due, on plain values."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from photon_archive.alerts import (
    SUBJECT_LIMIT,
    FailedRun,
    Waiting,
    alert,
    dead_letter_alert,
    error_cause,
    run_failure_alert,
    waiting_alert,
)

SINCE = datetime(2026, 11, 24, 3, 0)
GRACE = timedelta(minutes=30)


def _failed(**changes: object) -> FailedRun:
    values: dict[str, object] = {
        "job_name": "ingest",
        "run_id": "r-1",
        "causes": [("ingest_objects", "S3 bucket b does not exist (NoSuchBucket): gone")],
        "tags": {"photon_archive/prefix": "data", "dagster/run_key": "k", "photon_archive/site": "sro"},
        "retry_number": 0,
        "will_retry": False,
        "max_retries": 2,
    }
    values.update(changes)
    return FailedRun(**values)  # type: ignore[arg-type]


@given(st.text())
def test_a_subject_is_always_one_line_under_the_sns_limit(subject: str) -> None:
    made = alert(subject, "body").subject
    assert len(made) <= SUBJECT_LIMIT < 100
    assert "\n" not in made and "\r" not in made


def test_the_cause_of_a_failure_is_its_first_line_without_dagsters_wrapper_class() -> None:
    wrapped = "dagster._core.definitions.events.Failure: S3 bucket b does not exist\n\nTraceback (most recent"
    assert error_cause(wrapped, "Failure") == "S3 bucket b does not exist"
    assert error_cause("KeyError: 'site'\n  File x", "KeyError") == "KeyError: 'site'"
    assert error_cause("\n\n  database is down  \nmore", None) == "database is down"


def test_a_run_failure_names_job_cause_project_tags_retry_and_link() -> None:
    made = run_failure_alert(_failed(), "https://dagster.example.org/")
    assert made.body.splitlines() == [
        "Run r-1 of job ingest failed.",
        "Cause: ingest_objects: S3 bucket b does not exist (NoSuchBucket): gone",
        "Tags: prefix data, site sro",
        "Retry: no retry follows: once the cause is fixed, open the run and Re-execute > From failure.",
        "Run: https://dagster.example.org/runs/r-1",
    ]
    assert made.subject.startswith("photon_archive: ingest run failed: ingest_objects: S3 bucket b")


def test_a_retried_run_says_which_retry_it_was_and_whether_another_follows() -> None:
    first = run_failure_alert(_failed(will_retry=True), "http://localhost:3000")
    assert "Retry: a retry follows: retry 1 of 2, a new run." in first.body.splitlines()
    last = run_failure_alert(_failed(retry_number=2, run_id="r-3"), "http://localhost:3000")
    assert last.body.splitlines()[0] == "Run r-3 of job ingest failed (retry 2 of 2)."
    assert "Retry: no retry follows" in last.body


def test_a_run_that_failed_outside_any_step_gives_the_runs_own_cause() -> None:
    made = run_failure_alert(_failed(causes=[("", "run worker exited unexpectedly")]), "http://h")
    assert "Cause: run worker exited unexpectedly" in made.body.splitlines()


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=30))
def test_dead_letters_are_alerted_exactly_when_the_count_rises_above_the_last_one_seen(
    counts: list[int],
) -> None:
    seen = 0
    for count in counts:
        made = dead_letter_alert(count, seen, "dlq", "https://sqs/dlq")
        assert (made is not None) == (count > seen)
        if made is not None:
            assert f"{count} event messages are on the dead-letter queue dlq ({count - seen} new" in made.body
        seen = count


def test_a_waiting_run_key_is_alerted_once_and_forgotten_once_its_objects_are_ingested() -> None:
    objects = [("data/a.txt", "k1", SINCE), ("data/b.txt", "k1", SINCE), ("data/c.txt", "k2", SINCE)]
    waiting = Waiting(3, objects)
    made, alerted = waiting_alert(waiting, [], GRACE)
    assert made is not None and made.subject == "photon_archive: objects waiting for 2 runs"
    assert "- k1: 2 objects, queued since 2026-11-24 03:00 UTC" in made.body.splitlines()
    assert "for more than 30 minutes" in made.body
    assert alerted == ["k1", "k2"]

    again, alerted = waiting_alert(waiting, alerted, GRACE)
    assert again is None and alerted == ["k1", "k2"]

    later = Waiting(1, [("data/c.txt", "k2", SINCE)])  # k1's objects were ingested
    assert waiting_alert(later, alerted, GRACE) == (None, ["k2"])
    nothing = Waiting(0, [])
    assert waiting_alert(nothing, ["k2"], GRACE) == (None, [])
