"""Expired info-image channel items go with their objects; the API's metadata items stay (SPEC §8)."""

from __future__ import annotations

from photon_archive.aws.clients import client
from photon_archive_tests.archive import Archive
from photon_archive_tests.maintenance.runs import base_of, run, upload


def _channels(archive: Archive) -> dict[str, dict]:
    return {item["pk"]["S"]: item for item in archive.table_items(archive.settings.info_images_table)}


def test_expired_channels_go_with_their_objects_and_metadata_items_stay(archive: Archive) -> None:
    # The upload API's item; even one carrying a past expiration_timestamp is not the job's to delete.
    metadata = {"pk": {"S": "sro#metadata"}, "channel1": {"S": "x"}, "expiration_timestamp": {"N": "1"}}
    client("dynamodb").put_item(TableName=archive.settings.info_images_table, Item=metadata)
    expiring = upload(archive, prefix="info-images", channel=2, count=1, first_counter=1)
    assert archive.ingest(expiring).success
    # Another channel, written by an ingest whose items live longer.
    longer = archive.configured(info_image_ttl_hours=96)
    staying = upload(archive, prefix="info-images", channel=3, count=1, first_counter=2)
    assert longer.ingest(staying).success
    channels = _channels(archive)
    expires = int(channels["sro#2"]["expiration_timestamp"]["N"])
    base = base_of(expiring)
    objects = archive.keys(f"info-images/{base}-")
    assert len(objects) == 5 and f"info-images/{base}-EX11.jpg" in objects

    assert run(archive, "expire_info_images", at=expires - 1).count("items") == 0

    dry = run(archive, "expire_info_images", at=expires, dry_run=True)
    assert (dry.count("items"), dry.count("objects")) == (1, 5) and "sro#2" in dry.listing
    assert set(_channels(archive)) == {"sro#metadata", "sro#2", "sro#3"}
    assert archive.keys(f"info-images/{base}-") == objects

    outcome = run(archive, "expire_info_images", at=expires)
    assert (outcome.count("items"), outcome.count("objects")) == (1, 5)
    assert set(_channels(archive)) == {"sro#metadata", "sro#3"}
    assert _channels(archive)["sro#metadata"] == metadata
    assert archive.keys(f"info-images/{base}-") == []
    assert len(archive.keys(f"info-images/{base_of(staying)}-")) == 5
    assert run(archive, "expire_info_images", at=expires).count("items") == 0
