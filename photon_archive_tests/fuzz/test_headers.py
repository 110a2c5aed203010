"""Fuzzing the header parsers: ``.txt`` headers and fits streams (plain, bz2, gz, fz) made by astropy
and then corrupted card by card, cut short, bit-flipped and recompressed, under the default limits
and tiny ones; nothing but ``Rejected`` escapes, and a header that parses keeps its promises."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import math
import string
from typing import Any

import numpy as np
from astropy.io import fits
from hypothesis import given
from hypothesis import strategies as st

from photon_archive.headers import (
    DEFAULT_LIMITS,
    HeaderLimits,
    ParsedHeader,
    parse_text_header,
    read_fits_header,
)
from photon_archive_tests.fuzz.budget import fuzz, survives
from photon_archive_tests.test_headers import COMPRESSIONS, fits_file, observatory_header, txt

CARD = 80
BLOCK = 2880


def keeps_its_promises(parsed: ParsedHeader | None) -> None:
    """A parsed header is all strings, valid JSON, and columns in their units and ranges."""
    if parsed is None:
        return
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in parsed.cards.items())
    assert json.loads(parsed.header_json()) == parsed.cards
    columns = parsed.columns
    if columns.right_ascension is not None:
        assert 0.0 <= columns.right_ascension < 24.0
    if columns.declination is not None:
        assert -90.0 <= columns.declination <= 90.0
    for number in (columns.altitude, columns.azimuth, columns.airmass, columns.exposure_time):
        assert number is None or math.isfinite(number)
    assert columns.capture_date is None or columns.capture_date.tzinfo is None


def text_survives(data: bytes, limits: HeaderLimits = DEFAULT_LIMITS) -> None:
    keeps_its_promises(survives("headers", lambda: parse_text_header(data, limits)))


def fits_survives(data: bytes, compression: str | None, limits: HeaderLimits = DEFAULT_LIMITS) -> None:
    keeps_its_promises(survives("headers", lambda: read_fits_header(io.BytesIO(data), compression, limits)))


# --------------------------------------------------------------------------------------------------
# valid headers, as a site writes them

printable = st.text(alphabet=string.printable.strip("\t\n\r\x0b\x0c"), max_size=100)
card_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    printable,
    st.sampled_from(
        ["2022-06-29T03:04:05.123456", "2022-06-29T03:04:05+05:00", "0001-01-01T00:00:00+01:00", "12:30:00",
         "-12d30m00s", "12h30m", "99:99:99", "1e400", "NaN", "-inf", "'L'", "RA---TAN", "DEC--TAN", "GLON"]
    ),
)  # fmt: skip
observatory_keywords = st.sampled_from(
    ["DATE-OBS", "RAHRS", "CRVAL1", "CRVAL2", "CTYPE1", "CTYPE2", "RA", "DEC", "ALTITUDE", "AZIMUTH",
     "AIRMASS", "EXPTIME", "FILTER", "USERID", "USERNAME", "OBJECT"]
)  # fmt: skip


@st.composite
def valid_headers(draw: st.DrawFn) -> fits.Header:
    cards = draw(st.dictionaries(observatory_keywords, card_values, max_size=6))
    header = observatory_header(**{keyword.replace("-", "_"): value for keyword, value in cards.items()})
    for _ in range(draw(st.integers(0, 2))):
        header.add_history(draw(printable))
    return header


# --------------------------------------------------------------------------------------------------
# corruption, card by card

card_text = st.text(alphabet=string.printable, max_size=90)
structural_keywords = st.sampled_from(
    ["SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT", "GROUPS",
     "ZIMAGE", "ZBITPIX", "ZNAXIS", "ZNAXIS1", "ZCMPTYPE", "TFIELDS", "TFORM1", "END"]
)  # fmt: skip
structural_values = st.sampled_from(
    ["-1", "0", "1", "7", "8", "16", "-32", "999", "1000", "3.5", "T", "F", "'IMAGE   '", "'BINTABLE'",
     "'RICE_1  '", "''", "99999999999999999999", "1E10", " ", "="]
)  # fmt: skip
card_corruptions = st.one_of(
    st.tuples(st.just("byte"), st.integers(min_value=0), st.integers(0, 255)),
    st.tuples(st.just("delete card"), st.integers(min_value=0), st.none()),
    st.tuples(st.just("duplicate card"), st.integers(min_value=0), st.none()),
    st.tuples(st.just("overwrite card"), st.integers(min_value=0), card_text),
    st.tuples(st.just("insert card"), st.integers(min_value=0), card_text),
    st.tuples(st.just("set value"), structural_keywords, structural_values),
    st.tuples(st.just("cut"), st.integers(min_value=0), st.none()),
)


def corrupted(data: bytes, corruptions: list[tuple[str, Any, Any]], span: int) -> bytes:
    """``data`` with each corruption applied within its first ``span`` bytes (the header cards)."""
    out = bytearray(data)
    for kind, where, what in corruptions:
        reach = max(min(span, len(out)), 1)
        at = (where % max(reach // CARD, 1)) * CARD if isinstance(where, int) else 0
        if kind == "byte":
            out[where % reach : where % reach + 1] = bytes([what])
        elif kind == "delete card":
            del out[at : at + CARD]
        elif kind == "duplicate card":
            out[at:at] = out[at : at + CARD]
        elif kind == "overwrite card":
            out[at : at + CARD] = what[:CARD].ljust(CARD).encode("ascii", "replace")
        elif kind == "insert card":
            out[at:at] = what[:CARD].ljust(CARD).encode("ascii", "replace")
        elif kind == "set value":
            found = bytes(out[:span]).find(where.ljust(8).encode())
            if found >= 0 and found % CARD == 0:
                out[found + 8 : found + CARD] = f"= {what:>20}".ljust(CARD - 8).encode()
        elif kind == "cut":
            del out[where % (len(out) + 1) :]
    return bytes(out)


def one_card_per_line(data: bytes, newline: bytes) -> bytes:
    return newline.join(data[at : at + CARD].rstrip() for at in range(0, len(data), CARD))


tiny_limits = st.builds(
    HeaderLimits,
    max_header_text_bytes=st.integers(0, 20_000),
    max_header_read_bytes=st.integers(0, 40_000),
    max_decompressed_bytes=st.integers(0, 40_000),
)
limits = st.one_of(st.just(DEFAULT_LIMITS), tiny_limits)


@fuzz("headers")
@given(
    valid_headers(),
    st.lists(card_corruptions, max_size=4),
    st.sampled_from([None, b"\n", b"\r\n"]),
    limits,
)
def test_corrupted_txt_headers_parse_or_are_rejected(
    header: fits.Header, corruptions: list[tuple[str, Any, Any]], newline: bytes | None, limit: HeaderLimits
) -> None:
    data = corrupted(txt(header), corruptions, span=len(txt(header)))
    text_survives(data if newline is None else one_card_per_line(data, newline), limit)


# --------------------------------------------------------------------------------------------------
# fits streams


def _extension_after_a_primary_without_date_obs(header: fits.Header) -> bytes:
    primary = fits.PrimaryHDU(data=np.ones((20, 30), dtype=np.float32))
    extension = fits.ImageHDU(data=np.zeros((8, 8), dtype=np.int16), header=header)
    buffer = io.BytesIO()
    fits.HDUList([primary, extension]).writeto(buffer)
    return buffer.getvalue()


def uncompressed_fits(header: fits.Header, compression: str | None, layout: str) -> bytes:
    """The FITS bytes a decompressor would yield: tile compression stays inside, it is FITS too."""
    if layout == "extension":
        return _extension_after_a_primary_without_date_obs(header)
    return fits_file(header, "fz" if compression == "fz" else None, shape=(16, 24))


def compressed(data: bytes, compression: str | None) -> bytes:
    if compression == "gz":
        return gzip.compress(data, compresslevel=1, mtime=0)
    if compression == "bz2":
        return bz2.compress(data, compresslevel=1)
    return data


stream_damage = st.lists(
    st.one_of(
        st.tuples(st.just("cut"), st.integers(min_value=0), st.none()),
        st.tuples(st.just("flip"), st.integers(min_value=0), st.integers(0, 7)),
        st.tuples(st.just("append"), st.none(), st.binary(max_size=3000)),
    ),
    max_size=3,
)


def damaged(data: bytes, damage: list[tuple[str, Any, Any]]) -> bytes:
    """The stream as it may arrive: cut short, a bit flipped, or followed by junk."""
    out = bytearray(data)
    for kind, where, what in damage:
        if kind == "cut":
            del out[where % (len(out) + 1) :]
        elif kind == "flip" and out:
            out[where % len(out)] ^= 1 << what
        elif kind == "append":
            out += what
    return bytes(out)


@fuzz("headers")
@given(
    valid_headers(),
    st.sampled_from(COMPRESSIONS),
    st.sampled_from(["primary", "extension"]),
    st.lists(card_corruptions, max_size=4),
    stream_damage,
    limits,
)
def test_corrupted_fits_streams_parse_or_are_rejected(
    header: fits.Header,
    compression: str | None,
    layout: str,
    corruptions: list[tuple[str, Any, Any]],
    damage: list[tuple[str, Any, Any]],
    limit: HeaderLimits,
) -> None:
    data = uncompressed_fits(header, compression, layout)
    data = corrupted(data, corruptions, span=4 * BLOCK)
    fits_survives(damaged(compressed(data, compression), damage), compression, limit)


# --------------------------------------------------------------------------------------------------
# raw bytes and card-like text


@fuzz("headers")
@given(st.binary(max_size=6000))
def test_random_bytes_as_txt_header_never_raise_anything_but_rejected(data: bytes) -> None:
    text_survives(data)


@fuzz("headers")
@given(st.binary(max_size=6000), st.sampled_from(COMPRESSIONS))
def test_random_bytes_as_fits_never_raise_anything_but_rejected(data: bytes, compression: str | None) -> None:
    fits_survives(data, compression)


keywords = st.sampled_from(
    ["DATE-OBS", "RAHRS", "CRVAL1", "CRVAL2", "CTYPE1", "RA", "DEC", "AIRMASS", "EXPTIME", "FILTER",
     "USERID", "NAXIS", "BITPIX", "ZIMAGE", "XTENSION", "COMMENT", "HISTORY", "CONTINUE", "HIERARCH A", ""]
)  # fmt: skip
card_like = st.one_of(
    card_text,
    st.builds(lambda keyword, value: f"{keyword:<8}= {value}", keywords, card_text),
    st.builds(lambda keyword, value: f"{keyword:<8}= '{value}'", keywords, card_text),
)


@fuzz("headers")
@given(st.lists(card_like, max_size=12))
def test_card_like_lines_never_raise_anything_but_rejected(lines: list[str]) -> None:
    text_survives("\n".join([*lines, "END"]).encode())
    text_survives("".join(line[:80].ljust(80) for line in [*lines, "END"]).encode())


@fuzz("headers")
@given(st.lists(card_like, max_size=12), st.sampled_from(COMPRESSIONS), st.binary(max_size=3000))
def test_card_like_fits_headers_never_raise_anything_but_rejected(
    lines: list[str], compression: str | None, tail: bytes
) -> None:
    cards = ["SIMPLE  =                    T", *lines, "END"]
    block = "".join(line[:80].ljust(80) for line in cards).encode("ascii", "replace")
    data = block.ljust(-(-len(block) // BLOCK) * BLOCK) + tail
    fits_survives(compressed(data, compression), compression)
