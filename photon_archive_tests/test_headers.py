"""Header files and FITS headers (SPEC §2), built the way an observatory writes them: astropy's
``Header`` and ``str(header)`` for a ``.txt``, ``writeto`` for a fits file."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import string
import time
from datetime import datetime

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import given, settings
from hypothesis import strategies as st

from photon_archive.errors import Rejected
from photon_archive.headers import (
    DEFAULT_LIMITS,
    HeaderLimits,
    ParsedHeader,
    parse_text_header,
    read_fits_header,
    right_ascension_in,
)

COMPRESSIONS = [None, "gz", "bz2", "fz"]


def observatory_header(**cards: object) -> fits.Header:
    """A header like the ones Photon Ranch sites upload; keyword arguments add or replace cards
    (``DATE_OBS`` for ``DATE-OBS``; ``None`` removes a card)."""
    header = fits.Header()
    header["DATE-OBS"] = ("2022-06-29T03:04:05.123456", "UTC start of exposure")
    header["EXPTIME"] = (30.0, "seconds")
    header["FILTER"] = "'L'"
    header["RAHRS"] = (12.5, "hours")
    header["CRVAL1"] = 10.0
    header["CRVAL2"] = -12.5
    header["ALTITUDE"] = 45.25
    header["AZIMUTH"] = 180.5
    header["AIRMASS"] = 1.41
    header["USERID"] = "google-oauth2|1234"
    header["USERNAME"] = "Wendy Observer"
    header["SSTKNUM"] = 3
    header["SMARTSTK"] = True
    header["GUIDING"] = False
    for keyword, value in cards.items():
        keyword = keyword.replace("_", "-")
        if value is None:
            header.remove(keyword, ignore_missing=True)
        else:
            header[keyword] = value
    return header


def txt(header: fits.Header) -> bytes:
    return str(header).encode("ascii")


def parse(**cards: object) -> ParsedHeader:
    return parse_text_header(txt(observatory_header(**cards)))


def text_rejection(data: bytes, limits: HeaderLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(Rejected) as caught:
        parse_text_header(data, limits)
    return caught.value.reason


def fits_rejection(data: bytes, compression: str | None, limits: HeaderLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(Rejected) as caught:
        read_fits_header(io.BytesIO(data), compression, limits)
    return caught.value.reason


def fits_file(header: fits.Header, compression: str | None, shape: tuple[int, int] = (64, 96)) -> bytes:
    """A small exposure as a site writes it, compressed as its name says."""
    image = np.random.default_rng(7).integers(900, 1100, shape).astype(np.int16)
    buffer = io.BytesIO()
    if compression == "fz":
        fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data=image, header=header)]).writeto(buffer)
    else:
        fits.PrimaryHDU(data=image, header=header).writeto(buffer)
    data = buffer.getvalue()
    if compression == "gz":
        return gzip.compress(data)
    if compression == "bz2":
        return bz2.compress(data)
    return data


class CountingReader:
    """A stream like the lazily fetched S3 object: counts what is pulled and may return short reads."""

    def __init__(self, data: bytes, max_chunk: int | None = None) -> None:
        self._buffer = io.BytesIO(data)
        self._max_chunk = max_chunk
        self.bytes_read = 0
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        if self._max_chunk is not None and (size < 0 or size > self._max_chunk):
            size = self._max_chunk
        chunk = self._buffer.read(size)
        self.bytes_read += len(chunk)
        self.reads += 1
        return chunk


# --- the header column: every value as a string --------------------------------------------------


def test_txt_header_cards_become_strings_with_booleans_as_t_and_f() -> None:
    parsed = parse()
    assert parsed.source == "txt"
    assert parsed.cards["SMARTSTK"] == "T"
    assert parsed.cards["GUIDING"] == "F"
    assert parsed.cards["EXPTIME"] == "30.0"
    assert parsed.cards["DATE-OBS"] == "2022-06-29T03:04:05.123456"
    assert all(isinstance(value, str) for value in parsed.cards.values())


def test_integer_cards_are_digit_strings_the_api_can_isdigit() -> None:
    parsed = parse(SSTKNUM=3)
    assert parsed.cards["SSTKNUM"] == "3"
    assert parsed.cards["SSTKNUM"].isdigit()


def test_header_json_is_an_object_of_strings() -> None:
    parsed = parse()
    assert json.loads(parsed.header_json()) == parsed.cards


def test_comment_and_history_cards_are_joined_with_newlines() -> None:
    header = observatory_header()
    header["COMMENT"] = "first comment"
    header["HISTORY"] = "calibrated with master bias"
    header["COMMENT"] = "second comment"
    header["HISTORY"] = "calibrated with master flat"
    parsed = parse_text_header(txt(header))
    assert parsed.cards["COMMENT"] == "first comment\nsecond comment"
    assert parsed.cards["HISTORY"] == "calibrated with master bias\ncalibrated with master flat"


def test_long_continue_string_is_kept_in_full() -> None:
    long_value = "".join(f"segment{number:03d}-" for number in range(30)) + "THE-END"
    header = observatory_header(OBJNOTE=long_value)
    assert "CONTINUE" in str(header)  # the observatory's writer split it over several cards
    parsed = parse_text_header(txt(header))
    assert parsed.cards["OBJNOTE"] == long_value
    assert "CONTINUE" not in parsed.cards


def test_blank_keywords_and_end_are_not_in_the_header_column() -> None:
    header = observatory_header()
    header.append(("", "a blank separator card"))
    parsed = parse_text_header(txt(header))
    assert "" not in parsed.cards
    assert "END" not in parsed.cards


def test_card_without_value_is_an_empty_string() -> None:
    header = observatory_header()
    header["FOCUSPOS"] = None
    assert parse_text_header(txt(header)).cards["FOCUSPOS"] == ""


def test_repeated_keyword_keeps_the_first_value_with_a_warning() -> None:
    header = observatory_header()
    header.append(("OBSERVER", "first"))
    header.append(("OBSERVER", "second"))
    parsed = parse_text_header(txt(header))
    assert parsed.cards["OBSERVER"] == "first"
    assert any("OBSERVER" in warning for warning in parsed.warnings)


def test_non_standard_card_value_is_kept_as_text_with_a_warning() -> None:
    cards = [
        "SIMPLE  =                    T",
        "DATE-OBS= 2022-06-29T03:04:05.5 / unquoted, not standard FITS",
        "EXPTIME =                 10.0",
        "END",
    ]
    parsed = parse_text_header("".join(card.ljust(80) for card in cards).encode("ascii"))
    assert parsed.cards["DATE-OBS"] == "2022-06-29T03:04:05.5"
    assert parsed.columns.capture_date == datetime(2022, 6, 29, 3, 4, 5, 500000)
    assert any("DATE-OBS" in warning for warning in parsed.warnings)


def test_non_ascii_byte_in_a_comment_does_not_lose_the_header() -> None:
    data = bytearray(txt(observatory_header(SITENOTE=("dome", "temperature in degrees C"))))
    position = data.index(b"degrees")
    data[position : position + 2] = "°".encode()  # two bytes for two: the card framing is kept
    parsed = parse_text_header(bytes(data))
    assert parsed.cards["SITENOTE"] == "dome"
    assert parsed.columns.capture_date == datetime(2022, 6, 29, 3, 4, 5, 123456)
    assert any("ASCII" in warning for warning in parsed.warnings)


# --- the two .txt layouts --------------------------------------------------------------------------


def test_txt_header_is_astropy_str_output_padded_to_2880_bytes() -> None:
    data = txt(observatory_header())
    assert len(data) % 2880 == 0 and b"\n" not in data
    assert parse_text_header(data).cards["USERNAME"] == "Wendy Observer"


def test_header_with_one_card_per_line_parses_the_same() -> None:
    header = observatory_header()
    header["COMMENT"] = "a comment"
    one_line = parse_text_header(txt(header))
    per_line = parse_text_header(header.tostring(sep="\n", padding=False).encode("ascii"))
    assert per_line.cards == one_line.cards
    assert per_line.columns == one_line.columns


def test_header_with_crlf_lines_and_trailing_spaces_stripped_parses() -> None:
    header = observatory_header(OBJNOTE="x" * 150)
    lines = [line.rstrip() for line in header.tostring(sep="\n", padding=False).split("\n")]
    parsed = parse_text_header(("\r\n".join(lines) + "\r\n").encode("ascii"))
    assert parsed.cards["OBJNOTE"] == "x" * 150
    assert parsed.cards["SSTKNUM"] == "3"
    assert parsed.columns.filter_used == "L"


@settings(deadline=None, max_examples=60)
@given(
    value=st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=60, max_size=400),
    comment=st.text(alphabet=string.ascii_letters + " ", max_size=60),
    newline=st.sampled_from(["\n", "\r\n"]),
    strip=st.booleans(),
)
def test_long_continue_strings_survive_one_card_per_line(
    value: str, comment: str, newline: str, strip: bool
) -> None:
    header = observatory_header(FILEPATH=(value, comment))
    header["OBJNOTE"] = "ab " * 40
    as_cards = parse_text_header(txt(header))
    cards = [str(card)[i : i + 80] for card in header.cards for i in range(0, len(str(card)), 80)]
    lines = [card.rstrip() if strip else card for card in [*cards, "END"]]
    per_line = parse_text_header(newline.join(lines).encode("ascii"))
    assert per_line.cards == as_cards.cards
    assert per_line.cards["FILEPATH"] == as_cards.cards["FILEPATH"]
    assert not any("could not be read" in warning for warning in per_line.warnings)


def test_txt_header_with_a_trailing_newline_parses() -> None:
    parsed = parse_text_header(txt(observatory_header()) + b"\n")
    assert parsed.cards["EXPTIME"] == "30.0"


# --- columns -------------------------------------------------------------------------------------


def test_columns_from_a_complete_observatory_header() -> None:
    columns = parse().columns
    assert columns.capture_date == datetime(2022, 6, 29, 3, 4, 5, 123456)
    assert columns.right_ascension == 12.5
    assert columns.declination == -12.5
    assert columns.altitude == 45.25
    assert columns.azimuth == 180.5
    assert columns.airmass == 1.41
    assert columns.exposure_time == 30.0
    assert columns.filter_used == "L"
    assert columns.user_id == "google-oauth2|1234"
    assert columns.username == "Wendy Observer"


def test_filter_with_stray_quotes_is_stored_bare() -> None:
    parsed = parse(FILTER="'L'")
    assert parsed.cards["FILTER"] == "'L'"
    assert parsed.columns.filter_used == "L"
    assert parse(FILTER="PhotBlue").columns.filter_used == "PhotBlue"


def test_missing_date_obs_leaves_capture_date_to_the_upload_time_with_a_warning() -> None:
    parsed = parse(DATE_OBS=None)
    assert parsed.columns.capture_date is None
    assert any("DATE-OBS" in warning for warning in parsed.warnings)


def test_unparseable_date_obs_is_none_with_a_warning() -> None:
    parsed = parse(DATE_OBS="29/06/22")
    assert parsed.columns.capture_date is None
    assert any("DATE-OBS" in warning and "29/06/22" in warning for warning in parsed.warnings)


def test_date_obs_keeps_its_fraction_of_a_second() -> None:
    assert parse(DATE_OBS="2022-06-29T03:04:05.5").columns.capture_date == datetime(
        2022, 6, 29, 3, 4, 5, 500000
    )


def test_date_obs_with_a_zone_becomes_naive_utc() -> None:
    assert parse(DATE_OBS="2022-06-29T05:04:05.25+02:00").columns.capture_date == datetime(
        2022, 6, 29, 3, 4, 5, 250000
    )


def test_rahrs_is_preferred_over_crval1() -> None:
    parsed = parse(RAHRS=1.5, CRVAL1=187.5)
    assert parsed.columns.right_ascension == 1.5


def test_crval1_degrees_become_hours_when_there_is_no_rahrs() -> None:
    parsed = parse(RAHRS=None, CRVAL1=187.5)
    assert parsed.columns.right_ascension == pytest.approx(12.5)
    assert any("CRVAL1" in warning for warning in parsed.warnings)


def test_crval1_is_not_taken_as_right_ascension_when_ctype1_says_otherwise() -> None:
    parsed = parse(RAHRS=None, CRVAL1=120.0, CTYPE1="GLON-TAN")
    assert parsed.columns.right_ascension is None
    assert any("CTYPE1" in warning for warning in parsed.warnings)


def test_negative_crval1_wraps_into_a_day_of_hours() -> None:
    assert parse(RAHRS=None, CRVAL1=-15.0).columns.right_ascension == pytest.approx(23.0)


@pytest.mark.parametrize("cards", [{"RAHRS": -1.8986403087936e-27}, {"RAHRS": None, "CRVAL1": -1e-300}])
def test_a_tiny_negative_right_ascension_wraps_to_0_not_to_24_hours(cards: dict[str, object]) -> None:
    assert parse(**cards).columns.right_ascension == 0.0


@pytest.mark.parametrize(
    ("ra", "hours"),
    [("12:30:00", 12.5), ("12 30 00", 12.5), ("12h30m00s", 12.5), (187.5, 12.5), ("187.5", 12.5)],
)
def test_ra_is_the_last_resort_sexagesimal_as_hours_numbers_as_degrees(ra: object, hours: float) -> None:
    parsed = parse(RAHRS=None, CRVAL1=None, RA=ra)
    assert parsed.columns.right_ascension == pytest.approx(hours)


@given(hours=st.floats(min_value=0, max_value=24, exclude_max=True))
def test_right_ascension_is_written_as_hours_or_as_degrees(hours: float) -> None:
    assert right_ascension_in(hours, "hours") == hours
    assert right_ascension_in(hours, "degrees") == pytest.approx(hours * 15)
    assert right_ascension_in(None, "degrees") is None


def test_unparseable_rahrs_falls_back_to_crval1_with_a_warning() -> None:
    parsed = parse(RAHRS="unknown", CRVAL1=187.5)
    assert parsed.columns.right_ascension == pytest.approx(12.5)
    assert any("RAHRS" in warning and "unknown" in warning for warning in parsed.warnings)


def test_no_right_ascension_anywhere_is_none_with_a_warning() -> None:
    parsed = parse(RAHRS=None, CRVAL1=None)
    assert parsed.columns.right_ascension is None
    assert any("right_ascension" in warning for warning in parsed.warnings)


@pytest.mark.parametrize(
    ("dec", "degrees"),
    [("-12d30m00s", -12.5), ("-12:30:00", -12.5), ("-12 30 00", -12.5), ("-00:30:00", -0.5), (45.5, 45.5)],
)
def test_dec_in_degrees_or_sexagesimal_when_there_is_no_crval2(dec: object, degrees: float) -> None:
    parsed = parse(CRVAL2=None, DEC=dec)
    assert parsed.columns.declination == pytest.approx(degrees)


def test_crval2_is_preferred_over_dec() -> None:
    assert parse(CRVAL2=20.0, DEC="-12:30:00").columns.declination == 20.0


def test_unparseable_dec_is_none_with_a_warning() -> None:
    parsed = parse(CRVAL2=None, DEC="somewhere south")
    assert parsed.columns.declination is None
    assert any("DEC" in warning and "somewhere south" in warning for warning in parsed.warnings)


def test_airmass_not_available_is_none_with_a_warning() -> None:
    parsed = parse(AIRMASS="N/A")
    assert parsed.columns.airmass is None
    assert parsed.cards["AIRMASS"] == "N/A"
    assert any("AIRMASS" in warning and "N/A" in warning for warning in parsed.warnings)
    assert parsed.columns.exposure_time == 30.0  # the rest of the header is still read


@pytest.mark.parametrize("keyword", ["ALTITUDE", "AZIMUTH", "EXPTIME"])
def test_non_numeric_measurement_is_none_with_a_warning_naming_it(keyword: str) -> None:
    parsed = parse(**{keyword: "cloudy"})
    column = {"ALTITUDE": "altitude", "AZIMUTH": "azimuth", "EXPTIME": "exposure_time"}[keyword]
    assert getattr(parsed.columns, column) is None
    assert any(keyword in warning for warning in parsed.warnings)


def test_numeric_measurement_written_as_a_string_is_read() -> None:
    assert parse(EXPTIME="12.5").columns.exposure_time == 12.5


def test_numeric_user_id_is_a_string() -> None:
    assert parse(USERID=12345).columns.user_id == "12345"


def test_missing_optional_columns_are_none_without_fuss() -> None:
    columns = parse(
        ALTITUDE=None, AZIMUTH=None, AIRMASS=None, FILTER=None, USERID=None, USERNAME=None
    ).columns
    assert (columns.altitude, columns.azimuth, columns.airmass, columns.filter_used) == (None,) * 4
    assert (columns.user_id, columns.username) == (None, None)


# --- .txt rejections -----------------------------------------------------------------------------


def test_zero_byte_txt_header_is_rejected() -> None:
    assert "empty" in text_rejection(b"")


def test_blank_txt_header_is_rejected() -> None:
    assert "blank" in text_rejection(b" " * 2880)


def test_txt_header_without_end_is_rejected() -> None:
    data = txt(observatory_header()).replace(b"END" + b" " * 77, b" " * 80)
    assert "END" in text_rejection(data)


def test_truncated_per_line_header_is_rejected() -> None:
    lines = observatory_header().tostring(sep="\n", padding=False).split("\n")
    assert "END" in text_rejection("\n".join(lines[:5]).encode("ascii"))


def test_txt_header_larger_than_the_limit_is_rejected() -> None:
    reason = text_rejection(txt(observatory_header()), HeaderLimits(max_header_text_bytes=1000))
    assert "max_header_text_bytes" in reason


def test_non_header_text_is_rejected() -> None:
    assert "END" in text_rejection(b"<html><body>Access Denied</body></html>")


# --- fits files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_fits_header_is_read_from_every_kind_of_fits_file(compression: str | None) -> None:
    parsed = read_fits_header(io.BytesIO(fits_file(observatory_header(), compression)), compression)
    assert parsed.source == "fits"
    assert parsed.columns.capture_date == datetime(2022, 6, 29, 3, 4, 5, 123456)
    assert parsed.columns.filter_used == "L"
    assert parsed.cards["SSTKNUM"] == "3"
    assert parsed.cards["SMARTSTK"] == "T"
    assert parsed.cards["BITPIX"] == "16"
    assert (parsed.cards["NAXIS1"], parsed.cards["NAXIS2"]) == ("96", "64")


def test_fz_header_is_the_image_header_from_hdu_1_not_the_table_machinery() -> None:
    header = observatory_header()
    header["COMMENT"] = "tile compressed by the site"
    parsed = read_fits_header(io.BytesIO(fits_file(header, "fz")), "fz")
    assert parsed.cards["DATE-OBS"] == "2022-06-29T03:04:05.123456"
    assert parsed.cards["XTENSION"] == "IMAGE"
    assert parsed.cards["COMMENT"] == "tile compressed by the site"
    machinery = {"ZIMAGE", "ZBITPIX", "ZNAXIS1", "ZCMPTYPE", "TTYPE1", "TFORM1", "TFIELDS"}
    assert machinery.isdisjoint(parsed.cards)
    assert parsed.warnings == ()


def test_fits_header_matches_the_txt_header_the_site_would_send() -> None:
    header = observatory_header()
    from_fits = read_fits_header(io.BytesIO(fits_file(header, "bz2")), "bz2")
    from_txt = parse_text_header(txt(header))
    assert from_fits.columns == from_txt.columns
    assert {key: from_fits.cards[key] for key in from_txt.cards} == from_txt.cards


def test_first_hdu_with_date_obs_is_used_after_skipping_a_primary_without_it() -> None:
    primary = fits.PrimaryHDU(data=np.ones((50, 70), dtype=np.float32))
    primary.header["ORIGIN"] = "a pipeline that puts DATE-OBS in the extension"
    extension = fits.ImageHDU(data=np.zeros((10, 10), dtype=np.int16), header=observatory_header())
    buffer = io.BytesIO()
    fits.HDUList([primary, extension]).writeto(buffer)
    parsed = read_fits_header(io.BytesIO(bz2.compress(buffer.getvalue())), "bz2")
    assert parsed.cards["XTENSION"] == "IMAGE"
    assert parsed.columns.capture_date == datetime(2022, 6, 29, 3, 4, 5, 123456)


def test_fits_file_without_date_obs_in_any_hdu_is_rejected() -> None:
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(data=np.ones((5, 5))), fits.ImageHDU(data=np.ones((3, 3)))]).writeto(buffer)
    reason = fits_rejection(buffer.getvalue(), None)
    assert "DATE-OBS" in reason and "2 HDUs" in reason


def test_plain_fits_costs_only_its_header_blocks() -> None:
    data = fits_file(observatory_header(), None, shape=(1024, 1024))
    stream = CountingReader(data)
    parsed = read_fits_header(stream, None)
    assert parsed.cards["NAXIS1"] == "1024"
    assert stream.bytes_read == 2880
    assert len(data) > 2_000_000


def test_large_fits_bz2_header_is_found_after_reading_well_under_a_megabyte() -> None:
    rows, columns = 2560, 4096  # 20 MiB of 16-bit sky after the header
    header = fits.Header(
        [("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 2), ("NAXIS1", columns), ("NAXIS2", rows)]
    )
    header.extend(observatory_header())
    compressor = bz2.BZ2Compressor(9)
    parts = [compressor.compress(txt(header))]
    rng = np.random.default_rng(1)
    for _ in range(rows // 256):
        sky = rng.integers(980, 1020, (256, columns), dtype=np.int16).astype(">i2")
        parts.append(compressor.compress(sky.tobytes()))
    parts.append(compressor.flush())
    data = b"".join(parts)
    stream = CountingReader(data)
    parsed = read_fits_header(stream, "bz2")
    assert parsed.columns.capture_date == datetime(2022, 6, 29, 3, 4, 5, 123456)
    assert stream.bytes_read < 600_000
    assert stream.bytes_read < len(data) / 10


def test_fits_stream_that_returns_short_reads_is_read_fully() -> None:
    for compression in COMPRESSIONS:
        stream = CountingReader(fits_file(observatory_header(), compression), max_chunk=7)
        assert read_fits_header(stream, compression).cards["USERNAME"] == "Wendy Observer"


def test_failed_stream_read_propagates_unchanged_so_it_can_be_retried() -> None:
    class DroppedConnection:
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def read(self, size: int = -1) -> bytes:
            if self._data.tell() > 100:
                raise ConnectionResetError("connection reset by peer")
            return self._data.read(min(size, 64))

    for compression in COMPRESSIONS:
        with pytest.raises(ConnectionResetError):
            read_fits_header(DroppedConnection(fits_file(observatory_header(), compression)), compression)


# --- fits rejections -----------------------------------------------------------------------------


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_zero_byte_fits_file_is_rejected(compression: str | None) -> None:
    assert "empty" in fits_rejection(b"", compression)


def test_truncated_bz2_is_rejected() -> None:
    data = fits_file(observatory_header(), "bz2")
    assert "truncated" in fits_rejection(data[:200], "bz2")


def test_truncated_gz_is_rejected() -> None:
    data = fits_file(observatory_header(), "gz")
    assert "truncated" in fits_rejection(data[:200], "gz")


def test_fits_cut_off_inside_its_header_is_rejected() -> None:
    data = fits_file(observatory_header(), None)
    assert "truncated" in fits_rejection(data[:1000], None)


def test_bytes_that_are_not_bz2_are_rejected() -> None:
    assert "bz2" in fits_rejection(fits_file(observatory_header(), None), "bz2")


def test_bytes_that_are_not_gzip_are_rejected() -> None:
    assert "gz" in fits_rejection(fits_file(observatory_header(), None), "gz")


def test_jpg_saved_as_fits_is_rejected() -> None:
    assert "not FITS" in fits_rejection(b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(3000), None)


def test_unknown_compression_is_rejected() -> None:
    assert "xz" in fits_rejection(fits_file(observatory_header(), None), "xz")


def test_raw_read_limit_is_enforced_and_named() -> None:
    rng = np.random.default_rng(3)
    header = fits.Header([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 1), ("NAXIS1", 300_000)])
    # The first bz2 block holds header and noise together: nothing decompresses before all of it is read.
    data = bz2.compress(txt(header.copy()) + rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes())
    stream = CountingReader(data)
    with pytest.raises(Rejected) as caught:
        read_fits_header(stream, "bz2", HeaderLimits(max_header_read_bytes=50_000))
    assert "max_header_read_bytes" in caught.value.reason
    assert stream.bytes_read < 60_000


def test_primary_data_too_large_to_skip_is_rejected_without_reading_it() -> None:
    header = fits.Header([("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 2), ("NAXIS1", 8192), ("NAXIS2", 8192)])
    stream = CountingReader(txt(header) + bytes(100_000))
    with pytest.raises(Rejected) as caught:
        read_fits_header(stream, None)
    assert "max_decompressed_bytes" in caught.value.reason and "DATE-OBS" in caught.value.reason
    assert stream.bytes_read == 2880


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_a_scan_limit_below_one_block_is_named_not_taken_for_an_empty_file(compression: str | None) -> None:
    data = fits_file(observatory_header(), compression)
    reason = fits_rejection(data, compression, HeaderLimits(max_decompressed_bytes=2000))
    assert "(max_decompressed_bytes = 2000)" in reason
    assert "empty" not in reason


def blank_bomb(first: bytes, compress: str) -> bytes:
    """About 2 GiB of blank cards after ``first``, compressed to a few kilobytes, never held whole."""
    chunk = b" " * (1 << 20)
    streams = []
    for head in (first, b""):
        if compress == "bz2":
            compressor = bz2.BZ2Compressor(9)
            parts = [compressor.compress(head)]
            parts += [compressor.compress(chunk) for _ in range(64)]
            streams.append(b"".join(parts) + compressor.flush())
        else:
            streams.append(gzip.compress(head + chunk * 64, compresslevel=9))
    # Concatenated streams decompress as one: 64 MiB each, 32 of them.
    return streams[0] + streams[1] * 31


# Refusing the bomb at the limit costs some 20 ms of processor time; inflating its 2 GiB costs over
# 5 s before a single card is scanned. Processor time, not time on the clock, so that a machine busy
# with other work does not count against the parser.
BOMB_CPU_SECONDS = 2.0


@pytest.mark.parametrize("compression", ["bz2", "gz"])
def test_decompression_bomb_without_end_card_is_rejected_without_inflating_it_whole(compression: str) -> None:
    bomb = blank_bomb(b"SIMPLE  =                    T".ljust(80), compression)
    assert len(bomb) < 3_000_000
    started = time.process_time()
    stream = CountingReader(bomb)
    with pytest.raises(Rejected) as caught:
        read_fits_header(stream, compression)
    assert "max_decompressed_bytes" in caught.value.reason
    assert time.process_time() - started < BOMB_CPU_SECONDS
    assert stream.bytes_read < 1_000_000
