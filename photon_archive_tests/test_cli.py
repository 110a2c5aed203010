"""The photon-archive command: the operator's migrate and provision, on the configured deployment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from photon_archive.aws.clients import client
from photon_archive.cli import main
from photon_archive.settings import Settings


def test_migrate_brings_the_configured_catalog_to_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    monkeypatch.setenv("PHOTON_ARCHIVE_DATABASE_URL", url)

    assert main(["migrate"]) == 0

    assert f"catalog at head: {url}" in capsys.readouterr().out
    engine = create_engine(url)
    assert {"images", "allsky_images", "object_ledger"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_provision_creates_what_is_missing_where_boto3_points(
    aws_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    client("s3").delete_bucket(Bucket=aws_settings.bucket)

    assert main(["provision"]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["bucket"] == aws_settings.bucket
    assert aws_settings.bucket in {b["Name"] for b in client("s3").list_buckets()["Buckets"]}
