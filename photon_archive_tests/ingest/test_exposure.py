"""One exposure through the ingest job, on PostgreSQL and moto's server."""

from __future__ import annotations

import json
from datetime import date

import pytest

from photon_archive.naming import parse_key
from photon_archive_tests.archive import SAMPLE_NIGHT, Archive
from photon_archive_workshop.sample import sample_exposures


def test_an_exposure_is_catalogued_with_thumbnail_log_and_one_notification(archive: Archive) -> None:
    keys = archive.upload_sample(count=1)
    base = keys[0].split("/")[1].rsplit("-", 1)[0]

    result = archive.ingest(keys)

    assert result.success
    row = archive.row(base)
    assert row["site"] == "sro" and row["data_type"] == "EX"
    assert (
        row["fits_01_exists"]
        and row["fits_10_exists"]
        and row["jpg_medium_exists"]
        and row["jpg_small_exists"]
    )
    header = json.loads(row["header"])
    assert header["SSTKNUM"].isdigit()
    assert row["capture_date"].date() in (SAMPLE_NIGHT, date(2026, 11, 25))
    assert 0 <= row["right_ascension"] < 24
    assert row["header_source"] == "txt"
    thumbnail = f"data/{base}-EX11.jpg"
    assert thumbnail in archive.keys("data/")
    assert {archive.ledger(k)["state"] for k in keys} == {"ingested"}
    assert {archive.ledger(k)["run_id"] for k in keys} == {result.run_id}
    assert archive.datastream() == [
        {
            "topic": "imagedata",
            "site": "sro",
            "data": {"s3_directory": "data", "base_filename": base, "site": "sro"},
        }
    ]
    logged = {item["filename"]["S"] for item in archive.table_items("recent-uploads-log")}
    assert logged == set(keys)


def test_a_13_jpg_is_a_medium_jpg_with_no_thumbnail_of_its_own(archive: Archive) -> None:
    keys = archive.upload_sample(count=1, files=("txt",))
    medium = next(s for s in sample_exposures(night=SAMPLE_NIGHT, count=1) if s.key.endswith("EX10.jpg"))
    reduced = medium.key.replace("EX10.jpg", "EX13.jpg")
    archive.put(reduced, medium.body, medium.content_type)
    base = keys[0].split("/")[1].rsplit("-", 1)[0]

    assert archive.ingest([*keys, reduced]).success

    row = archive.row(base)
    assert row["jpg_medium_exists"] and not row["jpg_small_exists"]
    assert archive.ledger(reduced)["state"] == "ingested"
    assert sorted(archive.keys("data/")) == sorted([*keys, reduced])  # no EX11.jpg written


@pytest.mark.parametrize(("unit", "per_hour"), [("hours", 1.0), ("degrees", 15.0)])
def test_right_ascension_is_written_in_the_configured_unit(
    archive: Archive, unit: str, per_hour: float
) -> None:
    archive = archive.configured(right_ascension_unit=unit)
    headers = {
        "images": archive.upload_sample(count=1, files=("txt",))[0],
        "allsky_images": archive.upload_sample(prefix="allsky", count=1, files=("txt",))[0],
    }

    assert archive.ingest(headers.values()).success

    for table, key in headers.items():
        row = archive.row(parse_key(key).base_filename, table)
        hours = float(json.loads(row["header"])["RAHRS"])
        assert row["right_ascension"] == pytest.approx(hours * per_hour)
