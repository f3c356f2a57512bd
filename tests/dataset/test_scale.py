"""Generation at scale: resume after a kill, determinism across executors, job-array
shards, verify, and faults (disk full, a crashed worker, bad shard indices)."""

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest
from crash import Killed, fail_replace_after
from scaled_runs import SMALL, N, pgroup_members, run, snapshot, start, wait_for_records

from scenegen import load_config
from scenegen.cli import main
from scenegen.dataset.generate import finish_dataset
from scenegen.dataset.verify import verify_dataset
from scenegen.errors import ConfigError, ScenegenError
from scenegen.fileio import read_json

pytestmark = pytest.mark.render


def test_reference_is_complete_and_verified(tmp_path_factory, reference):
    out = tmp_path_factory.mktemp("verified")
    run(out)
    assert snapshot(out) == reference
    assert verify_dataset(out) == []
    assert sorted(p.name for p in (out / ".scenegen" / "shards").iterdir()) == [
        "000000-000004.json", "000004-000009.json", "000009-000014.json"]


@pytest.mark.parametrize("writes_before_kill", [0, 9, 61, 104])
def test_resume_after_a_crash_between_any_two_writes_is_byte_identical(tmp_path, monkeypatch, reference,
                                                                       writes_before_kill):
    """A crash before the k-th file write (see crash.py), then the same run again."""
    out = tmp_path / "d"
    fail_replace_after(monkeypatch, writes_before_kill)
    with pytest.raises(Killed):
        run(out)
    monkeypatch.undo()
    assert not (out / "manifest.json").exists()
    assert verify_dataset(out)[0].startswith(("incomplete", f"{str(out)!r} is not a scenegen dataset"))
    run(out)
    assert snapshot(out) == reference
    assert not list(out.rglob("*.tmp"))


@pytest.mark.parametrize("records", [4])
def test_sigkill_then_the_same_command_gives_identical_bytes(tmp_path, reference, records):
    out = tmp_path / "d"
    process = start(out)
    wait_for_records(out, records, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert not (out / "manifest.json").exists()
    stray = out / "images" / ".000099.png.k3x_9qzt.tmp"  # what a kill inside a write leaves behind (mkstemp's name)
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"torn")
    result = subprocess.run([sys.executable, "-m", "scenegen", "generate", f"out={out}", *SMALL],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert snapshot(out) == reference
    assert main(["verify", str(out)]) == 0


def _children(pid: int) -> list:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"resource_tracker" not in cmdline:
            kids.append(int(stat.parent.name))
    return kids


def test_a_crashed_worker_stops_the_run_cleanly_and_the_rerun_completes(tmp_path, reference):
    out = tmp_path / "d"
    process = start(out, "workers=2")
    wait_for_records(out, 2, process)
    workers = _children(process.pid)
    assert workers, "no worker processes found"
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = process.communicate(timeout=240)
    if process.returncode == 0:  # the killed worker had nothing left to do: nothing to check
        pytest.skip("the run finished before the worker was killed")
    assert process.returncode == 1, stderr
    assert "worker process stopped unexpectedly" in stderr and "run the same command again" in stderr
    assert "Traceback" not in stderr
    assert not (out / "manifest.json").exists()
    run(out)
    assert snapshot(out) == reference


@pytest.mark.parametrize("extra", [["workers=2"], ["workers=2", "num_shards=5"], ["executor=dask", "workers=2"]],
                         ids=["processes", "processes-5-shards", "dask-local-cluster"])
def test_executors_and_worker_counts_give_identical_bytes(tmp_path, reference, extra):
    out = tmp_path / "d"
    stats = {}
    manifest = run(out, *extra, stats=stats)
    assert snapshot(out) == reference
    assert manifest["n"] == N
    assert len(stats["workers"]) == 2 and all(w["peak_mib"] > 0 for w in stats["workers"].values())


def test_a_local_dask_cluster_shares_no_port_or_folder_with_another(tmp_path, reference, monkeypatch):
    """Beside another cluster (its dashboard port, 8787, taken), distributed says nothing
    (it warned that the port was in use), and the scratch space is a folder of the run,
    removed after it (not the shared TMPDIR/dask-scratch-space)."""
    temporary = tmp_path / "tmp"  # the system's temporary folder, as this process sees it
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    out = tmp_path / "d"
    with socket.socket() as taken, warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        with contextlib.suppress(OSError):  # in use already: the same situation
            taken.bind(("", 8787))
            taken.listen()
        run(out, "executor=dask", "workers=2")
    assert snapshot(out) == reference
    assert [str(w.message) for w in said if "in use" in str(w.message)] == []
    assert list(temporary.iterdir()) == []


def test_job_array_shards_in_any_order_then_finish(tmp_path, reference, capsys):
    out = tmp_path / "d"
    for shard in (2, 0):
        assert run(out, f"shard={shard}") is None
    assert not (out / "manifest.json").exists()
    with pytest.raises(ScenegenError, match=r"1 of 3 shards are not complete: 1 \(scenes 4-8\)"):
        finish_dataset(load_config([f"out={out}", *SMALL]))
    assert main(["generate", f"out={out}", *SMALL, "shard=1"]) == 0
    assert "run 'scenegen finish'" in capsys.readouterr().err
    assert main(["finish", f"out={out}", *SMALL]) == 0
    assert snapshot(out) == reference


def test_resume_with_another_config_is_refused_naming_the_keys(tmp_path):
    out = tmp_path / "d"
    run(out, "shard=0")
    with pytest.raises(ConfigError, match=r"seed: folder 0, now 3.*width: folder 48, now 64"):
        run(out, "seed=3", "width=64")
    assert main(["generate", f"out={out}", *SMALL, "seed=3"]) == 2
    run(out, "workers=2", "shard=1")  # keys of the run, not of the data, may differ


def test_disk_full_keeps_what_was_written(tmp_path, monkeypatch, reference, capsys):
    out = tmp_path / "d"
    fail_replace_after(monkeypatch, 30, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out / "x")))
    assert main(["generate", f"out={out}", *SMALL]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "run the same command again" in err
    kept = {p.name for p in (out / "scenes").glob("*.json")}
    assert kept and len(kept) < N
    monkeypatch.undo()
    run(out)
    assert snapshot(out) == reference


@pytest.mark.parametrize("overrides, named", [
    (["shard=3", "num_shards=3"], "shard must be between 0 and 2"),
    (["shard=-2"], "shard must be between 0 and 2"),
    (["num_shards=-1"], "num_shards must be >= 0"),
    (["executor=spark"], "executor 'spark' is unknown; valid: 'local', 'dask'"),
])
def test_bad_shard_and_executor_settings_are_named(tmp_path, capsys, overrides, named):
    assert main(["generate", f"out={tmp_path / 'd'}", *SMALL, *overrides]) == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_verify_names_changed_missing_and_extra_files(tmp_path_factory, capsys):
    out = tmp_path_factory.mktemp("tampered")
    run(out)
    (out / "images" / "000003.png").write_bytes(b"not the image")
    (out / "depth" / "000005.png").unlink()
    extra = read_json(out / "scenes" / "000001.json")
    (out / "scenes" / f"{N + 2:06d}.json").write_text("{}")
    assert extra["index"] == 1
    problems = verify_dataset(out)
    assert "changed: images/000003.png (sha256 differs from the manifest)" in problems
    assert "missing: depth/000005.png" in problems
    assert f"1 scene records beyond the manifest's n={N} (first: scene {N + 2})" in problems
    assert main(["verify", str(out)]) == 1
    assert "changed: images/000003.png" in capsys.readouterr().err


def test_growing_n_adds_the_new_scenes_and_refinishes(tmp_path, reference):
    """Scene i depends only on (seed, i): n=8 grown to n=14 is the n=14 dataset."""
    out = tmp_path / "d"
    run(out, "n=8")
    kept = {name: digest for name, digest in snapshot(out).items() if name.startswith(("images/", "scenes/"))}
    run(out)  # n=14, every other key the same
    assert snapshot(out) == reference
    assert all(reference[name] == digest for name, digest in kept.items())
    assert verify_dataset(out) == []


def test_a_refused_run_shrinking_n_or_changing_the_seed_leaves_the_dataset_whole(tmp_path, capsys):
    out = tmp_path / "d"
    run(out, "n=6")
    before = snapshot(out)
    assert main(["generate", f"out={out}", *SMALL, "n=4"]) == 2
    err = capsys.readouterr().err
    assert "n=4 would shrink it" in err and "'scenegen generate out=NEW_FOLDER n=4'" in err
    assert "scenes 0..3 of this one" in err
    assert main(["generate", f"out={out}", *SMALL, "n=6", "seed=3"]) == 2
    assert "seed: folder 0, now 3" in capsys.readouterr().err
    assert snapshot(out) == before and verify_dataset(out) == []  # the refused runs removed nothing


def test_growing_a_dataset_with_a_held_out_split_is_refused(tmp_path):
    out = tmp_path / "d"
    split = "split.held_out=[{context: room}]"
    run(out, "n=4", split)
    with pytest.raises(ConfigError, match=r"n can grow \(here from 4 to 6\) only for strategy=random without a "
                                          r"held-out split"):
        run(out, "n=6", split)
    assert (out / "manifest.json").is_file()


def test_ctrl_c_with_two_workers_prints_one_line_and_the_rerun_resumes(tmp_path, reference):
    """Ctrl-C reaches the whole process group (the terminal sends it to every process of
    the foreground group); the run stops with one line, no traceback and no process
    left, and the same command then completes with the reference bytes."""
    out = tmp_path / "d"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "scenegen", "generate", f"out={out}", *SMALL, "n=400",
                                "workers=2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True,
                               # a shell's background job ignores SIGINT; a terminal's foreground job does not
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_for_records(out, 3, process)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=240)
    assert process.returncode == 130, stderr
    assert stderr.splitlines() == ["scenegen generate: interrupted; what was written is kept: run the same command "
                                   "again to resume"]
    deadline = time.monotonic() + 30
    while pgroup_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pgroup_members(process.pid) == []
    assert not (out / "manifest.json").exists()
    assert run(out, "n=400", "num_shards=40", "shard=0") is None  # resumes scenes 0-9 (its first shard)
    assert {k: v for k, v in snapshot(out).items() if k.startswith("scenes/") and int(k[7:13]) < 10} == {
        k: v for k, v in reference.items() if k.startswith("scenes/") and int(k[7:13]) < 10}
