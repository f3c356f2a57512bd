"""The benchmark scripts keep up with the package: every ``from scenegen... import ...``
they hold, in their own code or in the code they hand to child processes, names a module
and names that exist (bench_workers.py once imported ``generate`` from where it no longer
was, and failed only when run)."""

from __future__ import annotations

import importlib
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
