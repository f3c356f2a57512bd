"""What is kept across processes (scenegen.cache) is keyed by everything it is made of, so
a change of any input is never served stale, and what is served is what computing gives:
the dictionary's facts (its shapes are the same, built on first use), the coverage
universe of a world and the feasible tuples of a coverage tracker."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kept_files import spoil as spoil_file

from scenegen import cache, load_config, resources
from scenegen.design import covering, universe
from scenegen.design.covering import TupleSpace
from scenegen.errors import MeshError
from scenegen.world.compile import World
from scenegen.world.dictionary import FACTS_CACHE, ObjectDictionary
from scenegen.world.sampler import Sampler


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """An empty cache folder and no dictionary memoised in this process."""
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(ObjectDictionary, "_memo", {})
    return tmp_path / "cache"


def test_keys_change_with_content_and_a_torn_or_foreign_file_is_missing(folder):
    assert cache.content_key("k", {"a": 1}) == cache.content_key("k", {"a": 1})
    assert cache.content_key("k", {"a": 1}) != cache.content_key("k", {"a": 2}) != cache.content_key("j", {"a": 2})
    key, other = cache.content_key("k", 1), cache.content_key("k", 2)
    cache.store_json("things", key, {"x": [1.5, 2]})
    assert cache.load_json("things", key) == {"x": [1.5, 2], "key": key}
    assert cache.load_json("things", other) is None
    cache.store_bytes("blobs", key, b"\x00\x01")
    assert cache.load_bytes("blobs", key) == b"\x00\x01" and cache.load_bytes("blobs", other) is None
    for path in folder.rglob("*"):
        if path.is_file():
            path.write_bytes(path.read_bytes()[:5])  # torn
    assert cache.load_json("things", key) is None and cache.load_bytes("blobs", key) is None


def test_kept_text_comes_back_whole_or_not_at_all(folder):
    key = cache.content_key("k", "text")
    cache.store_text("texts", key, "a: 1\nb: été\n")
    assert cache.load_text("texts", key) == "a: 1\nb: été\n"
    (kept,) = cache.kind_dir("texts").iterdir()
    whole = kept.read_bytes()
    kept.write_bytes(whole[:-3])  # torn
    assert cache.load_text("texts", key) is None
    kept.write_bytes(whole.replace(b"a: 1", b"a: 2"))  # changed, the same length
    assert cache.load_text("texts", key) is None
    assert cache.load_text("texts", cache.content_key("k", "other")) is None



def _as_source(monkeypatch, number: int) -> str:
    """Make this process scenegen source ``number`` (a fingerprint of its own, its
    generation not opened yet); returns the generation folder's name."""
    fingerprint = f"{number:02d}" * 32
    monkeypatch.setattr(cache, "source_fingerprint", lambda: fingerprint)
    monkeypatch.setattr(cache, "_OPENED", {})
    return cache.GENERATION_PREFIX + fingerprint[:16]


def test_each_source_keeps_its_files_apart_and_only_the_generations_used_last_stay(folder, monkeypatch):
    legacy = folder / "geometry"  # a kind folder of the layout before generations: never read again
    legacy.mkdir(parents=True)
    (legacy / "old.bin").write_bytes(b"x")
    for other in ("configs", "rest", "libraries"):  # the folders with their own keys and pruning stay
        (folder / other).mkdir()
        (folder / other / "kept").write_text("kept")

    def generations() -> set:
        return {path.name for path in folder.glob(cache.GENERATION_PREFIX + "*")}

    names, key = [], cache.content_key("k", 1)
    for number in range(3):  # sources 0, 1, 2: each keeps its own value under the same key
        names.append(_as_source(monkeypatch, number))
        cache.store_json("things", key, {"source": number})
        assert cache.load_json("things", key)["source"] == number
        assert cache.kind_dir("things") == folder / names[-1] / "things"
        assert generations() == set(names)
    assert not legacy.exists()
    assert all((folder / other / "kept").read_text() == "kept" for other in ("configs", "rest", "libraries"))

    _as_source(monkeypatch, 0)  # source 0 used again: now source 1 was used longest ago
    assert cache.load_json("things", key)["source"] == 0
    names.append(_as_source(monkeypatch, 3))
    assert cache.load_json("things", key) is None  # a new source reads nothing of the others
    cache.store_json("things", key, {"source": 3})
    assert generations() == {names[0], names[2], names[3]}
    assert cache.prune_generations(folder, keep=1) == [folder / names[0], folder / names[2]]  # the later used first
    assert generations() == {names[3]} and cache.load_json("things", key)["source"] == 3


def test_a_removed_generation_costs_its_process_time_only(folder, monkeypatch):
    key = cache.content_key("k", 2)
    cache.store_bytes("blobs", key, b"data")
    shutil.rmtree(cache.kind_dir("blobs").parent)  # another process pruned it meanwhile
    assert cache.load_bytes("blobs", key) is None
    cache.store_bytes("blobs", key, b"data")  # kept again
    assert cache.load_bytes("blobs", key) == b"data"
    blocked = folder.parent / "a-file"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("SCENEGEN_CACHE", str(blocked))
    cache.store_bytes("blobs", key, b"data")  # nothing kept, no error
    assert cache.load_bytes("blobs", key) is None

_DTYPES = st.sampled_from(["<f8", "<f4", ">f8", "<f2", "<i4", ">i2", "<u8", "|u1", "|i1", "|b1", "<c16"])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
                       _DTYPES.flatmap(lambda dtype: hnp.arrays(np.dtype(dtype), hnp.array_shapes(min_dims=0, max_dims=3,
                                                                                               min_side=0, max_side=5))),
                       min_size=1, max_size=5),
       st.integers(min_value=1, max_value=10_000))
def test_packed_arrays_come_back_bit_for_bit_and_a_torn_file_is_none(arrays, cut):
    data = cache.pack_arrays(**arrays)
    back = cache.unpack_arrays(data, tuple(arrays))
    for found, array in zip(back, arrays.values()):
        assert found.dtype == array.dtype and found.shape == array.shape
        assert found.tobytes() == array.tobytes()  # bits (NaNs too)
        assert found.flags.writeable
    assert cache.unpack_arrays(data, ("not-there",)) is None
    assert cache.unpack_arrays(data[:-min(cut, len(data))], tuple(arrays)) is None  # torn
    assert cache.unpack_arrays(data + b"\0" * cut, tuple(arrays)) is None  # not what was written
    assert cache.unpack_arrays(b"PK\x03\x04" + data, tuple(arrays)) is None


def test_the_source_fingerprint_follows_the_source(tmp_path, monkeypatch):
    (tmp_path / "module.py").write_text("A = 1\n")
    monkeypatch.setattr(cache, "_PACKAGE", tmp_path)
    cache.source_fingerprint.cache_clear()
    try:
        first = cache.source_fingerprint()
        (tmp_path / "module.py").write_text("A = 2\n")
        cache.source_fingerprint.cache_clear()
        assert cache.source_fingerprint() != first
    finally:
        cache.source_fingerprint.cache_clear()


def _shapes(dictionary: ObjectDictionary) -> dict:
    """Entry -> its size and, per style, the extents and each part's vertices, normals and faces."""
    found = {}
    for name in dictionary.names:
        entry = dictionary[name]
        found[name] = (entry.size, {style: (entry.extents(style), [
            (part.name, part.mesh.vertices.tobytes(), part.mesh.vertex_normals.tobytes(), part.mesh.faces.tobytes())
            for part in entry.variant(style).parts]) for style in entry.styles})
    return found


def test_known_facts_give_the_same_shapes_and_a_changed_mesh_file_new_facts(folder, tmp_path):
    path = tmp_path / "thing.ply"
    shutil.copy(resources.assets_dir() / "meshes" / "mug.ply", path)
    cfg = load_config([f"objects.bottle_mesh.mesh={path}"])
    eager = ObjectDictionary(cfg)  # no facts: everything read and built at load
    ObjectDictionary.from_config(cfg)  # keeps the facts
    assert len(list(cache.kind_dir(FACTS_CACHE).glob("*.json"))) == 1
    ObjectDictionary._memo.clear()
    known = ObjectDictionary.from_config(cfg)
    assert all(not known[name]._variants for name in known.names)  # nothing built at load
    assert known["bottle_mesh"].extents() == eager["bottle_mesh"].extents()
    assert not known["bottle_mesh"]._variants  # the extents were known
    assert _shapes(known) == _shapes(eager)

    shutil.copy(resources.assets_dir() / "meshes" / "bottle.ply", path)  # other bytes, same path
    ObjectDictionary._memo.clear()
    changed = ObjectDictionary.from_config(load_config([f"objects.bottle_mesh.mesh={path}"]))
    assert changed["bottle_mesh"].extents() != eager["bottle_mesh"].extents()
    assert _shapes(changed) == _shapes(ObjectDictionary(cfg))
    assert len(list(cache.kind_dir(FACTS_CACHE).glob("*.json"))) == 2


def test_placing_with_known_facts_builds_no_shape_it_only_measures(folder):
    """Sampling needs an upright object's extents, not its mesh: with the facts kept, the
    scenes are those of a dictionary built eagerly, and shapes are built only where a
    mesh is needed (a support's top, a lying object's rest)."""
    cfg = load_config(["n=40"])
    eager = ObjectDictionary(cfg)
    ObjectDictionary.from_config(cfg)  # keeps the facts
    ObjectDictionary._memo.clear()
    known = ObjectDictionary.from_config(cfg)
    for name in known.names:
        for style in known[name].styles:
            assert known[name].shape_extents(style) == eager[name].variant(style).extents  # bit for bit
    assert all(not known[name]._variants for name in known.names)  # measured, not built
    scenes = [Sampler(cfg, known).sample(i) for i in range(40)]
    assert scenes == [Sampler(cfg, eager).sample(i) for i in range(40)]
    placed = {(obj.entry, obj.style) for scene in scenes for obj in scene.objects}
    built = {(name, style) for name in known.names for style in known[name]._variants}
    assert built < placed  # some placed shapes were never built


def test_a_mesh_file_changed_after_load_is_refused_not_mixed_with_its_old_facts(folder, tmp_path):
    path = tmp_path / "thing.ply"
    shutil.copy(resources.assets_dir() / "meshes" / "mug.ply", path)
    cfg = load_config([f"objects.bottle_mesh.mesh={path}"])
    ObjectDictionary.from_config(cfg)
    ObjectDictionary._memo.clear()
    known = ObjectDictionary.from_config(cfg)
    shutil.copy(resources.assets_dir() / "meshes" / "bottle.ply", path)
    with pytest.raises(MeshError, match="changed after its dictionary was loaded"):
        known["bottle_mesh"].variant()


def test_a_kept_universe_and_feasible_mask_are_the_computed_ones(folder, monkeypatch):
    world = World.of(load_config(["seed=5"]))
    assert world.content_key == World.of(load_config(["seed=5", "out=elsewhere", "n=3", "workers=2"])).content_key
    assert world.content_key != World.of(load_config(["seed=6"])).content_key
    levels, forbidden = universe.coverage_universe(world)
    for _ in range(2):  # computed and kept, then read
        kept_levels, kept_forbidden = universe._kept_universe(world)
        assert list(kept_levels.items()) == list(levels.items())
        assert [list(item.items()) for item in kept_forbidden] == [list(item.items()) for item in forbidden]
    assert len(list(cache.kind_dir(universe.UNIVERSE_CACHE).glob("*.json"))) == 1

    computed = TupleSpace(levels, 2, forbidden)
    assert computed.constrained
    monkeypatch.setattr(covering, "KEEP_FEASIBLE_SECONDS", 0.0)
    TupleSpace(levels, 2, forbidden, kept=True)  # found and kept
    monkeypatch.setattr(TupleSpace, "_feasible_mask", lambda self: pytest.fail("searched again"))
    read = TupleSpace(levels, 2, forbidden, kept=True)
    np.testing.assert_array_equal(read.feasible, computed.feasible)
    assert read.feasible.dtype == computed.feasible.dtype


def test_a_kept_part_list_is_the_composed_one_bit_for_bit(folder):
    """compose_parts reads a part list composed before from one file: the meshes are the
    ones composing gives (every array a renderer or the labels read), and a torn file is
    composed again."""
    from scenegen.world.shapes import COMPOSED_CACHE, compose_parts

    parts = [
        {"name": "seat", "shape": "box", "params": {"x": 0.5, "y": 0.4, "z": 0.05}, "position": [0, 0, 0.45]},
        {"name": "leg", "shape": "cylinder", "params": {"radius": 0.02, "height": 0.45},
         "position": [0.2, 0.15, 0.22], "rotation": [3.0, -4.0, 30.0]},
        {"name": "knob", "shape": "torus", "params": {"major_radius": 0.05, "minor_radius": 0.01},
         "position": [0, 0.1, 0.6], "rotation": [90.0, 0.0, 12.5]},
    ]

    def arrays(placed):
        return [(name, [np.asarray(getattr(mesh, attribute)).tobytes() for attribute in
                        ("vertices", "faces", "vertex_normals", "face_normals", "bounds")]) for name, mesh in placed]

    composed = arrays(compose_parts(parts))
    (kept_file,) = cache.kind_dir(COMPOSED_CACHE).iterdir()
    assert arrays(compose_parts(parts)) == composed  # read from the file
    data = kept_file.read_bytes()
    spoil_file(kept_file, "torn", dict)
    assert arrays(compose_parts(parts)) == composed
    assert kept_file.read_bytes() == data  # composed again and kept whole
    moved = [dict(parts[0]), *parts[1:]]
    moved[0]["position"] = [0, 0, 0.46]
    assert arrays(compose_parts(moved))[0] != composed[0]  # another list, another key
    assert len(list(cache.kind_dir(COMPOSED_CACHE).iterdir())) == 2


def test_array_digest_names_dtype_shape_and_bytes():
    values = np.arange(12, dtype=np.float32)
    assert cache.array_digest(values) == cache.array_digest(values.copy())
    assert cache.array_digest(values[::2]) == cache.array_digest(np.ascontiguousarray(values[::2]))  # strided: its values
    others = [values.reshape(3, 4), values.view(np.int32), values.astype(np.float64), values[:11]]
    digests = {cache.array_digest(values), *(cache.array_digest(other) for other in others)}
    assert len(digests) == 1 + len(others)
    assert cache.array_digest(values, values) != cache.array_digest(values)
    assert cache.array_digest(np.zeros((0, 3))) != cache.array_digest(np.zeros((3, 0)))  # empty arrays too
