"""What an exposure row is made of, and how the contributions of its files merge into it.

These are the catalog's merge rules as plain Python: the flag and header columns, which header
wins, and ``merge``, which folds one contribution into a row. ``store.py`` says the same rules in
SQL (``INSERT … ON CONFLICT DO UPDATE``), so concurrent runs converge inside the database; the
tests hold the two to the same rows.

- flags only ever turn on here (a removal turns one off, and never creates a row);
- the header columns come from the best header seen, ranked txt > large fits > small fits, so a
  ``.txt`` replaces a header read from a fits file and never the other way round;
- until a header arrives, ``capture_date``/``sort_date`` hold the earliest upload time seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from photon_archive.naming import CATALOG_FLAGS

FLAGS = tuple(CATALOG_FLAGS.values())
# Filled from a header (header_source says which); the two dates hold the upload time until then.
HEADER_COLUMNS = (
    "capture_date",
    "sort_date",
    "right_ascension",
    "declination",
    "altitude",
    "azimuth",
    "header",
    "filter_used",
    "airmass",
    "exposure_time",
    "user_id",
    "username",
    "header_source",
)
UPLOAD_DATED = ("capture_date", "sort_date")
# Which header wins when several files of an exposure carry one.
HEADER_RANK = {"txt": 3, "large_fits": 2, "small_fits": 1}


def header_rank(source: str | None) -> int:
    return HEADER_RANK.get(source or "", 0)


@dataclass(frozen=True)
class Contribution:
    """What one object adds to its exposure's row."""

    base_filename: str
    site: str
    data_type: str
    upload_time: datetime
    flag: str | None = None
    # Present when the object carried a header: column name -> value, including header_source.
    header_columns: dict[str, object] | None = None

    def values(self) -> dict[str, object]:
        """The row this contribution makes when it is the exposure's first."""
        row: dict[str, object] = {
            "base_filename": self.base_filename,
            "site": self.site,
            "data_type": self.data_type,
            "capture_date": self.upload_time,
            "sort_date": self.upload_time,
            "header_source": None,
        }
        row.update({flag: flag == self.flag for flag in FLAGS})
        row.update({column: None for column in HEADER_COLUMNS if column not in row})
        if self.header_columns:
            row.update(self.header_columns)
        return row


def merge(row: Mapping[str, object] | None, contribution: Contribution) -> dict[str, object]:
    """``row`` with ``contribution`` folded in: the same result in any order of contributions."""
    new = contribution.values()
    if row is None:
        return new
    merged = dict(row)
    for flag in FLAGS:
        merged[flag] = bool(row[flag]) or bool(new[flag])
    source, incoming = row["header_source"], header_rank(_text(new["header_source"]))
    if incoming > 0 and incoming >= header_rank(_text(source)):
        merged.update({column: new[column] for column in HEADER_COLUMNS})
    elif source is None:
        for column in UPLOAD_DATED:
            merged[column] = min(_moment(row[column]), contribution.upload_time)
    for column in ("site", "data_type"):
        merged[column] = row[column] if row[column] is not None else new[column]
    return merged


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _moment(value: object) -> datetime:
    assert isinstance(value, datetime), f"a row's upload-dated column holds {value!r}"
    return value
