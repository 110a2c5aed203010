"""A catalog outage seen from the Dagster UI: the run retries, fails, and "re-execute from failure"
finishes it once the database is back (SPEC §10)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from photon_archive.catalog.rows import FLAGS
from photon_archive.naming import parse_key
from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.night import Uploader, by_exposure
from photon_archive_tests.e2e.stack import StackFactory, wait_for
from photon_archive_tests.proxy import TcpProxy
from photon_archive_workshop.sample import sample_exposures

pytestmark = pytest.mark.e2e

# RetryPolicy of the ingest steps: 3 retries, so 4 attempts.
ATTEMPTS = 4
# Limits on each wait for the system, not measures of speed: on a 2-core machine busy with other work
# the daemon requests the run within a minute of its start, the run fails some 35 s after the outage
# began (its retries' backoff alone is 22 s) and the re-execution succeeds within 15 s; the limits leave
# room for a machine four times slower.
LIMIT_S = 300.0
LEDGER_ROWS = "SELECT key, state, run_id, run_key FROM object_ledger WHERE key = ANY(:k) ORDER BY key"


def test_rerun_after_the_catalog_was_unreachable_finishes_the_run(
    dagster_stack_factory: StackFactory, catalog_proxy: TcpProxy, archive: Archive
) -> None:
    # Runs and sensors reach the catalog only through the proxy; the test reads it directly.
    # Automatic run retries are off, so the failure stays for the operator to see.
    stack = dagster_stack_factory(
        database_url=catalog_proxy.url_for(archive.settings.database_url), run_retries=False, start=False
    )
    stack.start_webserver()
    files = sample_exposures(count=1)
    keys = [file.key for file in files]
    Uploader(archive.settings.bucket, by_exposure(files)).run()

    # The daemon starts with the whole exposure waiting, so one sensor tick requests it in one run.
    # The catalog goes away the moment that request is recorded: the sensor reached the database,
    # the run it requested will not.
    stack.start_daemon(wait=False)

    def queued() -> list[dict[str, Any]] | None:
        rows = archive.query(LEDGER_ROWS, k=keys)
        return rows if len(rows) == len(keys) else None

    rows = wait_for("the exposure's objects are queued for a run", queued, LIMIT_S, interval_s=0.05)
    catalog_proxy.stop()
    outage = time.monotonic()
    assert {row["state"] for row in rows} == {"queued"}, rows
    run_keys = {row["run_key"] for row in rows}
    assert len(run_keys) == 1, f"the exposure was split over several run requests: {rows}"
    (run_key,) = run_keys

    # The run retries its catalog step with backoff, then fails, visibly.
    (parent,) = wait_for(
        "the requested run exists", lambda: stack.runs_tagged("dagster/run_key", run_key), LIMIT_S
    )
    failed = stack.wait_for_run_to_end(parent["runId"], timeout_s=LIMIT_S)
    print(f"the run failed {time.monotonic() - outage:.0f} s after the catalog went away")
    assert failed["status"] == "FAILURE", failed
    steps = {step["stepKey"]: step for step in failed["stepStats"]}
    assert steps["ingest_objects"]["status"] == "FAILURE"
    assert len(steps["ingest_objects"]["attempts"]) == ATTEMPTS
    assert "notify_datastream" not in steps or steps["notify_datastream"]["status"] != "SUCCESS"
    after_failure = archive.query(LEDGER_ROWS, k=keys)
    assert {row["state"] for row in after_failure} == {"queued"}, after_failure

    # The database is back; the operator re-executes from failure in the UI.
    catalog_proxy.start()
    relaunched = time.monotonic()
    rerun_id = stack.reexecute(parent["runId"], "FROM_FAILURE")
    assert rerun_id != parent["runId"]
    finished = stack.wait_for_run_to_end(rerun_id, timeout_s=LIMIT_S)
    print(f"re-executed from failure: {finished['status']} {time.monotonic() - relaunched:.0f} s later")
    assert finished["status"] == "SUCCESS", finished
    assert finished["parentRunId"] == parent["runId"]

    ledger = archive.query(LEDGER_ROWS, k=keys)
    assert sorted((row["key"], row["state"], row["run_id"]) for row in ledger) == [
        (key, "ingested", rerun_id) for key in sorted(keys)
    ]
    (row,) = archive.query("SELECT * FROM images")
    assert row["base_filename"] == parse_key(keys[0]).base_filename
    assert all(row[flag] for flag in FLAGS), row
