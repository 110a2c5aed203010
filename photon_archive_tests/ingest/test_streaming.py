"""A large fits file gives up its header for a few hundred kilobytes of S3 traffic."""

from __future__ import annotations

import bz2
import io

import numpy as np
from astropy.io import fits

from photon_archive.aws.bucket import RangeReader
from photon_archive.headers import read_fits_header
from photon_archive_tests.archive import Archive

BASE = "sro-kb001ms-20261124-00000042"
TARGET_BYTES = 100 * 1024 * 1024


def _sky(rows: int, rng: np.random.Generator) -> np.ndarray:
    """Sky-like int16 pixels: a background level with noise, as bz2 meets them in real exposures."""
    return rng.normal(1200, 25, size=(rows, 2048)).astype(">i2")


def _large_fits_bz2() -> bytes:
    """About 100 MB of .fits.bz2: one bz2 stream with the header, then repeated streams of sky data
    (a bz2 file may hold several streams, read back to back)."""
    rng = np.random.default_rng(3)
    header = fits.Header()
    header["SIMPLE"] = True
    header["BITPIX"] = 16
    header["NAXIS"] = 2
    header["NAXIS1"] = 2048
    header["NAXIS2"] = 2048 * 26
    header["DATE-OBS"] = "2026-11-24T05:06:07.250"
    header["RAHRS"] = 5.5
    header["CRVAL2"] = -12.5
    header["FILTER"] = "Ha"
    first = bz2.compress(header.tostring().encode("ascii") + _sky(2048, rng).tobytes())
    rest = bz2.compress(_sky(2048, rng).tobytes())
    copies = (TARGET_BYTES - len(first)) // len(rest) + 1
    return first + rest * copies


def test_header_of_a_100_mb_fits_bz2_costs_under_a_megabyte_from_s3(archive: Archive) -> None:
    body = _large_fits_bz2()
    assert len(body) >= TARGET_BYTES
    key = f"data/{BASE}-EX01.fits.bz2"
    archive.put(key, body, "application/x-bzip2")

    reader = RangeReader(archive.settings.bucket, key, len(body))
    parsed = read_fits_header(reader, "bz2")

    assert parsed.cards["DATE-OBS"] == "2026-11-24T05:06:07.250"
    assert parsed.columns.right_ascension == 5.5
    print(f"header of a {len(body):,}-byte .fits.bz2 read with {reader.bytes_fetched:,} bytes fetched")
    assert reader.bytes_fetched < 1024 * 1024, f"{reader.bytes_fetched:,} bytes fetched"

    result = archive.ingest([key])
    assert result.success
    row = archive.row(BASE)
    assert row["fits_01_exists"] and row["header_source"] == "large_fits"
    assert row["filter_used"] == "Ha" and row["declination"] == -12.5


def test_range_reader_reads_exactly_the_object(archive: Archive) -> None:
    body = bytes(range(256)) * 5000
    archive.put("data/blob.bin", body)
    reader = RangeReader(archive.settings.bucket, "data/blob.bin", len(body), chunk=10_000)
    out = io.BytesIO()
    while chunk := reader.read(777):
        out.write(chunk)
    assert out.getvalue() == body
    assert reader.bytes_fetched == len(body)
