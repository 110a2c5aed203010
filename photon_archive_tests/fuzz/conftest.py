"""The fuzz budget is shared among the fuzz tests actually selected, and what they tried is reported."""

from __future__ import annotations

import pytest

from photon_archive_tests.fuzz import budget


def pytest_collection_finish(session: pytest.Session) -> None:
    budget.selected_tests = sum(
        1 for item in session.items if hasattr(getattr(item, "function", None), "fuzz_target")
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not budget.tried:
        return
    terminalreporter.section("fuzz: inputs tried per target")
    for target in sorted(budget.tried):
        seconds = budget.spent[target]
        verdict = "FAILED, see above" if target in budget.failed else "nothing but Rejected escaped"
        tried, accepted = budget.tried[target], budget.accepted[target]
        terminalreporter.write_line(
            f"{target:<12} {tried:>10,} inputs in {seconds:7.1f} s ({tried / max(seconds, 1e-9):,.0f}/s), "
            f"{accepted:,} accepted and {tried - accepted:,} rejected: {verdict}"
        )
