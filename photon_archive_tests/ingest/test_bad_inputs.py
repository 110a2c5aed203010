"""Bad input in a real batch (SPEC §1, §2, §4, §10): every bad object is recorded as rejected with a
reason that names its problem, and the good exposures of the same batch are catalogued as if the bad
ones were not there."""

from __future__ import annotations

import bz2
import functools
import io
import random
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import date
from typing import NamedTuple

import pytest
from astropy.io import fits
from dagster import ExecuteInProcessResult
from PIL import Image

from photon_archive_tests.archive import Archive
from photon_archive_workshop.sample import sample_exposures

NIGHT = date(2026, 11, 24)
GOOD_EXPOSURES = 3
MIN_BAD_CASES = 50
# The processor time the whole batch may cost the test's process (where the run executes), Dagster's
# own start-up included. It is about 1 s; inflating the batch's bombs rather than refusing them at
# the header limits would cost tens of seconds, decoding its pixel bomb more. Processor time, not
# time on the clock, so that a machine busy with other work does not count against the batch.
BATCH_CPU_SECONDS = 20.0
MiB = 1024 * 1024
DAY = f"{NIGHT:%Y%m%d}"
FLAGS = ("fits_01_exists", "fits_10_exists", "jpg_medium_exists", "jpg_small_exists")


class Bad(NamedTuple):
    """One object that must be rejected, and what its rejection reason must say."""

    key: str
    body: bytes
    fragments: tuple[str, ...]  # each must appear in the ledger's reason


def _key(counter: int, tail: str) -> str:
    """A valid name in an exposure of its own, so no other file of the batch spares its bytes a reading."""
    return f"data/sro-kb001ms-{DAY}-{counter:08d}-{tail}"


def _allsky_key(counter: int, tail: str) -> str:
    return f"allsky/sro-sq01-{DAY}-{counter:08d}-{tail}"


def _numbered(first: int, cases: list[tuple[str, bytes, tuple[str, ...]]]) -> list[Bad]:
    """(tail, body, fragments) -> cases under ``data/``, counters from ``first`` on."""
    return [Bad(_key(first + n, tail), body, fragments) for n, (tail, body, fragments) in enumerate(cases)]


@functools.cache
def _source() -> tuple[bytes, bytes, bytes, bytes]:
    """Real files of one exposure (txt, fits.bz2, fits.fz, jpg) to cut and mislabel."""
    files = sample_exposures(night=NIGHT, count=1, first_counter=9_000, seed=7)
    txt, large, small, jpg = (file.body for file in files)
    return txt, large, small, jpg


@functools.cache
def _random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _fits_start() -> bytes:
    """A lone SIMPLE card: the bytes say FITS, but no END card ever follows."""
    return b"SIMPLE  =                    T / conforms to FITS standard".ljust(80)


def _bomb(compress: Callable[[bytes], bytes], inflated: int, member: int = 8 * MiB) -> bytes:
    """``inflated`` bytes of a SIMPLE card and zeros, compressed, without ever holding them in memory.

    Each ``member`` of zeros is compressed once into a complete bz2 stream or gzip member and the
    streams are concatenated, which is what ``bzip2 -d`` and ``gzip -d`` (and Python's readers) inflate
    back to the whole; compressing gigabytes in one stream would cost a minute of CPU for the same file.
    """
    zeros = bytes(member)
    first = compress(_fits_start() + zeros[len(_fits_start()) :])
    rest = compress(zeros)
    return first + rest * (inflated // member - 1)


def _bz2_member(data: bytes) -> bytes:
    compressor = bz2.BZ2Compressor(9)
    return compressor.compress(data) + compressor.flush()


def _gzip_member(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _endless_gzip(size: int) -> bytes:
    """A gzip stream of empty stored deflate blocks: it can be read for ever and never yields a byte."""
    member_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    empty_stored_block = b"\x00\x00\x00\xff\xff"  # not final, stored, LEN 0, NLEN 0xffff
    return member_header + empty_stored_block * (size // len(empty_stored_block))


def _jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 60, 90)).save(out, format="JPEG")
    return out.getvalue()


def _with_sof0_size(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with the frame size in its SOF0 header rewritten: a huge picture in a few hundred bytes."""
    sof = data.index(b"\xff\xc0")
    patched = bytearray(data)
    patched[sof + 5 : sof + 7] = height.to_bytes(2, "big")
    patched[sof + 7 : sof + 9] = width.to_bytes(2, "big")
    return bytes(patched)


def _encoded(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


# --------------------------------------------------------------------------------------------------
# the corpus


def _bad_names() -> list[Bad]:
    """Names that do not parse (or are not ours), carrying a perfectly good header as their bytes."""
    txt = _source()[0]
    names = [
        (f"data/ab-kb001ms-{DAY}-00000001-EX00.txt", "site 'ab' must be 3-6 letters or digits"),
        (f"data/abcdefg-kb001ms-{DAY}-00000001-EX00.txt", "site 'abcdefg' must be 3-6 letters or digits"),
        (f"data/s_o-kb001ms-{DAY}-00000001-EX00.txt", "site 's_o' must be 3-6 letters or digits"),
        ("data/sro-kb001ms-2026112x-00000001-EX00.txt", "date '2026112x' must be 8 digits, YYYYMMDD"),
        ("data/sro-kb001ms-261124-00000001-EX00.txt", "date '261124' must be 8 digits"),
        ("data/sro-kb001ms-20261332-00000001-EX00.txt", "date '20261332' is not a calendar date"),
        ("data/sro-kb001ms-20260230-00000001-EX00.txt", "date '20260230' is not a calendar date"),
        (f"data/sro-kb001ms-{DAY}-0000001-EX00.txt", "counter '0000001' must be exactly 8 digits"),
        (f"data/sro-kb001ms-{DAY}-000000001-EX00.txt", "counter '000000001' must be exactly 8 digits"),
        (f"data/sro-kb001ms-{DAY}-00000123R1-EX00.fits", "counter '00000123R1' must be exactly 8 digits"),
        (
            f"data/sro-kb001ms-{DAY}-\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff11-EX00.txt",
            "counter '\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff11' must be exactly 8 digits",
        ),
        (f"data/sro-kb001ms-{DAY}-00000001-EX0.fits", "reduction '0' must be exactly 2 digits"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX000.fits", "reduction '000' must be exactly 2 digits"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX0a.fits", "reduction '0a' must be exactly 2 digits"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX.fits", "missing reduction after 'EX'"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX10", "missing extension after 'EX10'"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX00..fits", "missing extension after 'EX00'"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX00.f1ts", "extension 'f1ts' must be letters"),
        (f"data/sro-kb-001ms-{DAY}-00000001-EX00.txt", "instrument 'kb-001ms' must not contain a dash"),
        (f"data/sro--{DAY}-00000001-EX00.txt", "instrument '' must be 1 or more letters or digits"),
        (f"data/sro-kb_001ms-{DAY}-00000001-EX00.txt", "instrument 'kb_001ms' must be 1 or more letters"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX00.fits.zip", "compression 'zip' is not one of bz2, fz, gz"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX00.fits.bz2.bz2", "compression 'bz2.bz2' is not one of"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX00.fits.", "missing compression after 'EX00.fits'"),
        (f"data/sro-kb001ms-{DAY}-00000001-00.fits", "missing data type (letters) at the start of '00'"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX-00.fits", "data type 'EX-00.fits' must not contain a dash"),
        (f"data/sro-kb001ms-{DAY}", f"missing counter after '{DAY}'"),
        (f"data/sro-kb001ms-{DAY}-00000001", "missing data type after '00000001'"),
        (f"test/sro-kb001ms-{DAY}-00000001-EX00.txt", "prefix 'test' is not one this ingest catalogs"),
        (f"downloads/sro-kb001ms-{DAY}-00000001-EX00.txt", "prefix 'downloads' is not one"),
        (f"sro-kb001ms-{DAY}-00000001-EX00.txt", "has no prefix"),
        (f"/sro-kb001ms-{DAY}-00000001-EX00.txt", "has an empty prefix"),
        ("data/https://example.com/upload?file=a.fits", "site 'upload?file=a.fits' must be 3-6"),
        (f"data/sro-kb001ms-{DAY}-00000001-EX00.txt?versionId=3", "extension 'txt?versionId=3' must be"),
        ("data/%2Fetc%2Fpasswd", "site '%2Fetc%2Fpasswd' must be 3-6"),
        ("data/javascript:alert(1)", "site 'javascript:alert(1)' must be 3-6"),
        (f"data/sro kb001ms {DAY} 00000001 EX00.txt", f"site 'sro kb001ms {DAY} 00000001 EX00.txt'"),
    ]
    return [Bad(key, txt, (fragment,)) for key, fragment in names]


def _bad_headers() -> list[Bad]:
    """``.txt`` files whose bytes are not a complete FITS header."""
    txt, large, _, jpg = _source()
    end_card = b"END".ljust(80)
    assert txt.count(end_card) == 1
    one_per_line = b"\n".join(txt[i : i + 80].rstrip() for i in range(0, len(txt), 80))
    no_end = "the header has no END"
    cases = [
        (_random_bytes(6000, 1), (no_end, "truncated or not a FITS header")),
        (_random_bytes(6000, 2).replace(b"\n", b"?"), ("no END card", "not a FITS header")),
        (txt[:1000], ("no END card on an 80-character card boundary",)),  # cut inside card 13
        (txt[:2921], ("no END card on an 80-character card boundary",)),
        (txt.replace(end_card, b" " * 80), ("no END card",)),
        (one_per_line[: len(one_per_line) // 2], ("no END line",)),
        (b"", ("the header file is empty (zero bytes)",)),
        (b" " * 2880, ("holds only blank space",)),
        (b"\x00" * 2880, ("holds only blank space",)),
        (b"OBJECT  = 'M31'" + b" " * 100 + b"/ a card that runs on\nEND\n", ("line 1", "at most 80")),
        (jpg, (no_end,)),
        (large, (no_end,)),
        (b'{"DATE-OBS": "2026-11-24T03:00:00", "RAHRS": "1.5"}', ("no END card",)),
        (txt[:-2880] * 800 + txt[-2880:], ("bytes, above the limit of 2,097,152 bytes",)),  # 2.2 MiB
    ]
    return [Bad(_key(100 + n, "EX00.txt"), body, fragments) for n, (body, fragments) in enumerate(cases)]


def _bad_fits() -> list[Bad]:
    """Fits files that are the only fits of their exposure and come without a ``.txt``, so their
    header is read: empty, cut short, not what their name says, or bombs."""
    txt, large, small, jpg = _source()
    plain = bz2.decompress(large)
    gzipped = _gzip_member(plain)
    garbage = _random_bytes(5000, 3)
    truncated = "the bz2-compressed fits file is truncated"
    gz_truncated = "the gz-compressed fits file is truncated"
    huge = [("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 2), ("NAXIS1", 100_000), ("NAXIS2", 100_000)]
    dataless = [("SIMPLE", True), ("BITPIX", 16), ("NAXIS", 0), ("EXTEND", True)]
    cases: list[tuple[str, bytes, tuple[str, ...]]] = [
        ("EX01.fits", b"", ("the fits file is empty (zero bytes)",)),
        ("EX01.fits.bz2", b"", ("the fits file is empty (zero bytes)",)),
        ("EX01.fits.gz", b"", ("the fits file is empty (zero bytes)",)),
        ("EX10.fits.fz", b"", ("the fits file is empty (zero bytes)",)),
        # A bz2 block is only emitted once it is whole: cut anywhere inside it, nothing comes out.
        *[("EX01.fits.bz2", large[:cut], (truncated,)) for cut in (3, 10, 100, 1000, 20_000)],
        ("EX01.fits.bz2", large[: len(large) // 2], (truncated,)),
        ("EX10.fits.bz2", large[: len(large) - 1000], (truncated,)),
        *[("EX01.fits.gz", gzipped[:cut], (gz_truncated,)) for cut in (5, 100, 1000)],
        ("EX01.fits", plain[:1000], ("truncated inside the header of HDU 0",)),
        ("EX10.fits.fz", small[:100], ("truncated inside the header of HDU 0",)),
        ("EX10.fits.fz", small[:4000], ("truncated inside the header of HDU 1",)),
        ("EX01.fits.bz2", garbage, ("the bz2 stream is corrupt",)),
        ("EX01.fits.bz2", gzipped, ("the bz2 stream is corrupt",)),
        ("EX01.fits.bz2", plain, ("the bz2 stream is corrupt",)),
        ("EX01.fits.gz", garbage, ("the gz stream is corrupt",)),
        ("EX01.fits.gz", large, ("the gz stream is corrupt",)),
        ("EX10.fits.fz", garbage, ("the file is not FITS", "SIMPLE card")),
        ("EX01.fits", garbage, ("the file is not FITS", "SIMPLE card")),
        ("EX10.fits", jpg, ("the file is not FITS", "SIMPLE card")),
        ("EX01.fits.bz2", _bz2_member(garbage), ("the bz2-compressed file is not FITS",)),
        ("EX01.fits.gz", _gzip_member(txt[::-1]), ("the gz-compressed file is not FITS",)),
        # Bombs: a FITS start and then nothing but zeros, gigabytes of them once inflated.
        ("EX01.fits.bz2", _bomb(_bz2_member, 4096 * MiB), ("bz2-compressed", "max_decompressed_bytes")),
        ("EX01.fits.gz", _bomb(_gzip_member, 2048 * MiB), ("gz-compressed", "max_decompressed_bytes")),
        ("EX01.fits", _fits_start() + b" " * (3 * MiB), ("without finding a header", "max_decompressed")),
        ("EX01.fits.gz", _endless_gzip(5 * MiB), ("gz-compressed", "max_header_read_bytes")),
        (
            "EX01.fits",
            _header_bytes(huge),
            ("HDU 0 has no DATE-OBS", "20000001600 bytes of data", "max_decompressed_bytes"),
        ),
        (
            "EX01.fits",
            _header_bytes(dataless) + garbage[:2880],
            ("no HDU in the fits file has DATE-OBS", "not a FITS extension"),
        ),
        ("EX01.fits", _header_bytes([("SIMPLE", True), ("BITPIX", 8), ("NAXIS", 0)]), ("no HDU", "DATE-OBS")),
    ]
    return _numbered(200, cases) + [Bad(_allsky_key(299, "EX01.fits.bz2"), large[:300], (truncated,))]


def _failure(result: ExecuteInProcessResult) -> str:
    """The error at the root of a failed run's first failed step."""
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            return error.message.strip()
    return "no step failed"


def _header_bytes(cards: Sequence[tuple[str, object]]) -> bytes:
    return str(fits.Header(cards)).encode("ascii")


def _bad_images() -> list[Bad]:
    """Medium jpgs the thumbnailer cannot or must not decode."""
    txt, large, _, jpg = _source()
    undecodable = "not a decodable image"
    bomb = _with_sof0_size(_jpeg(64, 64), 30_000, 30_000)
    cases: list[tuple[str, bytes, tuple[str, ...]]] = [
        ("EX10.jpg", _random_bytes(5000, 4), (undecodable, "no reader for JPEG")),
        ("EX10.jpg", txt, (undecodable, "no reader for JPEG")),
        ("EX10.jpg", large, (undecodable, "no reader for JPEG")),
        ("EX10.jpg", _encoded("PDF"), (undecodable, "no reader for JPEG")),
        ("EX10.jpg", b"", (undecodable, "the file is empty (0 bytes)")),
        ("EX10.jpg", jpg[: len(jpg) // 2], (undecodable, "truncated")),
        ("EX10.jpg", jpg[:200], (undecodable, "Truncated")),
        ("EX10.jpg", jpg[:2], (undecodable,)),
        ("EX10.jpg", bomb, ("900,000,000 pixels", "above the limit of 80,000,000 pixels")),
    ]
    return _numbered(300, cases) + [Bad(_allsky_key(399, "EX10.jpg"), _random_bytes(3000, 5), (undecodable,))]


GROUPS: dict[str, tuple[Callable[[], list[Bad]], int]] = {
    # group: (builder, fewest cases it must hold)
    "names": (_bad_names, 30),
    "headers": (_bad_headers, 12),
    "fits": (_bad_fits, 25),
    "images": (_bad_images, 9),
}


@functools.cache
def bad_corpus() -> tuple[Bad, ...]:
    return tuple(case for builder, _ in GROUPS.values() for case in builder())


# --------------------------------------------------------------------------------------------------
# the corpus is what it claims to be


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_each_group_of_the_corpus_has_its_cases_with_specific_reasons(group: str) -> None:
    builder, fewest = GROUPS[group]
    cases = builder()
    assert len(cases) >= fewest
    for case in cases:
        assert case.fragments and all(case.fragments), case.key
        vague = {fragment.strip().lower() for fragment in case.fragments} & {"rejected", "invalid", "error"}
        assert not vague, case.key


@pytest.mark.parametrize("minimum", [MIN_BAD_CASES])
def test_the_corpus_holds_at_least_50_distinct_bad_objects(minimum: int) -> None:
    keys = [case.key for case in bad_corpus()]
    assert len(set(keys)) == len(keys), "two cases share a key and would hide each other"
    assert len(keys) >= minimum


def test_the_bombs_are_gigabytes_inflated_and_small_uploaded() -> None:
    bombs = [case for case in bad_corpus() if "max_decompressed_bytes" in case.fragments]
    compressed = [case for case in bombs if case.key.endswith((".bz2", ".gz"))]
    assert len(compressed) == 2
    for case in compressed:
        decompressor = (
            bz2.BZ2Decompressor() if case.key.endswith(".bz2") else zlib.decompressobj(16 + zlib.MAX_WBITS)
        )
        first = decompressor.decompress(case.body, 2880)
        assert first.startswith(b"SIMPLE  =") and b"END " not in first
        assert len(case.body) < 4 * MiB  # under max_header_read_bytes: only the inflated size can stop it
    inflated = {".bz2": (4096, _bz2_member), ".gz": (2048, _gzip_member)}
    for case in compressed:
        mebibytes, member = inflated[case.key[case.key.rindex(".") :]]
        # After the first member, the SIMPLE card and 8 MiB less 80 bytes of zeros: 8 MiB of zeros each.
        assert case.body.count(member(bytes(8 * MiB))) == mebibytes // 8 - 1


# --------------------------------------------------------------------------------------------------
# the batch


def test_a_batch_of_bad_objects_rejects_each_with_its_reason_and_ingests_the_good_exposures(
    archive: Archive,
) -> None:
    good = sample_exposures(night=NIGHT, count=GOOD_EXPOSURES)
    bad = bad_corpus()
    for sample in good:
        archive.put(sample.key, sample.body, sample.content_type, **sample.metadata)
    for case in bad:
        archive.put(case.key, case.body)
    good_bases = {sample.key.split("/")[1].rsplit("-", 1)[0] for sample in good}
    assert len(good_bases) == GOOD_EXPOSURES
    # Good and bad interleaved, as a sensor would hand them over.
    keys = [sample.key for sample in good] + [case.key for case in bad]
    random.Random(11).shuffle(keys)

    started = time.process_time()
    result = archive.ingest(keys, raise_on_error=False)
    cpu_seconds = time.process_time() - started

    assert result.success, f"the ingest run failed: {_failure(result)}"
    assert cpu_seconds < BATCH_CPU_SECONDS

    wrong: list[str] = []
    for case in bad:
        entry = archive.ledger(case.key)
        reason = entry["reason"] or ""
        if entry["state"] != "rejected" or not all(fragment in reason for fragment in case.fragments):
            wrong.append(f"{case.key!r}: {entry['state']} {reason!r}, expected {case.fragments}")
        elif entry["run_id"] != result.run_id:
            wrong.append(f"{case.key!r}: recorded by run {entry['run_id']}, not {result.run_id}")
    assert not wrong, f"{len(wrong)} of {len(bad)} bad objects not rejected as expected:\n" + "\n".join(wrong)

    batch = result.output_for_node("ingest_objects")
    assert (batch.rejected, batch.failed, batch.ingested) == (len(bad), 0, len(good))

    assert {row["base_filename"] for row in archive.query("SELECT base_filename FROM images")} == good_bases
    assert archive.query("SELECT base_filename FROM allsky_images") == []
    for base in good_bases:
        row = archive.row(base)
        assert all(row[flag] for flag in FLAGS), {flag: row[flag] for flag in FLAGS}
        assert row["header_source"] == "txt"
    stored = set(archive.keys("data/")) | set(archive.keys("allsky/"))
    assert {f"data/{base}-EX11.jpg" for base in good_bases} <= stored
    thumbnails = {key for key in stored if key.endswith("11.jpg")}
    assert thumbnails == {f"data/{base}-EX11.jpg" for base in good_bases}, "a bad jpg got a thumbnail"
    assert {archive.ledger(sample.key)["state"] for sample in good} == {"ingested"}

    messages = archive.datastream()
    expected = [
        {
            "topic": "imagedata",
            "site": "sro",
            "data": {"s3_directory": "data", "base_filename": base, "site": "sro"},
        }
        for base in sorted(good_bases)
    ]
    assert sorted(messages, key=lambda message: message["data"]["base_filename"]) == expected


# --------------------------------------------------------------------------------------------------
# names and header values longer than the catalog columns that hold them
#
# Each goes in a batch of its own with one good exposure, so that one which sinks its batch cannot
# take the whole corpus above down with it. A name part or header value too long for its column may
# be rejected (the reason naming it) or stored some other way; a prefix nobody watches and a NUL byte
# in a name can only be rejected.


def _header_with(keyword: str, value: str) -> bytes:
    """The sample header with one value replaced; a long string goes on CONTINUE cards."""
    header = fits.Header.fromstring(_source()[0].decode("ascii"))
    header[keyword] = value
    return str(header).encode("ascii")


DEEP = "deep/" * 14  # a prefix of 74 characters
OVERSIZED = [
    # key, body (None: a good header), what a rejection must name, whether it may be ingested instead
    pytest.param(f"data/{DEEP}sro-kb001ms-{DAY}-00000501-EX00.txt", None, "prefix", False, id="prefix"),
    pytest.param(f"data/sro-{'k' * 130}-{DAY}-00000502-EX00.txt", None, "instrument", True, id="instrument"),
    pytest.param(_key(503, f"{'EX' * 9}00.txt"), None, "data type", True, id="data-type"),
    pytest.param(f"data/sro-kb001ms-{DAY}-00000504-EX00.txt\x00", None, "extension", False, id="nul"),
    pytest.param(_key(505, "EX00.txt"), ("FILTER", "L" * 100), "FILTER", True, id="filter"),
    pytest.param(_key(506, "EX00.txt"), ("USERNAME", "n" * 300), "USERNAME", True, id="username"),
    pytest.param(_key(507, "EX00.txt"), ("USERID", "auth0|" + "9" * 300), "USERID", True, id="userid"),
]


@pytest.mark.parametrize(("key", "card", "named", "may_be_ingested"), OVERSIZED)
def test_a_name_or_value_the_catalog_cannot_store_does_not_sink_the_batch(
    archive: Archive, key: str, card: tuple[str, str] | None, named: str, may_be_ingested: bool
) -> None:
    good = sample_exposures(night=NIGHT, count=1)
    for sample in good:
        archive.put(sample.key, sample.body, sample.content_type)
    archive.put(key, _source()[0] if card is None else _header_with(*card), "text/plain")
    base = good[0].key.split("/")[1].rsplit("-", 1)[0]

    result = archive.ingest([sample.key for sample in good] + [key], raise_on_error=False)

    assert result.success, f"one object sank the batch: {_failure(result)}"
    row = archive.row(base)
    assert all(row[flag] for flag in FLAGS), {flag: row[flag] for flag in FLAGS}
    assert {archive.ledger(sample.key)["state"] for sample in good} == {"ingested"}
    good_keys = {sample.key for sample in good}
    ledger = archive.query("SELECT * FROM object_ledger")
    (entry,) = [entry for entry in ledger if entry["key"] not in good_keys]
    if entry["state"] == "rejected":
        assert named in (entry["reason"] or ""), entry["reason"]
    else:
        assert may_be_ingested and entry["state"] == "ingested", (entry["state"], entry["reason"])


# --------------------------------------------------------------------------------------------------
# every limit is a setting: lowered, it rejects a file of the sample exposure, and the reason names it

LOWERED = [
    # setting, lowered value, which file of the sample exposure, what the reason must say
    pytest.param("max_header_text_bytes", 1000, 0, "limit of 1,000 bytes (max_header_text_bytes)", id="txt"),
    pytest.param("max_header_read_bytes", 1000, 1, "(max_header_read_bytes = 1000)", id="read"),
    pytest.param("max_decompressed_bytes", 2000, 1, "(max_decompressed_bytes = 2000)", id="decompressed"),
    pytest.param("max_image_bytes", 1000, 3, "limit of 1,000 bytes (max_image_bytes)", id="jpg-bytes"),
    pytest.param("max_image_pixels", 1000, 3, "limit of 1,000 pixels (max_image_pixels)", id="pixels"),
]


@pytest.mark.parametrize(("setting", "value", "file", "reason"), LOWERED)
def test_a_limit_lowered_through_its_setting_rejects_naming_the_limit(
    archive: Archive, setting: str, value: int, file: int, reason: str
) -> None:
    # Only the one file is ingested, so a fits file's header is read from the fits itself.
    key = _key(600, _source_tails()[file])
    archive.put(key, _source()[file])

    result = archive.configured(**{setting: value}).ingest([key])

    entry = archive.ledger(key)
    assert (entry["state"], entry["run_id"]) == ("rejected", result.run_id)
    assert reason in entry["reason"]


def _source_tails() -> tuple[str, str, str, str]:
    """The name endings of ``_source()``'s files, in its order."""
    files = sample_exposures(night=NIGHT, count=1, first_counter=9_000, seed=7)
    tail_0, tail_1, tail_2, tail_3 = (file.key.rsplit("-", 1)[1] for file in files)
    return tail_0, tail_1, tail_2, tail_3


def test_a_run_listing_more_objects_than_the_setting_allows_fails_at_once_naming_it(archive: Archive) -> None:
    keys = [sample.key for sample in sample_exposures(night=NIGHT, count=1)]

    result = archive.configured(max_objects_per_run=len(keys) - 1).ingest(keys, raise_on_error=False)

    assert not result.success
    assert f"more than the limit of {len(keys) - 1} (max_objects_per_run)" in _failure(result)
    retried = [event for event in result.all_events if event.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried == [], "a run no retry can shrink was retried"
    assert archive.query("SELECT key FROM object_ledger") == []
