"""The ingest's decisions on plain values: no server, no bucket, no table, only the rules.

Each test hands the decision functions what S3, the catalog and the ledger would say, and the bytes
a read would return, and checks what they decide. The real-parts tests beside this file check that
the executor and the adapters carry the decisions out.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from photon_archive.catalog.models import ObjectState
from photon_archive.catalog.rows import FLAGS, Contribution, merge
from photon_archive.headers import ParsedHeader, parse_text_header, read_fits_header
from photon_archive.ingest import decisions
from photon_archive.ingest.decisions import IngestSettings, Outcome, Reach, Thumbnails, Work
from photon_archive.ingest.objects import ObjectEvent, ObjectRef
from photon_archive.naming import parse_key, thumbnail_key
from photon_archive.records import KnownObject, ObjectInfo
from photon_archive.retention import parse_rules
from photon_archive.thumbnails import make_thumbnail
from photon_archive_workshop.sample import sample_exposures

NIGHT = datetime(2026, 11, 24, tzinfo=UTC)
SETTINGS = IngestSettings()
BASE = "data/sro-kb001ms-20261124-00000001"


def info(key: str, at: datetime = NIGHT, metadata: dict[str, str] | None = None) -> ObjectInfo:
    return ObjectInfo(key, 1000, f"etag-{key}", at, metadata or {})


def ref(key: str, at: datetime = NIGHT) -> ObjectRef:
    return ObjectRef(key, ObjectEvent.CREATED, 1000, f"etag-{key}", at)


# --------------------------------------------------------------------------------------------------
# one exposure's files in every order, through the decisions alone


@cache
def exposure_files() -> dict[str, tuple[bytes, datetime]]:
    """The sample exposure's five files (its thumbnail made as the ingest makes it), a second apart."""
    files: dict[str, tuple[bytes, datetime]] = {}
    for number, sample in enumerate(sample_exposures(night=NIGHT.date(), count=1)):
        files[sample.key] = (sample.body, NIGHT + timedelta(seconds=number))
        name = parse_key(sample.key)
        if name.makes_thumbnail:
            files[thumbnail_key(name)] = (make_thumbnail(sample.body), NIGHT + timedelta(seconds=10))
    return files


def read(work: Work, files: dict[str, tuple[bytes, datetime]]) -> ParsedHeader | None:
    """What the executor's read of ``work`` returns, from the file's bytes."""
    body = files[work.name.key][0]
    if work.header == "txt":
        return parse_text_header(body)
    if work.header == "fits":
        return read_fits_header(io.BytesIO(body), work.name.compression)
    return None


def ingest(
    keys: Sequence[str],
    rows: dict[str, dict[str, object]],
    ledger: dict[str, KnownObject],
    files: dict[str, tuple[bytes, datetime]],
) -> list[Outcome]:
    """One batch of ``keys`` decided against the catalog ``rows`` and the ``ledger``, both updated."""
    batch = decisions.sort_refs([ref(key, files[key][1]) for key in keys], "run")
    objects = [(name, info(r.key, files[r.key][1])) for r, name in batch.created]
    candidates = decisions.fits_header_candidates(objects)
    stored = {base: str(row["header_source"]) for base, row in rows.items() if row["header_source"]}
    work = decisions.plan(
        objects,
        decisions.fits_headers_to_read(candidates, stored),
        decisions.never_thumbnailed(objects, ledger),
        {},
    )
    outcomes = [decisions.examined(item, read(item, files), item.thumbnail, SETTINGS) for item in work]
    for contribution in decisions.ingested_exposures(outcomes, "data"):
        rows[contribution.base_filename] = merge(rows.get(contribution.base_filename), contribution)
    for outcome in outcomes:
        record = decisions.ledger_record(outcome, "run")
        ledger[record.key] = KnownObject(record.etag, record.state, NIGHT, None, record.last_modified)
    return outcomes


def test_five_files_in_all_120_arrival_orders_decide_one_and_the_same_row() -> None:
    files = exposure_files()
    assert len(files) == 5
    together: dict[str, dict[str, object]] = {}
    ingest(list(files), together, {}, files)
    (expected,) = together.values()
    assert expected["header_source"] == "txt" and all(expected[flag] for flag in FLAGS)

    orders = list(itertools.permutations(files))
    assert len(orders) == 120
    for order in orders:
        rows: dict[str, dict[str, object]] = {}
        ledger: dict[str, KnownObject] = {}
        for key in order:
            ingest([key], rows, ledger, files)
        assert list(rows.values()) == [expected], order


def test_a_fits_header_is_read_only_while_no_better_one_is_stored() -> None:
    files = exposure_files()
    large, small = f"{BASE}-EX01.fits.bz2", f"{BASE}-EX10.fits.fz"
    objects = [(parse_key(key), info(key)) for key in (large, small)]
    candidates = decisions.fits_header_candidates(objects)
    assert decisions.fits_headers_to_read(candidates, {}) == {large}
    assert decisions.fits_headers_to_read(candidates, {BASE.split("/")[1]: "small_fits"}) == {large}
    assert decisions.fits_headers_to_read(candidates, {BASE.split("/")[1]: "large_fits"}) == set()
    assert decisions.fits_headers_to_read(candidates, {BASE.split("/")[1]: "txt"}) == set()
    with_txt = [*objects, (parse_key(f"{BASE}-EX00.txt"), info(f"{BASE}-EX00.txt"))]
    assert decisions.fits_header_candidates(with_txt) == {}
    assert files  # the same exposure the order test uses


# --------------------------------------------------------------------------------------------------
# merging contributions


def contributions() -> st.SearchStrategy[Contribution]:
    moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31))
    header = st.fixed_dictionaries(
        {
            "capture_date": moments,
            "sort_date": moments,
            "right_ascension": st.floats(0, 24, exclude_max=True),
            "header": st.sampled_from(['{"A": "1"}', '{"B": "2"}']),
            "header_source": st.sampled_from(["txt", "large_fits", "small_fits"]),
        }
    )
    return st.builds(
        Contribution,
        base_filename=st.just("sro-kb001ms-20261124-00000001"),
        site=st.just("sro"),
        data_type=st.just("EX"),
        upload_time=moments,
        flag=st.sampled_from([None, *FLAGS]),
        header_columns=st.none() | header,
    )


def fold(items: Iterable[Contribution]) -> dict[str, object] | None:
    row: dict[str, object] | None = None
    for item in items:
        row = merge(row, item)
    return row


@settings(max_examples=200)
@given(st.lists(contributions(), min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_merging_is_the_same_in_any_order(items: list[Contribution], random: Random) -> None:
    # One header per source, as one exposure has one .txt, one large and one small fits.
    sources = {c.header_columns["header_source"]: c for c in items if c.header_columns}
    items = [c for c in items if not c.header_columns] + list(sources.values())
    shuffled = list(items)
    random.shuffle(shuffled)
    assert fold(shuffled) == fold(items)


def test_until_a_header_comes_the_row_holds_the_earliest_upload_time() -> None:
    early, late = datetime(2026, 11, 24, 3), datetime(2026, 11, 24, 4)
    first = Contribution("b", "sro", "EX", late, "jpg_medium_exists")
    row = merge(merge(None, first), Contribution("b", "sro", "EX", early, "fits_01_exists"))
    assert row["capture_date"] == row["sort_date"] == early
    assert row["jpg_medium_exists"] and row["fits_01_exists"] and not row["fits_10_exists"]


# --------------------------------------------------------------------------------------------------
# what the names, the ledger and DynamoDB decide


def test_refused_names_and_removals_are_recorded_and_the_last_reference_of_a_key_stands() -> None:
    jpg = f"{BASE}-EX10.jpg"
    batch = decisions.sort_refs(
        [ref("data/not-a-name.fits"), ref(jpg), ObjectRef(jpg, ObjectEvent.REMOVED), ref("test/x-y.txt")],
        "run",
    )
    assert batch.created == []
    assert [n.key for _, n in batch.removals] == [jpg]
    states = {record.key: (record.state, record.reason) for record in batch.ledger}
    assert states[jpg] == ("removed", "removed from the bucket")
    assert states["data/not-a-name.fits"][0] == "rejected"
    assert "must be 8 digits" in str(states["data/not-a-name.fits"][1])
    assert states["test/x-y.txt"][0] == "rejected"


def test_an_event_reference_is_always_described_by_s3_before_it_is_examined() -> None:
    event = ObjectRef(f"{BASE}-EX10.jpg", size=10, etag="e", event_time=NIGHT)
    assert decisions.needs_head(event)
    assert not decisions.needs_head(ref(f"{BASE}-EX10.jpg"))
    assert decisions.needs_head(ref("info-images/sro-kb001ms-20261124-00000001-EX10.jpg"))


def test_a_thumbnail_is_looked_for_only_where_the_ledger_cannot_rule_it_out() -> None:
    jpg, thumb = f"{BASE}-EX10.jpg", f"{BASE}-EX11.jpg"
    objects = [(parse_key(jpg), info(jpg)), (parse_key(f"{BASE}-EX13.jpg"), info(f"{BASE}-EX13.jpg"))]
    assert decisions.thumbnail_lookups(objects) == [jpg, thumb]
    assert decisions.never_thumbnailed(objects, {}) == {jpg}
    seen = KnownObject("e", ObjectState.INGESTED.value, NIGHT, None)
    assert decisions.never_thumbnailed(objects, {thumb: seen}) == set()
    assert decisions.never_thumbnailed(objects, {jpg: seen}) == set()


@pytest.mark.parametrize(
    ("policy", "when_none", "when_older", "when_as_new"),
    [
        (Thumbnails.WHEN_OLDER, True, True, False),
        (Thumbnails.ALWAYS, True, True, True),
        (Thumbnails.WHEN_MISSING, True, False, False),
        (Thumbnails.NEVER, False, False, False),
    ],
)
def test_a_thumbnail_is_written_as_its_policy_says(
    policy: Thumbnails, when_none: bool, when_older: bool, when_as_new: bool
) -> None:
    jpg, thumb = f"{BASE}-EX10.jpg", f"{BASE}-EX11.jpg"
    assert decisions.thumbnail_wanted(None, info(jpg), policy) is when_none
    older = info(thumb, NIGHT - timedelta(seconds=1))
    assert decisions.thumbnail_wanted(older, info(jpg), policy) is when_older
    assert decisions.thumbnail_wanted(info(thumb, NIGHT), info(jpg), policy) is when_as_new


@pytest.mark.parametrize("policy", list(Thumbnails))
def test_a_jpg_from_before_the_cutover_gets_a_thumbnail_only_where_none_exists(policy: Thumbnails) -> None:
    reach = Reach(announce_since=NIGHT, thumbnails=policy)
    before, after = NIGHT - timedelta(seconds=1), NIGHT
    # Remaking an old exposure's thumbnail would make a new upload, announced when it is ingested.
    expected = Thumbnails.WHEN_MISSING if policy is Thumbnails.WHEN_OLDER else policy
    assert reach.thumbnails_for(before) is expected
    assert reach.thumbnails_for(after) is policy
    assert Reach(thumbnails=policy).thumbnails_for(before) is policy


def test_an_info_image_without_a_channel_is_refused_before_any_work_is_planned() -> None:
    key = "info-images/sro-kb001ms-20261124-00000001-EX10.jpg"
    objects = [
        (parse_key(key), info(key)),
        (parse_key(key.replace("01-EX", "02-EX")), info(key, metadata={})),
    ]
    assert decisions.sites_needing_metadata(objects) == {"sro"}
    (lost, by_site) = decisions.plan(
        objects, set(), set(), {"sro": {"channel2": parse_key(key).base_filename}}
    )
    assert lost.channel == 2 and lost.refused is None and lost.thumbnail
    assert by_site.refused is not None and "no info channel" in by_site.refused
    assert decisions.refused(by_site, by_site.refused).contributions == ()


def test_a_13_jpg_plans_no_thumbnail_and_sets_only_its_medium_flag() -> None:
    key = f"{BASE}-EX13.jpg"
    (work,) = decisions.plan([(parse_key(key), info(key))], set(), {key}, {})
    assert not work.thumbnail
    outcome = decisions.examined(work, None, False, SETTINGS)
    assert [c.flag for c in outcome.contributions] == ["jpg_medium_exists"]


def test_what_a_job_asks_for_stays_within_what_the_deployment_reaches() -> None:
    cutover, later = NIGHT, NIGHT + timedelta(days=1)
    beside = Reach(announce=False, announce_since=cutover, shared_tables=False, thumbnails=Thumbnails.NEVER)
    forced = Reach(thumbnails=Thumbnails.ALWAYS, announce_since=later)
    assert forced.within(beside) == Reach(False, later, False, Thumbnails.NEVER)
    assert forced.within(Reach(announce_since=cutover)) == forced
    baseline = Reach(announce=False, shared_tables=False, thumbnails=Thumbnails.WHEN_MISSING)
    assert baseline.within(Reach()) == baseline
    assert baseline.within(beside).thumbnails is Thumbnails.NEVER


def test_a_medium_jpg_claims_its_thumbnail_unless_the_ingest_never_writes_one() -> None:
    key = f"{BASE}-EX10.jpg"
    (work,) = decisions.plan([(parse_key(key), info(key))], set(), {key}, {})
    claimed = decisions.examined(work, None, True, SETTINGS)
    assert [c.flag for c in claimed.contributions] == ["jpg_medium_exists", "jpg_small_exists"]
    beside = replace(SETTINGS, reach=Reach(announce=False, shared_tables=False, thumbnails=Thumbnails.NEVER))
    unclaimed = decisions.examined(work, None, False, beside)
    assert [c.flag for c in unclaimed.contributions] == ["jpg_medium_exists"]


# --------------------------------------------------------------------------------------------------
# what follows: items, entries, notifications


def outcome(key: str, at: datetime = NIGHT, state: ObjectState = ObjectState.INGESTED) -> Outcome:
    return Outcome(parse_key(key), info(key, at), state)


def test_the_upload_log_takes_every_ingested_object_of_data_and_allsky_only() -> None:
    outcomes = [
        outcome(f"{BASE}-EX10.jpg"),
        outcome("allsky/sro-sq01-20261124-00000001-EX10.jpg"),
        outcome("info-images/sro-kb001ms-20261124-00000001-EX10.jpg"),
        outcome(f"{BASE}-EX00.txt", state=ObjectState.REJECTED),
    ]
    items = decisions.upload_log_items(outcomes, timedelta(hours=48), Reach())
    assert [item.filename for item in items] == [outcomes[0].name.key, outcomes[1].name.key]
    assert all(item.expire_timestamp_s - item.upload_timestamp_s == 48 * 3600 for item in items)


@pytest.mark.parametrize(
    "reach", [Reach(announce=False), Reach(announce_since=NIGHT + timedelta(seconds=1))], ids=str
)
def test_what_is_not_announced_gets_no_upload_log_item_and_no_notification(reach: Reach) -> None:
    outcomes = [outcome(f"{BASE}-EX10.jpg"), outcome(f"{BASE}-EX00.txt")]
    ledger = [decisions.ledger_record(o, "run") for o in outcomes]
    assert decisions.upload_log_items(outcomes, timedelta(hours=48), reach) == []
    result = decisions.summary(outcomes, ledger, reach)
    assert result.notifications == []
    assert result.ingested == 2  # ingested all the same


def test_an_object_uploaded_at_or_after_the_cutover_is_announced() -> None:
    since = NIGHT + timedelta(seconds=5)
    outcomes = [outcome(f"{BASE}-EX10.jpg"), outcome(f"{BASE}-EX00.txt", since)]
    reach = Reach(announce_since=since)
    (item,) = decisions.upload_log_items(outcomes, timedelta(hours=48), reach)
    assert item.filename == f"{BASE}-EX00.txt"
    ledger = [decisions.ledger_record(o, "run") for o in outcomes]
    assert len(decisions.summary(outcomes, ledger, reach).notifications) == 1


def test_an_expiring_exposure_gets_one_entry_from_its_earliest_file() -> None:
    rules = parse_rules("EP=604800,tst:EP=300")
    ep = "data/tst-kb001ms-20261124-00000001-EP"
    outcomes = [
        outcome(f"{ep}10.jpg", NIGHT + timedelta(seconds=5)),
        outcome(f"{ep}00.txt"),
        outcome(f"{BASE}-EX00.txt"),
    ]
    (entry,) = decisions.expiration_entries(outcomes, rules)
    assert entry.base_filename == "tst-kb001ms-20261124-00000001"
    assert entry.expiration_timestamp_s == int(NIGHT.timestamp()) + 300


@pytest.mark.parametrize("superseded", [False, True])
def test_one_notification_per_exposure_and_none_for_a_channel_that_shows_a_newer_one(
    superseded: bool,
) -> None:
    info_key = "info-images/sro-kb001ms-20261124-00000002-EX10.jpg"
    channel = Outcome(parse_key(info_key), info(info_key), channel=3)
    if superseded:
        channel = decisions.superseded(channel)
    outcomes = [outcome(f"{BASE}-EX10.jpg"), outcome(f"{BASE}-EX00.txt"), channel]
    ledger = [decisions.ledger_record(o, "run") for o in outcomes]
    result = decisions.summary(outcomes, ledger, Reach())
    data = [message["data"] for message in result.notifications]
    expected: list[dict[str, object]] = [
        {"s3_directory": "data", "base_filename": "sro-kb001ms-20261124-00000001", "site": "sro"}
    ]
    if not superseded:
        expected.append(
            {
                "s3_directory": "info-images",
                "base_filename": channel.name.base_filename,
                "site": "sro",
                "channel": 3,
            },
        )
    assert data == expected
    assert result.ingested == 3
