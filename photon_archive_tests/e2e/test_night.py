"""A night of uploads through the running system: sensors, queued runs, catalog, thumbnails, notices."""

from __future__ import annotations

import time

import pytest

from photon_archive.local.sample import sample_exposures
from photon_archive_tests.archive import Archive
from photon_archive_tests.e2e.night import NightWatch, Uploader, by_exposure
from photon_archive_tests.e2e.stack import DagsterStack

pytestmark = pytest.mark.e2e

EXPOSURES = 50
WITHIN_S = 60.0


def test_a_night_of_50_exposures_is_fully_ingested_within_60_seconds(
    dagster_stack: DagsterStack, archive: Archive
) -> None:
    files = sample_exposures(count=EXPOSURES)
    watch = NightWatch(archive, [file.key for file in files])
    uploader = Uploader(archive.settings.bucket, by_exposure(files), workers=4)

    started = time.monotonic()
    finished = uploader.run()
    print(f"uploaded {uploader.total} objects in {finished - started:.1f} s")

    deadline = finished + WITHIN_S
    gaps = watch.outstanding(datastream=True)
    while gaps and time.monotonic() < deadline:
        time.sleep(0.5)
        gaps = watch.outstanding(datastream=True)
    elapsed = time.monotonic() - finished
    print(f"{EXPOSURES} exposures ({len(watch.all_keys)} objects with thumbnails): ", end="")
    print(f"fully ingested {elapsed:.1f} s after the upload ended" if not gaps else "not done")

    assert not gaps, f"{WITHIN_S:.0f} s after the upload of {EXPOSURES} exposures:\n" + "\n".join(gaps)
    assert len(watch.images()) == EXPOSURES
