"""Info images go to sticky channels in DynamoDB; all-sky images to their own table (SPEC §8–9)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from photon_archive.aws.clients import client
from photon_archive.defs.resources import resources_for
from photon_archive.ingest.batch import Services, ingest_batch
from photon_archive.naming import parse_key
from photon_archive_tests.archive import Archive
from photon_archive_workshop.sample import sample_exposures


def _item(archive: Archive, pk: str) -> dict[str, Any]:
    item = client("dynamodb").get_item(TableName=archive.settings.info_images_table, Key={"pk": {"S": pk}})
    assert "Item" in item, f"no item {pk}"
    return item["Item"]


def _services(archive: Archive) -> Services:
    resources = resources_for(archive.settings)
    return Services(
        resources["bucket"],
        resources["tables"],
        resources["catalog"].engine(),
        resources["ingest_rules"].settings(),
    )


def _base(keys: list[str]) -> str:
    return parse_key(keys[0]).base_filename


def test_channel_from_object_metadata_builds_the_item_and_notifies_with_the_channel(archive: Archive) -> None:
    keys = archive.upload_sample(prefix="info-images", channel=2, count=1)
    base = _base(keys)

    assert archive.ingest(keys).success

    item = _item(archive, "sro#2")
    assert item is not None
    assert item["base_filename"] == {"S": base} and item["data_type"] == {"S": "EX"}
    assert item["file_date"] == {"S": "20261124"}
    assert int(item["expiration_timestamp"]["N"]) > 0
    assert item["txt_00_file_path"] == {"S": f"info-images/{base}-EX00.txt"}
    assert item["jpg_10_file_path"] == {"S": f"info-images/{base}-EX10.jpg"}
    assert {
        flag: item[flag]["BOOL"] for flag in ("jpg_medium_exists", "fits_01_exists", "fits_10_exists")
    } == {
        "jpg_medium_exists": True,
        "fits_01_exists": True,
        "fits_10_exists": True,
    }
    assert item["header"]["M"]["SITE"] == {"S": "sro"}
    thumbnail = f"info-images/{base}-EX11.jpg"
    assert thumbnail in archive.keys("info-images/")
    assert archive.ingest([thumbnail]).success  # the thumbnail arrives as an object too
    assert archive.ledger(thumbnail)["state"] == "ingested"
    item = _item(archive, "sro#2")
    assert item["jpg_small_exists"] == {"BOOL": True} and item["jpg_11_file_path"] == {"S": thumbnail}
    assert archive.query("SELECT count(*) AS n FROM images")[0]["n"] == 0
    assert archive.table_items(archive.settings.upload_log_table) == []
    message = {
        "topic": "imagedata",
        "site": "sro",
        "data": {"s3_directory": "info-images", "base_filename": base, "site": "sro", "channel": 2},
    }
    assert archive.datastream() == [message, message]  # the exposure, then its thumbnail


def test_channel_from_the_site_metadata_item(archive: Archive) -> None:
    keys = archive.upload_sample(prefix="info-images", count=1)
    client("dynamodb").put_item(
        TableName=archive.settings.info_images_table,
        Item={"pk": {"S": "sro#metadata"}, "channel3": {"S": _base(keys)}, "channel1": {"S": "other"}},
    )

    assert archive.ingest(keys).success

    assert _item(archive, "sro#3")["base_filename"] == {"S": _base(keys)}
    assert {archive.ledger(key)["state"] for key in keys} == {"ingested"}


def test_no_channel_anywhere_is_a_rejection_that_says_so(archive: Archive) -> None:
    keys = archive.upload_sample(prefix="info-images", count=1)

    assert archive.ingest(keys).success

    ledger = archive.ledger(keys[0])
    assert ledger["state"] == "rejected"
    assert "no info channel" in ledger["reason"] and "sro#metadata" in ledger["reason"]
    assert [
        i for i in archive.table_items(archive.settings.info_images_table) if i["pk"]["S"] != "sro#metadata"
    ] == []
    assert archive.datastream() == []


@pytest.mark.parametrize("metadata", [{}, {"info-channel": "7"}], ids=["no channel", "a bad channel"])
def test_an_info_image_refused_for_its_channel_leaves_nothing_behind(
    archive: Archive, metadata: dict[str, str]
) -> None:
    keys = []
    for sample in sample_exposures(prefix="info-images", count=1):
        archive.put(sample.key, sample.body, sample.content_type, **metadata)
        keys.append(sample.key)

    assert archive.ingest(keys).success

    assert {archive.ledger(key)["state"] for key in keys} == {"rejected"}
    assert sorted(archive.keys("info-images/")) == sorted(keys)  # no thumbnail was written
    assert archive.table_items(archive.settings.info_images_table) == []
    assert archive.table_items(archive.settings.upload_log_table) == []
    assert archive.datastream() == []


def test_every_flag_set_on_a_channel_has_the_path_field_the_api_reads(archive: Archive) -> None:
    sample = {s.key.rsplit("-", 1)[1]: s for s in sample_exposures(prefix="info-images", channel=1, count=1)}
    base = _base([sample["EX10.jpg"].key])
    keys = {
        f"info-images/{base}-EX00.fits": sample["EX01.fits.bz2"].body,
        f"info-images/{base}-EX13.fits": sample["EX10.fits.fz"].body,
        f"info-images/{base}-EX13.jpg": sample["EX10.jpg"].body,
    }
    for key, body in keys.items():
        archive.put(key, body, **{"info-channel": "1"})

    assert archive.ingest(keys).success

    item = _item(archive, "sro#1")
    assert item is not None
    read = {"fits_01_exists": "fits_01_file_path", "fits_10_exists": "fits_10_file_path"}
    read["jpg_medium_exists"] = "jpg_10_file_path"
    for flag, field in read.items():
        assert item[flag] == {"BOOL": True}, flag
        assert item[field]["S"] in keys, field  # photonranch-api reads it whenever the flag is set
    assert item["fits_00_file_path"] == {"S": f"info-images/{base}-EX00.fits"}


def test_a_new_exposure_replaces_the_item_whole_and_files_of_one_exposure_accumulate(
    archive: Archive,
) -> None:
    first = archive.upload_sample(prefix="info-images", channel=2, count=1, first_counter=1)
    assert archive.ingest(first).success
    second = archive.upload_sample(prefix="info-images", channel=2, count=1, first_counter=2, files=["jpg"])

    assert archive.ingest(second).success
    item = _item(archive, "sro#2")
    assert item["base_filename"] == {"S": _base(second)}
    assert "txt_00_file_path" not in item and "header" not in item and "fits_01_exists" in item
    assert item["fits_01_exists"] == {"BOOL": False} and item["jpg_medium_exists"] == {"BOOL": True}

    more = archive.upload_sample(prefix="info-images", channel=2, count=1, first_counter=2, files=["txt"])
    assert archive.ingest(more).success
    item = _item(archive, "sro#2")
    assert item["txt_00_file_path"] == {"S": more[0]} and item["jpg_10_file_path"] == {"S": second[0]}
    assert item["header"]["M"]["SITE"] == {"S": "sro"}


def test_channels_and_sites_are_independent(archive: Archive) -> None:
    keys = []
    for channel in (1, 2, 3):
        keys += archive.upload_sample(
            prefix="info-images", channel=channel, count=1, first_counter=channel, files=["jpg"]
        )
    keys += archive.upload_sample(prefix="info-images", channel=2, count=1, site="tst", files=["jpg"])

    assert archive.ingest(keys).success

    shown = {
        item["pk"]["S"]: item["base_filename"]["S"]
        for item in archive.table_items(archive.settings.info_images_table)
    }
    assert shown == {
        "sro#1": "sro-kb001ms-20261124-00000001",
        "sro#2": "sro-kb001ms-20261124-00000002",
        "sro#3": "sro-kb001ms-20261124-00000003",
        "tst#2": "tst-kb001ms-20261124-00000001",
    }


def test_an_older_exposure_processed_late_leaves_the_newer_one(archive: Archive) -> None:
    older = archive.upload_sample(prefix="info-images", channel=1, count=1, first_counter=7)
    newer = archive.upload_sample(prefix="info-images", channel=1, count=1, first_counter=8)
    assert archive.ingest(newer).success
    archive.datastream()

    assert archive.ingest(older).success

    item = _item(archive, "sro#1")
    assert item["base_filename"] == {"S": _base(newer)}
    assert all(
        value["S"].startswith(f"info-images/{_base(newer)}")
        for name, value in item.items()
        if name.endswith("_file_path")
    )
    assert "newer exposure" in archive.ledger(older[0])["reason"]
    assert archive.datastream() == []


def test_two_runs_writing_different_exposures_to_one_channel_end_with_the_newer_whole(
    archive: Archive,
) -> None:
    services = _services(archive)
    for attempt in range(3):
        older = archive.upload_sample(
            prefix="info-images", channel=3, count=1, first_counter=10 * attempt + 1
        )
        newer = archive.upload_sample(
            prefix="info-images", channel=3, count=1, first_counter=10 * attempt + 2
        )
        barrier = threading.Barrier(2)

        def run(keys: list[str], barrier: threading.Barrier = barrier) -> None:
            refs = [archive.ref(key) for key in keys]
            barrier.wait()
            ingest_batch(refs, services, "concurrent")

        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(run, older), pool.submit(run, newer)]:
                future.result()
        item = _item(archive, "sro#3")
        assert item["base_filename"] == {"S": _base(newer)}
        paths = {name: value["S"] for name, value in item.items() if name.endswith("_file_path")}
        assert sorted(paths.values()) == sorted(newer)
        assert all(item[flag]["BOOL"] for flag in ("jpg_medium_exists", "fits_01_exists", "fits_10_exists"))


def test_an_allsky_upload_touches_only_allsky_images(archive: Archive) -> None:
    keys = archive.upload_sample(prefix="allsky", count=2)
    bases = sorted({parse_key(key).base_filename for key in keys})

    assert archive.ingest(keys).success

    rows = archive.query(
        "SELECT base_filename, jpg_small_exists, header_source FROM allsky_images ORDER BY 1"
    )
    assert [r["base_filename"] for r in rows] == bases
    assert all(r["jpg_small_exists"] and r["header_source"] == "txt" for r in rows)
    assert archive.query("SELECT count(*) AS n FROM images")[0]["n"] == 0
    assert archive.table_items(archive.settings.info_images_table) == []
    logged = {item["filename"]["S"] for item in archive.table_items(archive.settings.upload_log_table)}
    assert logged == set(keys)
    messages = archive.datastream()
    assert sorted(m["data"]["base_filename"] for m in messages) == bases
    assert {m["data"]["s3_directory"] for m in messages} == {"allsky"}
    assert all(key.startswith("allsky/") for key in archive.keys("allsky/") if key.endswith("EX11.jpg"))
