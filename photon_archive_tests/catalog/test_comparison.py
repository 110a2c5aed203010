"""The comparison with the legacy catalog, on plain row values: what counts as a difference, which
category each lands in, and the merge join that walks both catalogs in base-filename order."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photon_archive.catalog.comparison import (
    CATEGORIES,
    COMPARED_COLUMNS,
    DATES,
    NUMBERS,
    TEXTS,
    Comparison,
    Selection,
    compare_column,
    compare_table,
)
from photon_archive.catalog.rows import FLAGS

Row = dict[str, Any]
NIGHT = datetime(2026, 11, 24, 3, 0, 0, 125000)


def row(base_filename: str | None = "sro-kb001ms-20261124-00000001", **values: Any) -> Row:
    """A row as ours holds one: every flag set, a header of strings."""
    header = {"SIMPLE": "T", "EXPTIME": "30.0", "FILTER": "L", "COMMENT": "first\nsecond"}
    made: Row = {
        "base_filename": base_filename,
        "site": "sro",
        "data_type": "EX",
        "capture_date": NIGHT,
        "sort_date": NIGHT,
        "right_ascension": 5.25,
        "declination": -12.5,
        "altitude": 45.0,
        "azimuth": 180.0,
        "airmass": 1.41,
        "exposure_time": 30.0,
        "filter_used": "L",
        "username": "Vera Rubin",
        "user_id": "auth0|1",
        "header": json.dumps(header),
        **dict.fromkeys(FLAGS, True),
    }
    made.update(values)
    return made


def category(column: str, ours: object, legacy: object) -> str | None:
    difference = compare_column(column, ours, legacy)
    return None if difference is None else difference.category.name


# One column


def test_right_ascension_in_degrees_on_one_side_is_a_unit_difference_either_way() -> None:
    assert category("right_ascension", 5.25, 78.75) == "right_ascension_unit"  # legacy CRVAL1 degrees
    assert category("right_ascension", 78.75, 5.25) == "right_ascension_unit"  # ours written in degrees
    legacy = compare_column("right_ascension", 5.25, 78.75)
    assert legacy is not None and "degrees in the legacy row" in legacy.note
    # Rounding of a header's six decimals is no difference, in either unit.
    assert category("right_ascension", 5.25, 5.250004) is None
    assert category("right_ascension", 5.25, 78.75004) == "right_ascension_unit"


def test_any_other_right_ascension_or_declination_difference_is_its_own_category() -> None:
    assert category("right_ascension", 5.25, 6.25) == "right_ascension_other"
    assert category("right_ascension", 5.25, None) == "right_ascension_other"
    assert category("right_ascension", None, None) is None
    assert category("right_ascension", float("nan"), float("nan")) is None
    assert category("declination", -12.5, None) == "declination"  # the legacy DEC parse failed
    assert category("declination", -12.5, -12.500001) is None


def test_a_header_is_compared_as_the_object_its_json_holds() -> None:
    ours = json.dumps({"SIMPLE": "T", "EXPTIME": "30.0", "OBJECT": "M31"})
    assert (
        category("header", ours, json.dumps({"OBJECT": "M31", "EXPTIME": "30.0", "SIMPLE": "T"}, indent=2))
        is None
    )
    typed = compare_column("header", ours, json.dumps({"SIMPLE": True, "EXPTIME": 30, "OBJECT": "M31"}))
    assert typed is not None and typed.category.name == "header_typed_values"
    assert typed.note == "typed in the legacy row: EXPTIME, SIMPLE"
    assert typed.ours == {"EXPTIME": "30.0", "SIMPLE": "T"} and typed.legacy == {
        "EXPTIME": 30,
        "SIMPLE": True,
    }


def test_header_differences_beyond_typed_values_say_which_keys() -> None:
    ours = json.dumps({"SIMPLE": "T", "EXPTIME": "30.0", "COMMENT": "first\nsecond", "NEW": "1"})
    legacy = json.dumps({"SIMPLE": True, "EXPTIME": "30.0", "COMMENT": "second", "OLD": "x"})
    other = compare_column("header", ours, legacy)
    assert other is not None and other.category.name == "header_other"
    assert other.note == "only in ours: NEW; only in the legacy row: OLD; other values: COMMENT, SIMPLE"
    # A boolean is not the number 1, however Python compares them.
    assert category("header", json.dumps({"X": "T"}), json.dumps({"X": 1})) == "header_other"
    assert category("header", ours, "{not json") == "header_other"
    assert category("header", ours, None) == "header_other"
    assert category("header", None, None) is None


def test_a_null_flag_reads_as_not_set_as_the_readers_read_it() -> None:
    assert category("fits_01_exists", False, None) is None
    assert category("fits_01_exists", True, None) == "fits_01_exists_ours_only"
    assert category("fits_01_exists", True, False) == "fits_01_exists_ours_only"
    assert category("jpg_small_exists", False, True) == "jpg_small_exists_legacy_only"


def test_dates_and_other_columns_differ_column_by_column() -> None:
    later = compare_column("capture_date", NIGHT, NIGHT + timedelta(seconds=90))
    assert later is not None and later.category.name == "capture_date" and later.note == "legacy 90 s later"
    assert category("sort_date", NIGHT, NIGHT) is None
    assert category("filter_used", "L", "") == "filter_used"  # legacy kept the quotes' remains
    assert category("exposure_time", 30.0, 30.000000000001) is None
    assert category("airmass", 1.41, 1.42) == "airmass"


# Whole tables


def test_rows_on_one_side_duplicates_and_nameless_rows_are_counted_apart() -> None:
    a, b, c = (f"sro-kb001ms-20261124-0000000{i}" for i in (1, 2, 3))
    ours = [row(a), row(b)]
    legacy = [row(None, image_id=9), row(a, image_id=1), row(a, image_id=5), row(c, image_id=2)]
    report = compare_table("images", ours, legacy)
    assert report.counts() == {"only_ours": 1, "only_legacy": 1, "legacy_duplicates": 1, "legacy_unnamed": 1}
    assert (report.ours_rows, report.legacy_rows, report.matched) == (2, 4, 1)
    (duplicate,) = report.tallies["legacy_duplicates"].examples
    assert (duplicate.base_filename, duplicate.legacy, duplicate.note) == (a, 2, "image_id 1, 5")
    assert [e.base_filename for e in report.tallies["only_ours"].examples] == [b]
    assert [e.base_filename for e in report.tallies["only_legacy"].examples] == [c]


def test_a_side_out_of_base_filename_order_is_refused_rather_than_misreported() -> None:
    with pytest.raises(
        ValueError, match=r"the legacy catalog is not in base-filename order: 'sro-a' came after 'sro-b'"
    ):
        compare_table("images", [row("sro-a"), row("sro-b")], [row("sro-b"), row("sro-a")])
    with pytest.raises(ValueError, match="photon_archive's catalog has 2 rows for base filename 'sro-a'"):
        compare_table("images", [row("sro-a"), row("sro-a")], [])


def test_a_report_keeps_every_count_but_only_the_first_examples() -> None:
    names = [f"sro-kb001ms-20261124-{i:08d}" for i in range(25)]
    report = compare_table(
        "images", [row(n) for n in names], [row(n, filter_used="") for n in names], examples=3
    )
    assert report.counts() == {"filter_used": 25}
    assert [e.base_filename for e in report.tallies["filter_used"].examples] == names[:3]


def test_the_summary_names_each_category_found_with_its_count() -> None:
    ours = [row("sro-a"), row("sro-b", right_ascension=2.0)]
    legacy = [row("sro-b", right_ascension=30.0, jpg_small_exists=None)]
    comparison = Comparison(
        Selection(site="sro"),
        [compare_table("images", ours, legacy)],
        ["allsky_images, which the legacy catalog does not have"],
    )
    summary = comparison.markdown()
    assert "Compared site sro, every night." in summary
    assert comparison.table_rows() == [
        {"table": "images", "ours": 2, "legacy": 1, "on_both": 1, "differences": 3}
    ]
    assert f"- {CATEGORIES['right_ascension_unit'].description}: 1 (e.g. `sro-b`)" in summary
    assert f"- {CATEGORIES['jpg_small_exists_ours_only'].description}: 1 (e.g. `sro-b`)" in summary
    assert "Not compared: allsky_images, which the legacy catalog does not have." in summary
    plain = comparison.as_json()["tables"]["images"]
    assert {name: c["count"] for name, c in plain["categories"].items()} == {
        "only_ours": 1,
        "right_ascension_unit": 1,
        "jpg_small_exists_ours_only": 1,
    }
    assert plain["categories"]["right_ascension_unit"]["examples"][0]["legacy"] == 30.0
    json.dumps(comparison.as_json())  # plain JSON all through, dates included
    assert [(r["category"], r["count"]) for r in comparison.category_rows()] == [
        ("only_ours", 1),
        ("right_ascension_unit", 1),
        ("jpg_small_exists_ours_only", 1),
    ]


def test_a_selection_is_read_from_the_launchpad_or_refused_naming_the_field() -> None:
    selection = Selection.parse("sro", "2026-11-24", "2026-11-25")
    assert selection == Selection("sro", date(2026, 11, 24), date(2026, 11, 25))
    assert selection.nights_in_names() == ("20261124", "20261125")
    assert Selection.parse().describe() == "every site, every night"
    with pytest.raises(ValueError, match="first_night 'yesterday' is not a date such as 2026-11-24"):
        Selection.parse(first_night="yesterday")
    with pytest.raises(ValueError, match="last_night 2026-11-23 is before first_night 2026-11-24"):
        Selection.parse(first_night="2026-11-24", last_night="2026-11-23")


# Properties: any catalog against itself, and against itself with planted differences

NAMES = st.lists(st.text(alphabet="aAzZ09-_é", min_size=1, max_size=8), unique=True, max_size=25)
ROW_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "right_ascension": st.floats(0.01, 23.99),
    "declination": st.floats(-90, 90),
    "header": st.dictionaries(
        st.text(alphabet="ABCDEFGH", min_size=1, max_size=4), st.text(max_size=10), max_size=6
    ).map(lambda h: json.dumps({**h, "EXPTIME": "30.5", "SIMPLE": "T"})),
    **{flag: st.booleans() for flag in FLAGS},
    **{column: st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)) for column in DATES},
    **{column: st.text(max_size=12) for column in TEXTS},
    **{column: st.floats(0, 1000) for column in NUMBERS},
}
assert set(ROW_VALUES) == set(COMPARED_COLUMNS)


@st.composite
def catalogs(draw: st.DrawFn) -> list[Row]:
    return [
        {"base_filename": name, **{column: draw(values) for column, values in ROW_VALUES.items()}}
        for name in sorted(draw(NAMES))
    ]


def _header(text: str, **changes: object) -> str:
    return json.dumps({**json.loads(text), **changes})


Change = Callable[[Row], tuple[str, object]]
# Each changes one column of the legacy row: (the category it must land in, or None for a change
# that is no difference, and the column's new value).
COLUMN_CHANGES: dict[str, Callable[[str, object], tuple[str | None, object]]] = {
    "right_ascension": lambda c, v: ("right_ascension_unit", v * 15),  # type: ignore[operator]
    "declination": lambda c, v: ("declination", v + 1),  # type: ignore[operator]
    "header": lambda c, v: ("header_typed_values", _header(str(v), EXPTIME=30.5, SIMPLE=True)),
    **{c: (lambda c, v: (f"{c}_ours_only" if v else f"{c}_legacy_only", not v)) for c in FLAGS},
    **{c: (lambda c, v: (c, v + timedelta(seconds=1))) for c in DATES},  # type: ignore[operator]
    **{c: (lambda c, v: (c, f"{v}x")) for c in TEXTS},
    **{c: (lambda c, v: (c, v + 1)) for c in NUMBERS},  # type: ignore[operator]
}
OTHER_CHANGES: dict[str, Callable[[str, object], tuple[str | None, object]]] = {
    "right_ascension": lambda c, v: ("right_ascension_other", -(v + 1)),  # type: ignore[operator]
    "header": lambda c, v: ("header_other", _header(str(v), legacy_only="x")),
    # What the legacy handler wrote differently but means the same: no difference.
    **{c: (lambda c, v: (None, v if v else None)) for c in FLAGS},
}


@given(catalogs())
def test_a_catalog_compared_with_itself_reports_nothing(rows: list[Row]) -> None:
    report = compare_table("images", rows, [dict(r) for r in rows])
    assert report.counts() == {}
    assert report.ours_rows == report.legacy_rows == report.matched == len(rows)


@given(catalogs(), st.data())
def test_every_planted_difference_lands_in_exactly_one_category(rows: list[Row], data: st.DataObject) -> None:
    ours, legacy, expected = [], [], Counter[str]()
    unnamed = data.draw(st.integers(0, 2))
    legacy += [{**row(None), "image_id": i} for i in range(unnamed)]
    expected["legacy_unnamed"] += unnamed
    for mine in rows:
        theirs = dict(mine)
        planted = data.draw(st.sampled_from(["columns", "only_ours", "only_legacy", "legacy_duplicates"]))
        if planted == "only_ours":
            ours.append(mine)
        elif planted == "only_legacy":
            legacy.append(theirs)
        else:
            columns = data.draw(st.lists(st.sampled_from(COMPARED_COLUMNS), unique=True, max_size=4))
            for column in columns:
                changes = COLUMN_CHANGES[column]
                if column in OTHER_CHANGES and data.draw(st.booleans()):
                    changes = OTHER_CHANGES[column]
                landed, theirs[column] = changes(column, mine[column])
                if landed:
                    expected[landed] += 1
            ours.append(mine)
            legacy.append(theirs)
            if planted == "legacy_duplicates":
                legacy.append(dict(mine))  # the race's second row, compared with nothing
        if planted != "columns":
            expected[planted] += 1
    report = compare_table("images", ours, legacy)
    assert report.counts() == {name: count for name, count in expected.items() if count}
    assert report.differences == sum(expected.values())
