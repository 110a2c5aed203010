import datetime
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photon_archive.errors import Rejected
from photon_archive.naming import FileKind, decode_event_key, parse_key, thumbnail_key

EXAMPLE = "data/sro-kb001ms-20220629-00010442-EX01.fits.bz2"

ALNUM = string.ascii_letters + string.digits


def rejection(key: str) -> str:
    with pytest.raises(Rejected) as caught:
        parse_key(key)
    return caught.value.reason


# --- every valid name parses back to its parts ---------------------------------------------------

prefixes = st.lists(st.text(alphabet=ALNUM + "-_.", min_size=1, max_size=12), min_size=1, max_size=3).map(
    "/".join
)


@st.composite
def valid_keys(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    parts: dict[str, object] = {
        "prefix": draw(prefixes),
        "site": draw(st.text(alphabet=ALNUM, min_size=3, max_size=6)),
        "instrument": draw(st.text(alphabet=ALNUM, min_size=1, max_size=12)),
        "date": draw(st.dates()),
        "counter": draw(st.text(alphabet=string.digits, min_size=8, max_size=8)),
        "data_type": draw(st.text(alphabet=string.ascii_letters, min_size=1, max_size=4)),
        "reduction": draw(st.text(alphabet=string.digits, min_size=2, max_size=2)),
        "ext": draw(st.text(alphabet=string.ascii_letters, min_size=1, max_size=5)),
        "compression": draw(st.sampled_from([None, "bz2", "fz", "gz"])),
    }
    d = parts["date"]
    assert isinstance(d, datetime.date)
    yyyymmdd = f"{d.year:04d}{d.month:02d}{d.day:02d}"
    base = f"{parts['site']}-{parts['instrument']}-{yyyymmdd}-{parts['counter']}"
    name = f"{base}-{parts['data_type']}{parts['reduction']}.{parts['ext']}"
    if parts["compression"]:
        name += f".{parts['compression']}"
    parts["base_filename"] = base
    parts["name"] = name
    return f"{parts['prefix']}/{name}", parts


@given(valid_keys())
def test_every_valid_name_parses_back_to_exactly_its_parts(case: tuple[str, dict[str, object]]) -> None:
    key, parts = case
    parsed = parse_key(key)
    assert parsed.key == key
    for field, expected in parts.items():
        assert getattr(parsed, field) == expected, field


def test_spec_example_has_the_documented_base_filename_and_parts() -> None:
    parsed = parse_key(EXAMPLE)
    assert parsed.base_filename == "sro-kb001ms-20220629-00010442"
    assert (parsed.prefix, parsed.site, parsed.instrument) == ("data", "sro", "kb001ms")
    assert parsed.date == datetime.date(2022, 6, 29)
    assert (parsed.counter, parsed.data_type, parsed.reduction) == ("00010442", "EX", "01")
    assert (parsed.ext, parsed.compression) == ("fits", "bz2")


def test_nested_prefix_keeps_everything_before_the_last_slash() -> None:
    parsed = parse_key("test/2022/sro-kb001ms-20220629-00010442-e00.txt")
    assert parsed.prefix == "test/2022"
    assert parsed.name == "sro-kb001ms-20220629-00010442-e00.txt"
    assert parsed.data_type == "e"


# --- single-part mutations are rejected, blaming the right part ----------------------------------

GOOD = "data/sro-kb001ms-20220629-00010442-EX00.fits"


@pytest.mark.parametrize(
    ("key", "part", "shown"),
    [
        ("data/ab-kb001ms-20220629-00010442-EX00.fits", "site", "'ab'"),
        ("data/abcdefg-kb001ms-20220629-00010442-EX00.fits", "site", "'abcdefg'"),
        ("data/sr_-kb001ms-20220629-00010442-EX00.fits", "site", "'sr_'"),
        ("data/sro--20220629-00010442-EX00.fits", "instrument", "''"),
        ("data/sro-kb001ms-20221332-00010442-EX00.fits", "date", "'20221332'"),
        ("data/sro-kb001ms-20230229-00010442-EX00.fits", "date", "'20230229'"),
        ("data/sro-kb001ms-2022062-00010442-EX00.fits", "date", "'2022062'"),
        ("data/sro-kb001ms-20220629-0001044-EX00.fits", "counter", "'0001044'"),
        ("data/sro-kb001ms-20220629-00000123R1-EX00.fits", "counter", "'00000123R1'"),
        ("data/sro-kb001ms-20220629-00010442-EX0.fits", "reduction", "'0'"),
        ("data/sro-kb001ms-20220629-00010442-EX100.fits", "reduction", "'100'"),
        ("data/sro-kb001ms-20220629-00010442-EX.fits", "reduction", "'EX'"),
        ("data/sro-kb001ms-20220629-00010442-10.fits", "data type", "'10'"),
        ("data/sro-kb001ms-20220629-00010442-E_X10.fits", "data type", "'E_X10'"),
        ("data/sro-kb001ms-20220629-00010442-EX-10.fits", "data type", "'EX-10.fits'"),
        ("data/sro-kb001ms-20220629-00010442-EX10", "extension", "'EX10'"),
        ("data/sro-kb001ms-20220629-00010442-EX10.", "extension", "'EX10'"),
        ("data/sro-kb001ms-20220629-00010442-EX10.f1ts", "extension", "'f1ts'"),
        ("data/sro-kb-001ms-20220629-00010442-EX00.fits", "instrument", "'kb-001ms'"),
        ("data/sro-kb-001ms-20220629-00000123R1-EX00.fits", "instrument", "'kb-001ms'"),
        ("data/sro-kb001ms-20220629-00010442-EX00.fits.zip", "compression", "'zip'"),
        ("data/sro-kb001ms-20220629-00010442-EX00.fits.fz.gz", "compression", "'fz.gz'"),
        ("data/sro-kb001ms-20220629-00010442-EX00.fits.", "compression", "'EX00.fits'"),
        ("data/sro-kb001ms-20220629-00010442", "data type", "'00010442'"),
        ("data/sro-kb001ms-20220629", "counter", "'20220629'"),
        ("data/sro", "instrument", "'sro'"),
    ],
)
def test_a_single_wrong_part_is_rejected_naming_that_part_and_its_text(
    key: str, part: str, shown: str
) -> None:
    reason = rejection(key)
    assert part in reason
    assert shown in reason


def test_legacy_crashers_are_rejected_with_the_documented_reasons() -> None:
    assert rejection("data/sro-kb001ms-20220629-00000123R1-EX00.fits") == (
        "counter '00000123R1' must be exactly 8 digits"
    )
    assert rejection("data/sro-kb001ms-20220629-00010442-EX10") == "missing extension after 'EX10'"
    assert rejection("data/sro-kb-001ms-20220629-00010442-EX00.fits") == (
        "instrument 'kb-001ms' must not contain a dash"
    )
    assert rejection("data/sro-kb001ms-20221332-00010442-EX00.fits") == (
        "date '20221332' is not a calendar date"
    )


def test_a_wrong_date_is_reported_as_a_calendar_problem_not_a_format_problem() -> None:
    assert "not a calendar date" in rejection("data/sro-kb001ms-20230229-00010442-EX00.fits")
    assert parse_key("data/sro-kb001ms-20240229-00010442-EX00.fits").date == datetime.date(2024, 2, 29)


@pytest.mark.parametrize(
    "key",
    ["sro-kb001ms-20220629-00010442-EX00.fits", "/sro-kb001ms-20220629-00010442-EX00.fits", "data/", ""],
)
def test_a_key_without_a_prefix_or_a_name_is_rejected(key: str) -> None:
    reason = rejection(key)
    assert "prefix" in reason or "name" in reason


def test_non_ascii_digits_are_not_accepted_as_digits() -> None:
    assert "counter" in rejection("data/sro-kb001ms-20220629-٠٠٠١٠٤٤٢-EX00.fits")


# --- what each file is (SPEC §1 table) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "kind", "flag"),
    [
        ("EX00.txt", FileKind.HEADER, None),
        ("EX01.txt", FileKind.HEADER, None),
        ("EX10.txt", FileKind.HEADER, None),
        ("EX00.fits", FileKind.LARGE_FITS, "fits_01_exists"),
        ("EX01.fits", FileKind.LARGE_FITS, "fits_01_exists"),
        ("EX01.fits.bz2", FileKind.LARGE_FITS, "fits_01_exists"),
        ("EX01.fits.fz", FileKind.LARGE_FITS, "fits_01_exists"),
        ("EX00.fits.gz", FileKind.LARGE_FITS, "fits_01_exists"),
        ("EX01.FITS", FileKind.LARGE_FITS, "fits_01_exists"),
        ("EX10.fits", FileKind.SMALL_FITS, "fits_10_exists"),
        ("EX13.fits", FileKind.SMALL_FITS, "fits_10_exists"),
        ("EX10.fits.fz", FileKind.SMALL_FITS, "fits_10_exists"),
        ("EX10.jpg", FileKind.MEDIUM_JPG, "jpg_medium_exists"),
        ("EX13.jpg", FileKind.MEDIUM_JPG, "jpg_medium_exists"),
        ("EX10.JPG", FileKind.MEDIUM_JPG, "jpg_medium_exists"),
        ("EX11.jpg", FileKind.THUMBNAIL_JPG, "jpg_small_exists"),
        ("EX20.fits", FileKind.OTHER, None),
        ("EX00.jpg", FileKind.OTHER, None),
        ("EX10.tif", FileKind.OTHER, None),
        ("EX10.png", FileKind.OTHER, None),
        ("EX10.jpg.gz", FileKind.OTHER, None),
        ("EX00.txt.gz", FileKind.OTHER, None),
    ],
)
def test_extension_and_reduction_decide_the_file_kind_and_catalog_flag(
    tail: str, kind: FileKind, flag: str | None
) -> None:
    parsed = parse_key(f"data/sro-kb001ms-20220629-00010442-{tail}")
    assert parsed.kind is kind
    assert parsed.catalog_flag == flag


def test_file_path_field_names_the_info_image_attribute() -> None:
    assert parse_key("info-images/sro-kb001ms-20220629-00010442-EX10.jpg").file_path_field == (
        "jpg_10_file_path"
    )
    assert parse_key("info-images/sro-kb001ms-20220629-00010442-EX01.fits.bz2").file_path_field == (
        "fits_01_file_path"
    )


# --- thumbnails ------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["data", "allsky", "info-images"])
def test_thumbnail_key_is_the_reduction_11_jpg_beside_the_medium_jpg(prefix: str) -> None:
    medium = parse_key(f"{prefix}/sro-kb001ms-20220629-00010442-EX10.jpg")
    thumb = thumbnail_key(medium)
    assert thumb == f"{prefix}/sro-kb001ms-20220629-00010442-EX11.jpg"
    assert parse_key(thumb).kind is FileKind.THUMBNAIL_JPG
    assert parse_key(thumb).base_filename == medium.base_filename


def test_thumbnail_key_keeps_the_data_type() -> None:
    medium = parse_key("data/sro-kb001ms-20220629-00010442-EP10.jpg")
    assert thumbnail_key(medium) == "data/sro-kb001ms-20220629-00010442-EP11.jpg"


def test_a_reduction_13_jpg_is_a_medium_jpg_that_makes_no_thumbnail() -> None:
    medium = parse_key("data/sro-kb001ms-20220629-00010442-EP13.jpg")
    assert medium.kind is FileKind.MEDIUM_JPG and medium.catalog_flag == "jpg_medium_exists"
    assert not medium.makes_thumbnail
    assert parse_key("data/sro-kb001ms-20220629-00010442-EP10.jpg").makes_thumbnail


@pytest.mark.parametrize("tail", ["EX11.jpg", "EX13.jpg", "EX10.fits", "EX00.txt", "EX10.png"])
def test_thumbnail_key_of_anything_but_a_medium_jpg_is_a_programming_error(tail: str) -> None:
    with pytest.raises(ValueError):
        thumbnail_key(parse_key(f"data/sro-kb001ms-20220629-00010442-{tail}"))


def test_base_filename_zero_pads_early_years() -> None:
    parsed = parse_key("data/sro-kb001ms-00050101-00010442-EX00.fits")
    assert parsed.base_filename == "sro-kb001ms-00050101-00010442"
    assert parse_key(thumbnail_key(parse_key("data/sro-kb-00050101-00000001-e10.jpg"))).date == parsed.date


# --- event keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("data/sro-kb001ms-20220629-00010442-EX10.jpg", "data/sro-kb001ms-20220629-00010442-EX10.jpg"),
        ("test/a+b.txt", "test/a b.txt"),
        ("test/a%20b.txt", "test/a b.txt"),
        ("test/a%2Bb.txt", "test/a+b.txt"),
        (
            "info-images%2Fsro-kb001ms-20220629-00010442-EX10.jpg",
            "info-images/sro-kb001ms-20220629-00010442-EX10.jpg",
        ),
    ],
)
def test_event_keys_are_url_decoded_with_plus_as_space(raw: str, decoded: str) -> None:
    assert decode_event_key(raw) == decoded


def test_a_decoded_event_key_parses_like_the_listed_key() -> None:
    assert parse_key(decode_event_key("data/sro-kb001ms-20220629-00010442-EX10.jpg")) == parse_key(
        "data/sro-kb001ms-20220629-00010442-EX10.jpg"
    )


def test_good_reference_name_parses() -> None:
    assert parse_key(GOOD).kind is FileKind.LARGE_FITS


def test_compression_is_recognised_in_any_case_and_reported_in_lower_case() -> None:
    parsed = parse_key("data/sro-kb001ms-20220629-00010442-EX01.fits.BZ2")
    assert parsed.compression == "bz2"
    assert parsed.key == "data/sro-kb001ms-20220629-00010442-EX01.fits.BZ2"
    assert parsed.kind is FileKind.LARGE_FITS
