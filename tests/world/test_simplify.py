"""meshes.simplify: a mesh file over meshes.max_faces is decimated to the budget instead
of refused (entries and libraries alike), keeps its shape, and is recorded; files that
carry a look, or are far over the budget, are still refused with the reason."""

import numpy as np
import pytest
import trimesh

from scenegen import load_config
from scenegen.dataset.shards import data_config
from scenegen.errors import MeshError
from scenegen.world import shapes
from scenegen.world.dictionary import ObjectDictionary
from scenegen.world.libraries import load_library

BUDGET = 1000


@pytest.fixture
def dense(tmp_path):
    """A sphere of 5,120 triangles (radius 0.1 m) in a PLY file."""
    path = tmp_path / "dense.ply"
    trimesh.creation.icosphere(4, 0.1).export(path)
    return path


def _entry(path, *extra):
    return ObjectDictionary(load_config([f"objects.bottle_mesh.mesh={path}", f"meshes.max_faces={BUDGET}", *extra]))


def test_over_the_budget_is_refused_naming_the_switch(dense):
    with pytest.raises(MeshError, match="meshes.simplify=true"):
        _entry(dense)


def test_simplify_decimates_to_the_budget_and_keeps_the_shape(dense):
    mesh = _entry(dense, "meshes.simplify=true")["bottle_mesh"].variant().mesh()
    assert BUDGET * 0.9 <= len(mesh.faces) <= BUDGET
    # canonical frame: largest extent 1; a sphere stays a sphere (every vertex on it)
    centre = np.array([0.0, 0.0, 0.5])
    radii = np.linalg.norm(np.asarray(mesh.vertices) - centre, axis=1)
    assert np.allclose(np.ptp(mesh.vertices, axis=0), 1.0, atol=0.02)
    assert radii.min() > 0.47 and radii.max() < 0.51
    again = _entry(dense, "meshes.simplify=true")["bottle_mesh"].variant().mesh()
    np.testing.assert_array_equal(again.vertices, mesh.vertices)  # deterministic


def test_a_file_with_a_look_or_far_over_the_budget_is_still_refused(tmp_path, dense):
    coloured = trimesh.creation.icosphere(4, 0.1)
    coloured.visual.vertex_colors = np.tile([200, 30, 30, 255], (len(coloured.vertices), 1))
    coloured.export(tmp_path / "red.ply")
    with pytest.raises(MeshError, match="vertex colours, which decimation would not keep"):
        _entry(tmp_path / "red.ply", "meshes.simplify=true")
    with pytest.raises(MeshError, match=r"more than the 1,000 that meshes.simplify decimates \(20x"):
        ObjectDictionary(load_config([f"objects.bottle_mesh.mesh={dense}", "meshes.max_faces=50",
                                      "meshes.simplify=true"]))


def test_without_the_package_the_error_says_what_to_install(dense, monkeypatch):
    def missing(self, **kwargs):
        raise ImportError("No module named 'fast_simplification'")

    monkeypatch.setattr(trimesh.Trimesh, "simplify_quadric_decimation", missing)
    with pytest.raises(MeshError, match=r"pip install 'scenegen\[simplify\]'"):
        shapes.load_mesh_file(dense, BUDGET, simplify=True)


def test_a_library_decimates_its_dense_files(tmp_path, monkeypatch):
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path / "cache"))
    (tmp_path / "lib" / "ball").mkdir(parents=True)
    trimesh.creation.icosphere(4, 0.1).export(tmp_path / "lib" / "ball" / "dense.ply")
    trimesh.creation.icosphere(1, 0.1).export(tmp_path / "lib" / "ball" / "light.ply")
    library = {"path": str(tmp_path / "lib")}
    assets, report = load_library("lib", library, ["ball"], BUDGET)
    assert [a.name for a in assets] == ["lib:ball/light.ply"] and "ball/dense.ply" in report.skipped
    assets, report = load_library("lib", library, ["ball"], BUDGET, simplify=True)
    assert sorted(a.name for a in assets) == ["lib:ball/dense.ply", "lib:ball/light.ply"]
    dense = next(a for a in assets if a.name.endswith("dense.ply"))
    assert len(dense.load()[0].faces) <= BUDGET and report.skipped == {}


def test_simplify_is_recorded_only_when_on():
    assert "meshes" not in data_config(load_config())  # a budget alone never changes a scene
    assert data_config(load_config(["meshes.simplify=true", "meshes.max_faces=500"]))["meshes"] == {
        "max_faces": 500, "simplify": True}
