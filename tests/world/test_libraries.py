"""Asset libraries (scenegen.world.libraries): each layout in a tiny folder, the skipped
files and their reasons, the index cache, lazy loading."""

import json
import os

import numpy as np
import pytest
import trimesh
from PIL import Image

from scenegen import load_config
from scenegen.errors import ConfigError
from scenegen.world import libraries
from scenegen.world.compile import World
from scenegen.world.libraries import index as index_module
from scenegen.world.libraries import load_library
from scenegen.world.libraries.gso import metadata_category, parse_pbtxt

CATEGORIES = ["table", "chair", "lamp", "ball", "can", "crate", "cone", "bottle", "mug", "book"]


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SCENEGEN_CACHE", str(folder))
    return folder


def box(x=0.1, y=0.1, z=0.12):
    return trimesh.creation.box(extents=(x, y, z))


def y_up_cylinder():
    """A cylinder 0.3 tall along y, 0.1 wide: it stands only if y is taken as up."""
    mesh = trimesh.creation.cylinder(radius=0.05, height=0.3, sections=16)
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))
    return mesh


def generic_library(root):
    (root / "mug").mkdir(parents=True)
    box().export(root / "mug" / "cube.obj")
    (root / "bottle").mkdir()
    y_up_cylinder().export(root / "bottle" / "tall.glb")
    (root / "bottle" / "meta.yaml").write_text(
        "size: [0.2, 0.3]\nsymmetry: 0\nlicense: CC-BY-NC-4.0\nattribution: Jane Doe\n")
    (root / "spoon").mkdir()
    box().export(root / "spoon" / "spoon.obj")
    return root


def body(asset):
    return asset.load()[0]


def test_generic_categories_sizes_up_and_licences(tmp_path):
    root = generic_library(tmp_path / "lib")
    assets, report = load_library("mine", {"path": str(root)}, CATEGORIES, 1000)
    by_path = {a.source["path"]: a for a in assets}
    assert sorted(by_path) == ["bottle/tall.glb", "mug/cube.obj"]
    assert report.unmapped == {"spoon": 1} and report.entries == 2 and not report.skipped
    mug, bottle = by_path["mug/cube.obj"], by_path["bottle/tall.glb"]
    assert mug.category == "mug" and mug.size == pytest.approx((0.12, 0.12))  # metric: its own size
    assert bottle.size == (0.2, 0.3) and bottle.symmetry == 0
    assert bottle.source["non_commercial"] and bottle.source["attribution"] == "Jane Doe"
    assert not mug.source["non_commercial"]
    extents = np.ptp(body(bottle).vertices, axis=0)  # the Y-up file stands: tallest along z
    assert extents[2] == pytest.approx(0.3) and extents[2] > max(extents[:2])
    assert "library mine: 2 entries, 0 skipped, 1 unmapped" in report.summary()


def test_mapping_several_to_one(tmp_path):
    root = generic_library(tmp_path / "lib")
    assets, report = load_library("m", {"path": str(root), "categories": {"mug": "can", "spoon": "can"}},
                                  CATEGORIES, 1000)
    assert sorted(a.category for a in assets) == ["can", "can"]
    assert report.unmapped == {"bottle": 1}
    with pytest.raises(ConfigError, match="libraries.m.categories.mug maps to 'cup'"):
        load_library("m", {"path": str(root), "categories": {"mug": "cup"}}, CATEGORIES, 1000)


def test_defects_are_skipped_with_a_reason(tmp_path):
    root = tmp_path / "lib"
    can = root / "can"
    can.mkdir(parents=True)
    box().export(can / "good.obj")
    (can / "garbage.glb").write_bytes(os.urandom(300))
    (can / "empty.obj").write_bytes(b"")
    (can / "nan.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 nan 1\nf 1 2 3\n")
    trimesh.creation.icosphere(subdivisions=3).export(can / "big.obj")  # 1280 faces
    outside = tmp_path / "outside"
    outside.mkdir()
    box().export(outside / "secret.obj")
    os.symlink(outside / "secret.obj", can / "link.obj")
    assets, report = load_library("d", {"path": str(root), "max_faces": 500}, CATEGORIES, 200_000)
    assert [a.source["path"] for a in assets] == ["can/good.obj"]
    reasons = report.skipped
    assert set(reasons) == {"can/garbage.glb", "can/empty.obj", "can/nan.obj", "can/big.obj", "can/link.obj"}
    assert "could not be read" in reasons["can/garbage.glb"]
    assert "empty" in reasons["can/empty.obj"]
    assert "finite" in reasons["can/nan.obj"]
    assert "500" in reasons["can/big.obj"]
    assert "outside the library" in reasons["can/link.obj"]
    assert "5 skipped" in report.summary()
    stored = json.loads(report.index.read_text())  # the index names every skipped file
    assert set(stored["skipped"]) | {p for p, r in stored["files"].items() if r["reason"]} == set(reasons)


def test_pbtxt_parser():
    text = ('name: "Squirrel"\nversion: 1\n# a comment\ncategories {\n  first: "Toys"\n}\n'
            'annotations { key: "color" value: "brown" }\nlicense: "Creative Commons" " Attribution 4.0"\n')
    meta = parse_pbtxt(text)
    assert meta["name"] == ["Squirrel"] and meta["version"] == ["1"]
    assert metadata_category(meta) == "Toys"
    assert meta["license"] == ["Creative Commons Attribution 4.0"]
    assert metadata_category(parse_pbtxt('annotations { key: "category" value: "Shoe" }')) == "Shoe"
    with pytest.raises(ValueError):
        parse_pbtxt("categories { first: 'x'")


def textured_obj(folder, texture_path):
    """A textured 0.2 m box as OBJ + MTL, its texture at ``texture_path`` (relative)."""
    mesh = box(0.2, 0.1, 0.05)
    v = mesh.vertices
    uv = (v[:, :2] - v[:, :2].min(0)) / np.ptp(v[:, :2], axis=0)
    lines = ["mtllib model.mtl", "usemtl skin"]
    lines += [f"v {a} {b} {c}" for a, b, c in v] + [f"vt {a} {b}" for a, b in uv]
    lines += [f"f {a + 1}/{a + 1} {b + 1}/{b + 1} {c + 1}/{c + 1}" for a, b, c in mesh.faces]
    (folder / "model.obj").write_text("\n".join(lines) + "\n")
    (folder / "model.mtl").write_text(f"newmtl skin\nKd 1 1 1\nmap_Kd {texture_path}\n")


def gso_library(root):
    for name, meta in (("Squirrel", 'name: "Squirrel"\ncategories {\n  first: "Toys"\n}\n'),
                       ("Mug_Blue", 'name: "Blue mug"\nannotations {\n  key: "category"\n  value: "Kitchen"\n}\n'),
                       ("Shoe", 'name: "Shoe"\ncategories {\n  first: "Shoe"\n}\n')):
        folder = root / name
        (folder / "meshes").mkdir(parents=True)
        (folder / "materials" / "textures").mkdir(parents=True)
        Image.fromarray(np.full((8, 8, 3), (200, 40, 40), np.uint8)).save(folder / "materials/textures/texture.png")
        # the MTL names its texture by a path up into materials/ (or, in some copies, by its bare name)
        textured_obj(folder / "meshes", "texture.png" if name == "Mug_Blue" else "../materials/textures/texture.png")
        (folder / "metadata.pbtxt").write_text(meta)
    (root / "Broken").mkdir()  # no meshes/model.obj
    return root


def test_gso(tmp_path):
    root = gso_library(tmp_path / "gso")
    config = {"path": str(root), "layout": "gso", "categories": {"Toys": "ball", "Kitchen": "mug"}}
    assets, report = load_library("gso", config, CATEGORIES, 200_000)
    by_category = {a.category: a for a in assets}
    assert sorted(by_category) == ["ball", "mug"] and report.unmapped == {"Shoe": 1}
    assert "Broken/meshes/model.obj" in report.skipped
    ball = by_category["ball"]
    assert ball.source["license"] == "CC-BY-4.0" and "Google" in ball.source["attribution"]
    assert not ball.source["non_commercial"] and ball.source["name"] == "Squirrel"
    assert ball.size == pytest.approx((0.2, 0.2))  # metric: its scanned size
    for asset in (ball, by_category["mug"]):  # the texture found in materials/textures/, named either way
        texture = asset.appearance().base_color_texture
        assert texture is not None and tuple(np.asarray(texture)[0, 0, :3]) == (200, 40, 40)
        assert asset.appearance().metallic == 0.0  # an MTL material is a dielectric (glTF's default is 1)
    extents = np.ptp(body(ball).vertices, axis=0)  # Z-up: kept as it is
    assert extents == pytest.approx([0.2, 0.1, 0.05])


def shapenet_library(root):
    taxonomy = [{"synsetId": "03001627", "name": "chair,seat", "children": [], "numInstances": 2},
                {"synsetId": "04379243", "name": "table", "children": [], "numInstances": 1}]
    root.mkdir(parents=True)
    (root / "taxonomy.json").write_text(json.dumps(taxonomy))
    for synset, model in (("03001627", "a1"), ("03001627", "b2"), ("04379243", "c3")):
        folder = root / synset / model / "models"
        folder.mkdir(parents=True)
        y_up_cylinder().export(folder / "model_normalized.obj")
    return root


def test_shapenet(tmp_path):
    root = shapenet_library(tmp_path / "sn")
    config = {"path": str(root), "layout": "shapenet", "categories": {"chair": "chair"}, "sizes": {"chair": [0.8, 1.0]}}
    assets, report = load_library("sn", config, CATEGORIES, 200_000)
    assert [a.category for a in assets] == ["chair", "chair"] and report.unmapped == {"table": 1}
    chair = assets[0]
    assert chair.size == (0.8, 1.0) and chair.source["non_commercial"] and "ShapeNet" in chair.source["license"]
    extents = np.ptp(body(chair).vertices, axis=0)  # Y-up: stands
    assert extents[2] == pytest.approx(0.3)
    by_id = {**config, "categories": {"03001627": "chair"}}  # a synset id maps too
    assert len(load_library("sn", by_id, CATEGORIES, 200_000)[0]) == 2
    with pytest.raises(ConfigError, match="libraries.sn.sizes.chair"):
        load_library("sn", {**config, "sizes": {}}, CATEGORIES, 200_000)


def objaverse_library(root):
    (root / "glbs" / "000-000").mkdir(parents=True)
    for uid in ("u1", "u2", "u3"):
        y_up_cylinder().export(root / "glbs" / "000-000" / f"{uid}.glb")
    notes = {"u1": {"category": "Mug", "license": "by-nc", "author": "alice", "name": "Blue"},
             "u2": {"category": "Mug", "license": "cc0", "attribution": "bob"}}
    (root / "annotations.json").write_text(json.dumps(notes))
    return root


def test_objaverse(tmp_path):
    root = objaverse_library(tmp_path / "ov")
    config = {"path": str(root), "layout": "objaverse", "annotations": "annotations.json", "categories": {"Mug": "mug"}}
    assets, report = load_library("ov", config, CATEGORIES, 200_000)
    by_uid = {a.source["path"].rsplit("/", 1)[1]: a for a in assets}
    assert sorted(by_uid) == ["u1.glb", "u2.glb"]
    assert "no annotation" in report.skipped["glbs/000-000/u3.glb"]
    assert by_uid["u1.glb"].source["license"] == "CC-BY-NC-4.0" and by_uid["u1.glb"].source["non_commercial"]
    assert by_uid["u1.glb"].source["attribution"] == "alice" and by_uid["u1.glb"].source["name"] == "Blue"
    assert by_uid["u2.glb"].source["license"] == "CC0-1.0" and not by_uid["u2.glb"].source["non_commercial"]
    assert by_uid["u1.glb"].size == (0.3, 0.6)  # the default entry size without a prior
    assert np.ptp(body(by_uid["u1.glb"]).vertices, axis=0)[2] == pytest.approx(0.3)


def test_index_is_reused_and_refreshed(tmp_path, cache, monkeypatch):
    root = generic_library(tmp_path / "lib")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    calls = []
    inspect = index_module.inspect_file
    monkeypatch.setattr(index_module, "inspect_file", lambda *a: calls.append(a[0].name) or inspect(*a))
    assets, first = load_library("mine", {"path": str(root)}, CATEGORIES, 1000)
    assert sorted(calls) == ["cube.obj", "tall.glb"] and first.read == 2
    assert first.index.is_relative_to(cache) and sorted(p.relative_to(root) for p in root.rglob("*")) == before
    calls.clear()
    again, second = load_library("mine", {"path": str(root)}, CATEGORIES, 1000)
    assert calls == [] and second.read == 0 and [a.source for a in again] == [a.source for a in assets]
    box(0.2, 0.2, 0.3).export(root / "mug" / "cube.obj")  # changed: read and hashed again
    os.utime(root / "mug" / "cube.obj", ns=(1, 1))
    third, report = load_library("mine", {"path": str(root)}, CATEGORIES, 1000)
    assert calls == ["cube.obj"] and report.read == 1
    changed = {a.source["path"]: a for a in third}["mug/cube.obj"]
    assert changed.size == pytest.approx((0.3, 0.3)) and changed.source["sha256"] != assets[1].source["sha256"]


def test_meshes_load_lazily(tmp_path, monkeypatch):
    root = generic_library(tmp_path / "lib")
    load_library("mine", {"path": str(root)}, CATEGORIES, 1000)  # index made
    loads = []
    real = libraries.asset.load_body
    monkeypatch.setattr(libraries.asset, "load_body", lambda *a: loads.append(a[0].name) or real(*a))
    assets, _ = load_library("mine", {"path": str(root)}, CATEGORIES, 1000)
    assert loads == []
    body(assets[0])
    body(assets[0])
    assert loads == [assets[0].path.name]


def test_a_world_with_a_library_reads_only_the_files_its_scenes_use(tmp_path, monkeypatch):
    """Compiling the grammar (whose 'on' relations check every small object's footprint
    against the supports) takes extents from the index, so no file is read until a
    scene places it; a scene reads the files of its own objects, once."""
    from scenegen import Sampler, load_config
    from scenegen.world.compile import World

    root = tmp_path / "lib"
    for category in ("mug", "book", "bottle"):  # small objects, 'on' supports in the grammar
        (root / category).mkdir(parents=True)
        for i in range(8):
            box(0.05 + 0.01 * i, 0.06, 0.1 + 0.01 * i).export(root / category / f"{category}{i}.ply")
    conf = tmp_path / "conf" / "library"
    conf.mkdir(parents=True)
    (conf / "lazy.yaml").write_text(f"# @package _global_\nlibraries:\n  lazy:\n    path: {root}\n")
    overrides = [f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "+library=lazy", "width=64", "height=48"]
    load_library("lazy", {"path": str(root)}, CATEGORIES, 1000)  # the index, made outside the count
    loads = []
    real = libraries.asset.load_body
    monkeypatch.setattr(libraries.asset, "load_body", lambda *a: loads.append(a[0].name) or real(*a))
    cfg = load_config(overrides)
    world = World.of(cfg)
    assert len([n for n in world.dictionary.names if n.startswith("lazy:")]) == 24
    assert loads == []
    sampler = Sampler(world)
    used = set()
    for index in range(12):
        used |= {o.entry.split("/")[-1] for o in sampler.sample(index).objects if o.entry.startswith("lazy:")}
    assert used and sorted(loads) == sorted(used)  # each file used read once, no other


def test_a_library_given_on_the_command_line(tmp_path, monkeypatch):
    """``+libraries={mine:{path:DIR}}`` adds a library without a config file."""
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path / "cache"))
    (tmp_path / "lib" / "ball").mkdir(parents=True)
    trimesh.creation.icosphere(2, 0.1).export(tmp_path / "lib" / "ball" / "pebble.ply")
    cfg = load_config([f"+libraries={{mine:{{path:{tmp_path / 'lib'}}}}}"])
    entry = World.of(cfg).dictionary["mine:ball/pebble.ply"]
    assert entry.category == "ball" and entry.source == "mesh"
    assert [r.entries for r in World.of(cfg).dictionary.library_reports] == [1]
