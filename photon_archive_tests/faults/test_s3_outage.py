"""S3 (and with it SQS and DynamoDB: the emulator serves all three) goes away while a run reads the
bucket, and comes back.

What stops is a proxy in front of moto's server, not the server itself. An S3 outage in AWS is an
endpoint that refuses or drops connections for a while; the objects behind it are all there when it
answers again. Stopping moto would also lose every bucket, queue and table it holds (it keeps them
in memory), and re-provisioning and re-uploading them would test that re-creation rather than the
archive. The proxy refuses new connections and cuts the ones in flight, while moto keeps its state.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from photon_archive_tests.archive import Archive
from photon_archive_tests.faults.outcome import (
    IngestOutcome,
    assert_night_ingested,
    step_retries,
    timed_ingest,
)
from photon_archive_tests.proxy import TcpProxy

EXPOSURES = 8
# Longer than botocore's first retries (its backoff starts under a second), well inside the step's
# retries (the last attempt starts at least 16 s after the first failure).
OUTAGE_S = 3.0


class S3Outage:
    """Takes the proxy down the moment the run first reaches S3 through it, and brings it back
    ``outage_s`` later; ``carried_after`` counts the connections the run made once it was back."""

    def __init__(self, proxy: TcpProxy, outage_s: float) -> None:
        self.proxy = proxy
        self.outage_s = outage_s
        self.carried_after = 0
        self._restarted_at = 0
        self._run_over = threading.Event()
        self._thread = threading.Thread(target=self._outage, daemon=True)
        self._error: BaseException | None = None

    def __enter__(self) -> S3Outage:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._run_over.set()
        self._thread.join(timeout=60)
        self.carried_after = self.proxy.connections - self._restarted_at
        if self._error is not None and error is None:
            raise self._error

    def _outage(self) -> None:
        try:
            while self.proxy.connections == 0:
                if self._run_over.wait(0.005):
                    raise AssertionError("the run never reached S3 through the proxy")
            self.proxy.stop()
            time.sleep(self.outage_s)
            self._restarted_at = self.proxy.connections
            self.proxy.start()
        except BaseException as error:  # noqa: BLE001 - raised in the test's thread by __exit__
            self._error = error


def test_an_s3_outage_as_the_run_reads_the_bucket_ends_in_the_same_catalog_as_without_it(
    archive: Archive, reference_archive: Archive, s3_proxy: TcpProxy
) -> None:
    keys = archive.upload_sample(count=EXPOSURES)
    refs = [archive.ref(key) for key in keys]

    with S3Outage(s3_proxy, OUTAGE_S) as outage:
        result, seconds = timed_ingest(archive, refs, endpoint_url=s3_proxy.endpoint_url)
    outcome = IngestOutcome.read(archive)
    reference_result, reference_seconds = timed_ingest(reference_archive, refs)
    reference = IngestOutcome.read(reference_archive)

    retries = step_retries(result)
    print(
        f"S3 down {OUTAGE_S:.0f} s; run {seconds:.1f} s with {len(retries)} step retries and "
        f"{outage.carried_after} connections after S3 came back "
        f"(without the outage: {reference_seconds:.1f} s)"
    )
    assert result.success, step_retries(result)
    assert reference_result.success
    # The outage was in the middle of the run: it went on reading and writing once S3 was back.
    assert outage.carried_after > 0
    assert_night_ingested(archive, outcome, keys, result)
    assert outcome.images == reference.images
    assert outcome.ledger == reference.ledger
    assert outcome.notified == reference.notified
