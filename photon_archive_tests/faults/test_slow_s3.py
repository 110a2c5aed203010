"""A slow S3: every request and every response held back in a proxy, as from a distant region or an
endpoint under load. Slower runs, the same catalog."""

from __future__ import annotations

from photon_archive_tests.archive import Archive
from photon_archive_tests.faults.outcome import (
    IngestOutcome,
    assert_night_ingested,
    step_retries,
    timed_ingest,
)
from photon_archive_tests.proxy import TcpProxy

EXPOSURES = 8
# Each way: a round trip to S3 (or SQS, DynamoDB) costs at least twice this.
LATENCY_S = 0.05


def test_a_slow_s3_ingests_the_same_catalog_only_later(
    archive: Archive, reference_archive: Archive, s3_proxy: TcpProxy
) -> None:
    keys = archive.upload_sample(count=EXPOSURES)
    refs = [archive.ref(key) for key in keys]
    s3_proxy.latency_s = LATENCY_S

    # The run without delay goes first, so any cost of a first run in the process is counted
    # against it, not against the slow one.
    reference_result, reference_seconds = timed_ingest(reference_archive, refs)
    reference = IngestOutcome.read(reference_archive)
    result, seconds = timed_ingest(archive, refs, endpoint_url=s3_proxy.endpoint_url)
    outcome = IngestOutcome.read(archive)

    print(
        f"{len(keys)} objects with {2 * LATENCY_S * 1000:.0f} ms added to every S3 round trip: run "
        f"{seconds:.1f} s, without it {reference_seconds:.1f} s ({seconds / reference_seconds:.1f}x)"
    )
    assert result.success and not step_retries(result)
    assert reference_result.success
    # The latency was really there: the expiration entries alone are one conditional write per
    # exposure, one after the other.
    assert seconds - reference_seconds > EXPOSURES * 2 * LATENCY_S
    assert_night_ingested(archive, outcome, keys, result)
    assert outcome.images == reference.images
    assert outcome.ledger == reference.ledger
    assert outcome.notified == reference.notified
