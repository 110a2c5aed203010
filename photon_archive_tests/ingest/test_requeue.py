"""When a ``queued`` object is asked for again, and under which run key: the rules on plain values."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from photon_archive.catalog.models import ObjectState
from photon_archive.ingest.delivery import RequestFate, needs_ingest, plan_runs
from photon_archive.ingest.objects import ObjectEvent, ObjectRef
from photon_archive.records import KnownObject
from photon_archive.run_tags import TAG_ASKED_AGAIN_FOR

KEY = "data/sro-kb001ms-20261124-00000001-EX00.txt"
NOW = datetime(2026, 11, 25, 3, 4, 5)
REQUEUE_AFTER = timedelta(minutes=2)
ETAG = "etag"
RUN_KEY = "event-abc"


def _queued(for_how_long: timedelta) -> KnownObject:
    return KnownObject(ETAG, ObjectState.QUEUED.value, NOW - for_how_long, RUN_KEY, NOW - timedelta(hours=1))


def _listed() -> ObjectRef:
    return ObjectRef(KEY, ObjectEvent.CREATED, 10, ETAG, NOW - timedelta(hours=1))


def _asked_again(known: KnownObject, fate: RequestFate) -> tuple[bool, list[str]]:
    looked_up: list[str] = []

    def request_fate(run_key: str) -> RequestFate:
        looked_up.append(run_key)
        return fate

    return needs_ingest(_listed(), known, NOW, REQUEUE_AFTER, request_fate, listed=True), looked_up


def test_an_object_whose_request_came_to_nothing_is_asked_for_again_after_the_delay() -> None:
    for fate in (RequestFate.NO_RUN, RequestFate.NEVER_STARTED):
        assert _asked_again(_queued(REQUEUE_AFTER * 2), fate) == (True, [RUN_KEY])


def test_an_object_whose_run_is_in_hand_waits_for_it() -> None:
    # Queued, running, to be retried, or ran and failed: that run's outcome (or its operator) decides.
    assert _asked_again(_queued(REQUEUE_AFTER * 2), RequestFate.IN_HAND) == (False, [RUN_KEY])


def test_within_the_delay_no_run_is_looked_up_and_nothing_asked_again() -> None:
    for fate in RequestFate:
        assert _asked_again(_queued(REQUEUE_AFTER / 2), fate) == (False, [])


def test_a_request_made_again_after_runs_that_never_started_gets_a_new_run_key() -> None:
    refs = [_listed()]
    (first,) = plan_runs(refs, "scan", 500)
    (same,) = plan_runs(refs, "scan", 500)
    (again,) = plan_runs(refs, "scan", 500, {KEY: first.run_key})
    assert same.run_key == first.run_key  # a tick evaluated twice asks for one run
    assert again.run_key != first.run_key  # Dagster launches nothing for a run key it has used
    assert again.refs == first.refs
    # The new run names the key it asks again for, so that its success resolves that key's failures.
    assert TAG_ASKED_AGAIN_FOR not in first.tags
    assert again.tags == {**first.tags, TAG_ASKED_AGAIN_FOR: first.run_key}


@given(earlier=st.lists(st.text(min_size=1, max_size=20), min_size=2, max_size=5, unique=True))
def test_each_earlier_run_key_gives_its_own_new_run_key(earlier: list[str]) -> None:
    keys = {plan_runs([_listed()], "scan", 500, {KEY: run_key})[0].run_key for run_key in earlier}
    assert len(keys) == len(earlier)
    assert plan_runs([_listed()], "scan", 500)[0].run_key not in keys
