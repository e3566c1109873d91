"""Ctrl-C (SIGINT) ends a command: what it started is undone, then one line and exit 130.

Python's own answer, a KeyboardInterrupt raised wherever the main thread happens to be, is not
enough here: while a plan runs, that is inside the Pulumi runtime's asyncio tasks, which may
turn it into another error (or cut an SDK import short, which surfaces later as an
AttributeError), with a traceback. So `handled` replaces it, for the length of a command, with
a handler that runs the cleanups registered with `when_interrupted` (the newest first: stop a
base revision's subprocesses and remove its worktree, end forked workers), writes
`error: interrupted` and exits with 130, as a shell reports a command killed by SIGINT. Like
`python -m dataops` itself it ends with `os._exit`: the command's other threads and buffered
output are dropped, not finished.

A cleanup runs inside the signal handler, in the main thread, wherever that thread was
stopped. It must therefore not take a lock the main thread may have held at that moment (nor
print: the main thread may have been writing to the same stream).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator

EXIT_INTERRUPTED = 130  # 128 + SIGINT

_cleanups: list[Callable[[], None]] = []


def when_interrupted(cleanup: Callable[[], None]) -> None:
    _cleanups.append(cleanup)


def forget(cleanup: Callable[[], None]) -> None:
    _cleanups.remove(cleanup)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Ctrl-C inside the block ends the process as the module describes (main thread only)."""
    previous = signal.signal(signal.SIGINT, _interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupted(_signum: int, _frame: object) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # pressed again: the cleanup is not cut short
    for cleanup in reversed(list(_cleanups)):  # a copy: another thread may forget one meanwhile
        cleanup()
    with contextlib.suppress(OSError):  # nobody may read stderr any more
        os.write(2, b"error: interrupted\n")
    os._exit(EXIT_INTERRUPTED)
