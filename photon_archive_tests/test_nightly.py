"""The night's summary: every object counted once, no rejection lost, latency as an operator reads it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photon_archive.nightly import NightObject, Rejections, night_and_site, percentile, summarize
from photon_archive.records import ObjectState

NIGHT = date(2026, 11, 24)
UPLOAD = datetime(2026, 11, 24, 3, 0, 0)

objects = st.builds(
    NightObject,
    key=st.text(min_size=1, max_size=12),
    site=st.sampled_from(["sro", "mrc"]),
    night=st.sampled_from([NIGHT, NIGHT + timedelta(days=1)]),
    state=st.sampled_from([state.value for state in ObjectState]),
    reason=st.one_of(st.none(), st.sampled_from(["empty header", "not a decodable image", "too big"])),
    uploaded_at=st.one_of(st.none(), st.just(UPLOAD)),
    ingested_at=st.one_of(st.none(), st.integers(0, 10_000).map(lambda s: UPLOAD + timedelta(seconds=s))),
)


@given(st.lists(objects, max_size=40))
def test_the_states_sum_to_the_objects_of_the_night_and_site(rows: list[NightObject]) -> None:
    summary = summarize(NIGHT, "sro", rows)

    mine = [row for row in rows if (row.night, row.site) == (NIGHT, "sro")]
    assert summary.objects == len(mine)
    parts = (summary.ingested, summary.rejected, summary.queued, summary.failed, summary.removed)
    assert sum(parts) == summary.objects


@given(st.lists(objects, max_size=40))
def test_grouping_by_reason_loses_no_rejection_and_each_example_has_its_reason(
    rows: list[NightObject],
) -> None:
    summary = summarize(NIGHT, "sro", rows)

    assert sum(group.count for group in summary.rejections) == summary.rejected
    assert len({group.reason for group in summary.rejections}) == len(summary.rejections)
    rejected = [r for r in rows if (r.night, r.site, r.state) == (NIGHT, "sro", ObjectState.REJECTED)]
    for group in summary.rejections:
        assert any(r.key == group.example and (r.reason or "") == group.reason for r in rejected)
    counts = [group.count for group in summary.rejections]
    assert counts == sorted(counts, reverse=True)


@given(st.lists(objects, max_size=40))
def test_latency_is_only_of_ingested_objects_and_the_p95_is_never_below_the_median(
    rows: list[NightObject],
) -> None:
    summary = summarize(NIGHT, "sro", rows)

    timed = [
        r
        for r in rows
        if (r.night, r.site, r.state) == (NIGHT, "sro", ObjectState.INGESTED)
        and r.uploaded_at is not None
        and r.ingested_at is not None
    ]
    if not timed:
        assert summary.latency_median_s is None and summary.latency_p95_s is None
    else:
        assert summary.latency_median_s is not None and summary.latency_p95_s is not None
        assert 0 <= summary.latency_median_s <= summary.latency_p95_s <= 10_000


def test_a_night_with_a_rejection_and_a_slow_object_reads_as_expected() -> None:
    def row(n: int, state: str, seconds: int | None = None, reason: str | None = None) -> NightObject:
        ingested = None if seconds is None else UPLOAD + timedelta(seconds=seconds)
        return NightObject(
            f"data/sro-kb001ms-20261124-{n:08d}-EX10.jpg", "sro", NIGHT, state, reason, UPLOAD, ingested
        )

    rows = [row(n, "ingested", 10) for n in range(1, 20)] + [
        row(20, "ingested", 600),
        row(21, "rejected", reason="the header file is empty (zero bytes)"),
        row(22, "queued"),
        NightObject("data/mrc-kb001ms-20261124-00000001-EX10.jpg", "mrc", NIGHT, "rejected", "other"),
    ]

    summary = summarize(NIGHT, "sro", rows)

    assert (summary.objects, summary.ingested, summary.rejected, summary.queued) == (22, 20, 1, 1)
    assert summary.rejections == (
        Rejections("the header file is empty (zero bytes)", 1, "data/sro-kb001ms-20261124-00000021-EX10.jpg"),
    )
    assert (summary.latency_median_s, summary.latency_p95_s) == (10.0, 10.0)
    assert percentile([10.0] * 19 + [600.0], 1.0) == 600.0


def test_night_and_site_come_from_the_name_and_a_bad_name_has_none() -> None:
    assert night_and_site("allsky/mrc-sq01-20261125-00000007-EX10.jpg") == (date(2026, 11, 25), "mrc")
    assert night_and_site("data/not-a-name.jpg") is None
    with pytest.raises(ValueError):
        percentile([], 0.5)
