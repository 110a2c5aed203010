"""Stops a private test PostgreSQL server and removes its folder once the test process that made it
is gone, however that process ended, killed included.

Run as ``python postgres_guard.py FOLDER`` with a pipe as standard input, in a session of its own (so
a Ctrl-C at the terminal reaches the tests, not the guard): the pipe's end of file comes when the
test process closes its end, or exits. A test process that stopped its server itself leaves the
guard nothing to do. Standard library only, so that it starts fast and needs nothing installed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

STOP_WAIT_S = 30.0


def main(folder: Path) -> None:
    sys.stdin.buffer.read()
    pid = _postmaster(folder / "data" / "postmaster.pid")
    if pid is not None:
        _stop(pid)
    shutil.rmtree(folder, ignore_errors=True)


def _postmaster(pid_file: Path) -> int | None:
    """The pid of the server that wrote ``pid_file``, if that process is still a postgres."""
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if _is_postgres(pid) else None


def _is_postgres(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    proc = Path(f"/proc/{pid}")
    if not proc.exists():  # no procfs: trust the pid file
        return True
    try:
        # A zombie has done its work, whoever reaps it.
        if proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
        return b"postgres" in proc.joinpath("cmdline").read_bytes()
    except OSError:
        return False


def _stop(pid: int) -> None:
    """Immediate shutdown (SIGQUIT): the folder is deleted next, nothing needs flushing."""
    try:
        os.kill(pid, signal.SIGQUIT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_WAIT_S
    while _is_postgres(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.1)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
