"""A night of uploads through the running system: sensors, queued runs, catalog, thumbnails, notices."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from photon_archive.aws.clients import client
from photon_archive.catalog.rows import FLAGS
from photon_archive.naming import parse_key
from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.night import NightWatch, Uploader, by_exposure
from photon_archive_tests.e2e.stack import DagsterStack, wait_for
from photon_archive_workshop.sample import sample_exposures

pytestmark = pytest.mark.e2e

EXPOSURES = 50
# How long the archive may take to have everything once the upload is over: a limit, not a measure
# of speed (bench/ measures the latency). Two rounds of sensor tick and run (the uploads, then the
# thumbnails the first runs wrote) took 25 s to 105 s on a 2-core machine, the longer the busier it
# was with other work; the limit leaves room for one slower still.
LIMIT_S = 300.0


def test_a_night_of_50_exposures_is_fully_ingested_and_announced(
    dagster_stack: DagsterStack, archive: Archive
) -> None:
    files = sample_exposures(count=EXPOSURES)
    watch = NightWatch(archive, [file.key for file in files])
    uploader = Uploader(archive.settings.bucket, by_exposure(files), workers=4)

    started = time.monotonic()
    finished = uploader.run()
    print(f"uploaded {uploader.total} objects in {finished - started:.1f} s")

    watch.wait_until_done(
        f"the night of {EXPOSURES} exposures is fully ingested and announced", LIMIT_S, datastream=True
    )
    print(
        f"{EXPOSURES} exposures ({len(watch.all_keys)} objects with thumbnails): "
        f"fully ingested {time.monotonic() - finished:.1f} s after the upload ended"
    )
    assert len(watch.images()) == EXPOSURES


def test_an_info_image_and_an_allsky_image_are_ingested_thumbnailed_and_announced(
    dagster_stack: DagsterStack, archive: Archive
) -> None:
    info = sample_exposures(prefix="info-images", channel=2, count=1)
    allsky = sample_exposures(prefix="allsky", count=1)
    info_base, allsky_base = (parse_key(files[0].key).base_filename for files in (info, allsky))
    uploaded = [file.key for file in info + allsky]
    thumbnails = [f"info-images/{info_base}-EX11.jpg", f"allsky/{allsky_base}-EX11.jpg"]
    messages: list[dict[str, Any]] = []

    def arrived() -> bool:
        messages.extend(archive.datastream())
        item = (
            client("dynamodb")
            .get_item(TableName=archive.settings.info_images_table, Key={"pk": {"S": "sro#2"}})
            .get("Item", {})
        )
        rows = archive.query(
            f"SELECT {', '.join(FLAGS)} FROM allsky_images WHERE base_filename = :b", b=allsky_base
        )
        states = {
            row["key"]: row["state"]
            for row in archive.query(
                "SELECT key, state FROM object_ledger WHERE key = ANY(:k)", k=uploaded + thumbnails
            )
        }
        return (
            item.get("base_filename") == {"S": info_base}
            and all(item.get(flag) == {"BOOL": True} for flag in FLAGS)
            and len(rows) == 1
            and all(rows[0].values())
            and states == dict.fromkeys(uploaded + thumbnails, "ingested")
            and len({json.dumps(message, sort_keys=True) for message in messages}) == 2
        )

    finished = Uploader(archive.settings.bucket, by_exposure(info + allsky)).run()
    wait_for("the info image and the all-sky image are ingested and announced", arrived, LIMIT_S)
    print(f"info and all-sky images ingested {time.monotonic() - finished:.1f} s after their upload")

    assert {json.dumps(message, sort_keys=True) for message in messages} == {
        json.dumps(message, sort_keys=True)
        for message in (
            {
                "topic": "imagedata",
                "site": "sro",
                "data": {
                    "s3_directory": "info-images",
                    "base_filename": info_base,
                    "site": "sro",
                    "channel": 2,
                },
            },
            {
                "topic": "imagedata",
                "site": "sro",
                "data": {"s3_directory": "allsky", "base_filename": allsky_base, "site": "sro"},
            },
        )
    }
    assert archive.query("SELECT count(*) AS n FROM images")[0]["n"] == 0
    assert set(thumbnails) <= set(archive.keys("info-images/") + archive.keys("allsky/"))
