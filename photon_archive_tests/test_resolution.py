"""Which failed runs a successful run resolves, on plain values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from photon_archive.resolution import RunFacts, resolved_by, resolves

SUCCESS = RunFacts("s", root_run_id="root", run_key=None, created=100.0)


def test_a_success_resolves_the_failed_runs_of_its_lineage_before_it() -> None:
    original = RunFacts("root", root_run_id=None, run_key=None, created=10.0)
    retry = RunFacts("r1", root_run_id="root", run_key=None, created=20.0)

    assert resolved_by(SUCCESS, [retry, original]) == ["root", "r1"]


def test_a_success_resolves_the_failed_runs_of_its_run_key_whatever_their_lineage() -> None:
    success = RunFacts("s", root_run_id=None, run_key="event:abc", created=100.0)
    same_key = RunFacts("f", root_run_id=None, run_key="event:abc", created=50.0)
    other_key = RunFacts("g", root_run_id=None, run_key="event:xyz", created=50.0)
    no_key = RunFacts("h", root_run_id=None, run_key=None, created=50.0)

    assert resolved_by(success, [same_key, other_key, no_key]) == ["f"]


def test_a_success_resolves_the_failed_runs_of_the_run_keys_it_asked_again_for() -> None:
    success = RunFacts(
        "s", root_run_id=None, run_key="scan:new", created=100.0, asked_again_for=frozenset({"event:a"})
    )
    never_started = RunFacts("f", root_run_id=None, run_key="event:a", created=50.0)
    other_key = RunFacts("g", root_run_id=None, run_key="event:b", created=50.0)

    assert resolved_by(success, [never_started, other_key]) == ["f"]


def test_a_run_without_a_key_resolves_no_other_run_without_one() -> None:
    success = RunFacts("s", root_run_id=None, run_key=None, created=100.0)

    assert not resolves(success, RunFacts("f", root_run_id=None, run_key=None, created=50.0))


def test_a_failure_after_the_success_or_already_resolved_stays_as_it_is() -> None:
    later = RunFacts("later", root_run_id="root", run_key=None, created=200.0)
    resolved = RunFacts("done", root_run_id="root", run_key=None, created=50.0, resolved_by="other")

    assert resolved_by(SUCCESS, [later, resolved]) == []
    assert not resolves(SUCCESS, SUCCESS)


_runs = st.builds(
    RunFacts,
    run_id=st.sampled_from(["a", "b", "c", "d", "s"]),
    root_run_id=st.sampled_from([None, "a", "root"]),
    run_key=st.sampled_from([None, "k1", "k2"]),
    created=st.floats(min_value=0, max_value=200),
    resolved_by=st.sampled_from([None, "x"]),
)


@given(st.lists(_runs, max_size=12))
def test_resolved_runs_are_distinct_earlier_unresolved_and_related(failed: list[RunFacts]) -> None:
    ids = resolved_by(SUCCESS, failed)

    assert len(ids) == len(set(ids)) and SUCCESS.run_id not in ids
    for run_id in ids:
        run = next(run for run in failed if run.run_id == run_id and resolves(SUCCESS, run))
        assert run.created <= SUCCESS.created and run.resolved_by is None
        assert run.lineage == SUCCESS.lineage or (run.run_key is not None and run.run_key == SUCCESS.run_key)
