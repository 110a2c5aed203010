"""The operator's console through the real webserver's GraphQL, as the Dagster UI shows it: the
nightly report of each night and site, where a rejected file is after a replay, and one alert on the
subscribed queue for a run that failed.

Two sites, two nights each, one file of them junk; a replay of everything; then the catalog goes away
under a run launched from the launchpad.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from photon_archive.aws.clients import client
from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.night import NightWatch, Uploader, by_exposure
from photon_archive_tests.e2e.stack import DagsterStack, StackFactory, wait_for
from photon_archive_tests.inbox import subscribe
from photon_archive_tests.proxy import TcpProxy
from photon_archive_workshop.sample import SampleFile, sample_exposures

pytestmark = pytest.mark.e2e

NIGHTS = (date(2026, 11, 23), date(2026, 11, 24))
SITES = ("sro", "tst")
JUNK_KEY = "data/tst-kb001ms-20261124-00000099-EX10.jpg"
# Limits on each wait, not measures: a 2-core machine busy with other work ingests the night within a
# few minutes; the failing run retries its catalog step with backoff (22 s) before it fails; the
# alert sensor ticks every 30 s.
LIMIT_S = 600.0

STEP_OUTPUTS_QUERY = """
query StepOutputs($runId: ID!) {
  logsForRun(runId: $runId) {
    __typename
    ... on EventConnection {
      events {
        __typename
        ... on ExecutionStepOutputEvent {
          stepKey
          metadataEntries {
            label
            __typename
            ... on TableMetadataEntry { table { records } }
            ... on MarkdownMetadataEntry { mdStr }
          }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""


NIGHTLY_QUERY = """
query Nightly {
  assetOrError(assetKey: {path: ["nightly_report"]}) {
    __typename
    ... on Asset {
      assetMaterializations {
        partition
        timestamp
        metadataEntries { label __typename ... on IntMetadataEntry { intValue } }
      }
    }
  }
}
"""
COUNTED = ("objects", "ingested", "rejected", "queued", "failed", "removed")


def nightly_reports(stack: DagsterStack) -> dict[str, dict[str, int]]:
    """The latest nightly report of each night and site, as the asset's page shows it: its counts
    by partition key (``2026-11-24|sro``)."""
    answer = stack.graphql(NIGHTLY_QUERY)["assetOrError"]
    if answer["__typename"] != "Asset":
        return {}
    latest: dict[str, tuple[float, dict[str, int]]] = {}
    for event in answer["assetMaterializations"]:
        counts = {e["label"]: e["intValue"] for e in event["metadataEntries"] if e["label"] in COUNTED}
        moment = float(event["timestamp"])
        if event["partition"] not in latest or latest[event["partition"]][0] < moment:
            latest[event["partition"]] = (moment, counts)
    return {partition: counts for partition, (_, counts) in latest.items()}


def ledger_counts(archive: Archive) -> dict[str, dict[str, int]]:
    """Each night and site's objects by state, counted in the ledger itself."""
    counts: dict[str, dict[str, int]] = {}
    for site in SITES:
        for night in NIGHTS:
            rows = archive.query(
                "SELECT state, count(*) AS n FROM object_ledger WHERE base_filename LIKE :pattern"
                " GROUP BY state",
                pattern=f"{site}-%-{night:%Y%m%d}-%",
            )
            by_state = {row["state"]: row["n"] for row in rows}
            counts[f"{night.isoformat()}|{site}"] = {
                "objects": sum(by_state.values()),
                **{state: by_state.get(state, 0) for state in COUNTED[1:]},
            }
    return counts


def step_output_metadata(stack: DagsterStack, run_id: str, step: str) -> dict[str, Any]:
    """The output metadata of ``step`` in run ``run_id`` as the run's page shows it: tables as lists
    of records, markdown as text."""
    answer = stack.graphql(STEP_OUTPUTS_QUERY, runId=run_id)["logsForRun"]
    assert answer["__typename"] == "EventConnection", answer
    (output,) = [
        event
        for event in answer["events"]
        if event["__typename"] == "ExecutionStepOutputEvent" and event["stepKey"] == step
    ]
    metadata: dict[str, Any] = {}
    for entry in output["metadataEntries"]:
        if entry["__typename"] == "TableMetadataEntry":
            metadata[entry["label"]] = [json.loads(record) for record in entry["table"]["records"]]
        elif entry["__typename"] == "MarkdownMetadataEntry":
            metadata[entry["label"]] = entry["mdStr"]
    return metadata


def night_of_two_sites() -> list[SampleFile]:
    return [
        file
        for site in SITES
        for index, night in enumerate(NIGHTS)
        for file in sample_exposures(site=site, count=1, night=night, first_counter=index + 1)
    ]


def tick_timestamp(stack: DagsterStack) -> float:
    tick = stack.latest_ticks().get("run_failure_alerts")
    return 0.0 if tick is None else float(tick["timestamp"])


def launch_and_finish(stack: DagsterStack, job: str, run_config: dict[str, Any]) -> str:
    run_id = stack.launch(job, run_config)
    run = stack.wait_for_run_to_end(run_id, timeout_s=LIMIT_S)
    assert run["status"] == "SUCCESS", run
    return run_id


def test_the_console_finds_a_rejected_file_after_a_replay_and_alerts_a_failed_run_once(
    dagster_stack_factory: StackFactory, catalog_proxy: TcpProxy, archive: Archive
) -> None:
    inbox = subscribe()
    stack = dagster_stack_factory(
        database_url=catalog_proxy.url_for(archive.settings.database_url),
        run_retries=False,
        environment={"PHOTON_ARCHIVE_ALERT_TOPIC": inbox.topic_arn},
    )
    files = night_of_two_sites()
    Uploader(archive.settings.bucket, by_exposure(files)).run()
    client("s3").put_object(Bucket=archive.settings.bucket, Key=JUNK_KEY, Body=b"not a jpeg")
    watch = NightWatch(archive, [file.key for file in files])
    watch.wait_until_done("the two sites' nights are ingested", LIMIT_S)
    rejected = wait_for(
        "the junk file is rejected",
        lambda: (row := watch.ledger().get(JUNK_KEY)) and row["state"] == "rejected" and row,
        LIMIT_S,
    )
    first_run = rejected["run_id"]

    # Everything again, by the runbook's replay.
    replay = {"prefix": "data", "first_night": "2026-11-23", "last_night": "2026-11-24", "force": True}
    replay_run = launch_and_finish(stack, "replay", {"ops": {"replay_objects": {"config": replay}}})

    # "What happened to the junk file?", asked from the launchpad by its base filename.
    base = JUNK_KEY.removeprefix("data/").removesuffix("-EX10.jpg")
    whereis_run = launch_and_finish(stack, "whereis", {"ops": {"find_objects": {"config": {"key": base}}}})
    answer = step_output_metadata(stack, whereis_run, "find_objects")
    (found,) = answer["objects"]
    assert found["key"] == JUNK_KEY and found["state"] == "rejected"
    assert "not a decodable image" in found["reason"], found
    visits = [(row["run_id"], row["state"]) for row in answer["runs"] if row["key"] == JUNK_KEY]
    assert visits == [(first_run, "rejected"), (replay_run, "rejected")], answer["runs"]
    assert f"/runs/{first_run}" in answer["summary"] and f"/runs/{replay_run}" in answer["summary"]
    assert inbox.received() == []  # nothing has failed yet

    # "How did those nights go?": the nightly report of each night and site, refreshed by its sensor
    # after the ingests and the replay, counts what the ledger holds, the junk file's rejection too.
    expected = ledger_counts(archive)
    assert expected[f"{NIGHTS[1].isoformat()}|tst"]["rejected"] == 1
    assert all(counts["objects"] > 0 for counts in expected.values())
    wait_for("the nightly reports match the ledger", lambda: nightly_reports(stack) == expected, LIMIT_S)
    print(f"nightly reports, as the ledger counts them: {expected}")
    print(f"whereis {base}: {answer['objects']} {answer['runs']}")

    # The catalog goes away; an operator re-ingests a file from the launchpad, and the run fails
    # (after its step's retries). They hear of it once.
    catalog_proxy.stop()
    run_id = stack.launch(
        "ingest", {"ops": {"ingest_objects": {"config": {"objects": [{"key": files[0].key}]}}}}
    )
    failed = stack.wait_for_run_to_end(run_id, timeout_s=LIMIT_S)
    assert failed["status"] == "FAILURE", failed
    notifications: list[dict[str, Any]] = []

    def about_the_run() -> list[dict[str, Any]]:
        notifications.extend(inbox.received())
        return [n for n in notifications if run_id in n["Message"]]

    wait_for("the failure is alerted", about_the_run, LIMIT_S)
    alerted_tick = tick_timestamp(stack)
    wait_for("the alert sensor ticks again", lambda: tick_timestamp(stack) > alerted_tick, LIMIT_S)
    # Other runs that needed the catalog meanwhile (a nightly report) fail and are alerted too, each
    # once; this one is alerted once.
    (notification,) = about_the_run()
    print(f"alert on the subscribed queue: {notification['Subject']}\n{notification['Message']}")
    assert f"/runs/{run_id}" in notification["Message"]
    (cause,) = [line for line in notification["Message"].splitlines() if line.startswith("Cause: ")]
    assert "ingest_objects" in cause and "catalog" in cause, cause
    assert "\n" not in notification["Subject"] and "INSERT" not in notification["Message"]
