"""Info-image rules on plain values: which channel a file goes to, and what its item holds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photon_archive.errors import Rejected
from photon_archive.info_images import READER_PATH_FIELDS, channel_for, info_image_file
from photon_archive.naming import parse_key

BASE = "info-images/sro-kb001ms-20261124-00000007"


@given(
    reduction=st.sampled_from(["00", "01", "10", "11", "13", "20"]),
    ext=st.sampled_from(["fits", "fits.bz2", "fits.fz", "jpg", "txt", "png"]),
)
def test_every_flag_a_file_sets_comes_with_the_path_field_the_api_reads_for_it(
    reduction: str, ext: str
) -> None:
    name = parse_key(f"{BASE}-EX{reduction}.{ext}")
    file = info_image_file(name, 1, None)
    assert name.file_path_field in file.path_fields  # the file's own {ext}_{reduction}_file_path
    if file.flag is not None:
        assert READER_PATH_FIELDS[file.flag] in file.path_fields


@pytest.mark.parametrize(
    ("tail", "read_as"),
    [
        ("EX00.fits", "fits_01_file_path"),
        ("EX13.fits", "fits_10_file_path"),
        ("EX13.jpg", "jpg_10_file_path"),
        ("EX10.jpg", "jpg_10_file_path"),
    ],
)
def test_an_ex00_or_ex13_file_is_also_named_where_the_api_looks(tail: str, read_as: str) -> None:
    assert read_as in info_image_file(parse_key(f"{BASE}-{tail}"), 2, None).path_fields


def test_object_metadata_wins_over_the_site_metadata_item() -> None:
    name = parse_key(f"{BASE}-EX10.jpg")
    assert channel_for(name, {"info-channel": "3"}, {"channel1": name.base_filename}) == 3
    assert channel_for(name, {}, {"channel2": name.base_filename}) == 2


@pytest.mark.parametrize("metadata", [{"info-channel": "0"}, {"info-channel": "two"}, {}])
def test_a_file_with_no_valid_channel_is_refused_with_the_reason(metadata: dict[str, str]) -> None:
    with pytest.raises(Rejected) as caught:
        channel_for(parse_key(f"{BASE}-EX10.jpg"), metadata, {"channel1": "another-exposure"})
    assert "info-channel" in caught.value.reason or "no info channel" in caught.value.reason
