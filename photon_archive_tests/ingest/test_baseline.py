"""What the baseline records as it stands, what it brings up to date and what it leaves to the
sensors, on plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photon_archive.catalog.rows import FLAGS
from photon_archive.ingest import baseline
from photon_archive.ingest.baseline import BASELINE_REACH
from photon_archive.ingest.decisions import Thumbnails, thumbnail_wanted
from photon_archive.records import ObjectInfo, StoredRow

BEGAN = datetime(2026, 12, 1, 18, 0, 0, 500_000, tzinfo=UTC)
OLD = datetime(2024, 5, 2, 3, 4, 5, tzinfo=UTC)
BASE = "sro-kb001ms-20240501-00000007"
WATCHED = ("data", "info-images", "allsky")
EVERYTHING = StoredRow(frozenset(FLAGS), has_header=True)


def info(key: str, at: datetime = OLD) -> ObjectInfo:
    return ObjectInfo(key, 10, f"etag-{key}", at, {})


def row(*flags: str, header: bool = True) -> StoredRow:
    return StoredRow(frozenset(flags), header)


def ingested(key: str, stored: StoredRow | None) -> bool:
    """Whether a page of ``key`` alone sends it through the ingest, its row being ``stored``."""
    rows = {} if stored is None else {(key.partition("/")[0], BASE): stored}
    plan = baseline.plan_page([info(key)], set(), rows, BEGAN)
    assert len(plan.record) + len(plan.ingest) == 1
    return bool(plan.ingest)


@pytest.mark.parametrize(
    ("file", "stored", "ingest"),
    [
        ("EX00.txt", None, True),  # no row yet: every file of the exposure makes it
        ("EX00.txt", row(), False),  # the header is there
        ("EX00.txt", row(*FLAGS, header=False), True),
        ("EX01.fits.bz2", row("fits_01_exists"), False),
        ("EX01.fits.bz2", row("fits_10_exists", "jpg_medium_exists"), True),
        ("EX10.fits.fz", row("fits_10_exists"), False),
        ("EX10.jpg", row("jpg_medium_exists"), True),  # its thumbnail was never made
        ("EX10.jpg", row("jpg_medium_exists", "jpg_small_exists"), False),
        ("EX13.jpg", row("jpg_medium_exists"), False),  # a medium jpg that has no thumbnail of its own
        ("EX11.jpg", row("jpg_small_exists"), False),
        ("EX11.jpg", row("jpg_medium_exists"), True),
        ("EX20.fits", row(), False),  # known, no flag
        ("EX20.fits", None, True),
    ],
)
def test_an_object_is_ingested_only_where_its_row_lacks_what_it_gives(
    file: str, stored: StoredRow | None, ingest: bool
) -> None:
    assert ingested(f"data/{BASE}-{file}", stored) is ingest
    assert ingested(f"allsky/{BASE}-{file}", stored) is ingest


def test_info_images_have_no_row_and_are_recorded_as_they_stand() -> None:
    assert not ingested(f"info-images/{BASE}-EX10.jpg", None)


@pytest.mark.parametrize(
    "key", ["data/sro-kb001ms-20240501-0007-EX00.txt", "data/notes.txt", f"data/2024/{BASE}-EX00.txt"]
)
def test_a_key_the_ingest_would_reject_goes_to_it_to_be_rejected_with_its_reason(key: str) -> None:
    assert ingested(key, EVERYTHING)


def test_an_object_of_the_second_the_baseline_began_in_is_left_to_the_sensors() -> None:
    keys = [f"data/{BASE}-EX00.txt", f"data/{BASE}-EX10.jpg", f"data/{BASE}-EX11.jpg"]
    page = [
        info(keys[0], BEGAN.replace(microsecond=0) - timedelta(seconds=1)),
        info(keys[1], BEGAN.replace(microsecond=0)),  # listed as 18:00:00, maybe uploaded at 18:00:00.9
        info(keys[2], BEGAN + timedelta(hours=1)),
    ]
    plan = baseline.plan_page(page, set(), {("data", BASE): EVERYTHING}, BEGAN)
    assert [i.key for i in plan.record] == keys[:1]
    assert (plan.ingest, plan.newer) == ([], 2)


NAMES = st.sampled_from(
    [
        f"{prefix}/{base}-{file}"
        for prefix in (*WATCHED, "data/sub")
        for base in (BASE, "sro-kb001ms-20240501-00000008")
        for file in ("EX00.txt", "EX01.fits.bz2", "EX10.jpg", "EX11.jpg", "EX20.tif")
    ]
    + ["data/junk", "allsky/sro-x-1-2-EX00.txt"]
)
STORED = st.none() | st.builds(StoredRow, st.frozensets(st.sampled_from(FLAGS)), st.booleans())


@given(
    keys=st.lists(NAMES, unique=True, max_size=30),
    data=st.data(),
)
def test_every_object_of_a_page_is_recorded_ingested_or_left_alone_once(
    keys: list[str], data: st.DataObject
) -> None:
    page = [info(key, data.draw(st.sampled_from([OLD, BEGAN, BEGAN + timedelta(days=1)]))) for key in keys]
    known = set(data.draw(st.lists(st.sampled_from(keys), unique=True))) if keys else set()
    rows = {}
    for prefix in ("data", "allsky"):
        for base in (BASE, "sro-kb001ms-20240501-00000008"):
            stored = data.draw(STORED)
            if stored is not None:
                rows[(prefix, base)] = stored

    plan = baseline.plan_page(page, known, rows, BEGAN)

    handled = [i.key for i in plan.record] + [i.key for i in plan.ingest]
    assert len(handled) + plan.known + plan.newer == len(page)
    assert plan.known == len(known)
    assert not set(handled) & known
    assert all(i.last_modified < BEGAN.replace(microsecond=0) for i in [*plan.record, *plan.ingest])
    assert all(key.startswith(("data/", "allsky/", "info-images/")) for key in (i.key for i in plan.record))


def test_the_thumbnails_looked_for_are_those_of_ingested_jpgs_that_neither_page_nor_ledger_has() -> None:
    jpgs = [
        info(f"data/{BASE}-EX10.jpg"),
        info(f"data/{BASE[:-1]}8-EX10.jpg"),
        info(f"data/{BASE[:-1]}9-EX10.jpg"),
    ]
    jpgs.append(info(f"data/{BASE}-EX13.jpg"))  # makes no thumbnail
    listed = {f"data/{BASE}-EX11.jpg"}
    known = {f"data/{BASE[:-1]}8-EX11.jpg"}

    assert baseline.thumbnails_to_look_for(jpgs, listed, known) == [f"data/{BASE[:-1]}9-EX11.jpg"]


def test_the_baseline_says_nothing_and_keeps_every_thumbnail_that_exists() -> None:
    jpg, thumbnail = info(f"data/{BASE}-EX10.jpg", BEGAN), info(f"data/{BASE}-EX11.jpg", OLD)
    assert not BASELINE_REACH.announces(BEGAN) and not BASELINE_REACH.shared_tables
    policy = BASELINE_REACH.thumbnails_for(BEGAN)
    assert policy is Thumbnails.WHEN_MISSING
    assert not thumbnail_wanted(thumbnail, jpg, policy)  # older than its jpg, and kept all the same
    assert thumbnail_wanted(None, jpg, policy)


def test_the_prefixes_default_to_the_watched_ones_narrowed_to_a_site() -> None:
    assert baseline.listing_prefixes([], "", WATCHED) == ["data/", "info-images/", "allsky/"]
    assert baseline.listing_prefixes(["allsky/", "data", "allsky"], "sro", WATCHED) == [
        "allsky/sro-",
        "data/sro-",
    ]


@pytest.mark.parametrize(
    ("prefixes", "site", "message"),
    [
        (
            ["downloads"],
            "",
            "prefix 'downloads' is not watched: the sensors watch only data, info-images, allsky",
        ),
        ([], "sro/x", "site 'sro/x' must be letters and digits"),
    ],
)
def test_a_prefix_or_site_that_cannot_be_baselined_is_refused_naming_it(
    prefixes: list[str], site: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        baseline.listing_prefixes(prefixes, site, WATCHED)
