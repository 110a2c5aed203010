"""The failure taxonomy that decides what a failure does.

Every failure in an ingest falls in one of two classes, and the class is the retry contract:

- ``Rejected``: the input itself is bad (a junk name, corrupt header bytes, a decompression bomb).
  No rerun can fix it, so it is recorded against the object with its reason and the batch goes on.
- ``Transient``: the world was briefly unavailable (database down, S3 throttled). A rerun can fix
  it, so the step retries with backoff and then fails the run, visible in the Dagster UI.
"""

from __future__ import annotations


class Rejected(Exception):
    """A permanent, recorded refusal of one input; ``reason`` names what is wrong with it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transient(Exception):
    """A failure that a retry or a rerun of the run can fix."""
