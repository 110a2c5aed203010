"""FITS headers (SPEC §2): the ``header`` column and the typed catalog columns read from it.

A header reaches the catalog two ways: as the ``.txt`` file an observatory uploads ahead of the data,
or, when the data comes first, out of the fits file itself. Both end in the same ``ParsedHeader`` so
the catalog cannot tell them apart except by ``source``.

Cards are always parsed by astropy; this module only frames them (finds the ``END`` card, walks from
one HDU to the next) and decides what a value means for a column. Observatory headers are not always
clean, so a value that does not mean what its column needs becomes a warning and an empty column,
never a failure: only bytes that are not a header at all are ``Rejected``.

Reading a fits file is incremental because in production the stream is an S3 object fetched by ranged
reads: a 200 MB exposure must cost the few kilobytes of its header, and a decompression bomb must cost
no more than the limits in ``HeaderLimits``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import math
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from photon_archive.errors import Rejected

if TYPE_CHECKING:
    from astropy.io import fits

# astropy (with numpy under it, over a second of start-up) is imported by the functions that parse
# cards, not with this module: the settings, the sensors and every job that reads no header import
# this module for its limits and column rules alone.

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_RIGHT_ASCENSION_UNIT",
    "RIGHT_ASCENSION_UNITS",
    "HeaderColumns",
    "HeaderLimits",
    "ParsedHeader",
    "ReadableStream",
    "parse_text_header",
    "read_fits_header",
    "right_ascension_in",
    "stated_right_ascension",
    "stored_header_columns",
]

# The unit the catalog's right_ascension column is written in. Hours is what the column is documented
# to hold; the legacy handler wrote CRVAL1 degrees there from 2023-03-08 on, and the frontend's info
# bar and single-image view divide by 15 for images after that date.
RIGHT_ASCENSION_UNITS = {"hours": 1.0, "degrees": 15.0}
DEFAULT_RIGHT_ASCENSION_UNIT = "hours"

BLOCK_SIZE = 2880  # a FITS header or data unit is a whole number of these
CARD_SIZE = 80
COMMENTARY_KEYWORDS = ("COMMENT", "HISTORY")
# Bytes read from the FITS stream at a time when a preceding HDU's data is skipped: few enough
# requests on a remote stream, and never much beyond what the limits allow anyway.
SKIP_CHUNK_SIZE = 256 * 1024


@dataclass(frozen=True)
class HeaderLimits:
    """Bounds on what one header may cost, so that hostile or broken input fails fast and cheaply.

    Each field is named as the setting that changes it, and a rejection for exceeding one names it.
    """

    max_header_text_bytes: int = 2 * 1024 * 1024  # a .txt header larger than this is rejected
    max_header_read_bytes: int = 4 * 1024 * 1024  # raw bytes read from a fits file looking for the header
    max_decompressed_bytes: int = 2 * 1024 * 1024  # FITS bytes scanned once decompressed (bomb guard)


DEFAULT_LIMITS = HeaderLimits()


class ReadableStream(Protocol):
    """All a fits stream must offer: an open file, a ``BytesIO`` or a lazily fetched S3 object."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class HeaderColumns:
    """The catalog columns a header fills; ``None`` means the header did not give a usable value."""

    capture_date: datetime | None  # naive UTC from DATE-OBS, fraction kept; None = caller uses upload time
    right_ascension: float | None  # decimal HOURS
    declination: float | None  # decimal degrees
    altitude: float | None
    azimuth: float | None
    airmass: float | None
    exposure_time: float | None
    filter_used: str | None
    user_id: str | None
    username: str | None


@dataclass(frozen=True)
class ParsedHeader:
    """One header as the catalog stores it, with what had to be guessed or dropped on the way."""

    cards: dict[str, str]  # keyword -> value as a string (the `header` column's JSON object)
    columns: HeaderColumns
    warnings: tuple[str, ...]  # each fallback or unparseable value, as a sentence naming the keyword
    source: str  # "txt" or "fits"

    def header_json(self) -> str:
        """The ``header`` column: other services read it as a JSON object of strings."""
        return json.dumps(self.cards)


# --------------------------------------------------------------------------------------------------
# .txt headers


def parse_text_header(data: bytes, limits: HeaderLimits = DEFAULT_LIMITS) -> ParsedHeader:
    """Read an uploaded ``.txt`` header: ``str(header)`` output, or the same cards one per line.

    The ``END`` card is required in both forms: without it a header cut short in transit would be
    catalogued as if it were complete.
    """
    if len(data) == 0:
        raise Rejected("the header file is empty (zero bytes)")
    if len(data) > limits.max_header_text_bytes:
        raise Rejected(
            f"the header file is {len(data)} bytes, more than a header may be "
            f"(max_header_text_bytes = {limits.max_header_text_bytes})"
        )
    body = bytes(data).rstrip(b" \t\r\n\x00")
    if not body:
        raise Rejected("the header file holds only blank space, no header cards")
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        header = _header_from_lines(body, notes) if b"\n" in body else _header_from_fixed_cards(body, notes)
        return _parsed(header, "txt", notes)


def _header_from_fixed_cards(body: bytes, notes: list[str]) -> fits.Header:
    end = _end_card_offset(body)
    if end is None:
        raise Rejected(
            "the header has no END card on an 80-character card boundary: "
            "it is truncated or not a FITS header"
        )
    return _header_from_string(_printable(body[:end], notes))


def _header_from_lines(body: bytes, notes: list[str]) -> fits.Header:
    """Cards one per line, their trailing blanks stripped or not, become 80-character cards again.

    astropy joins a long string's ``CONTINUE`` cards by position within 80-character cards, so a
    line is padded back to its card's width rather than handed over with a separator.
    """
    lines = [line.rstrip(b"\r").rstrip(b" ") for line in body.split(b"\n")]
    try:
        end = next(index for index, line in enumerate(lines) if line == b"END")
    except StopIteration:
        raise Rejected("the header has no END line: it is truncated or not a FITS header") from None
    cards = lines[:end]
    for number, line in enumerate(cards, start=1):
        if len(line) > CARD_SIZE:
            raise Rejected(
                f"line {number} of the header is {len(line)} characters long; "
                f"a header card is at most {CARD_SIZE}"
            )
    return _header_from_string(_printable(b"".join(card.ljust(CARD_SIZE) for card in cards), notes))


# --------------------------------------------------------------------------------------------------
# fits files


def read_fits_header(
    stream: ReadableStream, compression: str | None, limits: HeaderLimits = DEFAULT_LIMITS
) -> ParsedHeader:
    """Read the header of the first HDU with ``DATE-OBS``, pulling as few bytes from ``stream`` as that needs.

    ``compression`` is the name's compression suffix: None for plain ``.fits``, ``"bz2"``, ``"gz"``
    or ``"fz"`` (tile compression, readable as plain FITS; its image header is returned, not the
    binary table that carries it). A preceding HDU's data is read through rather than seeked over,
    so it counts against both limits; in practice DATE-OBS is in the first header, or, for ``.fz``,
    in the second after an empty primary.

    An exception raised by ``stream.read`` itself (a network failure) propagates unchanged, so it
    stays retryable; everything wrong with the bytes is a ``Rejected``.
    """
    if compression not in (None, "bz2", "gz", "fz"):
        raise Rejected(f"unknown fits compression {compression!r}: expected bz2, gz, fz or none")
    raw = _BoundedReader(stream, limits.max_header_read_bytes, compression)
    label = f"{compression}-compressed " if compression in ("bz2", "gz") else ""
    try:
        if compression == "bz2":
            with bz2.BZ2File(raw) as decompressed:
                return _scan_fits(decompressed, limits, label)
        if compression == "gz":
            with gzip.GzipFile(fileobj=raw, mode="rb") as decompressed:
                return _scan_fits(decompressed, limits, label)
        return _scan_fits(raw, limits, label)
    except Rejected:
        if raw.empty:
            raise Rejected("the fits file is empty (zero bytes)") from None
        raise
    except Exception as error:
        if raw.failure is not None:
            raise raw.failure from None
        if raw.empty:
            raise Rejected("the fits file is empty (zero bytes)") from None
        if isinstance(error, EOFError):
            raise Rejected(f"the {label}fits file is truncated: {error}") from None
        if isinstance(error, OSError) and compression in ("bz2", "gz"):
            raise Rejected(f"the {compression} stream is corrupt: {error}") from None
        raise Rejected(f"the {label}fits file could not be read ({type(error).__name__}: {error})") from None


class _BoundedReader:
    """Counts the raw bytes pulled from the stream and refuses to pull more than the limit allows.

    It also remembers an exception from the stream itself, so the caller can tell a failed read
    (retryable) from bad bytes (a rejection) after it has passed through a decompressor.
    """

    def __init__(self, stream: ReadableStream, limit: int, compression: str | None) -> None:
        self._stream = stream
        self._limit = limit
        self._compression = compression
        self.bytes_read = 0
        self.ended = False
        self.failure: BaseException | None = None

    @property
    def empty(self) -> bool:
        """Whether the stream was read to its end and held nothing; a limit may stop a scan before
        the first read, and that is no evidence of an empty file."""
        return self.ended and self.bytes_read == 0

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._limit - self.bytes_read + 1
        if size == 0:
            return b""
        try:
            chunk = self._stream.read(size)
        except BaseException as error:
            self.failure = error
            raise
        if not chunk:
            self.ended = True
            return b""
        self.bytes_read += len(chunk)
        if self.bytes_read > self._limit:
            what = f"{self._compression}-compressed " if self._compression in ("bz2", "gz") else ""
            raise Rejected(
                f"read more than {self._limit} bytes of the {what}fits file without finding a header "
                f"with DATE-OBS (max_header_read_bytes = {self._limit})"
            )
        return bytes(chunk)

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = 0, /) -> int:
        raise io.UnsupportedOperation("the header is read front to back; the stream is never seeked")


class _Source(Protocol):
    """What the scanner needs of the FITS bytes: the raw stream or a decompressor over it."""

    def read(self, size: int, /) -> bytes: ...


def _scan_fits(source: _Source, limits: HeaderLimits, label: str) -> ParsedHeader:
    scanner = _FitsScanner(source, limits.max_decompressed_bytes, label)
    index = 0
    while True:
        header_bytes = scanner.read_header(index)
        if header_bytes is None:
            if index == 0:
                raise Rejected(f"the {label}fits file is empty: it holds no FITS bytes at all")
            raise Rejected(f"no HDU in the {label}fits file has DATE-OBS ({index} HDUs read)")
        notes: list[str] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = _header_from_string(_printable(header_bytes, notes))
            if "DATE-OBS" in header:
                if _is_compressed_image(header):
                    header = _compressed_image_header(header, notes)
                elif index > 0:
                    notes.append(f"The header comes from HDU {index}, the first with DATE-OBS.")
                return _parsed(header, "fits", notes)
            size = _data_size(header, index)
        scanner.skip(size, index)
        index += 1


class _FitsScanner:
    """Walks a FITS byte stream block by block, keeping count of every byte against the scan limit."""

    def __init__(self, source: _Source, limit: int, label: str) -> None:
        self._source = source
        self._limit = limit
        self._label = label
        self.scanned = 0

    def _read_exact(self, size: int) -> bytes:
        parts: list[bytes] = []
        got = 0
        while got < size:
            chunk = self._source.read(size - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        self.scanned += got
        return b"".join(parts)

    def read_header(self, index: int) -> bytes | None:
        """The header's cards up to (not including) END, or None if the stream ends cleanly first."""
        blocks: list[bytes] = []
        while True:
            if self.scanned + BLOCK_SIZE > self._limit:
                raise Rejected(
                    f"scanned {self.scanned} bytes of the {self._label}fits data without finding a header "
                    f"with DATE-OBS (max_decompressed_bytes = {self._limit})"
                )
            block = self._read_exact(BLOCK_SIZE)
            if not block and not blocks:
                return None
            if len(block) < BLOCK_SIZE:
                raise Rejected(f"the {self._label}fits file is truncated inside the header of HDU {index}")
            if not blocks:
                self._check_start(block, index)
            blocks.append(block)
            end = _end_card_offset(block)
            if end is not None:
                blocks[-1] = block[:end]
                return b"".join(blocks)

    def _check_start(self, block: bytes, index: int) -> None:
        if index == 0 and not block.startswith(b"SIMPLE  ="):
            raise Rejected(f"the {self._label}file is not FITS: it does not start with a SIMPLE card")
        if index > 0 and not block.startswith(b"XTENSION="):
            raise Rejected(
                f"no HDU in the {self._label}fits file has DATE-OBS: {index} HDUs read, "
                "then bytes that are not a FITS extension"
            )

    def skip(self, size: int, index: int) -> None:
        if self.scanned + size > self._limit:
            raise Rejected(
                f"HDU {index} has no DATE-OBS and its {size} bytes of data would take the scan past "
                f"{self._limit} bytes (max_decompressed_bytes = {self._limit})"
            )
        remaining = size
        while remaining > 0:
            chunk = self._read_exact(min(remaining, SKIP_CHUNK_SIZE))
            if not chunk:
                raise Rejected(
                    f"the {self._label}fits file ends inside the data of HDU {index}, "
                    "before any HDU with DATE-OBS"
                )
            remaining -= len(chunk)


def _data_size(header: fits.Header, index: int) -> int:
    """Bytes of data after a header, padded to whole blocks (FITS standard 4.0, §4.4.1)."""

    def integer(keyword: str, default: int | None = None) -> int:
        value = _safe_value(header, keyword, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Rejected(
                f"HDU {index} has no DATE-OBS and no valid {keyword} ({value!r}), "
                "so the next HDU cannot be found"
            )
        return value

    bitpix = _safe_value(header, "BITPIX", None)
    if type(bitpix) is not int or bitpix not in (8, 16, 32, 64, -32, -64):
        raise Rejected(
            f"HDU {index} has no DATE-OBS and no valid BITPIX ({bitpix!r}), so the next HDU cannot be found"
        )
    naxis = integer("NAXIS")
    if naxis > 999:
        raise Rejected(f"HDU {index} has NAXIS = {naxis}, more than FITS allows")
    if naxis == 0:
        return 0
    axes = [integer(f"NAXIS{axis}") for axis in range(1, naxis + 1)]
    if index == 0 and _safe_value(header, "GROUPS", False) is True and axes[0] == 0:
        axes = axes[1:]  # random groups: NAXIS1 = 0 is a marker, not a length
    size = abs(bitpix) // 8 * integer("GCOUNT", 1) * (integer("PCOUNT", 0) + math.prod(axes))
    return -(-size // BLOCK_SIZE) * BLOCK_SIZE


def _is_compressed_image(header: fits.Header) -> bool:
    xtension = _safe_value(header, "XTENSION", None)
    return (
        isinstance(xtension, str)
        and xtension.strip() == "BINTABLE"
        and _safe_value(header, "ZIMAGE", False) is True
    )


def _compressed_image_header(table_header: fits.Header, notes: list[str]) -> fits.Header:
    """The image's own header, as astropy derives it when it opens a tile-compressed HDU."""
    from astropy.io import fits

    try:
        return fits.CompImageHDU(bintable=fits.BinTableHDU(header=table_header)).header
    except Exception as error:
        notes.append(
            f"The tile-compressed HDU's image header could not be derived ({type(error).__name__}); "
            "its table header is used as it is."
        )
        return table_header


# --------------------------------------------------------------------------------------------------
# framing and card parsing shared by both sources


def _end_card_offset(data: bytes) -> int | None:
    """Offset of the END card among 80-byte cards, found the way a FITS reader frames a header."""
    for offset in range(0, len(data), CARD_SIZE):
        if data[offset : offset + CARD_SIZE].rstrip(b" ") == b"END":
            return offset
    return None


_PRINTABLE = bytes(range(0x20, 0x7F))


def _printable(data: bytes, notes: list[str], keep: bytes = b"") -> str:
    """Header text astropy will accept: FITS allows printable ASCII only.

    Each other byte becomes ``?`` (one for one, so 80-byte card framing is kept) rather than
    rejecting a whole header over, say, a degree sign in a comment.
    """
    allowed = _PRINTABLE + keep
    foreign = len(data.translate(None, allowed))
    if not foreign:
        return data.decode("ascii")
    table = bytearray(b"?" * 256)
    for byte in allowed:
        table[byte] = byte
    notes.append(f"The header has {foreign} bytes that are not printable ASCII; each was replaced by '?'.")
    return data.translate(bytes(table)).decode("ascii")


def _header_from_string(text: str) -> fits.Header:
    from astropy.io import fits

    try:
        return fits.Header.fromstring(text)
    except Exception as error:
        raise Rejected(f"the header cards could not be parsed ({type(error).__name__}: {error})") from None


def _card_value(card: fits.Card) -> object:
    """The card's value; a value astropy cannot parse is kept as astropy's repaired text."""
    try:
        return card.value
    except Exception:
        card.verify("silentfix")
        return card.value


def _safe_value(header: fits.Header, keyword: str, default: object) -> object:
    if keyword not in header:
        return default
    try:
        return _card_value(header.cards[keyword])
    except Exception:
        return default


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "T" if value else "F"
    if _is_undefined(value):
        return ""
    return value if isinstance(value, str) else str(value)


def _is_undefined(value: object) -> bool:
    """Whether ``value`` is astropy's value of a card without one; only astropy makes those, so
    while it is not imported no value is one."""
    card = sys.modules.get("astropy.io.fits.card")
    return card is not None and isinstance(value, card.Undefined)


def _parsed(header: fits.Header, source: str, notes: list[str]) -> ParsedHeader:
    values: dict[str, object] = {}
    commentary: dict[str, list[str]] = {}
    repeated: dict[str, int] = {}
    for position, card in enumerate(header.cards):
        try:
            keyword = card.keyword
            if not keyword:
                continue
            if keyword in COMMENTARY_KEYWORDS:
                commentary.setdefault(keyword, []).append(_as_text(_card_value(card)))
                continue
            if keyword in values:
                repeated[keyword] = repeated.get(keyword, 1) + 1
                continue
            try:
                value = card.value
            except Exception:
                card.verify("silentfix")
                value = card.value
                notes.append(f"{keyword} is not a standard FITS value; it is kept as the text {value!r}.")
            values[keyword] = value
        except Exception as error:
            notes.append(f"Card {position + 1} could not be read and is left out ({type(error).__name__}).")
    for keyword, count in repeated.items():
        notes.append(f"{keyword} appears {count} times; the first value is kept.")
    cards = {keyword: _as_text(value) for keyword, value in values.items()}
    for keyword, lines in commentary.items():
        cards[keyword] = "\n".join(lines)
    return ParsedHeader(cards=cards, columns=_columns(values, notes), warnings=tuple(notes), source=source)


# --------------------------------------------------------------------------------------------------
# columns


def _columns(values: Mapping[str, object], notes: list[str]) -> HeaderColumns:
    return HeaderColumns(
        capture_date=_capture_date(values, notes),
        right_ascension=_right_ascension(values, notes),
        declination=_declination(values, notes),
        altitude=_measure(values, "ALTITUDE", "altitude", notes),
        azimuth=_measure(values, "AZIMUTH", "azimuth", notes),
        airmass=_measure(values, "AIRMASS", "airmass", notes),
        exposure_time=_measure(values, "EXPTIME", "exposure_time", notes),
        filter_used=_filter(values),
        user_id=_text(values, "USERID"),
        username=_text(values, "USERNAME"),
    )


def _capture_date(values: Mapping[str, object], notes: list[str]) -> datetime | None:
    if "DATE-OBS" not in values:
        notes.append("DATE-OBS is missing; capture_date falls back to the upload time.")
        return None
    raw = values["DATE-OBS"]
    try:
        if not isinstance(raw, str):
            raise ValueError(raw)
        moment = datetime.fromisoformat(raw.strip())
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        notes.append(
            f"DATE-OBS value {_as_text(raw)!r} is not an ISO date and time; "
            "capture_date falls back to the upload time."
        )
        return None
    return moment


def _number(value: object) -> float | None:
    """A finite float, or None for anything else (booleans included, NaN and infinities too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _measure(values: Mapping[str, object], keyword: str, column: str, notes: list[str]) -> float | None:
    if keyword not in values:
        return None
    number = _number(values[keyword])
    if number is None:
        notes.append(
            f"{keyword} value {_as_text(values[keyword])!r} is not a number; {column} is left empty."
        )
    return number


def _sexagesimal(text: str, unit: str) -> float | None:
    """``12:30:00``, ``12 30 00``, ``-12d30m00s``, ``12h30m00s``... in ``unit`` (an astropy unit's
    name, ``hourangle`` or ``deg``); None if none of them."""
    # Imported here, not with the module: astropy.coordinates costs every run process about a second
    # of start-up, and only headers with sexagesimal RA or DEC strings need it.
    from astropy.coordinates import Angle

    try:
        number = float(Angle(text.strip(), unit=unit).to_value(unit))
    except Exception:
        return None
    return number if math.isfinite(number) else None


def _wcs_axis_is(values: Mapping[str, object], axis: int, prefix: str) -> bool:
    """Whether CRVALn is the coordinate wanted: true unless CTYPEn says it is another one."""
    ctype = values.get(f"CTYPE{axis}")
    return not isinstance(ctype, str) or not ctype.strip() or ctype.strip().upper().startswith(prefix)


def _right_ascension(values: Mapping[str, object], notes: list[str]) -> float | None:
    """Decimal hours, in [0, 24).

    RAHRS is hours. CRVAL1 is degrees (FITS WCS). RA is read as hours when it is sexagesimal text
    (``12:30:00``, ``12 30 00``, ``12h30m00s``), as observatories write it, and as degrees when it is
    a plain number, as FITS WCS and most pipelines write it.
    """
    hours: float | None = None
    if "RAHRS" in values:
        hours = _number(values["RAHRS"])
        if hours is None:
            notes.append(f"RAHRS value {_as_text(values['RAHRS'])!r} is not a number of hours.")
    if hours is None and "CRVAL1" in values:
        if not _wcs_axis_is(values, 1, "RA"):
            notes.append(f"CRVAL1 is not a right ascension (CTYPE1 = {_as_text(values['CTYPE1'])!r}).")
        else:
            degrees = _number(values["CRVAL1"])
            if degrees is None:
                notes.append(f"CRVAL1 value {_as_text(values['CRVAL1'])!r} is not a number of degrees.")
            else:
                hours = degrees / 15
                notes.append("right_ascension comes from CRVAL1 (degrees / 15).")
    if hours is None and "RA" in values:
        raw = values["RA"]
        degrees = _number(raw)
        if degrees is not None:
            hours = degrees / 15
            notes.append("right_ascension comes from RA, a plain number read as degrees (/ 15).")
        elif isinstance(raw, str):
            hours = _sexagesimal(raw, "hourangle")
            if hours is not None:
                notes.append("right_ascension comes from RA, read as sexagesimal hours.")
        if hours is None:
            notes.append(f"RA value {_as_text(raw)!r} is neither sexagesimal hours nor degrees.")
    if hours is None:
        notes.append("No usable RAHRS, CRVAL1 or RA; right_ascension is left empty.")
        return None
    wrapped = hours % 24.0
    if wrapped == 24.0:  # a tiny negative value wraps to 24.0 itself in floating point: 0 h on the sky
        wrapped = 0.0
    if wrapped != hours:
        notes.append(f"right_ascension {hours!r} h is outside [0, 24) and was wrapped to {wrapped!r} h.")
    return wrapped


def right_ascension_in(hours: float | None, unit: str) -> float | None:
    """Decimal hours as the catalog column holds them in ``unit`` (a key of ``RIGHT_ASCENSION_UNITS``)."""
    return None if hours is None else hours * RIGHT_ASCENSION_UNITS[unit]


def stated_right_ascension(values: Mapping[str, object]) -> dict[str, float]:
    """What a header states its right ascension to be, by unit (keys of ``RIGHT_ASCENSION_UNITS``):
    RAHRS in hours, CRVAL1 in degrees unless CTYPE1 names another axis. A value that is not a
    finite number states nothing. The legacy handler stored one of the two as it stood, which is
    how a stored row shows the unit its column was written in."""
    stated: dict[str, float] = {}
    hours = _number(values.get("RAHRS"))
    if hours is not None:
        stated["hours"] = hours
    degrees = _number(values.get("CRVAL1")) if _wcs_axis_is(values, 1, "RA") else None
    if degrees is not None:
        stated["degrees"] = degrees
    return stated


def stored_header_columns(values: Mapping[str, object]) -> HeaderColumns:
    """The columns today's rules read from a header the catalog already holds: the ``header``
    column's JSON object, its values strings or, where a legacy fits fallback wrote it, typed."""
    return _columns(values, [])


def _declination(values: Mapping[str, object], notes: list[str]) -> float | None:
    """Decimal degrees in [-90, 90], from CRVAL2 (WCS degrees), else DEC (decimal or sexagesimal degrees)."""
    for keyword in ("CRVAL2", "DEC"):
        if keyword not in values:
            continue
        raw = values[keyword]
        if keyword == "CRVAL2" and not _wcs_axis_is(values, 2, "DEC"):
            notes.append(f"CRVAL2 is not a declination (CTYPE2 = {_as_text(values['CTYPE2'])!r}).")
            continue
        degrees = _number(raw)
        if degrees is None and isinstance(raw, str) and keyword == "DEC":
            degrees = _sexagesimal(raw, "deg")
        if degrees is None:
            notes.append(f"{keyword} value {_as_text(raw)!r} is not a declination in degrees.")
        elif not -90.0 <= degrees <= 90.0:
            notes.append(f"{keyword} value {_as_text(raw)!r} is outside [-90, 90] degrees.")
        else:
            if keyword == "DEC" and "CRVAL2" in values:
                notes.append("declination comes from DEC: CRVAL2 was not usable.")
            return degrees
    notes.append("No usable CRVAL2 or DEC; declination is left empty.")
    return None


def _filter(values: Mapping[str, object]) -> str | None:
    """FILTER without the stray quotes some observatories write inside the string (``'L'`` -> ``L``)."""
    if "FILTER" not in values:
        return None
    return _as_text(values["FILTER"]).strip().strip("'\"").strip() or None


def _text(values: Mapping[str, object], keyword: str) -> str | None:
    if keyword not in values:
        return None
    return _as_text(values[keyword]).strip() or None
