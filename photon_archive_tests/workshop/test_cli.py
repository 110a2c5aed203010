"""The photon-archive-workshop command against moto's server."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import pytest
from astropy.io import fits

from photon_archive.aws.clients import client
from photon_archive.settings import Settings
from photon_archive_workshop.cli import main


def _event_keys(settings: Settings) -> list[str]:
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=settings.event_queue)["QueueUrl"]
    keys = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            for record in json.loads(message["Body"]).get("Records", []):
                keys.append(unquote_plus(record["s3"]["object"]["key"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return keys


def test_upload_sample_sends_a_night_header_first(aws_settings: Settings, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PHOTON_ARCHIVE_STATE_DIR", aws_settings.state_dir)
    _event_keys(aws_settings)

    assert main(["upload-sample", "--exposures", "3", "--site", "tst", "--night", "2026-11-24"]) == 0

    assert "uploaded 12 objects" in capsys.readouterr().out
    keys = _event_keys(aws_settings)
    assert len(keys) == 12
    for exposure in range(3):
        files = keys[exposure * 4 : exposure * 4 + 4]
        assert files[0].endswith("-EX00.txt")
        assert {f.rsplit("-", 1)[1] for f in files} == {
            "EX00.txt",
            "EX01.fits.bz2",
            "EX10.fits.fz",
            "EX10.jpg",
        }
    header = client("s3").get_object(Bucket=aws_settings.bucket, Key=keys[0])["Body"].read()
    assert fits.Header.fromstring(header.decode("ascii"))["SITE"] == "tst"


def test_upload_sample_refuses_a_channel_outside_info_images(aws_settings: Settings) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["upload-sample", "--prefix", "data", "--channel", "2"])
    assert exit_info.value.code == 2


def test_info_image_samples_carry_their_channel(aws_settings: Settings, monkeypatch) -> None:
    monkeypatch.setenv("PHOTON_ARCHIVE_STATE_DIR", aws_settings.state_dir)
    assert main(["upload-sample", "--prefix", "info-images", "--channel", "3", "--exposures", "1"]) == 0
    keys = _event_keys(aws_settings)
    assert keys and all(key.startswith("info-images/") for key in keys)
    head = client("s3").head_object(Bucket=aws_settings.bucket, Key=keys[0])
    assert head["Metadata"] == {"info-channel": "3"}
