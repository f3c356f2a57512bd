"""A run killed from outside leaves no process and no partial file: the workers end with
their coordinator (SIGKILL, the out-of-memory killer), SIGTERM stops a run like Ctrl-C
(one line, exit status 143), and the same command then finishes with the bytes of an
uninterrupted run."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
from scaled_runs import pgroup_members, run, snapshot, start, wait_for_records

pytestmark = pytest.mark.render

GONE_WITHIN = 5.0  # seconds for every process of a run to end once its coordinator is gone (measured: < 0.1)


def _wait_until_gone(pgid: int, within: float = GONE_WITHIN) -> list:
    """Wait up to ``within`` seconds for process group ``pgid`` to empty; its live
    members left then (the workers and multiprocessing's resource tracker are in it)."""
    deadline = time.monotonic() + within
    while pgroup_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return pgroup_members(pgid)


@contextmanager
def _group_ended(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """``process``, started in a session of its own; at the end of the block, SIGKILL
    what is left of its process group (so a failing test leaves no process behind)."""
    try:
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _assert_resumes(out: Path, reference: dict) -> None:
    """``out`` holds no temporary file and no manifest, and the same command completes
    it with the bytes of an uninterrupted run (the worker count does not change them)."""
    assert not list(out.rglob("*.tmp"))
    assert not (out / "manifest.json").exists()
    run(out)
    assert snapshot(out) == reference


def _signal_after_the_first_scene(process: subprocess.Popen, out: Path, signum: int, group: bool = False) -> None:
    """Send ``signum`` to the ``scenegen generate`` run ``process`` (to its whole process
    group with ``group``) once it has written a scene, and wait for it to end; skip the
    test if the run was over by then."""
    wait_for_records(out, 1, process)
    if group:
        os.killpg(process.pid, signum)
    else:
        os.kill(process.pid, signum)
    process.wait(timeout=120)
    if process.returncode == 0:
        pytest.skip("the run finished before the signal")


def test_sigkill_to_the_coordinator_alone_ends_its_workers_and_the_rerun_is_identical(tmp_path, reference):
    """(Dask's LocalCluster workers watch their parent themselves: not tested here.)"""
    out = tmp_path / "d"
    with _group_ended(start(out, "workers=2")) as process:
        _signal_after_the_first_scene(process, out, signal.SIGKILL)
        assert process.returncode == -signal.SIGKILL
        assert _wait_until_gone(process.pid) == []  # the workers and the resource tracker
    _assert_resumes(out, reference)


@pytest.mark.parametrize("extra, group", [(["workers=2"], False), (["workers=2"], True), ([], False),
                                          (["executor=dask", "workers=2"], False)],
                         ids=["processes", "processes-whole-group", "inline", "dask"])
def test_sigterm_stops_the_run_with_one_line_and_the_rerun_is_identical(tmp_path, reference, extra, group):
    """SIGTERM to the coordinator, or to its whole process group as some schedulers send
    it: exit status 143, one line, no leaked-semaphore warning, no process left."""
    out = tmp_path / "d"
    with _group_ended(start(out, *extra)) as process:
        _signal_after_the_first_scene(process, out, signal.SIGTERM, group)
        _, stderr = process.communicate(timeout=GONE_WITHIN)  # at the end once no process of the run holds it
        assert process.returncode == 143, stderr
        assert stderr.splitlines() == ["scenegen generate: terminated (SIGTERM); what was written is kept: run the "
                                       "same command again to resume"]
        assert _wait_until_gone(process.pid) == []
    _assert_resumes(out, reference)


# A worker (spawned as the pool spawns them) that watches its coordinator and stops in
# the middle of writing a file; the coordinator does nothing but wait to be killed.
HOLD_A_WRITE = """
import time
from scenegen.dataset.executors import _exit_with_coordinator
from scenegen.fileio import atomic_writer

_exit_with_coordinator(lifeline)
with atomic_writer(path) as handle:
    handle.write(b"half a file")
    handle.flush()
    time.sleep(600)
"""
COORDINATOR = """
import multiprocessing, sys, time

context = multiprocessing.get_context("spawn")
lifeline, held = context.Pipe(duplex=False)
context.Process(target=exec, args=(sys.argv[1], {"lifeline": lifeline, "path": sys.argv[2]})).start()
time.sleep(600)
"""


def test_a_worker_whose_coordinator_dies_mid_write_removes_its_temporary_file(tmp_path):
    started = subprocess.Popen([sys.executable, "-c", COORDINATOR, HOLD_A_WRITE, str(tmp_path / "file.bin")],
                               start_new_session=True)
    with _group_ended(started) as coordinator:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".file.bin.*.tmp")):
            assert coordinator.poll() is None and time.monotonic() < deadline, "the worker wrote nothing"
            time.sleep(0.02)
        assert len(pgroup_members(coordinator.pid)) >= 2  # the coordinator and its worker
        coordinator.kill()
        coordinator.wait(timeout=10)
        assert _wait_until_gone(coordinator.pid) == []
    assert list(tmp_path.iterdir()) == []
