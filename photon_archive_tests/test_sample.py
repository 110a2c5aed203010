"""Sample observatory data: what a newcomer, a test or a benchmark gets from upload-sample."""

from __future__ import annotations

import bz2
import io
import math
import random
import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from photon_archive.errors import Rejected
from photon_archive_workshop.sample import ALL_FILES, SampleFile, observatory_header, sample_exposures

NIGHT = date(2026, 11, 24)

# SPEC §1, written out here on purpose: the sample data must satisfy the spec, not whatever the
# project's own name parser happens to accept.
KEY_RE = re.compile(
    r"(?P<prefix>[^/]+(?:/[^/]+)*)/"
    r"(?P<base>(?P<site>[A-Za-z0-9]{3,6})-(?P<instrument>[A-Za-z0-9]+)-(?P<date>\d{8})-(?P<counter>\d{8}))"
    r"-(?P<datatype>[A-Za-z]+)(?P<reduction>\d{2})\.(?P<ext>[A-Za-z]+)(?:\.(?P<compression>bz2|fz|gz))?"
)
ISO_WITH_FRACTION = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+")
DMS = re.compile(r"(?P<sign>[-+]?)(?P<d>\d+)d(?P<m>\d{2})m(?P<s>\d{2}(?:\.\d+)?)s")
HMS = re.compile(r"(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2}(?:\.\d+)?)")

REQUIRED_KEYWORDS = {
    "DATE-OBS": str,
    "CRVAL1": float,
    "CRVAL2": float,
    "RAHRS": float,
    "DEC": str,
    "ALTITUDE": float,
    "AZIMUTH": float,
    "FILTER": str,
    "AIRMASS": float,
    "EXPTIME": float,
    "USERID": str,
    "USERNAME": str,
    "SMARTSTK": str,
    "SSTKNUM": int,
    "SITE": str,
    "INSTRUME": str,
    "OBSTYPE": str,
}


@pytest.fixture(scope="module")
def night() -> list[SampleFile]:
    return sample_exposures(count=3, night=NIGHT, seed=7)


def _match(key: str) -> re.Match[str]:
    match = KEY_RE.fullmatch(key)
    assert match, key
    return match


def _role(file: SampleFile) -> str:
    match = _match(file.key)
    ext = match["ext"] + (f".{match['compression']}" if match["compression"] else "")
    return {"00.txt": "txt", "01.fits.bz2": "fits_large", "10.fits.fz": "fits_small", "10.jpg": "jpg"}[
        match["reduction"] + "." + ext
    ]


def _of_role(files: list[SampleFile], role: str) -> list[SampleFile]:
    chosen = [file for file in files if _role(file) == role]
    assert chosen, f"no {role} file among {len(files)}"
    return chosen


def _header(file: SampleFile) -> fits.Header:
    return fits.Header.fromstring(file.body.decode("ascii"))


def _dms_degrees(text: str) -> float:
    match = DMS.fullmatch(text)
    assert match, text
    value = int(match["d"]) + int(match["m"]) / 60 + float(match["s"]) / 3600
    return -value if match["sign"] == "-" else value


# --- the header file -------------------------------------------------------------------------------


def test_header_text_is_fits_blocks_without_newlines(night: list[SampleFile]) -> None:
    for file in _of_role(night, "txt"):
        text = file.body.decode("ascii")
        assert "\n" not in text and "\r" not in text
        assert len(text) % 2880 == 0
        cards = [text[i : i + 80] for i in range(0, len(text), 80)]
        assert "END" in [card.rstrip() for card in cards]
        assert file.content_type == "text/plain"


def test_header_text_has_every_catalog_keyword_with_its_type(night: list[SampleFile]) -> None:
    for file in _of_role(night, "txt"):
        header = _header(file)
        for keyword, kind in REQUIRED_KEYWORDS.items():
            assert keyword in header, keyword
            value = header[keyword]
            assert type(value) is kind, (keyword, value)
        assert header["FILTER"] in {"L", "R", "G", "B", "Ha", "O3", "S2"}
        assert header["SSTKNUM"] >= 0
        assert str(header["SSTKNUM"]).isdigit()
        assert header["AIRMASS"] >= 1.0
        assert 0 < header["ALTITUDE"] <= 90 and 0 <= header["AZIMUTH"] < 360
        assert header["EXPTIME"] > 0
        assert header["USERID"] and header["USERNAME"]


def test_header_date_obs_is_iso_with_a_fraction_during_the_named_night(night: list[SampleFile]) -> None:
    for file in _of_role(night, "txt"):
        date_obs = _header(file)["DATE-OBS"]
        assert ISO_WITH_FRACTION.fullmatch(date_obs), date_obs
        capture = datetime.fromisoformat(date_obs)
        assert capture.tzinfo is None
        assert capture.date() == NIGHT
        assert 2 <= capture.hour < 12


def test_header_position_agrees_between_ra_hours_degrees_and_dms(night: list[SampleFile]) -> None:
    for file in _of_role(night, "txt"):
        header = _header(file)
        assert math.isclose(header["RAHRS"] * 15, header["CRVAL1"], rel_tol=1e-9)
        assert 0 <= header["RAHRS"] < 24
        assert -90 <= header["CRVAL2"] <= 90
        assert abs(_dms_degrees(header["DEC"]) - header["CRVAL2"]) < 1 / 3600
        ra = HMS.fullmatch(header["RA"])
        assert ra, header["RA"]
        ra_hours = int(ra["h"]) + int(ra["m"]) / 60 + float(ra["s"]) / 3600
        assert abs(ra_hours - header["RAHRS"]) < 0.02 / 3600


def test_header_has_comment_history_and_a_long_continued_string(night: list[SampleFile]) -> None:
    file = _of_role(night, "txt")[0]
    text = file.body.decode("ascii")
    header = _header(file)
    assert "CONTINUE  '" in text
    longest = max((value for value in header.values() if isinstance(value, str)), key=len)
    assert len(longest) > 68  # more than one card can hold
    assert not longest.endswith("&")
    assert len(header["COMMENT"]) >= 1 and len(header["HISTORY"]) >= 1


# --- the image files -------------------------------------------------------------------------------


def test_large_fits_decompresses_and_carries_the_header_in_hdu_0(night: list[SampleFile]) -> None:
    for txt, large in zip(_of_role(night, "txt"), _of_role(night, "fits_large"), strict=True):
        assert large.content_type == "application/x-bzip2"
        with fits.open(io.BytesIO(bz2.decompress(large.body))) as hdul:
            primary = hdul[0]
            assert primary.header["DATE-OBS"] == _header(txt)["DATE-OBS"]
            assert primary.header["SSTKNUM"] == _header(txt)["SSTKNUM"]
            data = primary.data
            assert data.ndim == 2 and data.dtype.kind in "iu" and data.dtype.itemsize == 2
            assert (data.shape[1], data.shape[0]) == (primary.header["NAXIS1"], primary.header["NAXIS2"])
            assert data.max() > 5 * np.median(data)  # stars stand out of the sky


def test_small_fits_is_tile_compressed_with_the_header_in_hdu_1(night: list[SampleFile]) -> None:
    for txt, small in zip(_of_role(night, "txt"), _of_role(night, "fits_small"), strict=True):
        with fits.open(io.BytesIO(small.body)) as hdul:
            assert hdul[0].data is None
            assert "DATE-OBS" not in hdul[0].header
            compressed = hdul[1]
            assert isinstance(compressed, fits.CompImageHDU)
            assert compressed.compression_type == "RICE_1"
            assert compressed.header["DATE-OBS"] == _header(txt)["DATE-OBS"]
            assert compressed.data.ndim == 2
            header = _header(txt)
            assert compressed.data.shape[1] < header["NAXIS1"] and compressed.data.shape[0] < header["NAXIS2"]


def test_jpg_is_a_visible_star_field_of_the_expected_size(night: list[SampleFile]) -> None:
    for file in _of_role(night, "jpg"):
        assert file.content_type == "image/jpeg"
        with Image.open(io.BytesIO(file.body)) as image:
            assert image.format == "JPEG"
            assert image.size == (768, 512)
            gray = np.asarray(image.convert("L"))
        assert gray.max() >= 150  # bright stars
        assert gray.min() <= 30  # dark sky
        assert np.median(gray) < 60  # mostly sky


def test_jpg_size_can_be_a_full_camera_frame_of_the_same_star_field() -> None:
    small = sample_exposures(count=1, night=NIGHT, files=("jpg",))[0]
    large = sample_exposures(count=1, night=NIGHT, files=("jpg",), jpeg_size=(2304, 1536))[0]
    assert large.key == small.key
    # The same stars: both shrunk to 192x128, where the sky noise of each averages out, they agree.
    with Image.open(io.BytesIO(small.body)) as image:
        reduced = np.asarray(image.convert("L").reduce(4), dtype=np.float64)
    with Image.open(io.BytesIO(large.body)) as image:
        assert image.size == (2304, 1536)
        shrunk = np.asarray(image.convert("L").reduce(12), dtype=np.float64)
    assert np.corrcoef(reduced.ravel(), shrunk.ravel())[0, 1] > 0.7


def test_an_exposure_stays_small(night: list[SampleFile]) -> None:
    bases = {_match(file.key)["base"] for file in night}
    assert sum(len(file.body) for file in night) / len(bases) < 400_000


# --- names and order -------------------------------------------------------------------------------


def test_keys_follow_the_object_name_grammar(night: list[SampleFile]) -> None:
    counters = []
    for file in night:
        match = KEY_RE.fullmatch(file.key)
        assert match, file.key
        assert match["prefix"] == "data"
        assert (match["site"], match["instrument"], match["datatype"]) == ("sro", "kb001ms", "EX")
        assert datetime.strptime(match["date"], "%Y%m%d").date() == NIGHT
        counters.append(int(match["counter"]))
    assert sorted(set(counters)) == [1, 2, 3]
    assert [file.key.rsplit("-", 1)[1] for file in night[:4]] == [
        "EX00.txt",
        "EX01.fits.bz2",
        "EX10.fits.fz",
        "EX10.jpg",
    ]


def test_each_exposure_uploads_its_header_first(night: list[SampleFile]) -> None:
    bases = [_match(file.key)["base"] for file in night]
    seen: set[str] = set()
    for base, file in zip(bases, night, strict=True):
        if base not in seen:
            assert _role(file) == "txt", file.key
            seen.add(base)
    # one exposure after the other, in counter order
    assert bases == sorted(bases)
    assert len(night) == 3 * len(ALL_FILES)


def test_captures_spread_over_the_night_in_counter_order() -> None:
    files = sample_exposures(count=6, night=NIGHT, files=["txt"])
    captures = [datetime.fromisoformat(_header(file)["DATE-OBS"]) for file in files]
    assert captures == sorted(captures)
    assert captures[-1] - captures[0] > timedelta(hours=5)


def test_counters_start_where_asked_and_data_type_is_kept() -> None:
    files = sample_exposures(count=2, night=NIGHT, first_counter=10442, data_type="EP", files=("txt",))
    assert [file.key for file in files] == [
        "data/sro-kb001ms-20261124-00010442-EP00.txt",
        "data/sro-kb001ms-20261124-00010443-EP00.txt",
    ]


def test_night_defaults_to_yesterday_utc_and_captures_are_past() -> None:
    before = datetime.now(UTC).date() - timedelta(days=1)
    files = sample_exposures(count=2, files=("txt",))
    after = datetime.now(UTC).date() - timedelta(days=1)
    assert len(files) == 2
    for file in files:
        name_date = datetime.strptime(_match(file.key)["date"], "%Y%m%d").date()
        assert name_date in {before, after}
        capture = datetime.fromisoformat(_header(file)["DATE-OBS"]).replace(tzinfo=UTC)
        assert capture < datetime.now(UTC)


# --- determinism -----------------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(night: list[SampleFile]) -> None:
    again = sample_exposures(count=3, night=NIGHT, seed=7)
    assert len(night) == 3 * len(ALL_FILES)
    assert again == night
    other = sample_exposures(count=3, night=NIGHT, seed=8)
    assert [file.key for file in other] == [file.key for file in night]
    assert all(a.body != b.body for a, b in zip(other, night, strict=True))


def test_exposures_of_one_night_differ_from_each_other(night: list[SampleFile]) -> None:
    headers = [_header(file) for file in _of_role(night, "txt")]
    assert len({header["DATE-OBS"] for header in headers}) == 3
    assert len({file.body for file in _of_role(night, "jpg")}) == 3


def test_a_subset_of_files_has_the_same_bytes_as_the_full_set(night: list[SampleFile]) -> None:
    subset = sample_exposures(count=3, night=NIGHT, seed=7, files=("jpg", "txt"))
    assert len(subset) == 6
    assert subset == [file for file in night if _role(file) in {"txt", "jpg"}]


# --- info images and all-sky -----------------------------------------------------------------------


def test_info_images_carry_their_channel_in_every_file() -> None:
    files = sample_exposures(count=2, prefix="info-images", channel=2, night=NIGHT)
    assert len(files) == 2 * len(ALL_FILES)
    for file in files:
        assert file.key.startswith("info-images/")
        assert file.metadata == {"info-channel": "2"}


def test_info_images_without_a_channel_carry_no_metadata() -> None:
    files = sample_exposures(count=1, prefix="info-images", night=NIGHT, files=("txt",))
    assert files[0].metadata == {}


def test_regular_exposures_carry_no_metadata(night: list[SampleFile]) -> None:
    assert night
    assert all(file.metadata == {} for file in night)


def test_allsky_uses_an_all_sky_camera_unless_told_otherwise() -> None:
    default = sample_exposures(count=1, prefix="allsky", night=NIGHT, files=("txt",))[0]
    match = KEY_RE.fullmatch(default.key)
    assert match and match["prefix"] == "allsky"
    assert match["instrument"] != "kb001ms"
    assert _header(default)["INSTRUME"] == match["instrument"]
    chosen = sample_exposures(count=1, prefix="allsky", instrument="kb001ms", night=NIGHT, files=("txt",))[0]
    assert _match(chosen.key)["instrument"] == "kb001ms"


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"site": "s"},
        {"site": "sro-1"},
        {"instrument": "kb-001"},
        {"data_type": "E1"},
        {"data_type": ""},
        {"count": -1},
        {"first_counter": 100_000_000},
        {"first_counter": 99_999_999, "count": 2},
        {"channel": 2},
        {"prefix": "info-images", "channel": 4},
        {"files": ("txt", "png")},
        {"prefix": ""},
        {"prefix": "data//x"},
        {"night": "2026-11-24"},
        {"jpeg_size": (0, 512)},
        {"jpeg_size": (768,)},
    ],
)
def test_bad_arguments_are_rejected_with_a_reason(arguments: dict[str, object]) -> None:
    with pytest.raises(Rejected) as raised:
        sample_exposures(**arguments)  # type: ignore[arg-type]
    assert raised.value.reason


def test_zero_exposures_is_an_empty_upload_not_an_error() -> None:
    assert sample_exposures(count=0) == []
    assert len(sample_exposures(count=1, files=("txt",))) == 1


# --- any valid name parts --------------------------------------------------------------------------

sites = st.from_regex(r"[A-Za-z0-9]{3,6}", fullmatch=True)
instruments = st.from_regex(r"[A-Za-z0-9]{1,60}", fullmatch=True)
data_types = st.from_regex(r"[A-Za-z]{1,3}", fullmatch=True)
nights = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@pytest.mark.filterwarnings("error")  # astropy warns when a card has to be cut: none may be
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    site=sites,
    instrument=instruments,
    data_type=data_types,
    night_=nights,
    first_counter=st.integers(0, 99_999_990),
    seed=st.integers(0, 2**32),
)
def test_any_valid_name_parts_give_grammatical_keys_and_parseable_headers(
    site: str, instrument: str, data_type: str, night_: date, first_counter: int, seed: int
) -> None:
    files = sample_exposures(
        site=site,
        instrument=instrument,
        data_type=data_type,
        night=night_,
        count=2,
        first_counter=first_counter,
        seed=seed,
        files=("txt",),
    )
    assert len(files) == 2
    for offset, file in enumerate(files):
        match = KEY_RE.fullmatch(file.key)
        assert match, file.key
        assert (match["site"], match["instrument"], match["datatype"]) == (site, instrument, data_type)
        assert int(match["counter"]) == first_counter + offset
        header = _header(file)
        assert datetime.fromisoformat(header["DATE-OBS"]).date() == night_
        assert math.isclose(header["RAHRS"] * 15, header["CRVAL1"], rel_tol=1e-9)
        assert abs(_dms_degrees(header["DEC"]) - header["CRVAL2"]) < 1 / 3600


@pytest.mark.filterwarnings("error")
@settings(max_examples=60, deadline=None)
@given(
    site=sites,
    instrument=instruments,
    capture=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    counter=st.integers(0, 99_999_999),
    seed=st.integers(),
)
def test_observatory_header_round_trips_through_its_text(
    site: str, instrument: str, capture: datetime, counter: int, seed: int
) -> None:
    header = observatory_header(site, instrument, capture, counter, "EX", random.Random(seed))
    parsed = fits.Header.fromstring(str(header))
    assert parsed["INSTRUME"] == instrument
    assert datetime.fromisoformat(parsed["DATE-OBS"]) == capture.replace(
        microsecond=capture.microsecond // 1000 * 1000
    )
    assert type(parsed["SSTKNUM"]) is int
    assert parsed["SITE"] == site
    assert 0 <= parsed["RAHRS"] < 24


@settings(max_examples=80, deadline=None)
@given(site=st.text(max_size=8), instrument=st.text(max_size=8), data_type=st.text(max_size=4))
def test_any_other_name_parts_are_rejected_not_crashed_on(site: str, instrument: str, data_type: str) -> None:
    try:
        files = sample_exposures(
            site=site, instrument=instrument, data_type=data_type, count=1, night=NIGHT, files=("txt",)
        )
    except Rejected as rejected:
        assert rejected.reason
    else:
        assert KEY_RE.fullmatch(files[0].key)
