"""A slow S3: every request and every response held back in a proxy, as from a distant region or an
endpoint under load. Slower runs, the same catalog."""

from __future__ import annotations

from photon_archive_tests.archive import Archive
from photon_archive_tests.faults.outcome import ingest_night
from photon_archive_tests.proxy import TcpProxy

EXPOSURES = 8
# Each way: a round trip to S3 (or SQS, DynamoDB) costs at least twice this.
LATENCY_S = 0.05


def test_a_slow_s3_ingests_the_same_catalog_only_later(
    archive: Archive, reference_archive: Archive, s3_proxy: TcpProxy
) -> None:
    keys = archive.upload_sample(count=EXPOSURES)
    s3_proxy.latency_s = LATENCY_S

    # The run without delay goes first, so any cost of a first run in the process is counted
    # against it, not against the slow one.
    reference = ingest_night(reference_archive, keys)
    slow = ingest_night(archive, keys, endpoint_url=s3_proxy.endpoint_url)

    print(
        f"{len(keys)} objects with {2 * LATENCY_S * 1000:.0f} ms added to every S3 round trip: run "
        f"{slow.seconds:.1f} s, without it {reference.seconds:.1f} s "
        f"({slow.seconds / reference.seconds:.1f}x)"
    )
    assert slow.run.success and not slow.retries
    assert reference.run.success
    # The latency was really there: the run's requests went through the proxy, and it took at least
    # the expiration entries' round trips at the added latency (one conditional write per exposure,
    # one after the other). How much longer than the run without it is not asserted: on a busy
    # machine the time of either run varies by more than the latency adds.
    assert s3_proxy.connections > 0
    assert slow.seconds > EXPOSURES * 2 * LATENCY_S
    slow.assert_complete()
    slow.outcome.assert_same_data_as(reference.outcome)
