"""Simulated crashes for resume tests: every file scenegen writes is moved into place by
``os.replace``, so failing the k-th replace stops a run between two writes (inside a
scene, between a scene's files and its record, before a shard's completion record,
while finishing). Writes into scenegen's cache folder (composed configs, library
indexes) are not the dataset's and always go through."""

import os

from scenegen.resources import cache_dir


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no ``except Exception`` catches it."""


def fail_replace_after(monkeypatch, writes: int, error: BaseException = None) -> None:
    """Let ``writes`` file writes through, then raise ``error`` (default :class:`Killed`)
    on every later one. ``monkeypatch.undo()`` (or the test's end) restores writing."""
    real_replace, calls = os.replace, []

    def replace(src, dst):
        if os.path.abspath(dst).startswith(str(cache_dir().absolute()) + os.sep):
            return real_replace(src, dst)
        if len(calls) >= writes:
            raise error if error is not None else Killed()
        calls.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
