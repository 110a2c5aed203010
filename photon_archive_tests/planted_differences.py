"""A legacy catalog made from photon_archive's own rows, as the old handler could have left it for
the same exposures: flags NULL until set and the header in its own JSON spelling (no difference
either), and one planted difference of each kind the comparison tells apart, with the count of
each category it must find."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from photon_archive.catalog.rows import FLAGS
from photon_archive_tests.legacy_catalog import LEGACY_COLUMNS

Row = Mapping[str, Any]
# The base filename of a row the legacy catalog has and ours does not.
LEGACY_ONLY_COUNTER = "99999999"
PLANTED_ROWS = 11  # rows of ours a planting needs: one per planted difference


@dataclass
class Planted:
    """The legacy rows, in the order to insert them, and how many of each category they make."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    expected: Counter[str] = field(default_factory=Counter)
    # The base filename each category was planted on.
    where: dict[str, str] = field(default_factory=dict)

    def plant(self, category: str, base_filename: str) -> None:
        self.expected[category] += 1
        self.where[category] = base_filename


def as_left_by_the_old_handler(row: Row) -> dict[str, Any]:
    """Our row as the legacy table holds the same exposure: no difference the comparison reports."""
    legacy = {column: row[column] for column in LEGACY_COLUMNS}
    for flag in FLAGS:
        legacy[flag] = True if row[flag] else None  # NULL until a file sets it
    header = json.loads(row["header"])
    legacy["header"] = json.dumps(header, sort_keys=True, separators=(",", ":"))
    return legacy


def plant_differences(ours: Sequence[Row]) -> Planted:
    """One difference of each kind on its own row of ``ours`` (at least ``PLANTED_ROWS``, every
    file of each ingested, a ``.txt`` header with COMMENT cards), the rest left as the handler
    left them."""
    rows = sorted(ours, key=lambda r: r["base_filename"])
    assert len(rows) >= PLANTED_ROWS, f"{len(rows)} rows of ours, {PLANTED_ROWS} needed"
    planted = Planted()
    changed = [as_left_by_the_old_handler(row) for row in rows]
    names = [row["base_filename"] for row in rows]

    changed[0]["right_ascension"] = rows[0]["right_ascension"] * 15  # CRVAL1 degrees
    planted.plant("right_ascension_unit", names[0])
    other = rows[1]["right_ascension"] + 0.5
    assert abs(other - 15 * rows[1]["right_ascension"]) > 1e-3, "no unit difference by chance"
    changed[1]["right_ascension"] = other
    planted.plant("right_ascension_other", names[1])
    changed[2]["declination"] = None  # DEC that did not parse
    planted.plant("declination", names[2])
    changed[3]["header"] = json.dumps({k: _typed(v) for k, v in json.loads(rows[3]["header"]).items()})
    planted.plant("header_typed_values", names[3])
    header = json.loads(rows[4]["header"])
    assert "\n" in header["COMMENT"]
    changed[4]["header"] = json.dumps({**header, "COMMENT": header["COMMENT"].splitlines()[-1]})
    planted.plant("header_other", names[4])  # the legacy kept only the last COMMENT card
    assert rows[5]["fits_01_exists"] and rows[5]["fits_10_exists"]
    changed[5]["fits_01_exists"], changed[5]["fits_10_exists"] = False, None
    planted.plant("fits_01_exists_ours_only", names[5])
    planted.plant("fits_10_exists_ours_only", names[5])
    small = bool(rows[6]["jpg_small_exists"])
    changed[6]["jpg_small_exists"] = not small
    planted.plant(f"jpg_small_exists_{'ours' if small else 'legacy'}_only", names[6])
    inserted: datetime = rows[7]["capture_date"] + timedelta(seconds=42)  # no header: the insert time
    changed[7]["capture_date"] = changed[7]["sort_date"] = inserted
    planted.plant("capture_date", names[7])
    planted.plant("sort_date", names[7])
    assert rows[8]["filter_used"]
    changed[8]["filter_used"] = ""  # what the handler made of a quoted FILTER
    planted.plant("filter_used", names[8])
    planted.plant("legacy_duplicates", names[9])  # the check-then-insert race's second row
    planted.plant("only_ours", names[10])

    legacy_only = {**changed[0], "base_filename": names[0][: -len(LEGACY_ONLY_COUNTER)] + LEGACY_ONLY_COUNTER}
    planted.plant("only_legacy", legacy_only["base_filename"])
    nameless = {**changed[0], "base_filename": None}
    planted.expected["legacy_unnamed"] += 1
    # The order of insertion (image_id) is not the order of names: the comparison sorts.
    planted.rows = [legacy_only, *reversed(changed[:10]), changed[9], *changed[11:], nameless]
    return planted


def _typed(value: str) -> object:
    """A header value as the legacy's fits fallback wrote it: numbers and booleans typed."""
    if value in ("T", "F"):
        return value == "T"
    try:
        number = float(value)
    except ValueError:
        return value
    if not math.isfinite(number):
        return value
    return int(number) if number.is_integer() and "." not in value else number
