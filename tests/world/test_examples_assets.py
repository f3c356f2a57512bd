"""Tests of examples/assets: the generic-layout library of make_library.py and the GSO,
ShapeNet and Objaverse layouts of make_layouts.py, each added through its config group
file exactly as examples/assets/README.md says, then used by ``scenegen generate``."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from scenegen.world.libraries import load_library

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "assets"
CATEGORIES = ["table", "chair", "lamp", "ball", "can", "crate", "cone", "bottle", "mug", "book"]
MUG = {"category": "mug", "occlusion": "none"}
LICENSES = {"cc0": "CC0-1.0", "by": "CC-BY-4.0", "by-nc": "CC-BY-NC-4.0"}  # the annotations' codes


def script(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Both scripts run into one folder; (that folder, a cache folder for the indexes)."""
    root = tmp_path_factory.mktemp("assets")
    script("make_library").main(root / "mylib")
    script("make_layouts").main(root / "layouts")
    return root, root / "cache"


@pytest.fixture(autouse=True)
def cache(made, monkeypatch):
    monkeypatch.setenv("SCENEGEN_CACHE", str(made[1]))


def conf(made, library: str) -> Path:
    return made[0] / ("mylib" if library == "example" else "layouts") / "conf"


def generate(made, library: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "scenegen", "generate", f"out={out}", "n=4", "width=64", "height=48",
               f"hydra.searchpath=[file://{conf(made, library)}]", f"+library={library}", *extra]
    env = {**os.environ, "SCENEGEN_CACHE": str(made[1])}
    done = subprocess.run(command, capture_output=True, text=True, cwd=out.parent, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def expected_source(made, library: str, path: str) -> dict:
    """License, attribution and non_commercial of a library file, from what the scripts
    wrote beside it (meta.yaml, annotations.json) or what its set's terms are."""
    if library == "example":
        meta = yaml.safe_load((made[0] / "mylib" / path.split("/")[0] / "meta.yaml").read_text())
        return {"license": meta["license"], "attribution": meta["attribution"],
                "non_commercial": "-NC-" in meta["license"]}
    if library == "gso":
        return {"license": "CC-BY-4.0", "attribution": "Google LLC, Google Scanned Objects (Downs et al., ICRA 2022)",
                "non_commercial": False}
    if library == "shapenet":
        return {"license": "ShapeNet terms of use (non-commercial research and education only)",
                "attribution": "ShapeNet (Chang et al. 2015, shapenet.org)", "non_commercial": True}
    notes = json.loads((made[0] / "layouts" / "objaverse" / "annotations.json").read_text())
    note = notes[Path(path).stem]
    author = note.get("attribution") or note["author"]["username"]
    return {"license": LICENSES[note["license"]], "attribution": author, "non_commercial": note["license"] == "by-nc"}


def colour_shares(pixels: np.ndarray, colors) -> list[float]:
    """The share of ``pixels`` (N, 3) of each colour's hue: its strongest channel(s) well
    above the others (a lit, shaded surface keeps the hue, not the value; vertex colours
    come out paler than textures)."""
    shares = []
    for color in colors:
        color = np.asarray(color, float)
        strong, weak = color >= color.max() - 40, color < color.max() - 40
        hit = pixels[:, strong].min(axis=1) > 1.4 * pixels[:, weak].max(axis=1) + 10
        shares.append(float(hit.mean()))
    return shares


def test_make_library_writes_the_generic_layout(made):
    root = made[0] / "mylib"
    for category in ("mug", "bottle", "book"):
        names = sorted(p.name for p in (root / category).iterdir())
        assert names == sorted([f"{category}.{s}" for s in ("glb", "mtl", "obj", "ply", "png")] + ["meta.yaml"])
        assert f"map_Kd {category}.png" in (root / category / f"{category}.mtl").read_text()
    config = yaml.safe_load((root / "conf" / "library" / "example.yaml").read_text())
    assert config == {"libraries": {"example": {"path": str(root), "layout": "generic"}}}
    assert (root / "conf" / "library" / "example.yaml").read_text().startswith("# @package _global_\n")
    assets, report = load_library("example", config["libraries"]["example"], CATEGORIES, 100_000)
    assert report.entries == 9 and not report.skipped and not report.unmapped and report.non_commercial == 3
    assert all(a.has_look for a in assets)  # a texture, a texture, vertex colours
    by_path = {a.source["path"]: a for a in assets}
    assert by_path["mug/mug.glb"].size == (0.08, 0.12)
    for path in ("mug/mug.glb", "mug/mug.obj", "mug/mug.ply"):  # Y-up glTF and Z-up OBJ/PLY all stand
        extents = np.ptp(by_path[path].load()[0].vertices, axis=0)
        assert extents[2] == pytest.approx(0.1) and extents[0] == pytest.approx(0.08), path


def test_make_layouts_matches_the_adapters(made):
    root = made[0] / "layouts"
    for name, entries, skipped, unmapped in (("gso", 4, 0, 1), ("shapenet", 5, 0, 1), ("objaverse", 4, 1, 0)):
        config = yaml.safe_load((root / "conf" / "library" / f"{name}.yaml").read_text())["libraries"][name]
        assert config["layout"] == name and Path(config["path"]) == root / name
        assets, report = load_library(name, config, CATEGORIES, 100_000)
        assert (report.entries, len(report.skipped), sum(report.unmapped.values())) == (entries, skipped, unmapped), name
    gso = root / "gso" / "Example_Coffee_Mug"
    assert {p.relative_to(gso).as_posix() for p in gso.rglob("*") if p.is_file()} == {
        "meshes/model.obj", "meshes/model.mtl", "materials/textures/texture.png", "metadata.pbtxt"}
    taxonomy = json.loads((root / "shapenet" / "taxonomy.json").read_text())
    assert {t["synsetId"] for t in taxonomy} == {p.name for p in (root / "shapenet").iterdir() if p.is_dir()}
    assert len(list((root / "objaverse" / "glbs" / "000-000").glob("*.glb"))) == 5


@pytest.mark.parametrize("library", ["example", "gso", "shapenet", "objaverse"])
def test_generate_with_each_library(made, tmp_path, library):
    out = tmp_path / "out"
    done = generate(made, library, out, "directive={category: mug, occlusion: none}", "camera.framing.target_fraction=0.15")
    assert f"library {library}: " in done.stderr
    records = [json.loads(p.read_text()) for p in sorted((out / "scenes").glob("*.json"))]
    used = {o["entry"] for r in records for o in r["objects"] if o["entry"].startswith(f"{library}:")}
    assert used  # library objects appear, named <library>:<path>
    assert all(o["entry"].startswith(f"{library}:") or ":" not in o["entry"] for r in records for o in r["objects"])
    assets = json.loads((out / "manifest.json").read_text())["assets"]
    assert set(assets) == used  # exactly the files the scenes used
    root = Path(yaml.safe_load((conf(made, library) / "library" / f"{library}.yaml").read_text())
                ["libraries"][library]["path"])
    for name, source in assets.items():
        path = name.split(":", 1)[1]
        assert source["library"] == library and source["layout"] == ("generic" if library == "example" else library)
        assert source["path"] == path and source["sha256"] == hashlib.sha256((root / path).read_bytes()).hexdigest()
        assert {k: source[k] for k in ("license", "attribution", "non_commercial")} == expected_source(made, library, path)
    restricted = [n for n, s in assets.items() if s["non_commercial"]]
    assert ("non-commercial purposes only" in done.stderr) == bool(restricted)
    if library != "example":
        return
    # every library mug (GLB texture, OBJ texture, PLY vertex colours) shows both of its colours
    colors = script("make_library").COLORS["mug"]
    checked = 0
    for record in records:
        target = record["scene"]["target"]
        if not record["objects"][target]["entry"].startswith("example:mug/"):
            continue
        rgb = np.asarray(Image.open(out / record["files"]["rgb"]).convert("RGB"))
        mask = np.asarray(Image.open(out / record["files"]["instances"])) == target + 1
        assert mask.sum() > 100
        assert min(colour_shares(rgb[mask].astype(float), colors)) > 0.1, record["objects"][target]["entry"]
        checked += 1
    assert checked


def test_a_textured_glb_object_wears_its_texture(made):
    """The first scene whose target mug is the GLB: inside its instance mask both colours
    of the file's base-colour texture show."""
    import scenegen

    cfg = scenegen.load_config([f"hydra.searchpath=[file://{conf(made, 'example')}]", "+library=example",
                                "width=64", "height=48", "camera.framing.target_fraction=0.15"])
    sampler = scenegen.Sampler(cfg)
    scene = next(s for s in (sampler.sample(i, MUG) for i in range(40))
                 if s.objects[s.target].entry == "example:mug/mug.glb")
    with scenegen.Renderer(sampler.dictionary) as renderer:
        frame = renderer.render(scene)
    mask = frame.instances == scene.target + 1
    assert mask.sum() > 100
    pixels = frame.rgb[mask].astype(float)
    assert min(colour_shares(pixels, script("make_library").COLORS["mug"])) > 0.15


def test_readme_states_the_commands():
    readme = (EXAMPLE / "README.md").read_text()
    for command in ("python examples/assets/make_library.py /tmp/mylib",
                    "scenegen generate out=/tmp/withlib n=8 'hydra.searchpath=[file:///tmp/mylib/conf]' +library=example",
                    "scenegen preview /tmp/withlib --out /tmp/withlib.png",
                    "python examples/assets/make_layouts.py /tmp/layouts",
                    "+library=gso", "+library=shapenet", "+library=objaverse"):
        assert command in readme, command
