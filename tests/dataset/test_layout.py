"""scenegen/dataset/layout.py is the one home of the dataset's file and folder names: no
other module spells one, its docstring draws them all, and a dataset on disk holds
nothing else."""

from __future__ import annotations

import ast
import os
import re
import tempfile
from pathlib import Path

import pytest

import scenegen
from scenegen.dataset import layout
from scenegen.dataset.manifest import Manifest
from scenegen.design.splits import SPLIT_NAMES
from scenegen.fileio import atomic_writer

PACKAGE = Path(scenegen.__file__).parent
# names only the layout may spell: every file name scenegen chooses, and the folders whose
# names are not also words the code uses for other things ("scenes", "bop" and "shards" are
# also format names and JSON keys: those are checked as the first part of a path instead)
FILE_NAMES = {
    layout.MANIFEST, layout.COCO, layout.COVERAGE, layout.SPLITS, layout.COCO_SPLIT, layout.HF_METADATA,
    layout.HF_SPLIT_METADATA, layout.HF_CARD, layout.BOP_MODELS_MAP, layout.PREVIEW, layout.COVERAGE_HTML,
    layout.WORK_FOLDER, layout.WEBDATASET_PREFIX, "run.json", "fill-base.json",
}
FOLDERS = {*layout.LAYER_FOLDERS.values(), layout.RECORD_FOLDER, layout.WEBDATASET_FOLDER, layout.BOP_FOLDER,
           layout.WORK_FOLDER}


def _strings(tree: ast.AST):
    """The string constants of a module that are not docstrings, with their lines."""
    docstrings = {
        id(node.body[0].value) for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def _spells_a_name(text: str) -> bool:
    """Whether ``text`` is a layout name, or a path whose parts include a file name of the
    layout or that starts in a folder of it (prose that mentions a name is not one)."""
    if text in FILE_NAMES:
        return True
    if "/" not in text or " " in text:
        return False
    parts = text.split("/")
    return parts[0] in FOLDERS or any(part in FILE_NAMES for part in parts)


def test_no_other_module_spells_a_name_of_the_layout():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "dataset" / "layout.py":
            continue
        for line, text in _strings(ast.parse(path.read_text())):
            if _spells_a_name(text):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {text!r}")
    assert not found, "import these names from scenegen.dataset.layout:\n" + "\n".join(found)


def test_the_check_finds_a_spelled_name():
    assert _spells_a_name("manifest.json") and _spells_a_name(".scenegen/run.json") and _spells_a_name("scenes/")
    assert _spells_a_name("bop/scenegen_models.json") and _spells_a_name("coco_{split}.json")
    assert not _spells_a_name("bop") and not _spells_a_name("scenes")  # a format name, a JSON key
    assert not _spells_a_name("see manifest.json 'skipped'")  # prose


def test_the_docstring_draws_every_name():
    public = [name for name in vars(layout) if not name.startswith("_") and name.isupper()]
    functions = ["scene_stem", "layer_file", "record_file", "shard_record_file", "skip_record_file", "webdataset_shard"]
    missing = [name for name in public + functions if name not in layout.__doc__]
    # the globs, suffixes and the folder lists are derived from the drawn names
    derived = {"LAYER_SUFFIX", "RECORD_SUFFIX", "RECORD_GLOB", "SHARD_RECORD_GLOB", "WEBDATASET_SUFFIX",
               "DATASET_FOLDERS", "DEEP_FOLDERS", "TEMPORARY_SUFFIX", "TEMPORARY_GLOB"}
    assert [name for name in missing if name not in derived] == []
    for value in (layout.MANIFEST, layout.COCO, layout.HF_CARD, layout.PREVIEW, layout.COVERAGE_HTML, "run.json",
                  "fill-base.json", layout.BOP_MODELS_MAP, *layout.LAYER_FOLDERS.values()):
        assert value in layout.__doc__


def test_the_layout_imports_nothing_of_scenegen():
    tree = ast.parse((PACKAGE / "dataset" / "layout.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "." for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "re"}


def test_per_scene_names():
    assert layout.scene_stem(7) == "000007" and layout.scene_stem(1234567) == "1234567"
    assert layout.layer_file("rgb", 3) == "images/000003.png"
    assert layout.layer_file("depth", 3) == "depth/000003.png"
    assert layout.layer_glob("rgb") == "images/*.png"
    assert layout.record_file(12) == "scenes/000012.json"
    assert set(layout.LAYER_FOLDERS) == {"rgb", "depth", "instances", "parts", "semantic", "normals"}


def test_work_record_names():
    assert layout.RUN_RECORD == ".scenegen/run.json" and layout.FILL_BASE == ".scenegen/fill-base.json"
    assert layout.shard_record_file(range(4, 10)) == ".scenegen/shards/000004-000010.json"
    assert layout.shard_record_scenes("000004-000010") == range(4, 10)
    assert layout.skip_record_file(5) == ".scenegen/skipped/000005.json"
    assert Path(layout.shard_record_file(range(0, 3))).match(layout.SHARD_RECORD_GLOB)
    assert Path(layout.skip_record_file(3)).match(layout.RECORD_GLOB)


def test_export_names():
    assert layout.webdataset_shard(2) == "scenegen-000002.tar"
    assert layout.webdataset_shard(0, layout.WEBDATASET_SPLIT_PREFIX.format(split="test")) == "test-000000.tar"
    assert layout.COCO_SPLIT.format(split="train") == "coco_train.json"
    assert layout.HF_SPLIT_METADATA.format(split="test") == "metadata_test.jsonl"
    assert layout.AFTER_MANIFEST == ("preview.png", "coverage.html")


def test_temporary_names_are_the_atomic_writers(tmp_path):
    seen = []
    with atomic_writer(tmp_path / "coco.json") as handle:  # the temporary file exists while writing
        seen += [path.name for path in tmp_path.iterdir()]
        handle.write(b"{}")
    assert len(seen) == 1 and layout.TEMPORARY_NAME.fullmatch(seen[0]) and Path(seen[0]).match(layout.TEMPORARY_GLOB)
    fd, name = tempfile.mkstemp(prefix=".images.", suffix=layout.TEMPORARY_SUFFIX, dir=tmp_path)
    os.close(fd)
    assert layout.TEMPORARY_NAME.fullmatch(Path(name).name)
    for other in ("notes.tmp", ".notes.tmp", ".x.short.tmp", ".x.12345678.tmpx", "x.12345678.tmp"):
        assert not layout.TEMPORARY_NAME.fullmatch(other), other


def _named_by_the_layout(root: Path) -> set:
    """Every file the layout says the finished dataset ``root`` holds (the BOP export's
    inside: those under its scene folder, models/ and camera.json, by BOP's rules)."""
    manifest = Manifest.read(root)
    indices = manifest.indices()
    names = {layout.layer_file(layer, i) for layer in layout.LAYER_FOLDERS for i in indices}
    names |= {layout.record_file(i) for i in indices}
    names |= {layout.MANIFEST, layout.COCO, layout.COVERAGE, layout.RUN_RECORD, layout.HF_CARD}
    names |= {layout.shard_record_file(range(0, manifest.n))}
    shards = [layout.webdataset_shard(0)]
    if manifest.split is not None:
        names |= {layout.SPLITS, *(layout.COCO_SPLIT.format(split=s) for s in SPLIT_NAMES)}
        names |= {layout.HF_SPLIT_METADATA.format(split=s) for s in SPLIT_NAMES}
        shards = [layout.webdataset_shard(0, layout.WEBDATASET_SPLIT_PREFIX.format(split=s)) for s in SPLIT_NAMES]
    else:
        names.add(layout.HF_METADATA)
    names |= {f"{layout.WEBDATASET_FOLDER}/{shard}" for shard in shards}
    names.add(f"{layout.BOP_FOLDER}/{layout.BOP_MODELS_MAP}")
    return names


@pytest.mark.render
@pytest.mark.parametrize("fixture", ["every_format", "every_format_split"])
def test_a_dataset_holds_the_files_of_the_layout_and_nothing_else(fixture, request):
    root = Path(request.getfixturevalue(fixture))
    on_disk = {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}
    bop_scene = f"{layout.BOP_FOLDER}/{layout.BOP_SPLIT}/{layout.BOP_SCENE_ID:06d}/"
    bop_own = re.compile(rf"{layout.BOP_FOLDER}/(camera\.json|models/.+|{layout.BOP_SPLIT}/.+)")
    assert {name for name in on_disk if not bop_own.fullmatch(name)} == _named_by_the_layout(root)
    assert any(name.startswith(bop_scene) for name in on_disk)
    assert set(Manifest.read(root).files) == on_disk - {layout.MANIFEST} - {
        name for name in on_disk if name.startswith(f"{layout.WORK_FOLDER}/")}
