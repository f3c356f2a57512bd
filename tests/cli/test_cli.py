"""The scenegen command, run as a user runs it (a subprocess)."""

import json
import os
import signal
import subprocess
import sys

import pytest

from scenegen import load_config
from scenegen.world.sampler import Sampler


def scenegen(*args, cwd=None, timeout=300):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "scenegen", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


@pytest.mark.parametrize(
    "override, named",
    [
        ("colour=red", "colour"),  # unknown top-level key
        ("+foo=1", "foo"),  # appended unknown key
        ("width=wide", "width"),  # bad type
        ("placement.objects=[1]", "placement.objects"),  # bad range
        ("objects.ball.category=blob", "blob"),  # unknown category in the dictionary
        ("objects.ball.materials=[velvet]", "velvet"),
        ("width=100000", "width"),
    ],
)
def test_bad_input_exits_non_zero_and_names_the_key(tmp_path, override, named):
    result = scenegen("generate", f"out={tmp_path / 'd'}", "n=1", override)
    assert result.returncode == 2, result.stderr
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "d").exists()


def test_unknown_category_error_lists_valid_choices():
    result = scenegen("sample", "objects.ball.category=blob")
    assert result.returncode == 2
    assert "'ball'" in result.stderr and "'table'" in result.stderr


def test_sample_prints_the_scene_as_json():
    result = scenegen("sample", "index=5", "seed=11")
    assert result.returncode == 0, result.stderr
    expected = Sampler(load_config(["seed=11"])).sample(5)
    assert json.loads(result.stdout) == expected.to_dict()


def test_sample_rejects_a_bad_index():
    result = scenegen("sample", "index=-3")
    assert result.returncode == 2 and "index" in result.stderr


@pytest.mark.render
def test_generate_then_coverage(tmp_path):
    out = tmp_path / "d"
    result = scenegen("generate", f"out={out}", "n=3", "width=48", "height=36")
    assert result.returncode == 0, result.stderr
    assert "wrote 3 scenes" in result.stderr
    assert "\r" not in result.stderr  # no progress bar when stderr is not a terminal
    assert (out / "manifest.json").is_file()
    report = scenegen("coverage", str(out))
    assert report.returncode == 0, report.stderr
    assert "category x pose x context" in report.stdout
    assert "Missing tuples" in report.stdout


def test_coverage_of_a_folder_that_is_not_a_dataset(tmp_path):
    result = scenegen("coverage", str(tmp_path))
    assert result.returncode == 1
    assert "coverage.json" in result.stderr and "Traceback" not in result.stderr


def test_unwritable_output_exits_non_zero(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = scenegen("generate", f"out={blocker}/d", "n=1")
    assert result.returncode == 1
    assert "not writable" in result.stderr and "Traceback" not in result.stderr


def test_out_naming_a_file_says_a_folder_is_needed(tmp_path):
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    result = scenegen("generate", f"out={existing}", "n=1")
    assert result.returncode == 2
    assert f"out='{existing}' is a file, not a folder" in result.stderr and "Traceback" not in result.stderr
    assert existing.read_text() == "mine"


def test_coverage_into_a_closed_pipe_exits_quietly(tmp_path):
    """`scenegen coverage DIR | head` : the reader leaves early; no traceback."""
    from scenegen.design.coverage import CoverageTracker
    from scenegen.fileio import write_json

    tracker = CoverageTracker({"category": ["a", "b"], "pose": ["x", "y"], "context": ["c"]})
    tracker.add({"category": "a", "pose": "x", "context": "c"})
    write_json(tmp_path / "coverage.json", tracker.to_dict())
    child = subprocess.Popen([sys.executable, "-m", "scenegen", "coverage", str(tmp_path)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # long before the child has imported scenegen and printed
    stderr = child.communicate(timeout=120)[1].decode()
    assert child.returncode == 1, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


class _ArgumentStoppedMidConversion:
    """A C call's argument whose conversion receives ``signum``: the handler's exception
    is raised inside ctypes' conversion, which turns it into a ctypes.ArgumentError (as a
    SIGTERM landing in a GL read does)."""

    def __init__(self, signum):
        self.signum = signum

    @property
    def _as_parameter_(self):
        # raise_signal sends the signal to this thread and runs its Python handler before
        # it returns: no wait on the kernel's choice of thread or on the scheduler
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        assert self.signum not in blocked, f"this thread blocks {signal.Signals(self.signum).name}: left so by an earlier test?"
        signal.raise_signal(self.signum)
        return 0


@pytest.mark.parametrize("signum, status, said", [(signal.SIGTERM, 143, "terminated (SIGTERM)"),
                                                   (signal.SIGINT, 130, "interrupted")])
def test_a_stop_signal_raised_inside_a_c_call_still_stops_with_one_line(monkeypatch, capsys, signum, status, said):
    import ctypes

    from scenegen import cli

    def command(args):
        with pytest.raises(ctypes.ArgumentError):  # what the stop comes out as
            ctypes.CDLL(None).abs(_ArgumentStoppedMidConversion(signum))
        raise ctypes.ArgumentError("as the GL call raised it")

    monkeypatch.setitem(cli._COMMANDS, "generate", command)
    # Python's own SIGINT handler, as in a foreground process: one started in the
    # background by a non-interactive shell (`pytest &`) starts with SIGINT ignored, which
    # the command line leaves alone (test_an_ignored_sigint_is_left_alone)
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
        assert cli.main(["generate"]) == status
        assert capsys.readouterr().err.splitlines() == [
            f"scenegen generate: {said}; what was written is kept: run the same command again to resume"]
        assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before  # handlers given back
    finally:
        signal.signal(signal.SIGINT, inherited)
    monkeypatch.setitem(cli._COMMANDS, "generate", lambda args: ctypes.CDLL(None).abs(object()))
    with pytest.raises(ctypes.ArgumentError):  # without a stop signal, the error is a failure as it was
        cli.main(["generate"])


def test_an_ignored_sigint_is_left_alone(monkeypatch):
    """A process that starts with SIGINT ignored (a background job of a non-interactive
    shell) keeps ignoring it while a command runs: the command line sets its handler only
    over Python's own."""
    from scenegen import cli

    seen = []

    def command(args):
        seen.append(signal.getsignal(signal.SIGINT))
        signal.raise_signal(signal.SIGINT)  # ignored: nothing happens
        return 0

    monkeypatch.setitem(cli._COMMANDS, "generate", command)
    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert cli.main(["generate"]) == 0
        assert seen == [signal.SIG_IGN]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, inherited)
