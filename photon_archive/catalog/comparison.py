"""How photon_archive's catalog differs from the old system's: pure rules over plain row values.

A row is what SQL gives for one exposure: column name -> str, float, bool, datetime or None. Both
catalogs come in base-filename order (code-point order, the order Python compares strings in), and
``compare_table`` walks them side by side like a merge join, so memory stays bounded whatever their
size: a ``TableReport`` keeps counts and the first few examples of each category.

Every difference is one exposure's one column (or one row) in exactly one category:

- rows: base filenames only in ours, only in the legacy catalog; base filenames with more than one
  legacy row (its check-then-insert raced), compared through their first (lowest ``image_id``);
  legacy rows without a base filename;
- ``right_ascension``: one side 15 times the other (the legacy handler wrote ``CRVAL1`` degrees into
  the column documented as hours), or any other difference; ``declination``;
- ``header``: the JSON compared as parsed objects, so key order and spacing never count; the
  legacy's typed values (numbers, booleans, from its fits fallback) where ours holds their text
  are told apart from every other difference;
- each flag, each way: ours set and the legacy's not (NULL reads as not set, as the readers'
  ``IS TRUE`` reads it), or the legacy's set and ours not;
- ``capture_date``, ``sort_date`` and every other column: each its own category.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from photon_archive.catalog.rows import FLAGS

Row = Mapping[str, object]

POSITIONS = ("right_ascension", "declination")
DATES = ("capture_date", "sort_date")
NUMBERS = ("altitude", "azimuth", "airmass", "exposure_time")
TEXTS = ("site", "data_type", "filter_used", "username", "user_id")
# Every column of the legacy table (LEGACY.md) but its key and the join key, in report order.
COMPARED_COLUMNS: tuple[str, ...] = (*POSITIONS, "header", *FLAGS, *DATES, *TEXTS, *NUMBERS)

# Right ascension and declination closer than this, in the column's own unit (hours or degrees),
# are the same: far below a pixel, above what rounding a header's value to six places gives.
POSITION_TOLERANCE = 1e-5
DEGREES_PER_HOUR = 15.0
# Other numbers are the same header value parsed twice: equal but for the last bits.
NUMBER_TOLERANCE = 1e-9
DEFAULT_EXAMPLES = 10
# Header keys named in one example; the count of the rest is given.
KEYS_SHOWN = 5


class Group(StrEnum):
    ROWS = "rows"
    POSITION = "right ascension / declination"
    HEADER = "header"
    FLAGS = "flags"
    DATES = "dates"
    OTHER = "other columns"


@dataclass(frozen=True)
class Category:
    name: str
    group: Group
    description: str


ONLY_OURS = Category("only_ours", Group.ROWS, "base filenames only in photon_archive's catalog")
ONLY_LEGACY = Category("only_legacy", Group.ROWS, "base filenames only in the legacy catalog")
LEGACY_DUPLICATES = Category(
    "legacy_duplicates", Group.ROWS, "base filenames with more than one legacy row (compared by the first)"
)
LEGACY_UNNAMED = Category("legacy_unnamed", Group.ROWS, "legacy rows without a base filename")
RIGHT_ASCENSION_UNIT = Category(
    "right_ascension_unit",
    Group.POSITION,
    "right_ascension: one side 15 times the other (degrees where the other holds hours)",
)
RIGHT_ASCENSION_OTHER = Category(
    "right_ascension_other", Group.POSITION, "right_ascension: other differences"
)
DECLINATION = Category("declination", Group.POSITION, "declination differs")
HEADER_TYPED = Category(
    "header_typed_values",
    Group.HEADER,
    "header: the legacy row holds typed values (numbers, booleans) where ours holds their text; "
    "equal otherwise",
)
HEADER_OTHER = Category(
    "header_other", Group.HEADER, "header: other differences (keys, values, a missing or unreadable header)"
)
FLAG_OURS = {
    flag: Category(f"{flag}_ours_only", Group.FLAGS, f"{flag}: true in ours, false or NULL in the legacy row")
    for flag in FLAGS
}
FLAG_LEGACY = {
    flag: Category(f"{flag}_legacy_only", Group.FLAGS, f"{flag}: true in the legacy row, false in ours")
    for flag in FLAGS
}
COLUMN_DIFFERS = {
    column: Category(column, Group.DATES if column in DATES else Group.OTHER, f"{column} differs")
    for column in (*DATES, *TEXTS, *NUMBERS)
}
CATEGORIES: dict[str, Category] = {
    category.name: category
    for category in (
        ONLY_OURS,
        ONLY_LEGACY,
        LEGACY_DUPLICATES,
        LEGACY_UNNAMED,
        RIGHT_ASCENSION_UNIT,
        RIGHT_ASCENSION_OTHER,
        DECLINATION,
        HEADER_TYPED,
        HEADER_OTHER,
        *(c for flag in FLAGS for c in (FLAG_OURS[flag], FLAG_LEGACY[flag])),
        *COLUMN_DIFFERS.values(),
    )
}
"""Every category, in the order a report lists them."""


@dataclass(frozen=True)
class Difference:
    """One column of one exposure that differs: the category, both values, what sets them apart."""

    category: Category
    ours: object
    legacy: object
    note: str = ""


@dataclass(frozen=True)
class Selection:
    """Which exposures are compared: by their base filename, the join key, so both catalogs select
    the same ones whatever their other columns say. ``site`` and the nights (``YYYY-MM-DD`` in the
    name, inclusive) are open when empty, as the replay selects."""

    site: str = ""
    first_night: date | None = None
    last_night: date | None = None

    @classmethod
    def parse(cls, site: str = "", first_night: str = "", last_night: str = "") -> Selection:
        """From launchpad text; a ValueError names what does not parse."""
        nights = []
        for what, text in (("first_night", first_night), ("last_night", last_night)):
            try:
                nights.append(date.fromisoformat(text.strip()) if text.strip() else None)
            except ValueError:
                raise ValueError(f"{what} {text!r} is not a date such as 2026-11-24") from None
        first, last = nights
        if first and last and last < first:
            raise ValueError(f"last_night {last} is before first_night {first}")
        return cls(site.strip(), first, last)

    def nights_in_names(self) -> tuple[str | None, str | None]:
        """The night bounds as base filenames spell them (``YYYYMMDD``), None where open."""
        first, last = self.first_night, self.last_night
        return (first.strftime("%Y%m%d") if first else None, last.strftime("%Y%m%d") if last else None)

    def describe(self) -> str:
        parts = [f"site {self.site}"] if self.site else ["every site"]
        if self.first_night or self.last_night:
            parts.append(f"nights {self.first_night or '…'} to {self.last_night or '…'}")
        else:
            parts.append("every night")
        return ", ".join(parts)


# The rules for one column


def compare_column(column: str, ours: object, legacy: object) -> Difference | None:
    """How ``column`` differs between our row and the legacy row; None when it does not."""
    if column == "right_ascension":
        return _right_ascension(ours, legacy)
    if column == "declination":
        same = _same_number(ours, legacy, POSITION_TOLERANCE)
        return None if same else Difference(DECLINATION, ours, legacy)
    if column == "header":
        return _header(ours, legacy)
    if column in FLAGS:
        if bool(ours) == bool(legacy):
            return None
        return Difference(FLAG_OURS[column] if ours else FLAG_LEGACY[column], ours, legacy)
    if column in NUMBERS:
        same = _same_number(ours, legacy, NUMBER_TOLERANCE, relative=True)
        return None if same else Difference(COLUMN_DIFFERS[column], ours, legacy)
    if column in DATES:
        shift = _shift(ours, legacy)
        return None if ours == legacy else Difference(COLUMN_DIFFERS[column], ours, legacy, shift)
    if column in TEXTS:
        return None if ours == legacy else Difference(COLUMN_DIFFERS[column], ours, legacy)
    raise ValueError(f"no comparison rule for the column {column!r}")


def differences(ours: Row, legacy: Row, columns: Iterable[str] = COMPARED_COLUMNS) -> list[Difference]:
    """Every column of ``columns`` that differs between two rows of one exposure."""
    found = (compare_column(column, ours.get(column), legacy.get(column)) for column in columns)
    return [difference for difference in found if difference is not None]


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _same_number(ours: object, legacy: object, tolerance: float, relative: bool = False) -> bool:
    a, b = _number(ours), _number(legacy)
    if a is None or b is None:
        return ours == legacy
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    scale = max(1.0, abs(a), abs(b)) if relative else 1.0
    return abs(a - b) <= tolerance * scale


def _right_ascension(ours: object, legacy: object) -> Difference | None:
    if _same_number(ours, legacy, POSITION_TOLERANCE):
        return None
    a, b = _number(ours), _number(legacy)
    if a is not None and b is not None:
        # Compared in degrees: the tolerance scales with the unit.
        if abs(b - DEGREES_PER_HOUR * a) <= DEGREES_PER_HOUR * POSITION_TOLERANCE:
            note = "legacy = 15 × ours: degrees in the legacy row"
            return Difference(RIGHT_ASCENSION_UNIT, ours, legacy, note)
        if abs(a - DEGREES_PER_HOUR * b) <= DEGREES_PER_HOUR * POSITION_TOLERANCE:
            return Difference(RIGHT_ASCENSION_UNIT, ours, legacy, "ours = 15 × legacy: degrees in ours")
    return Difference(RIGHT_ASCENSION_OTHER, ours, legacy)


def _shift(ours: object, legacy: object) -> str:
    if isinstance(ours, datetime) and isinstance(legacy, datetime):
        seconds = (legacy - ours).total_seconds()
        return f"legacy {abs(seconds):g} s {'later' if seconds > 0 else 'earlier'}"
    return ""


def _header(ours: object, legacy: object) -> Difference | None:
    if ours == legacy:
        return None
    if ours is None or legacy is None:
        missing = "ours" if ours is None else "the legacy row"
        return Difference(HEADER_OTHER, _length(ours), _length(legacy), f"no header in {missing}")
    mine, theirs = _json_object(ours), _json_object(legacy)
    if mine is None or theirs is None:
        unreadable = "ours" if mine is None else "the legacy row's"
        return Difference(HEADER_OTHER, _length(ours), _length(legacy), f"{unreadable} is not a JSON object")
    differing = [
        key
        for key in sorted(mine.keys() | theirs.keys())
        if key not in mine or key not in theirs or not _same_json(mine[key], theirs[key])
    ]
    if not differing:
        return None  # the same object, written with other spacing or key order
    typed = [key for key in differing if key in mine and key in theirs and _text_of(theirs[key], mine[key])]
    shown = differing[:KEYS_SHOWN]
    ours_shown = {key: mine.get(key) for key in shown}
    legacy_shown = {key: theirs.get(key) for key in shown}
    if len(typed) == len(differing):
        return Difference(HEADER_TYPED, ours_shown, legacy_shown, f"typed in the legacy row: {_keys(typed)}")
    only_ours = [key for key in differing if key not in theirs]
    only_legacy = [key for key in differing if key not in mine]
    valued = [key for key in differing if key in mine and key in theirs]
    notes = [
        f"{what}: {_keys(keys)}"
        for what, keys in (
            ("only in ours", only_ours),
            ("only in the legacy row", only_legacy),
            ("other values", valued),
        )
        if keys
    ]
    return Difference(HEADER_OTHER, ours_shown, legacy_shown, "; ".join(notes))


def _json_object(text: object) -> dict[str, Any] | None:
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _same_json(a: object, b: object) -> bool:
    """JSON equality that tells a boolean from a number, as Python's ``==`` does not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _text_of(typed: object, text: object) -> bool:
    """Whether ``text`` is how ours writes the typed value the legacy row holds: booleans as T/F,
    numbers as their digits."""
    if not isinstance(text, str):
        return False
    if isinstance(typed, bool):
        return text == ("T" if typed else "F")
    if isinstance(typed, int | float):
        try:
            return float(text) == float(typed)
        except ValueError:
            return False
    return False


def _keys(keys: Sequence[str]) -> str:
    named = ", ".join(keys[:KEYS_SHOWN])
    return named + (f" and {len(keys) - KEYS_SHOWN} more" if len(keys) > KEYS_SHOWN else "")


def _length(header: object) -> object:
    """A header in an example: its size, not its text."""
    return f"{len(header)} characters" if isinstance(header, str) else header


# A table of each side, walked together


@dataclass(frozen=True)
class Example:
    base_filename: str | None
    ours: object = None
    legacy: object = None
    note: str = ""


@dataclass
class Tally:
    count: int = 0
    examples: list[Example] = field(default_factory=list)


@dataclass
class TableReport:
    """One table compared: how many rows each side has, and each category's count and examples."""

    table: str
    examples_kept: int = DEFAULT_EXAMPLES
    ours_rows: int = 0
    legacy_rows: int = 0
    matched: int = 0
    tallies: dict[str, Tally] = field(default_factory=dict)
    # Compared columns the legacy table does not have (its real DDL is in no source).
    columns_missing: tuple[str, ...] = ()

    def add(self, category: Category, example: Example) -> None:
        tally = self.tallies.setdefault(category.name, Tally())
        tally.count += 1
        if len(tally.examples) < self.examples_kept:
            tally.examples.append(example)

    def counts(self) -> dict[str, int]:
        """Each category found, in report order, with its count."""
        return {name: self.tallies[name].count for name in CATEGORIES if name in self.tallies}

    @property
    def differences(self) -> int:
        return sum(tally.count for tally in self.tallies.values())


def compare_table(
    table: str,
    ours: Iterable[Row],
    legacy: Iterable[Row],
    columns: Sequence[str] = COMPARED_COLUMNS,
    examples: int = DEFAULT_EXAMPLES,
) -> TableReport:
    """Walk both sides of ``table`` in base-filename order and tally every difference.

    ``ours`` has one row per base filename; ``legacy`` may have several (consecutive, the first
    compared) and rows without one (first). A side out of that order is refused: a merge join of
    unordered input would report rows missing that are not.
    """
    report = TableReport(table, examples)
    mine, theirs = _ours_by_name(ours), _by_name(legacy, "the legacy catalog")
    a, b = next(mine, None), next(theirs, None)
    while a is not None or b is not None:
        side = _next_side(a, b)
        if side == "legacy":
            assert b is not None
            _legacy_only(report, *b)
            b = next(theirs, None)
            continue
        assert a is not None
        name, row = a
        report.ours_rows += 1
        if side == "ours":
            report.add(ONLY_OURS, Example(name, note=_described(row)))
            a = next(mine, None)
            continue
        assert b is not None
        report.legacy_rows += len(b[1])
        report.matched += 1
        _duplicates(report, *b)
        for found in differences(row, b[1][0], columns):
            report.add(found.category, Example(name, found.ours, found.legacy, found.note))
        a, b = next(mine, None), next(theirs, None)
    return report


def _next_side(a: tuple[str, Row] | None, b: tuple[str | None, list[Row]] | None) -> str:
    """Which side's next base filename comes first: ``ours``, ``legacy`` or ``both``."""
    if a is None:
        return "legacy"
    legacy_name = None if b is None else b[0]
    if b is not None and (legacy_name is None or legacy_name < a[0]):
        return "legacy"
    return "ours" if legacy_name is None or a[0] < legacy_name else "both"


def _ours_by_name(rows: Iterable[Row]) -> Iterator[tuple[str, Row]]:
    for name, group in _by_name(rows, "photon_archive's catalog"):
        if name is None or len(group) > 1:
            raise ValueError(f"photon_archive's catalog has {len(group)} rows for base filename {name!r}")
        yield name, group[0]


def _by_name(rows: Iterable[Row], side: str) -> Iterator[tuple[str | None, list[Row]]]:
    """Consecutive rows of one base filename; refuses rows out of base-filename order."""
    group: list[Row] = []
    name: str | None = None
    for row in rows:
        key = row["base_filename"]
        if not (key is None or isinstance(key, str)):
            raise ValueError(f"{side} has a base filename that is not text: {key!r}")
        if group and key == name:
            group.append(row)
            continue
        if group:
            if key is None or (name is not None and key < name):
                raise ValueError(
                    f"{side} is not in base-filename order: {key!r} came after {name!r} "
                    '(the rows must be sorted by code point, COLLATE "C" on PostgreSQL)'
                )
            yield name, group
        name, group = key, [row]
    if group:
        yield name, group


def _legacy_only(report: TableReport, name: str | None, rows: list[Row]) -> None:
    report.legacy_rows += len(rows)
    if name is None:
        for row in rows:
            report.add(LEGACY_UNNAMED, Example(None, note=_described(row)))
        return
    report.add(ONLY_LEGACY, Example(name, note=_described(rows[0])))
    _duplicates(report, name, rows)


def _duplicates(report: TableReport, name: str | None, rows: list[Row]) -> None:
    if len(rows) > 1:
        ids = [row.get("image_id") for row in rows]
        note = f"image_id {', '.join(str(i) for i in ids)}" if all(i is not None for i in ids) else ""
        report.add(LEGACY_DUPLICATES, Example(name, legacy=len(rows), note=note))


def _described(row: Row) -> str:
    """What tells an operator which exposure a one-sided row is."""
    parts = [f"{column} {row[column]}" for column in ("image_id", "site", "capture_date") if row.get(column)]
    return ", ".join(parts)


# Both tables, and what an operator reads


@dataclass
class Comparison:
    """Every table compared, and what could not be (a table the legacy catalog does not have)."""

    selection: Selection = field(default_factory=Selection)
    tables: list[TableReport] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return sum(table.differences for table in self.tables)

    def total(self, figure: str) -> int:
        """The sum over the tables of ``ours_rows``, ``legacy_rows`` or ``matched``."""
        return sum(int(getattr(table, figure)) for table in self.tables)

    def category_rows(self) -> list[dict[str, str | int]]:
        """One row per (table, category found): what the UI's table shows."""
        rows: list[dict[str, str | int]] = []
        for table in self.tables:
            for name, count in table.counts().items():
                category = CATEGORIES[name]
                examples = table.tallies[name].examples
                rows.append(
                    {
                        "table": table.table,
                        "group": category.group.value,
                        "category": name,
                        "count": count,
                        "description": category.description,
                        "examples": ", ".join(str(e.base_filename) for e in examples[:3]),
                    }
                )
        return rows

    def as_json(self) -> dict[str, Any]:
        """Every count and example, as plain JSON values."""
        return {
            "selection": self.selection.describe(),
            "not_compared": list(self.not_compared),
            "tables": {
                table.table: {
                    "ours_rows": table.ours_rows,
                    "legacy_rows": table.legacy_rows,
                    "matched": table.matched,
                    "columns_missing_in_legacy": list(table.columns_missing),
                    "categories": {
                        name: {
                            "description": CATEGORIES[name].description,
                            "count": count,
                            "examples": [_plain_example(e) for e in table.tallies[name].examples],
                        }
                        for name, count in table.counts().items()
                    },
                }
                for table in self.tables
            },
        }

    def table_rows(self) -> list[dict[str, Any]]:
        """One row per table compared: its rows in ours, in the legacy catalog and on both, and its
        differences."""
        return [
            {
                "table": table.table,
                "ours": table.ours_rows,
                "legacy": table.legacy_rows,
                "on_both": table.matched,
                "differences": table.differences,
            }
            for table in self.tables
        ]

    def markdown(self) -> str:
        """The short summary an operator reads first: each category found, by table."""
        lines = [f"Compared {self.selection.describe()}."]
        for table in self.tables:
            lines.append("")
            if not table.tallies:
                lines.append(f"**{table.table}**: no differences.")
                continue
            lines.append(f"**{table.table}**:")
            for name, count in table.counts().items():
                first = table.tallies[name].examples[:1]
                example = f" (e.g. `{first[0].base_filename}`)" if first and first[0].base_filename else ""
                lines.append(f"- {CATEGORIES[name].description}: {count}{example}")
            if table.columns_missing:
                lines.append(f"- not in the legacy table, not compared: {', '.join(table.columns_missing)}")
        for reason in self.not_compared:
            lines += ["", f"Not compared: {reason}."]
        return "\n".join(lines)


def _plain_example(example: Example) -> dict[str, Any]:
    return {
        "base_filename": example.base_filename,
        "ours": _plain(example.ours),
        "legacy": _plain(example.legacy),
        "note": example.note,
    }


def _plain(value: object) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if value is None or isinstance(value, str | int | float | bool | list):
        return value
    return str(value)
