"""``python -m bench [NAME ...] [options]``: run the benchmarks (all of them by default), merge their
figures into ``bench/results.json`` and print the table of figures."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

from bench import benchmarks, goals
from bench.common import DEFAULT_POSTGRES_URL, RESULTS_PATH, load_results, merge_results, results_table


def parser_for(available: dict[str, ModuleType]) -> argparse.ArgumentParser:
    listing = "\n".join(f"  {name:<12} {_summary(module)}" for name, module in available.items())
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        epilog=f"benchmarks:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="where figures are merged")
    parser.add_argument(
        "--postgres",
        default=DEFAULT_POSTGRES_URL,
        help="PostgreSQL server a fresh catalog database is created on (default: %(default)s)",
    )
    for name, module in available.items():
        add_arguments = getattr(module, "add_arguments", None)
        if add_arguments is not None:
            add_arguments(parser.add_argument_group(f"{name} benchmark"))
    return parser


def _summary(module: ModuleType) -> str:
    lines = (module.__doc__ or "").strip().splitlines()
    return lines[0] if lines else ""


def main(argv: list[str] | None = None) -> int:
    available = benchmarks()
    parser = parser_for(available)
    options = parser.parse_args(argv)
    unknown = [name for name in options.names if name not in available]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; there are: {', '.join(available)}")
    selected = options.names or list(available)

    started = time.perf_counter()
    fresh: set[str] = set()
    failed: list[str] = []
    for name in selected:
        print(f"=== {name} ===", flush=True)
        began = time.perf_counter()
        try:
            figures = available[name].run(options)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
            continue
        merge_results(name, figures, options.results)
        fresh.update(figure.name for figure in figures)
        print(f"=== {name}: {time.perf_counter() - began:.1f} s ===\n", flush=True)

    print(results_table(load_results(options.results), fresh, goals(available)))
    print(f"\n{len(fresh)} figures written to {options.results}; * = measured by this invocation")
    print(f"total: {time.perf_counter() - started:.1f} s")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
