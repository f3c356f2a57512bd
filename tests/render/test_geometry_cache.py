"""A mesh's drawn arrays kept in the cache folder (scenegen.render.meshes.projected_geometry):
bit for bit what the box projection gives; read back without projecting again; a spoilt
file is worked out again; other vertices are another key; an object's
bounds are its parts' union, as the whole mesh's were."""

from __future__ import annotations

import numpy as np
import pytest
from kept_files import SPOILS
from kept_files import spoil as spoil_file

from scenegen import load_config
from scenegen.cache import kind_dir
from scenegen.labels.objects import object_labels
from scenegen.render import environment, meshes
from scenegen.render.meshes import drawn_arrays, projected_geometry
from scenegen.render.raster import Renderer
from scenegen.render.textures import uv_arrays
from scenegen.world.dictionary import ObjectDictionary, ObjectEntry
from scenegen.world.sampler import Sampler
from scenegen.world.shapes import primitive


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test's own."""
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path))
    return kind_dir(meshes.GEOMETRY_CACHE)


def expected(mesh) -> tuple:
    vertices, faces, normals, uv = uv_arrays(mesh)
    return drawn_arrays(vertices, normals, uv, faces)


def assert_same(found, want) -> None:
    assert len(found) == len(want) == 5
    for array, reference in zip(found, want):
        assert array.dtype == reference.dtype and array.shape == reference.shape
        assert array.tobytes() == reference.tobytes()


def _never(*args, **kwargs):
    raise AssertionError("projected again, not read from the cache folder")


@pytest.mark.parametrize("shape, params", [("box", {"x": 0.3, "y": 0.2, "z": 0.1}), ("cylinder", {"radius": 0.1, "height": 0.3}),
                                           ("sphere", {"radius": 0.2}),
                                           ("torus", {"major_radius": 0.2, "minor_radius": 0.05})])
def test_kept_geometry_is_the_projected_one_and_is_read_back(cache, monkeypatch, shape, params):
    mesh = primitive(shape, params)
    want = expected(mesh)
    assert_same(projected_geometry(mesh), want)
    assert len(list(cache.iterdir())) == 1
    monkeypatch.setattr(meshes, "uv_arrays", _never)
    assert_same(projected_geometry(primitive(shape, params)), want)


@pytest.mark.parametrize("spoil", SPOILS)
def test_a_spoilt_file_is_worked_out_again_the_same(cache, spoil):
    mesh = primitive("cylinder", {"radius": 0.1, "height": 0.3})
    want = expected(mesh)
    projected_geometry(mesh)
    (kept_file,) = cache.iterdir()
    data = kept_file.read_bytes()
    other = primitive("box", {"x": 1.0, "y": 1.0, "z": 1.0})
    spoil_file(kept_file, spoil, lambda: dict(zip(meshes.GEOMETRY_ARRAYS, expected(other))))
    assert_same(projected_geometry(mesh), want)
    assert kept_file.read_bytes() == data  # and kept again, whole


def test_other_vertices_are_another_key(cache):
    mesh = primitive("box", {"x": 0.3, "y": 0.2, "z": 0.1})
    moved = mesh.copy(include_cache=True)
    moved.vertices = mesh.vertices + [0.0, 0.0, 1e-9]
    for variant in (mesh, moved, mesh.copy(include_cache=True)):
        assert_same(projected_geometry(variant), expected(variant))
    assert len(list(cache.iterdir())) == 2


def test_an_object_s_bounds_are_its_parts_union_exactly(cache):
    """build_graph frames shadows on the union of the parts' bounds: for every entry and
    style, bit for bit the bounds of the whole mesh it measured before."""
    dictionary = ObjectDictionary(load_config([]))
    for name in dictionary.names:
        for style in dictionary[name].styles:
            variant = dictionary[name].variant(style)
            whole = projected_geometry(variant.mesh())[4]
            parts = np.array([projected_geometry(part.mesh)[4] for part in variant.parts])
            assert np.array_equal(parts[:, 0].min(axis=0), whole[0]) and np.array_equal(parts[:, 1].max(axis=0), whole[1])


def test_frames_are_the_same_from_a_cold_and_a_warm_cache_folder(cache, monkeypatch):
    """Every layer of realistic scenes (environment skies, textured meshes) drawn by a
    renderer that works its geometry and skies out, then by a fresh one that only reads
    them back."""
    cfg = load_config(["preset=realistic", "width=80", "height=60"])
    dictionary = ObjectDictionary(cfg)
    scenes = [Sampler(cfg, dictionary).sample(i) for i in range(6)]

    def frames() -> list:
        with Renderer(dictionary) as renderer:
            return [renderer.render(scene).layers() for scene in scenes]

    cold = frames()
    assert any(cache.iterdir()) and any(kind_dir(environment.SKY_CACHE).iterdir())
    monkeypatch.setattr(meshes, "uv_arrays", _never)
    monkeypatch.setattr(environment, "cosine_convolved", _never)
    warm = frames()
    for before, after in zip(cold, warm):
        assert before.keys() == after.keys()
        for name in before:
            assert before[name].dtype == after[name].dtype and np.array_equal(before[name], after[name]), name


def test_a_known_dictionary_draws_and_labels_from_the_cache_folder_without_its_shapes(cache, monkeypatch):
    """A dictionary of ``from_config`` has a content key: its shapes' drawn arrays are kept
    under it, and its entries' outlines (parts, looks, extents) with its facts. A renderer
    of a fresh dictionary of the same config then draws and labels every scene without
    building one shape, and every layer and label is as from the shapes themselves."""
    cfg = load_config(["preset=realistic", "width=80", "height=60"])
    monkeypatch.setattr(ObjectDictionary, "_memo", {})
    dictionary = ObjectDictionary.from_config(cfg)
    assert dictionary.content_key is not None
    scenes = [Sampler(cfg, dictionary).sample(i) for i in range(8)]

    def frames_and_labels(made: ObjectDictionary) -> list:
        with Renderer(made) as renderer:
            frames = [renderer.render(scene) for scene in scenes]
        return [(frame.layers(), object_labels(scene, frame, made, cfg.factors)) for scene, frame in zip(scenes, frames)]

    cold = frames_and_labels(dictionary)
    monkeypatch.setattr(ObjectDictionary, "_memo", {})
    fresh = ObjectDictionary.from_config(cfg)
    assert fresh is not dictionary and fresh.content_key == dictionary.content_key
    monkeypatch.setattr(ObjectEntry, "variant", _never)
    warm = frames_and_labels(fresh)
    for (layers, labels), (layers_again, labels_again) in zip(cold, warm):
        assert labels == labels_again
        for name in layers:
            assert np.array_equal(layers[name], layers_again[name]), name


def test_an_outline_is_its_variant_without_the_meshes(monkeypatch):
    """For every entry and style of the built-in dictionary: the outline kept with the
    facts (a fresh dictionary of the same config reads it) names the variant's parts,
    in order, with their looks, and its extents, exactly."""
    cfg = load_config([])
    monkeypatch.setattr(ObjectDictionary, "_memo", {})
    built = ObjectDictionary.from_config(cfg)
    monkeypatch.setattr(ObjectDictionary, "_memo", {})
    known = ObjectDictionary.from_config(cfg)
    checked = looks = 0
    for name in built.names:
        for style in built[name].styles:
            variant, outline = built[name].variant(style), known[name].outline(style)
            assert style in known[name].style_parts  # read from the facts, not built
            assert outline.style == variant.style and outline.extents == variant.extents
            assert [(p.name, p.label, p.index, p.look) for p in outline.parts] == \
                [(p.name, p.label, p.index, p.look) for p in variant.parts]
            checked += 1
            looks += sum(part.look is not None for part in outline.parts)
    assert checked > 30 and looks > 0
