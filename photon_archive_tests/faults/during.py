"""A fault injected from a second thread while the test's own thread runs an ingest."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self


class FaultDuringRun:
    """``with Fault(...): run()``: ``inject`` runs on its own thread for as long as the run does.

    ``inject`` waits for its moment with ``wait_until``, which gives up, failing the test, if the
    run ends first: a fault that never met the run proves nothing. An error in ``inject`` is raised
    in the test's thread when the block ends.
    """

    def __init__(self) -> None:
        self._run_over = threading.Event()
        self._thread = threading.Thread(target=self._inject, daemon=True)
        self._error: BaseException | None = None

    def inject(self) -> None:
        raise NotImplementedError

    def before(self) -> None:
        """Set up, in the test's thread, before the run starts."""

    def after(self) -> None:
        """Clean up, in the test's thread, once the run and the fault are over."""

    def wait_until(self, condition: Callable[[], bool], moment: str, interval_s: float = 0.01) -> None:
        while not condition():
            if self._run_over.wait(interval_s):
                raise AssertionError(f"the run ended before {moment}")

    def __enter__(self) -> Self:
        self.before()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._run_over.set()
        self._thread.join(timeout=60)
        self.after()
        if self._error is not None and error is None:
            raise self._error

    def _inject(self) -> None:
        try:
            self.inject()
        except BaseException as error:  # noqa: BLE001 - raised in the test's thread by __exit__
            self._error = error
