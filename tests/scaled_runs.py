"""Runs of a small sharded dataset, shared by the tests of scale and of orphaned
processes: the reference snapshot (a fixture; registered in conftest.py), runs in
process and as a command, and waiting for a command's records."""

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scenegen import load_config
from scenegen.dataset.generate import generate

N = 14
SMALL = [f"n={N}", "width=48", "height=32", "num_shards=3", "progress=false"]


def snapshot(out: Path) -> dict:
    """sha256 of every file of the dataset (the record of the work, .scenegen/, aside)."""
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and ".scenegen" not in p.relative_to(out).parts
    }


def run(out, *extra, **kwargs):
    return generate(load_config([f"out={out}", *SMALL, *extra]), progress=False, **kwargs)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    run(out)
    return snapshot(out)


def wait_for_records(out: Path, count: int, process, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while len(list((out / "scenes").glob("*.json"))) < count:
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "the run wrote too few scenes in time"
        time.sleep(0.02)


def start(out, *extra):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "scenegen", "generate", f"out={out}", *SMALL, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)


def pgroup_members(pgid: int) -> list:
    """Live processes of process group ``pgid``."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in "ZX":
            members.append(int(stat.parent.name))
    return members
