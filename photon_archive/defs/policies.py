"""The policies every job shares: how a failure's class becomes what Dagster does, the retry policy,
and the bound on a run's size.

The classes are the contract (``errors.py``); this is the one place they meet Dagster. Every op
of the project is made with ``contract_op``, which keeps it for the op's whole body:

- ``Transient`` becomes a failure the op's ``TRANSIENT_RETRY`` retries with backoff; the last one
  is not retried and says so ("...; retried 3 times", not Dagster's "Exceeded max_retries"), and
  fails the run, where "re-execute from failure" finishes it;
- ``Misconfigured`` fails the step at once, no retry, with its one line as the description;
- anything else is a bug and fails the step at once too: retrying a bug three times only delays
  the page.

Every failure's description is one line naming the cause (``headlines.py``); the traceback, with
the vendor's error, its SQL and parameters, is in its metadata and not chained to it, so the UI
shows the line first and the detail on demand.

``Rejected`` never gets here: the batch records it against its object and goes on.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any, TypeVar

from dagster import (
    Backoff,
    DagsterInvariantViolationError,
    Failure,
    Jitter,
    MetadataValue,
    OpDefinition,
    OpExecutionContext,
    RetryPolicy,
    RetryRequested,
    op,
)

from photon_archive.errors import Misconfigured, Transient
from photon_archive.headlines import one_line, retried

# Delays of 2±2 s, 6±2 s and 14±2 s: a database restart or an S3 brown-out is over by the last one.
TRANSIENT_RETRY = RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS)


class Action(Enum):
    """What a step does with an exception that reached it."""

    RETRY = "retry with backoff"
    FAIL_AT_ONCE = "fail at once"
    AS_DECIDED = "as Dagster was told"  # a Failure or RetryRequested raised on purpose


def action_for(error: BaseException) -> Action:
    """The action the contract takes for ``error``."""
    if isinstance(error, (Failure, RetryRequested)):
        return Action.AS_DECIDED
    if isinstance(error, Transient):
        return Action.RETRY
    return Action.FAIL_AT_ONCE


def failure_for(error: BaseException, retry_number: int = 0) -> Failure:
    """The failure a step ends with for ``error`` on its attempt after ``retry_number`` retries: a
    transient one in its own line, retried until the policy's retries are spent; a misconfiguration
    in its own line; a bug named by its type. Each keeps its traceback in the metadata."""
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    metadata = {"traceback": MetadataValue.text(trace)}
    headline = one_line(str(error))
    if isinstance(error, Transient):
        if retry_number < TRANSIENT_RETRY.max_retries:
            return Failure(description=headline, metadata=metadata, allow_retries=True)
        return Failure(description=retried(headline, retry_number), metadata=metadata, allow_retries=False)
    if isinstance(error, Misconfigured):
        return Failure(description=headline, metadata=metadata, allow_retries=False)
    return Failure(
        description=f"a bug, not retried: {type(error).__name__}: {headline}",
        metadata=metadata,
        allow_retries=False,
    )


def _retry_number() -> int:
    """How many times the step running now was retried; 0 outside a step."""
    try:
        return OpExecutionContext.get().retry_number
    except DagsterInvariantViolationError:
        return 0


@contextmanager
def retry_contract() -> Iterator[None]:
    """Around every op body: what escapes it is retried or failed at once by its class."""
    try:
        yield
    except Exception as error:
        if action_for(error) is Action.AS_DECIDED:
            raise
        raise failure_for(error, _retry_number()) from None


Body = TypeVar("Body", bound=Callable[..., Any])


def contract_op(body: Body | None = None, *, config_schema: Any = None) -> Any:
    """An op whose body keeps the contract: what escapes it is retried or failed at once by its class.

    ``@contract_op`` takes its config from a ``Config`` parameter as usual;
    ``@contract_op(config_schema=...)`` declares it in Dagster's plain schema instead, read from
    ``context.op_config``."""

    def decorate(body: Body) -> OpDefinition:
        @functools.wraps(body)
        def kept(*args: Any, **kwargs: Any) -> Any:
            with retry_contract():
                return body(*args, **kwargs)

        return op(retry_policy=TRANSIENT_RETRY, config_schema=config_schema)(kept)

    return decorate if body is None else decorate(body)


def refuse_oversized_run(objects: int, max_objects_per_run: int) -> None:
    """A run bigger than the sensors would ever plan (a launchpad list of keys) fails before it starts:
    no retry can shrink it, and the operator can split it or use the replay job, which has no bound."""
    if objects > max_objects_per_run:
        raise Failure(
            f"the run lists {objects} objects, more than the limit of {max_objects_per_run} "
            "(max_objects_per_run): launch them as several runs, or re-ingest them with the replay job",
            allow_retries=False,
        )
