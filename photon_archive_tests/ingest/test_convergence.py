"""Order, concurrency and repetition: the catalog converges on one state (SPEC §3)."""

from __future__ import annotations

import itertools
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from photon_archive.aws.clients import client
from photon_archive.defs.resources import resources_for
from photon_archive.ingest.batch import Services, ingest_batch
from photon_archive.ingest.objects import ObjectRef
from photon_archive.naming import parse_key, thumbnail_key
from photon_archive.thumbnails import make_thumbnail
from photon_archive_tests.archive import Archive
from photon_archive_tests.ingest.test_decisions import ingest as decide
from photon_archive_workshop.sample import sample_exposures

NIGHT = date(2026, 11, 24)
ROW_COLUMNS = (
    "base_filename, site, capture_date, sort_date, right_ascension, declination, altitude, azimuth, "
    "header, filter_used, airmass, exposure_time, user_id, username, fits_01_exists, fits_10_exists, "
    "jpg_medium_exists, jpg_small_exists, data_type, header_source"
)


def _services(archive: Archive) -> Services:
    resources = resources_for(archive.settings)
    return Services(
        bucket=resources["bucket"],
        tables=resources["tables"],
        engine=resources["catalog"].engine(),
        settings=resources["ingest_rules"].settings(),
    )


def _upload_exposures(archive: Archive, count: int, with_thumbnail: bool) -> dict[str, list[ObjectRef]]:
    """Upload ``count`` exposures; return each base filename's five (or four) object refs."""
    files: dict[str, list[str]] = {}
    for sample in sample_exposures(night=NIGHT, count=count):
        archive.put(sample.key, sample.body, sample.content_type)
        name = parse_key(sample.key)
        files.setdefault(name.base_filename, []).append(sample.key)
        if with_thumbnail and name.kind.value == "medium_jpg":
            archive.put(thumbnail_key(name), make_thumbnail(sample.body), "image/jpeg")
            files[name.base_filename].append(thumbnail_key(name))
    return {base: [archive.ref(key) for key in keys] for base, keys in files.items()}


def test_five_files_in_all_120_arrival_orders_give_one_and_the_same_row(archive: Archive) -> None:
    ((base, refs),) = _upload_exposures(archive, 1, with_thumbnail=True).items()
    assert len(refs) == 5
    services = _services(archive)
    ingest_batch(refs, services, "all-at-once")
    expected = archive.query(f"SELECT {ROW_COLUMNS} FROM images")
    assert len(expected) == 1 and expected[0]["header_source"] == "txt"

    orders = list(itertools.permutations(refs))
    assert len(orders) == 120
    for order in orders:
        archive.query("DELETE FROM images RETURNING base_filename")
        for ref in order:
            ingest_batch([ref], services, "one-by-one")
        assert archive.query(f"SELECT {ROW_COLUMNS} FROM images") == expected, [r.key for r in order]


def test_a_fits_header_stands_in_until_the_txt_arrives_and_never_replaces_it(archive: Archive) -> None:
    ((base, refs),) = _upload_exposures(archive, 1, with_thumbnail=False).items()
    by_suffix = {ref.key.rsplit("-", 1)[1]: ref for ref in refs}
    services = _services(archive)

    ingest_batch([by_suffix["EX10.fits.fz"]], services, "fits-first")
    from_fits = archive.row(base)
    assert from_fits["header_source"] == "small_fits"
    assert from_fits["capture_date"] is not None and from_fits["right_ascension"] is not None

    ingest_batch([by_suffix["EX00.txt"]], services, "txt-second")
    from_txt = archive.row(base)
    assert from_txt["header_source"] == "txt"

    ingest_batch([by_suffix["EX01.fits.bz2"]], services, "fits-after-txt")
    assert archive.row(base) == from_txt | {"fits_01_exists": True}


def test_a_row_made_before_its_header_keeps_the_upload_time_until_the_header_arrives(
    archive: Archive,
) -> None:
    ((base, refs),) = _upload_exposures(archive, 1, with_thumbnail=False).items()
    jpg = next(ref for ref in refs if ref.key.endswith("EX10.jpg"))
    txt = next(ref for ref in refs if ref.key.endswith(".txt"))
    services = _services(archive)

    ingest_batch([jpg], services, "jpg-first")
    early = archive.row(base)
    assert jpg.last_modified is not None
    assert early["header_source"] is None and early["header"] is None
    assert early["capture_date"] == early["sort_date"] == jpg.last_modified.replace(tzinfo=None)

    ingest_batch([txt], services, "header")
    late = archive.row(base)
    assert late["capture_date"] != early["capture_date"]
    assert late["capture_date"].date() >= NIGHT and late["jpg_medium_exists"]


def test_two_runs_on_different_files_of_the_same_exposures_at_once_leave_one_full_row_each(
    archive: Archive,
) -> None:
    exposures = _upload_exposures(archive, 12, with_thumbnail=True)
    services = _services(archive)
    rng = random.Random(7)
    for _attempt in range(3):
        archive.query("DELETE FROM images RETURNING image_id")
        halves: list[list[ObjectRef]] = [[], []]
        for refs in exposures.values():
            for ref in refs:
                halves[rng.randrange(2)].append(ref)
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = [
                pool.submit(_ingest_at_the_barrier, barrier, half, services, f"run-{i}")
                for i, half in enumerate(halves)
            ]
            for run in runs:
                run.result()  # re-raises whatever a run raised
        rows = archive.query(
            "SELECT base_filename, fits_01_exists, fits_10_exists, jpg_medium_exists, "
            "jpg_small_exists, header_source FROM images"
        )
        assert sorted(r["base_filename"] for r in rows) == sorted(exposures)
        assert all(
            r["fits_01_exists"]
            and r["fits_10_exists"]
            and r["jpg_medium_exists"]
            and r["jpg_small_exists"]
            and r["header_source"] == "txt"
            for r in rows
        )


def _ingest_at_the_barrier(
    barrier: threading.Barrier, batch: list[ObjectRef], services: Services, run_id: str
) -> None:
    barrier.wait()
    ingest_batch(batch, services, run_id)


def test_the_same_batch_twice_changes_nothing(archive: Archive) -> None:
    keys = [sample.key for sample in sample_exposures(night=NIGHT, count=2)]
    for sample in sample_exposures(night=NIGHT, count=2):
        archive.put(sample.key, sample.body, sample.content_type)
    first = archive.ingest(keys)
    rows = archive.query(f"SELECT image_id, {ROW_COLUMNS} FROM images ORDER BY base_filename")
    thumbnails = {
        key: client("s3").head_object(Bucket=archive.settings.bucket, Key=key)["LastModified"]
        for key in archive.keys("data/")
        if key.endswith("EX11.jpg")
    }
    states = {
        row["key"]: (row["state"], row["reason"]) for row in archive.query("SELECT * FROM object_ledger")
    }
    archive.datastream()

    second = archive.ingest(keys)

    assert first.success and second.success
    assert archive.query(f"SELECT image_id, {ROW_COLUMNS} FROM images ORDER BY base_filename") == rows
    assert len(thumbnails) == 2
    for key, modified in thumbnails.items():
        assert client("s3").head_object(Bucket=archive.settings.bucket, Key=key)["LastModified"] == modified
    assert {
        row["key"]: (row["state"], row["reason"]) for row in archive.query("SELECT * FROM object_ledger")
    } == states
    written = second.output_for_node("ingest_objects").thumbnails_written
    assert written == 0
    assert {r["run_id"] for r in archive.query("SELECT run_id FROM object_ledger")} == {second.run_id}


def test_the_catalog_row_is_the_one_the_merge_rules_decide(archive: Archive) -> None:
    """The SQL upsert and the merge rules of ``catalog/rows.py`` make the same row, order by order."""
    ((base, refs),) = _upload_exposures(archive, 1, with_thumbnail=True).items()
    s3 = client("s3")
    files = {
        r.key: (s3.get_object(Bucket=archive.settings.bucket, Key=r.key)["Body"].read(), r.last_modified)
        for r in refs
        if r.last_modified is not None
    }
    services = _services(archive)
    for order in random.Random(11).sample(list(itertools.permutations(refs)), 6):
        archive.query("DELETE FROM images RETURNING base_filename")
        decided: dict[str, dict[str, object]] = {}
        for ref in order:
            ingest_batch([ref], services, "one-by-one")
            decide([ref.key], decided, {}, files)
        (row,) = archive.query(f"SELECT {ROW_COLUMNS} FROM images")
        assert row == {column: decided[base][column] for column in row}, [r.key for r in order]
