"""Upload-log items go within the hour after ``expire_timestamp_s`` (SPEC §6)."""

from __future__ import annotations

from photon_archive.aws.tables import Tables
from photon_archive.defs.resources import resources_for
from photon_archive.records import UploadLogItem
from photon_archive_tests.archive import Archive
from photon_archive_tests.maintenance.runs import run, upload


def _logged(archive: Archive) -> dict[str, int]:
    return {
        item["filename"]["S"]: int(item["expire_timestamp_s"]["N"])
        for item in archive.table_items(archive.settings.upload_log_table)
    }


def test_items_past_their_expiry_are_deleted_and_younger_ones_stay(archive: Archive) -> None:
    keys = upload(archive, count=2, site="sro")
    assert archive.ingest(keys).success
    logged = _logged(archive)
    assert set(logged) == set(keys)
    first, last = min(logged.values()), max(logged.values())
    young = UploadLogItem("sro", "data/sro-kb001ms-20261124-00000009-EX10.jpg", last, last + 3600, 10)
    tables: Tables = resources_for(archive.settings)["tables"]
    tables.log_uploads([young])

    assert run(archive, "expire_upload_log", at=first - 1).count("items") == 0

    dry = run(archive, "expire_upload_log", at=last, dry_run=True)
    assert dry.count("items") == len(keys) and all(key in dry.listing for key in keys)
    assert len(_logged(archive)) == len(keys) + 1

    outcome = run(archive, "expire_upload_log", at=last)
    assert outcome.count("items") == len(keys) and outcome.listing.startswith("Deleted")
    assert _logged(archive) == {young.filename: young.expire_timestamp_s}
    assert run(archive, "expire_upload_log", at=last).count("items") == 0
