"""Tests of examples/custom: a user's own dictionary (a mesh entry of their own, found
through ``asset_paths``, and a part-rules entry) and grammar, loaded through Hydra's
search path exactly as examples/custom/README.md says."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
from test_parts import contact_graph

from scenegen import load_config
from scenegen.errors import MeshError
from scenegen.world.dictionary import ObjectDictionary

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "custom"
CONF, MESHES = EXAMPLE / "conf", EXAMPLE / "meshes"
BUILTIN_CATEGORIES = list(load_config().categories)  # the built-in dictionary's, in id order


def overrides(root: Path = EXAMPLE) -> list[str]:
    """The override list of the README."""
    return [
        f"hydra.searchpath=[file://{root}/conf]",
        "dictionary=mine",
        "grammar=kitchen",
        f"asset_paths=[{root}/meshes]",
    ]


@pytest.fixture(scope="module")
def cfg():
    return load_config(overrides())


@pytest.fixture(scope="module")
def objects(cfg):
    return ObjectDictionary(cfg)


def test_make_mesh_is_deterministic_and_matches_the_shipped_file(tmp_path):
    spec = importlib.util.spec_from_file_location("make_mesh", EXAMPLE / "make_mesh.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.main(tmp_path)
    assert written == tmp_path / "vase.ply"
    assert written.read_bytes() == (MESHES / "vase.ply").read_bytes()
    assert written.stat().st_size < 200_000


def test_config_extends_the_builtin_dictionary(cfg):
    categories = list(cfg.categories)
    assert categories[: len(BUILTIN_CATEGORIES)] == BUILTIN_CATEGORIES  # ids unchanged
    assert categories[len(BUILTIN_CATEGORIES):] == ["vase", "stool"]
    builtin = load_config()
    assert set(cfg.objects) == set(builtin.objects) | {"vase", "stool"}
    assert cfg.objects.chair == builtin.objects.chair  # built-in entries kept as they are
    assert cfg.grammar.start == "kitchen" and "tableware" in cfg.grammar.sets
    assert cfg.asset_paths == [str(MESHES)]


def test_dictionary_builds_the_new_entries(objects):
    vase = objects["vase"]
    assert vase.source == "mesh" and vase.category == "vase"
    assert vase.category_id == len(BUILTIN_CATEGORIES) + 1 == objects.category_id("vase")
    variant = vase.variant()
    assert max(variant.extents) == pytest.approx(1.0)
    assert variant.extents[2] == pytest.approx(1.0)  # the height is the largest extent
    assert variant.mesh().bounds[0, 2] == 0.0
    stool = objects["stool"]
    assert stool.source == "parts" and len(stool.styles) == 4
    for style in stool.styles:
        parts = stool.variant(style).parts
        graph = contact_graph([p.mesh for p in parts])
        assert nx.is_connected(graph), style
        assert all(p.mesh.bounds[0, 2] <= 1e-4 for p in parts if p.label == "leg"), style


def test_mesh_is_found_only_through_asset_paths():
    without = [o for o in overrides() if not o.startswith("asset_paths")]
    with pytest.raises(MeshError, match=r"'vase\.ply'.*assets"):
        ObjectDictionary(load_config(without))


def test_relative_search_path_and_asset_path_from_the_repository_root(monkeypatch):
    monkeypatch.chdir(EXAMPLE.parent.parent)
    relative = overrides(Path("examples/custom"))
    objects = ObjectDictionary(load_config(relative))
    assert "vase" in objects and "stool" in objects


def test_sampled_kitchens_show_the_new_categories(cfg, objects):
    sampler_module = pytest.importorskip("scenegen.world.sampler")
    sampler = sampler_module.Sampler(cfg, objects)
    seen = Counter()
    styles = set()
    for index in range(40):
        scene = sampler.sample(index)
        seen.update(obj.category for obj in scene.objects)
        styles.update(obj.style for obj in scene.objects if obj.category == "stool")
    assert seen["vase"] > 0 and seen["stool"] > 0
    # the kitchen grammar names only these categories
    assert set(seen) <= {"table", "chair", "stool", "mug", "bottle", "vase"}
    assert styles <= set(objects["stool"].styles) and len(styles) >= 2


def test_cli_sample_with_the_readme_command(tmp_path):
    command = [sys.executable, "-m", "scenegen", "sample", "index=0", *overrides()]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    scene = json.loads(done.stdout)
    assert scene["objects"] and {o["category"] for o in scene["objects"]} <= {
        "table", "chair", "stool", "mug", "bottle", "vase"
    }


def test_readme_states_the_tested_overrides():
    readme = (EXAMPLE / "README.md").read_text()
    for item in overrides(Path("$PWD/examples/custom")):
        assert item in readme, item
    assert "python examples/custom/make_mesh.py" in readme


def test_readme_python_example_runs(monkeypatch, capsys):
    import re

    monkeypatch.chdir(EXAMPLE.parent.parent)
    blocks = re.findall(r"```python\n(.*?)```", (EXAMPLE / "README.md").read_text(), flags=re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], "examples/custom/README.md", "exec"), {"__name__": "readme"})
    assert "seat_trim=cushion,legs=three" in capsys.readouterr().out
