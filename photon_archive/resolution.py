"""Which failed runs a successful run resolves: the failures an operator no longer needs to act on.

The instance retries a failed run (``run_retries`` in ``deploy/dagster.yaml``) and an operator
re-executes one, each as a new run, so one batch can leave several failed runs before one succeeds.
A successful run resolves every failed run before it of the same lineage (the same root run: the
run it re-executes or retries, and theirs) or of the same run key (the sensors' ``dagster/run_key``
tag, which a batch keeps however it is launched again), or of a run key it asked again for (its
objects' runs under that key never started, so a sensor asked for them under a new key). Such a run
is tagged ``RESOLVED_BY_TAG`` with the id of the run that resolved it, which the Runs page filters by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

RESOLVED_BY_TAG = "photon_archive/resolved_by"


@dataclass(frozen=True)
class RunFacts:
    """What the rules need of a run."""

    run_id: str
    root_run_id: str | None  # None for a run that is its own root: launched, not re-executed
    run_key: str | None
    created: float  # seconds since the epoch
    resolved_by: str | None = None  # the RESOLVED_BY_TAG it carries already
    asked_again_for: frozenset[str] = frozenset()  # run keys whose objects it asked for again

    @property
    def lineage(self) -> str:
        return self.root_run_id or self.run_id


def resolves(success: RunFacts, failed: RunFacts) -> bool:
    """Whether the successful run ``success`` resolves the failed run ``failed``."""
    if failed.run_id == success.run_id or failed.resolved_by or failed.created > success.created:
        return False
    same_key = success.run_key is not None and failed.run_key == success.run_key
    asked_again = failed.run_key is not None and failed.run_key in success.asked_again_for
    return failed.lineage == success.lineage or same_key or asked_again


def resolved_by(success: RunFacts, failed: Iterable[RunFacts]) -> list[str]:
    """The ids of the runs of ``failed`` that ``success`` resolves, oldest first, each once."""
    chosen = {run.run_id: run for run in failed if resolves(success, run)}
    return [run.run_id for run in sorted(chosen.values(), key=lambda run: (run.created, run.run_id))]
