"""The failure classes as the retry contract, on real parts (moto's server, PostgreSQL, SQLite): a
misconfigured deployment and a bug fail the step at once, naming what is wrong; only a transient
failure is retried (the outage and crash tests in ``faults/`` show those retries end well)."""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterEvent, ExecuteInProcessResult
from sqlalchemy import URL

from photon_archive.aws.clients import client
from photon_archive.definitions import build_definitions
from photon_archive_tests.archive import SAMPLE_NIGHT, Archive
from photon_archive_workshop.sample import sample_exposures


def _failed_at_once(result: ExecuteInProcessResult) -> DagsterEvent:
    """The one step failure of a run that was never retried."""
    assert not result.success
    retried = [event for event in result.all_events if event.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == [], "a failure no retry can fix was retried"
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    return failure


def _message(failure: DagsterEvent) -> str:
    error = failure.step_failure_data.error  # type: ignore[union-attr]
    assert error is not None
    return error.message


def _headline(failure: DagsterEvent) -> str:
    """The step failure's message, asserted to be one line, as the UI heads the failure with it."""
    message = _message(failure)
    assert len(message.strip().splitlines()) == 1, message
    assert failure.step_failure_data.error.cause is None  # type: ignore[union-attr]
    return message


def _traceback(failure: DagsterEvent) -> str:
    metadata = failure.step_failure_data.user_failure_data.metadata  # type: ignore[union-attr]
    return str(metadata["traceback"].value)


def _upload_one_exposure(archive: Archive) -> list[str]:
    keys = []
    for sample in sample_exposures(night=SAMPLE_NIGHT, count=1):
        archive.put(sample.key, sample.body, sample.content_type, **sample.metadata)
        keys.append(sample.key)
    return keys


def test_an_ingest_into_a_missing_bucket_fails_at_once_naming_the_bucket(archive: Archive) -> None:
    refs = [archive.ref(key) for key in _upload_one_exposure(archive)]  # described: no HEAD needed

    result = archive.configured(bucket="photonranch-no-such-bucket").ingest(refs, raise_on_error=False)

    failure = _failed_at_once(result)
    assert failure.step_key == "ingest_objects"
    message = _message(failure)
    assert "S3 bucket photonranch-no-such-bucket, key data/sro-kb001ms-" in message
    assert "does not exist (NoSuchBucket): The specified bucket does not exist" in message
    assert archive.query("SELECT key FROM object_ledger") == []


def test_a_replay_of_a_missing_bucket_fails_at_once_naming_the_bucket(archive: Archive) -> None:
    job = build_definitions(archive.configured(bucket="photonranch-gone").settings).resolve_job_def("replay")

    result = job.execute_in_process(instance=archive.instance, raise_on_error=False)

    failure = _failed_at_once(result)
    assert failure.step_key == "replay_objects"
    assert "S3 bucket photonranch-gone, prefix data/ does not exist (NoSuchBucket)" in _message(failure)


def test_a_maintenance_job_on_a_table_that_does_not_exist_fails_at_once_naming_the_table(
    archive: Archive,
) -> None:
    settings = archive.configured(upload_log_table="recent-uploads-log-missing").settings
    job = build_definitions(settings).resolve_job_def("expire_upload_log")

    result = job.execute_in_process(instance=archive.instance, raise_on_error=False)

    failure = _failed_at_once(result)
    message = _message(failure)
    assert "DynamoDB table recent-uploads-log-missing does not exist (ResourceNotFoundException)" in message


def test_an_ingest_into_an_unmigrated_catalog_fails_at_once_naming_the_table(
    archive: Archive, tmp_path: Path
) -> None:
    keys = _upload_one_exposure(archive)
    empty = f"sqlite:///{tmp_path / 'unmigrated.sqlite'}"

    result = archive.configured(database_url=empty).ingest(keys, raise_on_error=False)

    failure = _failed_at_once(result)
    assert failure.step_key == "ingest_objects"
    headline = _headline(failure)
    assert "no such table" in headline and "unmigrated.sqlite" in headline
    assert "SELECT" not in headline and "sqlite3.OperationalError" in _traceback(failure)


def test_a_catalog_database_that_does_not_exist_fails_at_once_in_one_line_naming_it(
    archive: Archive, postgres_admin_url: URL
) -> None:
    keys = _upload_one_exposure(archive)
    missing = postgres_admin_url.set(database="photon_archive_no_such_catalog", password="s3cret-pw")

    result = archive.configured(database_url=missing.render_as_string(hide_password=False)).ingest(
        keys, raise_on_error=False
    )

    headline = _headline(_failed_at_once(result))
    assert f"catalog database {missing.render_as_string(hide_password=True)} refused" in headline
    assert ":***@" in headline and "s3cret-pw" not in headline
    assert 'database "photon_archive_no_such_catalog" does not exist' in headline
    assert "[SQL" not in headline and "SELECT" not in headline


def test_a_catalog_that_refuses_connections_fails_after_its_retries_saying_so_in_one_line(
    archive: Archive, postgres_admin_url: URL
) -> None:
    keys = _upload_one_exposure(archive)
    refusing = postgres_admin_url.set(port=1, password="s3cret-pw")

    result = archive.configured(database_url=refusing.render_as_string(hide_password=False)).ingest(
        keys, raise_on_error=False
    )

    assert not result.success
    retries = [event for event in result.all_events if event.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 3
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    headline = _headline(failure)
    assert headline.strip().endswith("; retried 3 times")
    assert "Exceeded max_retries" not in headline
    assert f"catalog database {refusing.render_as_string(hide_password=True)} is unavailable" in headline
    assert "127.0.0.1" in headline and "port 1 failed" in headline and "s3cret-pw" not in headline
    assert "[SQL" not in headline and "SELECT" not in headline
    assert "Connection refused" in _traceback(failure)


def test_a_request_aws_finds_malformed_is_a_bug_failing_at_once_with_its_traceback(archive: Archive) -> None:
    # An expiration tracker keyed otherwise than the entries the ingest writes: DynamoDB answers with
    # a ValidationException, a class of no retry's concern, so the step ends at once and says where.
    client("dynamodb").create_table(
        TableName="data-expiration-tracker-keyed-otherwise",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    keys = []
    for sample in sample_exposures(night=SAMPLE_NIGHT, count=1, data_type="EP"):  # EP exposures expire
        archive.put(sample.key, sample.body, sample.content_type, **sample.metadata)
        keys.append(sample.key)
    broken = archive.configured(expiration_table="data-expiration-tracker-keyed-otherwise")

    result = broken.ingest(keys, raise_on_error=False)

    failure = _failed_at_once(result)
    assert failure.step_key == "ingest_objects"
    assert "a bug, not retried: ClientError" in _message(failure)
    assert "ValidationException" in _message(failure)
    trace = _traceback(failure)
    assert "track_expiration" in trace and "update_item" in trace


def test_an_upload_log_keyed_unusably_fails_at_once_naming_the_table_and_its_key(archive: Archive) -> None:
    client("dynamodb").create_table(
        TableName="recent-uploads-log-keyed-otherwise",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    keys = _upload_one_exposure(archive)
    broken = archive.configured(upload_log_table="recent-uploads-log-keyed-otherwise")

    result = broken.ingest(keys, raise_on_error=False)

    failure = _failed_at_once(result)
    assert failure.step_key == "ingest_objects"
    assert "recent-uploads-log-keyed-otherwise" in _message(failure) and "pk" in _message(failure)


def test_an_expiration_tracker_that_does_not_exist_fails_at_once_naming_the_table_and_item(
    archive: Archive,
) -> None:
    keys = archive.upload_sample(count=1, data_type="EP")  # EP exposures expire: an entry is written
    base = keys[0].split("/")[1].rsplit("-", 1)[0]
    broken = archive.configured(expiration_table="data-expiration-tracker-missing")

    result = broken.ingest(keys, raise_on_error=False)

    headline = _headline(_failed_at_once(result))
    table = "DynamoDB table data-expiration-tracker-missing"
    assert f"{table}, key {base} does not exist (ResourceNotFoundException)" in headline
