"""boto3 clients, made once per process and shared by every object of a run."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore import exceptions as botocore_errors
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from photon_archive.errors import Misconfigured, Transient
from photon_archive.headlines import one_line as _one_line

# botocore's "standard" retry mode backs off on throttling and 5xx; a run's step retry policy sits above it.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    max_pool_connections=32,
    connect_timeout=5,
    read_timeout=60,
)

# Keyed by service, endpoint and region, so a changed environment gets new clients; boto3 itself reads
# the endpoint, region and credentials through its standard chain.
_clients: dict[tuple[str, str | None, str | None], Any] = {}
_sessions: dict[tuple[str | None, str | None], boto3.session.Session] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """The shared client for ``service`` at the endpoint the environment names now.

    A run's I/O threads all ask for their clients at once when it starts: the lock makes that one
    client per service, not one per thread, and one session makes botocore load its endpoint data
    once per process, not once per service (about half a second each on a cold process).
    """
    where = (os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_DEFAULT_REGION"))
    key = (service, *where)
    made = _clients.get(key)
    if made is None:
        with _lock:
            made = _clients.get(key)
            if made is None:
                session = _sessions.get(where)
                if session is None:
                    session = _sessions[where] = boto3.session.Session()
                made = _clients[key] = session.client(service, config=CLIENT_CONFIG)
    return made


def forget_clients() -> None:
    """Drop every client and session, as a new process would start: the next call resolves the
    endpoint, region and credentials afresh."""
    with _lock:
        _clients.clear()
        _sessions.clear()


# What AWS answers when the deployment's permissions, names or credentials are wrong: no retry helps.
DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "403"}
)  # SNS says AuthorizationError
MISSING_RESOURCE = frozenset(
    {
        "NoSuchBucket",
        "ResourceNotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
        "NotFound",  # SNS: no such topic
    }
)
BAD_CREDENTIALS = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
# What AWS answers when it is briefly unable to: the step's retry (above botocore's own) may succeed.
BUSY = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "SlowDown",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "TransactionInProgressException",
    }
)
# Transport failures: the endpoint was unreachable, the connection dropped, a read timed out.
UNREACHABLE = (
    botocore_errors.ConnectionError,
    botocore_errors.HTTPClientError,
    botocore_errors.IncompleteReadError,
    botocore_errors.ChecksumError,
    botocore_errors.CapacityNotAvailableError,
)
# The process has no usable credentials or region.
UNCONFIGURED = (
    botocore_errors.NoCredentialsError,
    botocore_errors.PartialCredentialsError,
    botocore_errors.CredentialRetrievalError,
    botocore_errors.NoRegionError,
)


def classify(error: Exception, resource: str) -> Exception | None:
    """The project's class for a botocore error from a call on ``resource`` ("S3 bucket x"), as an
    exception to raise from it; None when it is none of them (a request we built wrong is a bug)."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code"))
        said = _one_line(str(error.response.get("Error", {}).get("Message") or error))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in DENIED:
            return Misconfigured(f"AWS refused an action ({code}) on {resource}: {said}")
        if code in MISSING_RESOURCE:
            return Misconfigured(f"{resource} does not exist ({code}): {said}")
        if code in BAD_CREDENTIALS:
            return Misconfigured(f"AWS did not accept the credentials for {resource} ({code}): {said}")
        if code in BUSY or status >= 500 or status == 429:
            return Transient(f"{resource} is unavailable for now ({code}): {said}")
        return None
    if isinstance(error, UNCONFIGURED):
        return Misconfigured(f"no AWS credentials or region for {resource}: {_one_line(str(error))}")
    if isinstance(error, UNREACHABLE):
        return Transient(f"{resource} is unreachable ({type(error).__name__}): {_one_line(str(error))}")
    return None


@contextmanager
def translated(resource: str) -> Iterator[None]:
    """Raise the project's class in place of a botocore error from the calls inside, chained to it.

    Outcomes the adapter expects (a missing object, a failed condition) are handled inside, before
    this sees them; an error of no class goes on as it is.
    """
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        translated_error = classify(error, resource)
        if translated_error is None:
            raise
        raise translated_error from error
