"""Upload-log items go within the hour after ``expire_timestamp_s`` (SPEC §6), whatever the table's
sort key: the one provisioning creates (``filename``), or the hand-made table's, probably
``upload_timestamp_s`` (LEGACY.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from photon_archive.aws.clients import client
from photon_archive.aws.tables import Tables
from photon_archive.defs.resources import resources_for
from photon_archive.errors import Misconfigured
from photon_archive.provision import provision
from photon_archive.records import UploadLogItem
from photon_archive_tests.archive import Archive
from photon_archive_tests.maintenance.runs import run, upload

SORT_KEYS = {"filename": "S", "upload_timestamp_s": "N"}


@pytest.fixture(params=list(SORT_KEYS))
def logged(request: pytest.FixtureRequest, archive: Archive) -> Iterator[Archive]:
    """The archive with its upload log keyed by site and the parameter, as provisioning found it."""
    sort_key = request.param
    if sort_key != "filename":
        table = archive.settings.upload_log_table
        dynamodb = client("dynamodb")
        dynamodb.delete_table(TableName=table)
        dynamodb.create_table(
            TableName=table,
            KeySchema=[
                {"AttributeName": "site", "KeyType": "HASH"},
                {"AttributeName": sort_key, "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "site", "AttributeType": "S"},
                {"AttributeName": sort_key, "AttributeType": SORT_KEYS[sort_key]},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        provision(archive.settings)
    yield archive


def _logged(archive: Archive) -> dict[str, int]:
    return {
        item["filename"]["S"]: int(item["expire_timestamp_s"]["N"])
        for item in archive.table_items(archive.settings.upload_log_table)
    }


def _tables(archive: Archive) -> Tables:
    tables: Tables = resources_for(archive.settings)["tables"]
    return tables


def test_items_past_their_expiry_are_deleted_and_younger_ones_stay(logged: Archive) -> None:
    start = 1_800_000_000
    old = [
        UploadLogItem("sro", f"data/sro-kb001ms-20261124-0000000{i}-EX10.jpg", start + i, start + i + 60, 10)
        for i in range(3)
    ]
    young = UploadLogItem("sro", "data/sro-kb001ms-20261124-00000009-EX10.jpg", start + 9, start + 3600, 10)
    tables = _tables(logged)
    assert tables.log_uploads([*old, young]) == 4

    assert run(logged, "expire_upload_log", at=start).count("items") == 0

    at = old[-1].expire_timestamp_s
    dry = run(logged, "expire_upload_log", at=at, dry_run=True)
    assert dry.count("items") == len(old) and all(item.filename in dry.listing for item in old)
    assert len(_logged(logged)) == len(old) + 1

    outcome = run(logged, "expire_upload_log", at=at)
    assert outcome.count("items") == len(old) and outcome.listing.startswith("Deleted")
    assert _logged(logged) == {young.filename: young.expire_timestamp_s}
    assert run(logged, "expire_upload_log", at=at).count("items") == 0


def test_the_ingest_logs_its_uploads_in_the_table_as_it_is_keyed_and_the_expiry_deletes_them(
    logged: Archive,
) -> None:
    keys = upload(logged, count=2, site="sro")
    assert logged.ingest(keys).success

    items = logged.table_items(logged.settings.upload_log_table)
    heads = {key: client("s3").head_object(Bucket=logged.settings.bucket, Key=key) for key in keys}
    uploaded = {key: int(head["LastModified"].timestamp()) for key, head in heads.items()}
    if "filename" in _tables(logged).upload_log_key():
        assert {item["filename"]["S"] for item in items} == set(keys)
    else:
        # One item a site and second: of the files uploaded in one second, the last by name.
        last_of_second: dict[int, str] = {}
        for key, second in uploaded.items():
            last_of_second[second] = max(last_of_second.get(second, ""), key)
        assert {int(i["upload_timestamp_s"]["N"]): i["filename"]["S"] for i in items} == last_of_second
    assert all(int(i["upload_timestamp_s"]["N"]) == uploaded[i["filename"]["S"]] for i in items)

    latest = max(int(item["expire_timestamp_s"]["N"]) for item in items)
    assert run(logged, "expire_upload_log", at=latest).count("items") == len(items)
    assert _logged(logged) == {}


def test_a_table_keyed_in_a_way_the_items_cannot_fill_is_refused_before_any_write(archive: Archive) -> None:
    table = archive.settings.upload_log_table
    dynamodb = client("dynamodb")
    dynamodb.delete_table(TableName=table)
    dynamodb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "site", "KeyType": "HASH"},
            {"AttributeName": "uploaded_at", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "site", "AttributeType": "S"},
            {"AttributeName": "uploaded_at", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )

    tables = _tables(archive)
    with pytest.raises(
        Misconfigured, match="has the sort key uploaded_at, which the system's items do not carry"
    ):
        tables.log_uploads([UploadLogItem("sro", "data/x.txt", 1, 2, 3)])
    with pytest.raises(Misconfigured, match=f"DynamoDB table {table} "):
        list(tables.expired_upload_log_items(datetime.now(UTC)))
    assert archive.table_items(table) == []
