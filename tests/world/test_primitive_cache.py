"""Tessellated primitives kept in the cache folder (scenegen.world.shapes.primitive):
what comes back is bit for bit what is worked out; a torn or foreign file is worked out
again; other params are another key."""

import numpy as np
import pytest

from scenegen import cache
from scenegen.world import shapes

CASES = [("box", {"x": 0.3, "y": 0.2, "z": 0.1}), ("cylinder", {"radius": 0.1, "height": 0.3}),
         ("sphere", {"radius": 0.12}), ("cone", {"radius": 0.1, "height": 0.2}),
         ("capsule", {"radius": 0.05, "height": 0.3}), ("torus", {"major_radius": 0.1, "minor_radius": 0.02}),
         ("vessel", {"radius": 0.05, "bottom_radius": 0.04, "height": 0.1, "thickness": 0.005})]


def arrays(mesh) -> list[np.ndarray]:
    return [np.asarray(getattr(mesh, name)) for name in ("vertices", "faces", "vertex_normals", "face_normals")]


def assert_same(a, b) -> None:
    for x, y in zip(arrays(a), arrays(b)):
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


@pytest.mark.parametrize("shape, params", CASES, ids=[c[0] for c in CASES])
def test_a_kept_primitive_is_the_computed_one_bit_for_bit(tmp_path, monkeypatch, shape, params):
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path))
    computed = shapes.primitive(shape, params)
    kept_files = list(cache.kind_dir(shapes.PRIMITIVE_CACHE).iterdir())
    assert len(kept_files) == 1
    assert_same(shapes.primitive(shape, params), computed)  # from the file
    kept_files[0].write_bytes(kept_files[0].read_bytes()[:-40])  # torn: worked out again, same arrays
    assert_same(shapes.primitive(shape, params), computed)
    other = shapes.primitive(shape, {k: v * 1.5 for k, v in params.items()})
    assert not np.array_equal(np.asarray(other.vertices), np.asarray(computed.vertices))
    assert len(list(cache.kind_dir(shapes.PRIMITIVE_CACHE).iterdir())) == 2


def test_a_kept_primitive_is_a_new_mesh_each_time(tmp_path, monkeypatch):
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path))
    first = shapes.primitive("box", {"x": 1.0, "y": 1.0, "z": 1.0})
    first.apply_translation([5.0, 0.0, 0.0])  # a caller moving its copy changes no other
    again = shapes.primitive("box", {"x": 1.0, "y": 1.0, "z": 1.0})
    assert np.allclose(again.bounds.mean(axis=0), 0.0)
