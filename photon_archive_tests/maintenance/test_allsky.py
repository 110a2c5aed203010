"""All-sky exposures older than the retention go with their objects and row (SPEC §9)."""

from __future__ import annotations

import time
from datetime import UTC

from photon_archive_tests.archive import Archive
from photon_archive_tests.maintenance.runs import base_of, run, upload

RETENTION = 30 * 86_400  # the default


def _first_uploads(archive: Archive) -> dict[str, int]:
    rows = archive.query(
        "SELECT base_filename, min(last_modified) AS first FROM object_ledger"
        " WHERE prefix = 'allsky' GROUP BY base_filename"
    )
    return {row["base_filename"]: int(row["first"].replace(tzinfo=UTC).timestamp()) for row in rows}


def _rows(archive: Archive) -> set[str]:
    return {row["base_filename"] for row in archive.query("SELECT base_filename FROM allsky_images")}


def test_exposures_older_than_the_retention_go_and_younger_ones_stay(archive: Archive) -> None:
    old_keys = upload(archive, prefix="allsky", count=1, first_counter=1)
    assert archive.ingest(old_keys).success
    time.sleep(1.1)  # S3 keeps upload times to the second
    young_keys = upload(archive, prefix="allsky", count=1, first_counter=2)
    assert archive.ingest(young_keys).success
    old, young = base_of(old_keys), base_of(young_keys)
    first = _first_uploads(archive)
    assert first[old] < first[young]

    assert run(archive, "expire_allsky", at=first[old] + RETENTION - 1).count("exposures") == 0

    dry = run(archive, "expire_allsky", at=first[young] + RETENTION - 1, dry_run=True)
    assert (dry.count("exposures"), dry.count("objects"), dry.count("rows")) == (1, 5, 1)
    assert _rows(archive) == {old, young} and len(archive.keys(f"allsky/{old}-")) == 5

    outcome = run(archive, "expire_allsky", at=first[young] + RETENTION - 1)
    assert (outcome.count("exposures"), outcome.count("objects"), outcome.count("rows")) == (1, 5, 1)
    assert old in outcome.listing
    assert _rows(archive) == {young}
    assert archive.keys(f"allsky/{old}-") == [] and len(archive.keys(f"allsky/{young}-")) == 5
