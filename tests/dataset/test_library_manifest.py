"""A dataset made with an asset library: its scenes use library objects and its manifest
lists them with their licences; a dataset without one has no `assets` key."""

import json

import trimesh

from scenegen import load_config
from scenegen.dataset.generate import generate

CATEGORIES = ["table", "chair", "lamp", "ball", "can", "crate", "cone", "bottle", "mug", "book"]


def library_overrides(tmp_path, root) -> list:
    """Overrides that add library ``lib`` (generic, at ``root``) through a config file."""
    conf = tmp_path / "conf" / "library"
    conf.mkdir(parents=True)
    (conf / "lib.yaml").write_text(f"# @package _global_\nlibraries:\n  lib: {{path: '{root}', layout: generic}}\n")
    return [f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "+library=lib", *EXTRA]


EXTRA: list = []  # overrides added to every config here (a pinned dictionary while debugging)


def test_generate_with_a_library(tmp_path, monkeypatch):
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "lib"
    for category in CATEGORIES:
        (root / category).mkdir(parents=True)
        for i, (x, y, z) in enumerate([(0.2, 0.15, 0.25), (0.15, 0.15, 0.2)]):
            trimesh.creation.box(extents=(x, y, z)).export(root / category / f"box{i}.obj")
        (root / category / "meta.yaml").write_text("license: CC-BY-NC-4.0\nattribution: Test Author\n")
    out = tmp_path / "d"
    cfg = load_config([f"out={out}", "n=4", "width=64", "height=48", "progress=false",
                       *library_overrides(tmp_path, root)])
    manifest = generate(cfg, progress=False)
    used = {o["entry"] for i in range(4) for o in json.loads((out / "scenes" / f"{i:06d}.json").read_text())["objects"]}
    library = {e for e in used if e.startswith("lib:")}
    assert library, used
    assets = json.loads((out / "manifest.json").read_text())["assets"]
    assert set(assets) == library and manifest.assets == assets
    for name, asset in assets.items():
        assert asset["license"] == "CC-BY-NC-4.0" and asset["attribution"] == "Test Author"
        assert asset["non_commercial"] and asset["library"] == "lib" and name == f"lib:{asset['path']}"
    assert "libraries" in manifest.config


def test_no_library_no_assets(tmp_path):
    out = tmp_path / "d"
    manifest = generate(load_config([f"out={out}", "n=1", "width=32", "height=32", "progress=false", *EXTRA]),
                        progress=False)
    data = json.loads((out / "manifest.json").read_text())
    assert "assets" not in data and manifest.assets is None and "libraries" not in manifest.config
