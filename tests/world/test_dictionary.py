"""Tests of scenegen.world.dictionary over the built-in config."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from scenegen import load_config, resources
from scenegen.errors import EXIT_INPUT, ConfigError, MeshError
from scenegen.world.dictionary import ObjectDictionary, ObjectEntry


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
        node = cfg.objects[entry.name]
        fixed = [p.name for p in node.parts]
        for style in entry.styles:
            names = [p.name for p in entry.variant(style).parts]
            assert len(names) >= 2 and len(set(names)) == len(names)
            assert names[: len(fixed)] == fixed  # fixed parts first, then the styles'
    for entry in by_source["primitive"] + by_source["mesh"]:
        assert entry.styles == ("",)
        assert [(p.name, p.label, p.index) for p in entry.variant().parts] == [("body", "body", 1)]
    assert all("top" in [p.name for p in objects["table"].variant(s).parts] for s in objects["table"].styles)


def test_every_entry_is_in_canonical_frame(objects):
    for name in objects:
        entry = objects[name]
        assert isinstance(entry, ObjectEntry) and entry.name == name
        for style in entry.styles:
            variant = entry.variant(style)
            assert variant is entry.variant(style)  # memoised
            mesh = variant.mesh()
            assert mesh is variant.mesh()  # cached
            assert len(mesh.faces) == sum(len(p.mesh.faces) for p in variant.parts)
            low, high = mesh.bounds
            assert max(variant.extents) == pytest.approx(1.0, abs=1e-12), (name, style)
            np.testing.assert_allclose(high - low, variant.extents, atol=1e-12)
            assert low[2] == 0.0, (name, style)
            np.testing.assert_allclose((low[:2] + high[:2]) / 2, 0.0, atol=1e-12)
            assert variant.top_height == variant.extents[2] == pytest.approx(high[2], abs=1e-12)
        assert entry.max_extents.shape == (3,) and entry.max_extents.max() == pytest.approx(1.0)


def test_entry_fields_follow_config(cfg, objects):
    for name, node in cfg.objects.items():
        entry = objects[name]
        assert entry.category == node.category
        assert entry.category_id == list(cfg.categories).index(node.category) + 1
        assert entry.category_id == objects.category_id(node.category)
        assert entry.size == tuple(node.size)
        assert entry.colors == tuple(node.colors)
        assert entry.materials == tuple(node.materials)
        assert entry.textures == tuple(node.textures)
        assert entry.symmetry == node.symmetry and entry.support == node.support
        assert [slot for slot, _ in entry.slots] == list(node.part_rules.keys())
    assert objects["table"].support and objects["table"].symmetry == 2
    assert objects.category_id(cfg.categories[0]) == 1
    assert set(objects.textures) == set(cfg.textures)


def test_table_geometry_is_exact(objects):
    table = objects["table"]
    rect = table.variant("top=rect,legs=four")
    # 1.2 x 0.8 x 0.75 m table, normalised by its 1.2 m length
    np.testing.assert_allclose(rect.extents, [1.0, 0.8 / 1.2, 0.75 / 1.2], atol=1e-12)
    top = {p.name: p.mesh for p in rect.parts}["top"]
    assert top.bounds[1, 2] == pytest.approx(rect.top_height, abs=1e-12)
    assert top.extents[2] == pytest.approx(0.04 / 1.2, abs=1e-12)
    # a round top of diameter 1 m: normalised by 1 m, so the same top height in metres
    round_ = table.variant("top=round,legs=pedestal")
    np.testing.assert_allclose(round_.extents, [1.0, 1.0, 0.75], atol=1e-12)
    assert {p.label for p in round_.parts} == {"top", "column", "base"}


def test_variants_differ_in_shape(objects):
    chair = objects["chair"]
    legs = {s: sum(p.label == "leg" for p in chair.variant(s).parts) for s in chair.styles}
    assert set(legs.values()) == {3, 4}
    extents = {tuple(np.round(chair.variant(s).extents, 6)) for s in chair.styles}
    assert len(extents) >= 4
    assert np.all(chair.max_extents >= np.array(chair.variant().extents))


def test_entries_of(objects):
    assert [e.name for e in objects.entries_of("mug")] == ["mug", "mug_mesh"]
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
    # a bad mesh fails when the config is loaded (the grammar is checked against the
    # dictionary), before any scene is drawn
    with pytest.raises(MeshError) as info:
        load_config([f"objects.bottle_mesh.mesh={path}"])
    assert str(path) in str(info.value)


def test_missing_mesh_file_fails(tmp_path):
    path = tmp_path / "gone.ply"
    with pytest.raises(MeshError, match="does not exist") as info:
        ObjectDictionary(load_config([f"objects.mug_mesh.mesh={path}"]))
    assert str(path) in str(info.value)


def _extents(objects, name):
    return objects[name].variant().extents


def test_absolute_mesh_path_is_used_as_is(tmp_path):
    path = tmp_path / "copy.ply"
    shutil.copy(resources.assets_dir() / "meshes" / "mug.ply", path)
    objects = ObjectDictionary(load_config([f"objects.bottle_mesh.mesh={path}", f"asset_paths=[{tmp_path}]"]))
    np.testing.assert_allclose(
        _extents(objects, "bottle_mesh"), _extents(ObjectDictionary(load_config()), "mug_mesh"), atol=1e-12
    )


def test_relative_mesh_path_searches_asset_paths_in_order(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, source in ((first, "mug.ply"), (second, "bottle.ply")):
        (folder / "meshes").mkdir(parents=True)
        shutil.copy(resources.assets_dir() / "meshes" / source, folder / "meshes" / "thing.ply")
    builtin = ObjectDictionary(load_config())
    overrides = ["objects.bottle_mesh.mesh=meshes/thing.ply"]
    objects = ObjectDictionary(load_config(overrides + [f"asset_paths=[{first},{second}]"]))
    np.testing.assert_allclose(_extents(objects, "bottle_mesh"), _extents(builtin, "mug_mesh"), atol=1e-12)
    objects = ObjectDictionary(load_config(overrides + [f"asset_paths=[{second},{first}]"]))
    np.testing.assert_allclose(_extents(objects, "bottle_mesh"), _extents(builtin, "bottle_mesh"), atol=1e-12)
    # a path in no user folder falls back to the built-in assets/
    objects = ObjectDictionary(load_config([f"asset_paths=[{first}]"]))
    np.testing.assert_allclose(_extents(objects, "mug_mesh"), _extents(builtin, "mug_mesh"), atol=1e-12)


def test_relative_asset_path_is_taken_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "mine").mkdir()
    shutil.copy(resources.assets_dir() / "meshes" / "mug.ply", tmp_path / "mine" / "cup.ply")
    monkeypatch.chdir(tmp_path)
    objects = ObjectDictionary(load_config(["objects.bottle_mesh.mesh=cup.ply", "asset_paths=[mine]"]))
    np.testing.assert_allclose(
        _extents(objects, "bottle_mesh"), _extents(ObjectDictionary(load_config()), "mug_mesh"), atol=1e-12
    )


def test_missing_relative_mesh_names_every_folder_searched(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    with pytest.raises(MeshError) as info:
        load_config(["objects.mug_mesh.mesh=meshes/nowhere.ply", f"asset_paths=[{first},{second}]"])
    message = str(info.value)
    assert "'meshes/nowhere.ply'" in message
    for folder in (first, second, resources.assets_dir()):
        assert repr(str(folder)) in message
    assert message.index(str(first)) < message.index(str(second)) < message.index(
        str(resources.assets_dir())
    )


def test_bad_primitive_params_name_entry_and_param():
    with pytest.raises(ConfigError, match=r"objects\.ball.*'radius'"):
        load_config(["objects.ball.params.radius=-1"])


def test_from_config_memoises_on_content(cfg, tmp_path):
    first = ObjectDictionary.from_config(cfg)
    assert ObjectDictionary.from_config(load_config()) is first
    other = ObjectDictionary.from_config(load_config(["objects.ball.params.radius=0.25"]))
    assert other is not first
    # a changed mesh file at the same path is rebuilt, not served stale
    path = tmp_path / "thing.ply"
    shutil.copy(resources.assets_dir() / "meshes" / "mug.ply", path)
    overrides = [f"objects.bottle_mesh.mesh={path}"]
    before = ObjectDictionary.from_config(load_config(overrides))
    shutil.copy(resources.assets_dir() / "meshes" / "bottle.ply", path)
    after = ObjectDictionary.from_config(load_config(overrides))
    assert after is not before
    assert _extents(after, "bottle_mesh") != _extents(before, "bottle_mesh")


def test_from_config_memo_key_includes_asset_paths_and_textures(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, source in ((first, "mug.ply"), (second, "bottle.ply")):
        folder.mkdir()
        shutil.copy(resources.assets_dir() / "meshes" / source, folder / "thing.ply")
    overrides = ["objects.bottle_mesh.mesh=thing.ply"]
    a = ObjectDictionary.from_config(load_config(overrides + [f"asset_paths=[{first}]"]))
    b = ObjectDictionary.from_config(load_config(overrides + [f"asset_paths=[{second}]"]))
    assert a is not b and _extents(a, "bottle_mesh") != _extents(b, "bottle_mesh")
    assert ObjectDictionary.from_config(load_config(overrides + [f"asset_paths=[{first}]"])) is a
    # the same mesh found through another folder list is still another dictionary
    c = ObjectDictionary.from_config(load_config(overrides + [f"asset_paths=[{first},{second}]"]))
    assert c is not a
    plain = ObjectDictionary.from_config(load_config())
    contrast = ObjectDictionary.from_config(load_config(["textures.checker.contrast=0.9"]))
    assert contrast is not plain and contrast.textures["checker"].contrast == 0.9


# -- mesh paths stay inside their search roots; meshes within meshes.max_faces ----------


@pytest.fixture
def roots(tmp_path):
    """An asset folder ``root`` (with ``sub/``) and a mesh in a folder beside it."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    shutil.copy(resources.assets_dir() / "meshes" / "mug.ply", outside / "secret.ply")
    shutil.copy(resources.assets_dir() / "meshes" / "mug.ply", root / "inside.ply")
    return root, outside


@pytest.mark.parametrize("mesh", ["../outside/secret.ply", "sub/../../outside/secret.ply"])
def test_a_relative_mesh_path_cannot_climb_out_of_its_folder(roots, mesh):
    root, _ = roots
    with pytest.raises(MeshError) as info:
        load_config([f"objects.bottle_mesh.mesh={mesh}", f"asset_paths=[{root}]"])
    assert f"mesh path {mesh!r} climbs out of its asset folder" in str(info.value)
    assert info.value.exit_status == EXIT_INPUT


def test_a_symbolic_link_out_of_the_folder_is_refused(roots):
    root, outside = roots
    (root / "link.ply").symlink_to(outside / "secret.ply")
    with pytest.raises(MeshError) as info:
        load_config(["objects.bottle_mesh.mesh=link.ply", f"asset_paths=[{root}]"])
    message = str(info.value)
    assert f"'link.ply' found in asset folder {str(root)!r} resolves to {str(outside / 'secret.ply')!r}" in message


def test_paths_that_stay_inside_their_folder_and_absolute_paths_are_used(roots):
    root, outside = roots
    (root / "sub" / "link.ply").symlink_to(root / "inside.ply")  # a link within the folder
    for mesh in ("sub/../inside.ply", "sub/link.ply", str(outside / "secret.ply")):
        objects = ObjectDictionary(load_config([f"objects.bottle_mesh.mesh={mesh}", f"asset_paths=[{root}]"]))
        assert objects["bottle_mesh"].source == "mesh"


def test_a_mesh_over_meshes_max_faces_fails_at_load_and_the_budget_keys_the_memo(tmp_path):
    path = tmp_path / "dense.ply"
    shutil.copy(resources.assets_dir() / "meshes" / "mug.ply", path)
    faces = len(ObjectDictionary.from_config(load_config([f"objects.bottle_mesh.mesh={path}"]))["bottle_mesh"].variant().mesh().faces)
    accepted = ObjectDictionary.from_config(load_config([f"objects.bottle_mesh.mesh={path}", f"meshes.max_faces={faces}"]))
    assert accepted.max_faces == faces
    with pytest.raises(MeshError) as info:  # not served from the memo of a larger budget
        load_config([f"objects.bottle_mesh.mesh={path}", f"meshes.max_faces={faces - 1}"])
    assert repr(str(path)) in str(info.value) and f"meshes.max_faces={faces - 1:,}" in str(info.value)
    assert info.value.exit_status == EXIT_INPUT


def test_kept_facts_give_every_support_top_bit_for_bit_without_building_it(cfg, objects):
    """The facts a load keeps (through JSON, as the cache stores them) hold each support's
    top outline per style: a later load places objects on it without building the shape
    (which needs trimesh and SciPy) and gets the very same floats."""
    import json

    facts = json.loads(json.dumps(objects._facts(cfg)))
    later = ObjectDictionary(cfg, known=facts)
    supports = [name for name in objects if objects[name].support]
    assert len(supports) >= 2
    for name in objects:
        entry = later[name]
        assert bool(facts[name]["tops"]) == entry.support
        for style in entry.styles if entry.support else ():
            kept = entry.top_outline(style)
            built = objects[name].variant(style).top_outline
            assert kept.dtype == built.dtype == np.float64 and np.array_equal(kept, built)
            assert not kept.flags.writeable
        assert entry._variants == {}  # nothing built
