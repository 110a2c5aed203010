"""Benchmarks run on demand (``make bench``), never part of CI's pass or fail.

Every module of this package that defines ``run`` is one benchmark, named after its module: adding a
benchmark is adding a module, with nothing to register elsewhere. A benchmark module offers

- ``run(options: argparse.Namespace) -> list[Figure]``: measure, print what it learns on the way,
  and return its figures (see ``bench.common.Figure``);
- optionally ``add_arguments(group)``: its own command-line options (``--exposures`` …), which share
  one namespace with every other benchmark's, so a clash shows up as soon as ``python -m bench`` starts;
- optionally ``GOALS``: figure name -> goal (``">= 300"``) of the figures the project holds it to, so the
  table lists each of them, with its goal, even before the benchmark has ever run;
- a module docstring, whose first line is the benchmark's description in ``--help``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import ModuleType

# Modules of this package that are not benchmarks.
NOT_BENCHMARKS = frozenset({"common", "__main__"})


def benchmarks() -> dict[str, ModuleType]:
    """Name -> module of every benchmark in the package, in name order."""
    found: dict[str, ModuleType] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name in NOT_BENCHMARKS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "run", None)):
            found[info.name] = module
    return found


def goals(available: Mapping[str, ModuleType]) -> dict[str, tuple[str, str]]:
    """Figure -> (benchmark, goal) of every goal the ``available`` benchmarks declare."""
    return {
        figure: (name, goal)
        for name, module in available.items()
        for figure, goal in getattr(module, "GOALS", {}).items()
    }
