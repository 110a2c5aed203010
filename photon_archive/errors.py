"""The failure taxonomy: the class of a failure is what it does to a run.

- ``Rejected``: the input itself is bad (a junk name, corrupt header bytes, a decompression bomb).
  No rerun can fix it, so it is recorded against the object with its reason and the batch goes on.
- ``Transient``: the world was briefly unavailable (throttling, a 5xx, a lost connection, a
  timeout, the database restarting). A retry can fix it, so the step retries with backoff and then
  fails the run, visible in the Dagster UI, where "re-execute from failure" finishes it.
- ``Misconfigured``: the deployment is wrong (access denied, a missing bucket, queue, table or
  relation, wrong credentials). No retry can fix it, so the step fails at once with one line naming
  the resource and what AWS or the database answered.

The adapters (``aws/``, ``catalog/engine.py``) raise the last two in place of the vendors' errors,
chained to them; ``defs/policies.py`` is the one place that maps them onto Dagster. Any other
exception reaching a step is a bug and fails it at once with its traceback.
"""

from __future__ import annotations


class Rejected(Exception):
    """A permanent, recorded refusal of one input; ``reason`` names what is wrong with it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Transient(Exception):
    """A failure that a retry or a rerun of the run can fix."""


class Misconfigured(Exception):
    """A failure of the deployment (permissions, a missing resource, credentials) no retry can fix."""
