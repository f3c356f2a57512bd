"""A deadline for tests of work that must end in bounded time (no timeout plugin is
installed): the block fails with TimeoutError instead of hanging the run."""

from __future__ import annotations

import contextlib
import signal


@contextlib.contextmanager
def deadline(seconds: int):
    """Raise TimeoutError inside the block once it has run ``seconds`` (POSIX, main
    thread: SIGALRM interrupts pure-Python loops between bytecodes)."""

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: not bounded")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
