"""How long the fuzz tests run, and what they count.

Two hypothesis profiles, chosen by ``PHOTON_ARCHIVE_FUZZ_SECONDS``:

- unset (every ``make test``): ``fuzz-ci``, a fixed number of examples per test, derandomized so that
  CI tries the same inputs on every run and a failure there is a regression, never a lucky draw;
- a number of seconds (``make fuzz``): ``fuzz-long``, fresh random inputs, run again and again until
  the test's share of the budget is spent; a failure is saved in ``.hypothesis`` and replayed first.

Every input handed to a target goes through ``survives``, which counts it and lets only ``Rejected``
through, so the count printed at the end is the number of inputs each target was tried on.
"""

from __future__ import annotations

import functools
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings

from photon_archive.errors import Rejected

FUZZ_SECONDS = "PHOTON_ARCHIVE_FUZZ_SECONDS"
CI_EXAMPLES = 300  # per test: the fuzz part of a normal test run stays well under a minute on 2 cores
LONG_EXAMPLES = 500  # per hypothesis run in the long profile, which repeats runs until time is up

# Strategies build their inputs from valid files, so generation is slower than hypothesis expects.
_SLOW_DATA = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile(
    "fuzz-ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, deadline=None,
    suppress_health_check=_SLOW_DATA, print_blob=True,
)  # fmt: skip
settings.register_profile(
    "fuzz-long", max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=_SLOW_DATA, print_blob=True
)

TOTAL_SECONDS = float(os.environ.get(FUZZ_SECONDS) or 0)
PROFILE = settings.get_profile("fuzz-long" if TOTAL_SECONDS > 0 else "fuzz-ci")

tried: Counter[str] = Counter()  # target -> inputs handed to it
accepted: Counter[str] = Counter()  # target -> inputs it took as good (the rest it rejected)
spent: defaultdict[str, float] = defaultdict(float)  # target -> seconds its tests ran
failed: set[str] = set()  # targets one of whose tests failed
selected_tests = 0  # fuzz tests in this session, set once collection is done

Test = TypeVar("Test", bound=Callable[..., None])


def survives(target: str, call: Callable[[], Any]) -> Any:
    """``call()``'s result, or None when it refused its input with a reason; any other exception fails."""
    tried[target] += 1
    try:
        result = call()
    except Rejected as rejection:
        assert rejection.reason, "a rejection must say why"
        return None
    accepted[target] += 1
    return result


def fuzz(target: str) -> Callable[[Test], Test]:
    """Run a ``@given`` test of ``target`` under the chosen profile, repeatedly when time-boxed."""

    def decorate(test: Test) -> Test:
        profiled = PROFILE(test)

        @functools.wraps(test)
        def run(*args: Any, **kwargs: Any) -> None:
            started = time.monotonic()
            deadline = started + TOTAL_SECONDS / max(selected_tests, 1)
            try:
                profiled(*args, **kwargs)
                while TOTAL_SECONDS and time.monotonic() < deadline:
                    profiled(*args, **kwargs)
            except BaseException:
                failed.add(target)
                raise
            finally:
                spent[target] += time.monotonic() - started

        run.fuzz_target = target  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return decorate
