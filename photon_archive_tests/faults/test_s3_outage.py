"""S3 (and with it SQS and DynamoDB: the emulator serves all three) goes away while a run reads the
bucket, and comes back.

What stops is a proxy in front of moto's server, not the server itself. An S3 outage in AWS is an
endpoint that refuses or drops connections for a while; the objects behind it are all there when it
answers again. Stopping moto would also lose every bucket, queue and table it holds (it keeps them
in memory), and re-provisioning and re-uploading them would test that re-creation rather than the
archive. The proxy refuses new connections and cuts the ones in flight, while moto keeps its state.
"""

from __future__ import annotations

import time

from photon_archive_tests.archive import Archive
from photon_archive_tests.faults.during import FaultDuringRun
from photon_archive_tests.faults.outcome import ingest_night
from photon_archive_tests.proxy import TcpProxy

EXPOSURES = 8
# Longer than botocore's first retries (its backoff starts under a second), well inside the step's
# retries (the last attempt starts at least 16 s after the first failure).
OUTAGE_S = 3.0


class S3Outage(FaultDuringRun):
    """Takes the proxy down the moment the run first reaches S3 through it, and brings it back
    ``outage_s`` later; ``carried_after`` counts the connections the run made once it was back."""

    def __init__(self, proxy: TcpProxy, outage_s: float) -> None:
        super().__init__()
        self.proxy = proxy
        self.outage_s = outage_s
        self.carried_after = 0
        self._restarted_at = 0

    def inject(self) -> None:
        self.wait_until(lambda: self.proxy.connections > 0, "it reached S3 through the proxy", 0.005)
        self.proxy.stop()
        time.sleep(self.outage_s)
        self._restarted_at = self.proxy.connections
        self.proxy.start()

    def after(self) -> None:
        self.carried_after = self.proxy.connections - self._restarted_at


def test_an_s3_outage_as_the_run_reads_the_bucket_ends_in_the_same_catalog_as_without_it(
    archive: Archive, reference_archive: Archive, s3_proxy: TcpProxy
) -> None:
    keys = archive.upload_sample(count=EXPOSURES)

    with S3Outage(s3_proxy, OUTAGE_S) as outage:
        faulted = ingest_night(archive, keys, endpoint_url=s3_proxy.endpoint_url)
    reference = ingest_night(reference_archive, keys)

    print(
        f"S3 down {OUTAGE_S:.0f} s; run {faulted.seconds:.1f} s with {len(faulted.retries)} step "
        f"retries and {outage.carried_after} connections after S3 came back "
        f"(without the outage: {reference.seconds:.1f} s)"
    )
    assert faulted.run.success, faulted.retries
    assert reference.run.success
    # The outage was in the middle of the run: it went on reading and writing once S3 was back.
    assert outage.carried_after > 0
    faulted.assert_complete()
    faulted.outcome.assert_same_data_as(reference.outcome)
