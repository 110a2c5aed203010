"""The grammar of S3 object names (SPEC §1): what an uploaded key says about the file behind it.

Every other part of the ingest keys its work on what this module extracts, above all the base
filename, the join key of every table and message. A name that does not fit the grammar is refused
with a ``Rejected`` whose reason names the part at fault and quotes it, so an operator can see at a
glance why a file was not catalogued; nothing else ever escapes ``parse_key``, whatever the string.
"""

from __future__ import annotations

import datetime
import re
import string
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote_plus

from photon_archive.errors import Rejected


class Prefix(StrEnum):
    """The prefixes an observatory uploads to (SPEC §1), each with where its files are catalogued."""

    DATA = "data"  # regular exposures: the images table
    INFO_IMAGES = "info-images"  # info images: three channels per site in DynamoDB, no row
    ALLSKY = "allsky"  # all-sky camera exposures: the allsky_images table


# The catalog table of each prefix whose exposures have rows.
EXPOSURE_TABLE: dict[str, str] = {Prefix.DATA: "images", Prefix.ALLSKY: "allsky_images"}


class FileKind(StrEnum):
    """What a file is to the catalog, which decides the work it triggers and the flag it sets."""

    HEADER = "header"  # .txt, any reduction
    LARGE_FITS = "large_fits"  # .fits[.bz2|.fz|.gz], reduction 00 or 01
    SMALL_FITS = "small_fits"  # .fits[.bz2|.fz|.gz], reduction 10 or 13
    MEDIUM_JPG = "medium_jpg"  # .jpg, reduction 10 or 13
    THUMBNAIL_JPG = "thumbnail_jpg"  # .jpg, reduction 11 (written by this system)
    OTHER = "other"  # parses but sets no flag: EX20.fits, .tif, .png, a compressed jpg or txt ...


COMPRESSIONS = ("bz2", "fz", "gz")
# SPEC §4: the thumbnail ({dt}11.jpg) is made from the {dt}10.jpg only; a {dt}13.jpg is a medium jpg
# with no thumbnail of its own.
THUMBNAIL_SOURCE_REDUCTION = "10"
THUMBNAIL_REDUCTION = "11"

# ASCII classes on purpose: ``\d`` and ``str.isdigit`` also accept digits of other scripts.
_SITE = re.compile(r"[A-Za-z0-9]{3,6}")
_INSTRUMENT = re.compile(r"[A-Za-z0-9]+")
_EIGHT_DIGITS = re.compile(r"[0-9]{8}")
_LETTERS = re.compile(r"[A-Za-z]+")
_REDUCTION = re.compile(r"[0-9]{2}")

_PART_NAMES = ("site", "instrument", "date", "counter", "data type")

# The catalog column each kind of file turns on (SPEC §1); other kinds turn on none.
CATALOG_FLAGS = {
    FileKind.LARGE_FITS: "fits_01_exists",
    FileKind.SMALL_FITS: "fits_10_exists",
    FileKind.MEDIUM_JPG: "jpg_medium_exists",
    FileKind.THUMBNAIL_JPG: "jpg_small_exists",
}


@dataclass(frozen=True, slots=True)
class ObjectName:
    """One parsed key; the parts are kept as written so the key can be rebuilt exactly."""

    key: str
    prefix: str
    name: str
    site: str
    instrument: str
    date: datetime.date
    counter: str
    data_type: str
    reduction: str
    ext: str
    compression: str | None
    kind: FileKind

    @property
    def base_filename(self) -> str:
        """The exposure's identity, shared by all its files and used as the key of every table."""
        return f"{self.site}-{self.instrument}-{_yyyymmdd(self.date)}-{self.counter}"

    @property
    def catalog_flag(self) -> str | None:
        """The catalog column this file turns on; headers and unknown files turn on none."""
        return CATALOG_FLAGS.get(self.kind)

    @property
    def makes_thumbnail(self) -> bool:
        """Whether this system writes a thumbnail beside this file: the medium jpg of reduction 10."""
        return self.kind is FileKind.MEDIUM_JPG and self.reduction == THUMBNAIL_SOURCE_REDUCTION

    @property
    def file_path_field(self) -> str:
        """The info-image item attribute that holds this file's key (lower-case, as readers look it up)."""
        return f"{self.ext.lower()}_{self.reduction}_file_path"


def decode_event_key(raw: str) -> str:
    """S3 event notifications URL-encode keys with ``+`` for a space; listings do not."""
    return unquote_plus(raw)


def parse_key(key: str) -> ObjectName:
    """Split a key into its parts, or refuse it with a reason that blames one part."""
    prefix, slash, name = key.rpartition("/")
    if not slash:
        raise Rejected(f"key {key!r} has no prefix: expected '{{prefix}}/{{name}}'")
    if not prefix:
        raise Rejected(f"key {key!r} has an empty prefix before the name")
    if not name:
        raise Rejected(f"key {key!r} has an empty name after the prefix")

    site, instrument, date, counter, tail = _split_dashes(name)
    data_type, reduction, ext, compression = _parse_tail(tail)
    return ObjectName(
        key=key,
        prefix=prefix,
        name=name,
        site=site,
        instrument=instrument,
        date=date,
        counter=counter,
        data_type=data_type,
        reduction=reduction,
        ext=ext,
        compression=compression,
        kind=_kind(ext, reduction, compression),
    )


def thumbnail_key(name: ObjectName) -> str:
    """Where the thumbnail of a reduction-10 medium jpg lives: beside it, reduction 11."""
    if not name.makes_thumbnail:
        raise ValueError(f"only a {THUMBNAIL_SOURCE_REDUCTION} jpg has a thumbnail, not {name.key!r}")
    return f"{name.prefix}/{name.base_filename}-{name.data_type}{THUMBNAIL_REDUCTION}.jpg"


def _yyyymmdd(date: datetime.date) -> str:
    # strftime("%Y") does not zero-pad years before 1000 on every platform.
    return f"{date.year:04d}{date.month:02d}{date.day:02d}"


def _split_dashes(name: str) -> tuple[str, str, datetime.date, str, str]:
    """Cut the name at its dashes and check the first four parts, left to right."""
    parts = name.split("-")
    if not _SITE.fullmatch(parts[0]):
        raise Rejected(f"site {parts[0]!r} must be 3-6 letters or digits")
    if len(parts) > 5:
        # Extra dashes: if the date only shows up after the third place (still followed by a counter
        # and a data type), the dash that pushed it there is inside the instrument.
        anchor = next((i for i in range(2, len(parts) - 2) if _EIGHT_DIGITS.fullmatch(parts[i])), None)
        if anchor is not None and anchor > 2:
            raise Rejected(f"instrument {'-'.join(parts[1:anchor])!r} must not contain a dash")
    checks = (_check_instrument, _parse_date, _check_counter)
    for check, part in zip(checks, parts[1:4], strict=False):
        check(part)
    if len(parts) < 5:
        raise Rejected(f"missing {_PART_NAMES[len(parts)]} after {parts[-1]!r}")
    if len(parts) > 5:
        raise Rejected(f"data type {'-'.join(parts[4:])!r} must not contain a dash")
    return parts[0], parts[1], _parse_date(parts[2]), parts[3], parts[4]


def _check_instrument(text: str) -> None:
    if not _INSTRUMENT.fullmatch(text):
        raise Rejected(f"instrument {text!r} must be 1 or more letters or digits")


def _check_counter(text: str) -> None:
    if not _EIGHT_DIGITS.fullmatch(text):
        raise Rejected(f"counter {text!r} must be exactly 8 digits")


def _parse_date(text: str) -> datetime.date:
    if not _EIGHT_DIGITS.fullmatch(text):
        raise Rejected(f"date {text!r} must be 8 digits, YYYYMMDD")
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise Rejected(f"date {text!r} is not a calendar date") from None


def _parse_tail(tail: str) -> tuple[str, str, str, str | None]:
    """``{datatype}{reduction}.{ext}[.{compression}]`` -> its four parts."""
    stem, _, suffix = tail.partition(".")
    rest = stem.lstrip(string.ascii_letters)
    data_type = stem[: len(stem) - len(rest)]
    if not data_type:
        raise Rejected(f"missing data type (letters) at the start of {stem!r}")
    if not rest:
        raise Rejected(f"missing reduction after {stem!r}")
    if not rest[0].isascii() or not rest[0].isdigit():
        raise Rejected(f"data type in {stem!r} must be letters only")
    if not _REDUCTION.fullmatch(rest):
        raise Rejected(f"reduction {rest!r} must be exactly 2 digits")

    ext, _, compression = suffix.partition(".")
    if not ext:
        raise Rejected(f"missing extension after {stem!r}")
    if not _LETTERS.fullmatch(ext):
        raise Rejected(f"extension {ext!r} must be letters")
    if not compression:
        if suffix.endswith("."):
            raise Rejected(f"missing compression after {stem + '.' + ext!r}")
        return data_type, rest, ext, None
    if compression.lower() not in COMPRESSIONS:
        raise Rejected(f"compression {compression!r} is not one of {', '.join(COMPRESSIONS)}")
    return data_type, rest, ext, compression.lower()


def _kind(ext: str, reduction: str, compression: str | None) -> FileKind:
    """SPEC §1's table. Only fits files may be compressed and still count: a gzipped header or jpg
    is not something the header reader or the thumbnailer can read as is, so it is known, no flag."""
    ext = ext.lower()
    if ext == "fits":
        if reduction in ("00", "01"):
            return FileKind.LARGE_FITS
        if reduction in ("10", "13"):
            return FileKind.SMALL_FITS
        return FileKind.OTHER
    if compression is not None:
        return FileKind.OTHER
    if ext == "txt":
        return FileKind.HEADER
    if ext == "jpg":
        if reduction in ("10", "13"):
            return FileKind.MEDIUM_JPG
        if reduction == THUMBNAIL_REDUCTION:
            return FileKind.THUMBNAIL_JPG
    return FileKind.OTHER
