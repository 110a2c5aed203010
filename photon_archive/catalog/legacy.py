"""The legacy catalog's rows as plain values, and what adopting them decides (``adoption.py`` runs it).

The old handlers left ``images`` with duplicate rows per base filename, NULL flags, no
``header_source`` and a ``right_ascension`` whose unit only the stored header shows. These rules
decide, row by row and without a database:

- which row of a duplicate group survives and what it becomes (``merge_duplicates``);
- where a stored header came from (``derived_header_source``), which legacy rows never said;
- in which unit a stored right ascension was written (``right_ascension_units``);
- what today's header rules would change in a row (``recomputed_changes``).

A row is a mapping of column name to value, as the database returns it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from photon_archive.catalog.rows import FLAGS, HEADER_COLUMNS, UPLOAD_DATED, header_rank
from photon_archive.headers import (
    RIGHT_ASCENSION_UNITS,
    right_ascension_in,
    stated_right_ascension,
    stored_header_columns,
)

# The columns today's rules fill from a header, as the header's own ``header`` text and its
# ``header_source`` are not derived from it.
DERIVED_COLUMNS = tuple(column for column in HEADER_COLUMNS if column not in ("header", "header_source"))
# Stored and stated right ascensions agree when they are the same float up to a rounding: the
# legacy handler stored the header's number as it stood.
AGREEMENT = 1e-9


def stored_header(text: object) -> dict[str, object] | None:
    """The ``header`` column's JSON object; None for no header, or for text that is not one."""
    if not isinstance(text, str):
        return None
    try:
        header = json.loads(text)
    except ValueError:
        return None
    return header if isinstance(header, dict) and header else None


def derived_header_source(text: object) -> str | None:
    """Where a legacy row's header came from, as far as the stored header shows it.

    The ``.txt`` path wrote every value as a string; the fits fallback wrote typed JSON values
    (numbers, booleans). A header of strings alone is therefore ``txt``. One with a typed value came
    from a fits file, which one is not recorded: it counts as ``small_fits``, the lowest rank, so
    that any header this system reads later for the exposure, from a ``.txt`` or a fits file,
    replaces it. No header, or text that is not a JSON object: None.
    """
    header = stored_header(text)
    if header is None:
        return None
    return "txt" if all(isinstance(value, str) for value in header.values()) else "small_fits"


def header_source_of(row: Mapping[str, object]) -> str | None:
    """The row's ``header_source`` where it names a known source, else the one its header shows."""
    stored = row.get("header_source")
    if isinstance(stored, str) and header_rank(stored) > 0:
        return stored
    return derived_header_source(row.get("header"))


@dataclass(frozen=True)
class Merge:
    """One duplicate group merged: the surviving image_id, the row it becomes, the ids merged away."""

    survivor: int
    row: dict[str, object]
    merged_away: tuple[int, ...]


def merge_duplicates(rows: Iterable[Mapping[str, object]]) -> Merge:
    """The rows of one base filename as one, the same whatever order they come in.

    - The row with the lowest ``image_id`` survives, with its id: image ids are identifiers the
      readers hand out, and the lowest is the one handed out first.
    - Flags are ORed (NULL counts as not set): every file any row saw exists.
    - The header columns come from the row with the best header, ranked as the catalog ranks
      them (``rows.HEADER_RANK``: txt > large fits > small fits), with a legacy row's source derived
      from its header (``header_source_of``): any header counts over none. Ties go to the lowest id.
    - No header in the group: the header columns are the survivor's, ``capture_date`` and
      ``sort_date`` the earliest in the group, as the catalog keeps the earliest upload time until a
      header comes.
    - ``site`` and ``data_type``: the survivor's, else the first set in id order. Any other column is
      the survivor's.
    """
    ordered = sorted(rows, key=_image_id)
    if not ordered:
        raise ValueError("a duplicate group has at least one row")
    first = ordered[0]
    merged = dict(first)
    for flag in FLAGS:
        if flag in merged:
            merged[flag] = any(bool(row[flag]) for row in ordered)
    best = max(ordered, key=lambda row: (header_rank(header_source_of(row)), -_image_id(row)))
    if header_rank(header_source_of(best)) > 0:
        merged.update({column: best[column] for column in HEADER_COLUMNS if column in best})
        if "header_source" in merged:
            merged["header_source"] = header_source_of(best)
    else:
        for column in UPLOAD_DATED:
            if column in merged:
                moments = [row[column] for row in ordered if row[column] is not None]
                merged[column] = min(moments) if moments else None  # type: ignore[type-var]
    for column in ("site", "data_type"):
        if column in merged:
            merged[column] = next((row[column] for row in ordered if row[column] is not None), None)
    return Merge(_image_id(first), merged, tuple(_image_id(row) for row in ordered[1:]))


def right_ascension_units(stored: object, header: Mapping[str, object] | None) -> frozenset[str]:
    """The units (keys of ``RIGHT_ASCENSION_UNITS``) in which ``stored`` agrees with what the header
    states: RAHRS in hours, CRVAL1 in degrees, each also converted to the other unit.

    Empty when the header states neither, or when the column agrees with neither (it was
    written by some other rule). Both units when the value is the same in both, at 0 h.
    """
    if header is None or isinstance(stored, bool) or not isinstance(stored, int | float):
        return frozenset()
    shown: set[str] = set()
    for stated_unit, value in stated_right_ascension(header).items():
        hours = value / RIGHT_ASCENSION_UNITS[stated_unit]
        for unit, factor in RIGHT_ASCENSION_UNITS.items():
            if math.isclose(stored, hours * factor, rel_tol=AGREEMENT, abs_tol=AGREEMENT):
                shown.add(unit)
    return frozenset(shown)


def recomputed_changes(
    row: Mapping[str, object], header: Mapping[str, object], right_ascension_unit: str
) -> dict[str, object]:
    """The columns of ``row`` that today's header rules (``headers.py``) give another value, with
    that value: right ascension in ``right_ascension_unit``, ``sort_date`` = ``capture_date``. A
    header without a usable DATE-OBS leaves the row's dates as they are (today they would be the
    upload time, which the row no longer knows)."""
    columns = stored_header_columns(header)
    today: dict[str, object] = asdict(columns)
    today["right_ascension"] = right_ascension_in(columns.right_ascension, right_ascension_unit)
    if columns.capture_date is None:
        del today["capture_date"]
    else:
        today["sort_date"] = columns.capture_date
    return {column: value for column, value in today.items() if column in row and row[column] != value}


def _image_id(row: Mapping[str, object]) -> int:
    image_id = row["image_id"]
    assert isinstance(image_id, int), f"a row's image_id is {image_id!r}"
    return image_id
