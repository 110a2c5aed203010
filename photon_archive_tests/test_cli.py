"""The photon-archive command: the operator's migrate, provision and baseline, on the configured
deployment."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus
from sqlalchemy import create_engine, inspect

from photon_archive.aws.clients import client
from photon_archive.cli import main
from photon_archive.settings import Settings
from photon_archive_tests.archive import Archive
from photon_archive_tests.history import adopt, base_filename, legacy_row, placeholders, upload
from photon_archive_tests.legacy_account import make_legacy_account
from photon_archive_workshop.emulator import Emulator
from photon_archive_workshop.sample import sample_exposures


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

    report = capsys.readouterr().out
    assert report.startswith(f"bucket {aws_settings.bucket}, event queue {aws_settings.event_queue}")
    assert f"changed:\n  create S3 bucket {aws_settings.bucket}\n" in report
    assert aws_settings.bucket in {b["Name"] for b in client("s3").list_buckets()["Buckets"]}


def test_baseline_runs_the_job_on_the_instance_dagster_home_names_and_prints_its_figures(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    night = date(2025, 3, 14)
    base = base_filename("sro", night, 1)
    header = sample_exposures(night=night, count=1, prefix="allsky", files=("txt",))
    keys = upload(archive, placeholders("data", base) + header)
    adopt(archive, "images", [legacy_row(base, night)])
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("PHOTON_ARCHIVE_DATABASE_URL", archive.settings.database_url)
    time.sleep(1.0)  # S3 lists times to the second: the baseline leaves that second's uploads to the sensors

    assert main(["baseline", "--dry-run", "--prefix", "data"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert dry["dry_run"] is True and list(dry["prefixes"]) == ["data/"]
    assert (dry["prefixes"]["data/"]["listed"], dry["prefixes"]["data/"]["recorded"]) == (5, 5)
    assert archive.query("SELECT key FROM object_ledger") == []

    assert main(["baseline"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["prefixes"]["allsky/"]["ingested"], done["prefixes"]["allsky/"]["rows"]) == (1, 1)

    ledger = archive.query("SELECT key, run_id FROM object_ledger ORDER BY key")
    assert [row["key"] for row in ledger] == sorted(keys)
    assert {row["run_id"] for row in ledger} == {done["run_id"]}
    with DagsterInstance.get() as instance:
        runs = {run.run_id: run for run in instance.get_runs()}
    assert set(runs) == {dry["run_id"], done["run_id"]}
    assert {(run.job_name, run.status) for run in runs.values()} == {("baseline", DagsterRunStatus.SUCCESS)}


def test_baseline_without_an_instance_to_record_it_in_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)

    assert main(["baseline"]) == 2

    assert "DAGSTER_HOME must name the Dagster instance to record the run in" in capsys.readouterr().err


def test_provision_beside_the_legacy_triggers_refuses_then_takes_a_way_out_when_told(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.reset()
    settings = Settings(state_dir=str(tmp_path / "state"))
    make_legacy_account(settings)

    assert main(["provision"]) == 2
    refusal = capsys.readouterr()
    assert refusal.out == "" and "provisioning refused, nothing was changed" in refusal.err
    assert "--fan-out" in refusal.err and "--retire-legacy-triggers" in refusal.err

    assert main(["provision", "--retire-legacy-triggers", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "would retire legacy triggers:" in dry and dry.endswith("dry run: nothing was changed\n")
    assert "LambdaFunctionConfigurations" in client("s3").get_bucket_notification_configuration(
        Bucket=settings.bucket
    )

    assert main(["provision", "--retire-legacy-triggers"]) == 0
    assert "retired legacy triggers:" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["provision", "--fan-out", "--retire-legacy-triggers"])


def test_provision_via_eventbridge_keeps_the_legacy_triggers_and_is_one_way_out_of_three(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emulator.reset()
    settings = Settings(state_dir=str(tmp_path / "state"))
    make_legacy_account(settings)
    s3 = client("s3")
    triggers = s3.get_bucket_notification_configuration(Bucket=settings.bucket)[
        "LambdaFunctionConfigurations"
    ]

    assert main(["provision", "--via-eventbridge"]) == 0

    report = capsys.readouterr().out
    assert f"create EventBridge rule {settings.event_rule}" in report
    configuration = s3.get_bucket_notification_configuration(Bucket=settings.bucket)
    assert configuration["LambdaFunctionConfigurations"] == triggers
    assert configuration["EventBridgeConfiguration"] == {}
    for other in ("--fan-out", "--retire-legacy-triggers"):
        with pytest.raises(SystemExit):
            main(["provision", "--via-eventbridge", other])
