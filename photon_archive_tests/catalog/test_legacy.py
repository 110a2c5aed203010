"""The rules for adopting legacy rows (catalog/legacy.py), on plain values."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photon_archive.catalog.legacy import (
    derived_header_source,
    merge_duplicates,
    recomputed_changes,
    right_ascension_units,
)
from photon_archive.catalog.rows import FLAGS, HEADER_COLUMNS, header_rank

BASE = "sro-kb001ms-20230501-00000002"
TXT = json.dumps({"DATE-OBS": "2023-05-01T04:59:30", "RAHRS": "8.25", "CRVAL1": "123.8", "CRVAL2": "45.5"})
TYPED = json.dumps({"DATE-OBS": "2023-05-01T04:59:31", "RAHRS": 8.25, "CRVAL1": 123.75, "SMARTSTK": False})


def _row(image_id: int, header: str | None = None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {column: None for column in HEADER_COLUMNS if column != "header_source"}
    row.update(
        {"image_id": image_id, "base_filename": BASE, "site": "sro", "data_type": "EX", "header": header}
    )
    row.update(dict.fromkeys(FLAGS))
    row.update(values)
    return row


# --------------------------------------------------------------------------------------------------
# where a stored header came from


@pytest.mark.parametrize(
    ("header", "source"),
    [
        (TXT, "txt"),  # the .txt path: strings only
        (TYPED, "small_fits"),  # the fits fallback: a number, a boolean
        (None, None),
        ("{}", None),  # an empty object is no header
        ('["RAHRS", "8.25"]', None),  # JSON, but not an object
        ("RAHRS = 8.25", None),  # not JSON
    ],
)
def test_a_header_of_strings_came_from_a_txt_and_a_typed_one_from_a_fits_file(
    header: str | None, source: str | None
) -> None:
    assert derived_header_source(header) == source


# --------------------------------------------------------------------------------------------------
# which unit a stored right ascension is in


@pytest.mark.parametrize(
    ("stored", "header", "units"),
    [
        (12.5, {"RAHRS": "12.5", "CRVAL1": "187.61"}, {"hours"}),  # before 2023-03-08: RAHRS stored
        (123.8, {"RAHRS": "8.25", "CRVAL1": "123.8"}, {"degrees"}),  # after: CRVAL1 stored, plate-solved
        (190.5, {"CRVAL1": "190.5"}, {"degrees"}),  # no RAHRS
        (12.7, {"CRVAL1": "190.5"}, {"hours"}),  # CRVAL1 in hours: stored as today's rule writes it
        (247.5, {"RAHRS": 16.5, "CRVAL1": 247.5}, {"degrees"}),  # typed values
        (0.0, {"RAHRS": "0.0"}, {"hours", "degrees"}),  # the same in either unit
        (2.0, {"RAHRS": "1.0", "CRVAL1": "15.0"}, set()),  # agrees with neither
        (190.5, {"CRVAL1": "190.5", "CTYPE1": "GLON-CAR"}, set()),  # CRVAL1 is not a right ascension
        (12.5, {"RA": "12:30:00"}, set()),  # RA was never stored by the legacy handler
        (None, {"RAHRS": "12.5"}, set()),
        (12.5, None, set()),
        (12.5, {"RAHRS": "twelve"}, set()),
    ],
)
def test_the_stored_header_shows_the_unit_its_right_ascension_was_written_in(
    stored: float | None, header: dict[str, object] | None, units: set[str]
) -> None:
    assert right_ascension_units(stored, header) == units


# --------------------------------------------------------------------------------------------------
# what today's rules would change


def test_recompute_turns_a_degree_row_to_the_headers_hours_and_nothing_else() -> None:
    header = json.loads(TXT)
    row = _row(
        3, TXT, capture_date=datetime(2023, 5, 1, 4, 59, 30), sort_date=datetime(2023, 5, 1, 4, 59, 30)
    )
    row.update(right_ascension=123.8, declination=45.5)

    assert recomputed_changes(row, header, "hours") == {"right_ascension": 8.25}
    assert recomputed_changes(row | {"right_ascension": 8.25}, header, "hours") == {}
    assert recomputed_changes(row | {"right_ascension": 8.25}, header, "degrees") == {
        "right_ascension": 123.75
    }


def test_recompute_reads_typed_values_and_parses_what_the_legacy_handler_could_not() -> None:
    header = {"DATE-OBS": "2022-01-05T06:00:00.250", "RAHRS": 3.75, "DEC": "-12d30m00s", "FILTER": "'L'"}
    row = _row(7, json.dumps(header), capture_date=datetime(2022, 1, 5, 6), sort_date=datetime(2022, 1, 5, 6))
    row.update(right_ascension=3.75, declination=None, filter_used="")

    assert recomputed_changes(row, header, "hours") == {
        "capture_date": datetime(2022, 1, 5, 6, 0, 0, 250000),
        "sort_date": datetime(2022, 1, 5, 6, 0, 0, 250000),
        "declination": -12.5,
        "filter_used": "L",
    }


def test_recompute_keeps_the_dates_of_a_header_without_a_usable_date_obs() -> None:
    row = _row(
        8, capture_date=datetime(2024, 1, 1, 4), sort_date=datetime(2024, 1, 1, 5), right_ascension=1.0
    )

    assert recomputed_changes(row, {"RAHRS": "1.0"}, "hours") == {}


# --------------------------------------------------------------------------------------------------
# merging a duplicate group


def test_the_lowest_id_survives_with_the_best_header_and_every_flag() -> None:
    jpg = _row(3, capture_date=datetime(2023, 5, 1, 5, 0, 7), jpg_medium_exists=True)
    fits = _row(
        4, TYPED, capture_date=datetime(2023, 5, 1, 4, 59, 31), fits_10_exists=True, right_ascension=123.75
    )
    txt = _row(
        5, TXT, capture_date=datetime(2023, 5, 1, 4, 59, 30), fits_01_exists=True, right_ascension=123.8
    )

    merge = merge_duplicates([txt, jpg, fits])

    assert (merge.survivor, merge.merged_away) == (3, (4, 5))
    assert merge.row["image_id"] == 3
    assert [merge.row[flag] for flag in FLAGS] == [True, True, True, False]
    assert {column: merge.row[column] for column in ("header", "capture_date", "right_ascension")} == {
        "header": TXT,
        "capture_date": datetime(2023, 5, 1, 4, 59, 30),
        "right_ascension": 123.8,
    }


def test_without_a_header_the_group_keeps_its_earliest_upload_time() -> None:
    later = _row(10, capture_date=datetime(2024, 1, 2, 4, 0, 5), sort_date=datetime(2024, 1, 2, 4, 0, 5))
    earlier = _row(11, capture_date=datetime(2024, 1, 2, 4, 0, 3), sort_date=datetime(2024, 1, 2, 4, 0, 4))

    merge = merge_duplicates([later, earlier])

    assert (merge.row["capture_date"], merge.row["sort_date"]) == (
        datetime(2024, 1, 2, 4, 0, 3),
        datetime(2024, 1, 2, 4, 0, 4),
    )


def test_a_stored_header_source_ranks_as_the_catalog_ranks_it() -> None:
    small = _row(1, TXT, header_source="small_fits", right_ascension=1.0)
    large = _row(2, TYPED, header_source="large_fits", right_ascension=2.0)

    merge = merge_duplicates([small, large])

    assert (merge.row["right_ascension"], merge.row["header_source"]) == (2.0, "large_fits")


def test_site_and_data_type_come_from_the_first_row_that_has_them() -> None:
    merge = merge_duplicates([_row(1, site=None, data_type=None), _row(2, site="mrc", data_type="EF")])

    assert (merge.row["site"], merge.row["data_type"]) == ("mrc", "EF")


flags = st.sampled_from([None, False, True])
moments = st.none() | st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 12, 31))
headers = st.sampled_from([None, TXT, TYPED, "not json", "{}"])


@st.composite
def groups(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=6, unique=True))
    return [
        _row(
            image_id,
            draw(headers),
            capture_date=draw(moments),
            sort_date=draw(moments),
            right_ascension=draw(st.none() | st.floats(0, 360)),
            site=draw(st.sampled_from([None, "sro"])),
            **{flag: draw(flags) for flag in FLAGS},
        )
        for image_id in ids
    ]


@given(groups(), st.randoms(use_true_random=False))
def test_a_merged_group_is_its_lowest_id_with_the_or_of_its_flags_in_any_order(
    rows: list[dict[str, Any]], random: Any
) -> None:
    shuffled = list(rows)
    random.shuffle(shuffled)

    merge = merge_duplicates(rows)

    assert merge_duplicates(shuffled) == merge
    ids = sorted(row["image_id"] for row in rows)
    assert (merge.survivor, merge.merged_away) == (ids[0], tuple(ids[1:]))
    assert merge.row["image_id"] == ids[0]
    for flag in FLAGS:
        assert merge.row[flag] is any(row[flag] is True for row in rows)
    ranks = [header_rank(derived_header_source(row["header"])) for row in rows]
    if max(ranks) > 0:
        winners = [row for row, rank in zip(rows, ranks, strict=True) if rank == max(ranks)]
        best = min(winners, key=lambda row: row["image_id"])
        assert all(merge.row[column] == best[column] for column in HEADER_COLUMNS if column in best)
    else:
        for column in ("capture_date", "sort_date"):
            assert merge.row[column] == min((r[column] for r in rows if r[column] is not None), default=None)
