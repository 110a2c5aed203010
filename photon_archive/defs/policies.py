"""The policies every job shares: how a failure's class becomes what Dagster does, the retry policy,
and the bound on a run's size.

The classes are the contract (``errors.py``); this is the one place they meet Dagster. Every op
of the project is made with ``contract_op``, which keeps it for the op's whole body:

- ``Transient`` propagates, and the op's ``TRANSIENT_RETRY`` retries the step with backoff, then
  fails the run, where "re-execute from failure" finishes it;
- ``Misconfigured`` fails the step at once, no retry, with its one line as the description;
- anything else is a bug and fails the step at once too, its traceback kept as the failure's cause
  and in its metadata: retrying a bug three times only delays the page.

``Rejected`` never gets here: the batch records it against its object and goes on.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any, TypeVar

from dagster import Backoff, Failure, Jitter, MetadataValue, OpDefinition, RetryPolicy, RetryRequested, op

from photon_archive.errors import Misconfigured, Transient

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


def failure_for(error: BaseException) -> Failure:
    """The failure, not retried, a step ends with for ``error``: a misconfiguration in its own one
    line; a bug named by its type, with its traceback in the metadata."""
    if isinstance(error, Misconfigured):
        return Failure(description=_one_line(str(error)), allow_retries=False)
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return Failure(
        description=f"a bug, not retried: {type(error).__name__}: {_one_line(str(error))}",
        metadata={"traceback": MetadataValue.text(trace)},
        allow_retries=False,
    )


@contextmanager
def retry_contract() -> Iterator[None]:
    """Around every op body: what escapes it is retried or failed at once by its class."""
    try:
        yield
    except Exception as error:
        if action_for(error) is not Action.FAIL_AT_ONCE:
            raise
        raise failure_for(error) from error


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


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"
