"""A bucket with years of history and the catalog the legacy system left for it, for the tests of a
first start.

Most historical objects hold a few placeholder bytes: nothing has a reason to read them, and one
read by mistake (a header parsed, a thumbnail remade) would be rejected, which the tests would see.
The exposures whose rows the baseline must bring up to date are real sample files. The catalog's
rows look like the legacy handler's: the header as JSON, right ascension in degrees, no header
source, flags true for what it saw.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any

from dagster import ExecuteInProcessResult, JobExecutionResult
from sqlalchemy import create_engine, insert

from photon_archive.aws.clients import client
from photon_archive.catalog.rows import FLAGS
from photon_archive.catalog.store import EXPOSURE_TABLES
from photon_archive.definitions import build_definitions
from photon_archive.defs.baseline import OP_NAME
from photon_archive_tests.archive import Archive
from photon_archive_workshop.sample import SampleFile

PLACEHOLDER = b"a historical object: nothing should read it"
# An exposure's files as the legacy system left them: the observatory's four and the thumbnail.
EXPOSURE_FILES = ("EX00.txt", "EX01.fits.bz2", "EX10.fits.fz", "EX10.jpg", "EX11.jpg")
UPLOAD_THREADS = 8


def base_filename(site: str, night: date, counter: int, instrument: str = "kb001ms") -> str:
    return f"{site}-{instrument}-{night:%Y%m%d}-{counter:08d}"


def placeholders(prefix: str, base: str, files: Iterable[str] = EXPOSURE_FILES) -> list[SampleFile]:
    return [SampleFile(f"{prefix}/{base}-{file}", PLACEHOLDER, "application/octet-stream") for file in files]


def upload(archive: Archive, files: Sequence[SampleFile]) -> list[str]:
    """Upload ``files`` side by side through one client; returns their keys."""
    s3 = client("s3")

    def put(file: SampleFile) -> str:
        s3.put_object(
            Bucket=archive.settings.bucket,
            Key=file.key,
            Body=file.body,
            ContentType=file.content_type,
            Metadata=file.metadata,
        )
        return file.key

    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        return list(pool.map(put, files))


def legacy_row(base: str, night: date, flags: Iterable[str] = FLAGS, header: bool = True) -> dict[str, Any]:
    """An exposure's row as the legacy handler wrote it."""
    site = base.split("-")[0]
    capture = datetime(night.year, night.month, night.day, 4, 30)
    row: dict[str, Any] = {
        "base_filename": base,
        "site": site,
        "data_type": "EX",
        "capture_date": capture,
        "sort_date": capture,
        "right_ascension": 250.4257,  # CRVAL1 degrees, as the legacy handler stored it after 2023-03
        "declination": 36.4601,
        "altitude": 61.2,
        "azimuth": 140.8,
        "airmass": 1.14,
        "exposure_time": 30.0,
        "filter_used": "L",
        "user_id": "auth0|5fa1e2b39c0a6e006f3c1d42",
        "username": "Edwin Hubble",
        "header": json.dumps({"SITE": site, "DATE-OBS": capture.isoformat(), "CRVAL1": "250.4257"})
        if header
        else None,
        "header_source": None,
    }
    row.update({flag: flag in set(flags) for flag in FLAGS})
    return row


def adopt(archive: Archive, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Put the legacy rows in the catalog, as adopting the legacy database leaves them."""
    if not rows:
        return
    engine = create_engine(archive.settings.database_url)
    with engine.begin() as connection:
        connection.execute(insert(EXPOSURE_TABLES[table]), list(rows))
    engine.dispose()


def listing(archive: Archive, prefix: str = "") -> dict[str, tuple[str, datetime]]:
    """Every key under ``prefix`` with its etag and time, as S3 lists them."""
    found: dict[str, tuple[str, datetime]] = {}
    pages = (
        client("s3").get_paginator("list_objects_v2").paginate(Bucket=archive.settings.bucket, Prefix=prefix)
    )
    for page in pages:
        for item in page.get("Contents", []):
            found[item["Key"]] = (item["ETag"], item["LastModified"])
    return found


def run_baseline(archive: Archive, raise_on_error: bool = True, **config: Any) -> ExecuteInProcessResult:
    """The ``baseline`` job, run in the archive's instance with ``config`` from the launchpad."""
    job = build_definitions(archive.settings).resolve_job_def("baseline")
    return job.execute_in_process(
        run_config={"ops": {OP_NAME: {"config": config}}},
        instance=archive.instance,
        raise_on_error=raise_on_error,
    )


def figures(result: ExecuteInProcessResult | JobExecutionResult) -> dict[str, Any]:
    """The baseline's output metadata: its totals, and ``prefixes``, the totals per listing prefix."""
    (output,) = [event for event in result.all_node_events if event.is_successful_output]
    return {name: value.value for name, value in output.step_output_data.metadata.items()}
