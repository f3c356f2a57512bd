"""The benchmark scripts keep up with the package: every ``from scenegen... import ...``
they hold, in their own code or in the code they hand to child processes, names a module
and names that exist (bench_workers.py once imported ``generate`` from where it no longer
was, and failed only when run)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))
# "from scenegen.x.y import a, b as c" (also inside a string of child code), or a parenthesised list
IMPORT = re.compile(r"^\s*from (scenegen(?:\.\w+)*) import (\([^)]*\)|[^\n\"']+)", re.MULTILINE)


def imported_names(source: str) -> list[tuple[str, str]]:
    """(module, name) of each name the ``from scenegen... import`` statements of ``source`` take."""
    found = []
    for module, names in IMPORT.findall(source):
        for item in re.sub(r"#[^\n]*", "", names).strip("()").split(","):
            name = item.strip().split(" as ")[0].strip()
            if name:
                found.append((module, name))
    return found


def test_the_pattern_finds_plain_listed_and_child_code_imports():
    source = ('from scenegen.dataset.generate import generate\n'
              'from scenegen.dataset.files import (\n    encode_png,  # fast\n    write_layers as write,\n)\n'
              'CHILD = """\nimport sys\nfrom scenegen import load_config\n"""\n')
    assert imported_names(source) == [("scenegen.dataset.generate", "generate"), ("scenegen.dataset.files", "encode_png"),
                                      ("scenegen.dataset.files", "write_layers"), ("scenegen", "load_config")]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_scenegen_import_of_a_benchmark_resolves(script):
    for module, name in imported_names(script.read_text()):
        loaded = importlib.import_module(module)
        assert hasattr(loaded, name) or importlib.util.find_spec(f"{module}.{name}") is not None, \
            f"{script.name}: from {module} import {name}: no such name"


def test_blender_benchmark_rounds_write_new_files(tmp_path):
    """Each of bench_blender's scenegen rounds writes new files, as Blender's rounds do
    (over the files of the round before, the file system's cost of freeing inodes was
    measured instead): every round's files stay where they were written, as they were."""
    spec = importlib.util.spec_from_file_location("bench_blender", ROOT / "benchmarks" / "bench_blender.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rounds = bench.ScenegenRounds((48, 32), "flat", 2, 1, tmp_path / "scenegen")
    try:
        seconds = [rounds.round() for _ in range(2)]
    finally:
        rounds.close()
    assert all(value > 0 for value in seconds)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["scenegen_round0", "scenegen_round1", "scenegen_warmup"]
    assert sorted(path.name for path in (tmp_path / "scenegen_warmup" / "images").iterdir()) == ["000002.png"]
    inodes = []
    for name in ("scenegen_round0", "scenegen_round1"):
        images = tmp_path / name / "images"
        assert sorted(path.name for path in images.iterdir()) == ["000000.png", "000001.png"]
        inodes.append({path.stat().st_ino for path in images.iterdir()})
    assert not inodes[0] & inodes[1]
