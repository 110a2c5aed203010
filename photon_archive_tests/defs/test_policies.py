"""The retry contract as a mapping from an exception value to what the step does: pure, plain values."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from dagster import Failure, RetryRequested

from photon_archive.aws.clients import classify
from photon_archive.defs.policies import TRANSIENT_RETRY, Action, action_for, failure_for
from photon_archive.errors import Misconfigured, Rejected, Transient


def _client_error(code: str, status: int, message: str = "said so") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "AnOperation",
    )


def _raised(error: Exception) -> Exception:
    """``error`` with the traceback of a real raise."""
    try:
        raise error
    except Exception as caught:  # noqa: BLE001 - handed back
        return caught


def test_a_transient_failure_is_retried() -> None:
    assert action_for(Transient("S3 bucket b is unavailable for now (SlowDown)")) is Action.RETRY


def test_a_transient_failure_reads_as_its_one_line_until_its_retries_are_spent() -> None:
    error = _raised(Transient("catalog database postgresql://a:***@db/x is unavailable for now: refused"))
    retries = TRANSIENT_RETRY.max_retries

    retried = [failure_for(error, retry_number) for retry_number in range(retries)]
    last = failure_for(error, retries)

    assert all(failure.allow_retries for failure in retried)
    assert {failure.description for failure in retried} == {str(error)}
    assert last.allow_retries is False
    assert last.description == f"{error}; retried {retries} times"
    assert "raise error" in str(last.metadata["traceback"].value)


def test_a_misconfiguration_fails_at_once_with_its_one_line() -> None:
    error = Misconfigured("SQS queue q does not exist (AWS.SimpleQueueService.NonExistentQueue):\n  gone")

    failure = failure_for(error)

    assert action_for(error) is Action.FAIL_AT_ONCE
    assert failure.allow_retries is False
    assert failure.description == "SQS queue q does not exist (AWS.SimpleQueueService.NonExistentQueue): gone"


@pytest.mark.parametrize("error", [TypeError("unsupported operand"), KeyError("pk"), Rejected("escaped")])
def test_any_other_exception_is_a_bug_that_fails_at_once_with_its_traceback(error: Exception) -> None:
    raised = _raised(error)

    failure = failure_for(raised)

    assert action_for(raised) is Action.FAIL_AT_ONCE
    assert failure.allow_retries is False
    assert failure.description is not None and type(error).__name__ in failure.description
    assert "\n" not in failure.description
    trace = str(failure.metadata["traceback"].value)
    assert "raise error" in trace and type(error).__name__ in trace


def test_a_decision_already_given_to_dagster_stands() -> None:
    assert action_for(Failure("refused", allow_retries=False)) is Action.AS_DECIDED
    assert action_for(RetryRequested(max_retries=1)) is Action.AS_DECIDED


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_client_error("AccessDenied", 403), Misconfigured),
        (_client_error("403", 403), Misconfigured),
        (_client_error("NoSuchBucket", 404), Misconfigured),
        (_client_error("ResourceNotFoundException", 400), Misconfigured),
        (_client_error("AWS.SimpleQueueService.NonExistentQueue", 400), Misconfigured),
        (_client_error("InvalidAccessKeyId", 403), Misconfigured),
        (NoCredentialsError(), Misconfigured),
        (_client_error("SlowDown", 503), Transient),
        (_client_error("ProvisionedThroughputExceededException", 400), Transient),
        (_client_error("InternalError", 500), Transient),
        (_client_error("SomethingNew", 502), Transient),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), Transient),
    ],
)
def test_aws_answers_fall_in_their_class_naming_the_resource(error: Exception, expected: type) -> None:
    translated = classify(error, "S3 bucket photonranch-001")

    assert isinstance(translated, expected)
    assert "S3 bucket photonranch-001" in str(translated)


def test_a_request_aws_found_malformed_is_no_class_and_so_a_bug() -> None:
    assert classify(_client_error("ValidationException", 400), "DynamoDB table t") is None
