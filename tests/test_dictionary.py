"""Tests of scenegen.dictionary over the built-in config."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from scenegen import resources
from scenegen.config import load_config
from scenegen.dictionary import ObjectDictionary, ObjectEntry
from scenegen.errors import ConfigError, MeshError


@pytest.fixture(scope="module")
def cfg():
    return load_config()


@pytest.fixture(scope="module")
def objects(cfg):
    return ObjectDictionary(cfg)


def test_builtin_dictionary_contents(cfg, objects):
    assert len(objects.categories) >= 8
    assert objects.categories == tuple(cfg.categories)
    assert objects.names == tuple(cfg.objects.keys()) == tuple(objects)
    assert len(objects) == len(cfg.objects)
    assert "table" in objects and "unicorn" not in objects
    by_source = {s: [objects[n] for n in objects if objects[n].source == s]
                 for s in ("primitive", "parts", "mesh")}
    assert len(by_source["parts"]) >= 3
    assert len(by_source["mesh"]) >= 2
    for entry in by_source["parts"]:
        names = [p.name for p in entry.parts]
        assert len(names) >= 2 and len(set(names)) == len(names)
        assert names == [p.name for p in cfg.objects[entry.name].parts]
    for entry in by_source["primitive"] + by_source["mesh"]:
        assert [p.name for p in entry.parts] == ["body"]
    assert "top" in [p.name for p in objects["table"].parts]


def test_every_entry_is_in_canonical_frame(objects):
    for name in objects:
        entry = objects[name]
        assert isinstance(entry, ObjectEntry) and entry.name == name
        mesh = entry.mesh()
        assert mesh is entry.mesh()  # cached
        assert len(mesh.faces) == sum(len(p.mesh.faces) for p in entry.parts)
        low, high = mesh.bounds
        assert max(entry.extents) == pytest.approx(1.0, abs=1e-12), name
        np.testing.assert_allclose(high - low, entry.extents, atol=1e-12)
        assert low[2] == 0.0, name
        np.testing.assert_allclose((low[:2] + high[:2]) / 2, 0.0, atol=1e-12)
        assert entry.top_height == entry.extents[2] == pytest.approx(high[2], abs=1e-12)


def test_entry_fields_follow_config(cfg, objects):
    for name, node in cfg.objects.items():
        entry = objects[name]
        assert entry.category == node.category
        assert entry.category_id == list(cfg.categories).index(node.category) + 1
        assert entry.category_id == objects.category_id(node.category)
        assert entry.size == tuple(node.size)
        assert entry.colors == tuple(node.colors)
        assert entry.materials == tuple(node.materials)
        assert entry.symmetry == node.symmetry and entry.support == node.support
    assert objects["table"].support and objects["table"].symmetry == 2
    assert objects.category_id(cfg.categories[0]) == 1


def test_table_geometry_is_exact(objects):
    table = objects["table"]
    # 1.2 x 0.8 x 0.75 m table, normalised by its 1.2 m length
    np.testing.assert_allclose(table.extents, [1.0, 0.8 / 1.2, 0.75 / 1.2], atol=1e-12)
    top = {p.name: p.mesh for p in table.parts}["top"]
    assert top.bounds[1, 2] == pytest.approx(table.top_height, abs=1e-12)
    assert top.extents[2] == pytest.approx(0.05 / 1.2, abs=1e-12)


def test_entries_of(objects):
    assert [e.name for e in objects.entries_of("mug")] == ["mug"]
    for category in objects.categories:
        assert all(e.category == category for e in objects.entries_of(category))
    assert sum(len(objects.entries_of(c)) for c in objects.categories) == len(objects)
    with pytest.raises(ConfigError, match="'dragon'.*'table'"):
        objects.entries_of("dragon")


def test_unknown_names_raise_config_error_listing_valid(objects):
    with pytest.raises(ConfigError) as info:
        objects["unicorn"]
    message = str(info.value)
    assert "'unicorn'" in message
    assert all(repr(name) in message for name in objects.names)
    with pytest.raises(ConfigError, match="'dragon'.*'book'"):
        objects.category_id("dragon")


@pytest.mark.parametrize(
    "content", [b"", b"\x00garbage\xff" * 40, b"ply\nformat ascii 1.0\nend_header\n"]
)
def test_broken_mesh_file_fails_at_construction(tmp_path, content):
    path = tmp_path / "broken.ply"
    path.write_bytes(content)
    cfg = load_config([f"objects.bottle.mesh={path}"])
    with pytest.raises(MeshError) as info:
        ObjectDictionary(cfg)
    assert str(path) in str(info.value)
    with pytest.raises(MeshError):
        ObjectDictionary.from_config(cfg)


def test_missing_mesh_file_fails(tmp_path):
    path = tmp_path / "gone.ply"
    with pytest.raises(MeshError, match="does not exist") as info:
        ObjectDictionary(load_config([f"objects.mug.mesh={path}"]))
    assert str(path) in str(info.value)


def test_absolute_mesh_path_is_used_as_is(tmp_path):
    path = tmp_path / "copy.ply"
    shutil.copy(resources.assets_dir() / "meshes" / "mug.ply", path)
    objects = ObjectDictionary(load_config([f"objects.bottle.mesh={path}"]))
    np.testing.assert_allclose(
        objects["bottle"].extents, ObjectDictionary(load_config())["mug"].extents, atol=1e-12
    )


def test_bad_primitive_params_name_entry_and_param():
    cfg = load_config(["objects.ball.params.radius=-1"])
    with pytest.raises(ConfigError, match=r"objects\.ball.*'radius'"):
        ObjectDictionary(cfg)


def test_from_config_memoises_on_content(cfg, tmp_path):
    first = ObjectDictionary.from_config(cfg)
    assert ObjectDictionary.from_config(load_config()) is first
    other = ObjectDictionary.from_config(load_config(["objects.ball.params.radius=0.25"]))
    assert other is not first
    # a changed mesh file at the same path is rebuilt, not served stale
    path = tmp_path / "thing.ply"
    shutil.copy(resources.assets_dir() / "meshes" / "mug.ply", path)
    overrides = [f"objects.bottle.mesh={path}"]
    before = ObjectDictionary.from_config(load_config(overrides))
    shutil.copy(resources.assets_dir() / "meshes" / "bottle.ply", path)
    after = ObjectDictionary.from_config(load_config(overrides))
    assert after is not before
    assert after["bottle"].extents != before["bottle"].extents
