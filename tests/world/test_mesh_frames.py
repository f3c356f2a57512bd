"""The placement keys of mesh-file entries (``up``, ``front``, ``transform`` or
``rotation`` + ``translation``, ``units``): files written with trimesh in other
conventions load into the object frame (z up, front +x, base centred on z = 0)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import trimesh
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from scenegen import load_config
from scenegen.cli import main
from scenegen.config.mesh_frame import axis_rotation, axis_vector, euler_matrix, file_to_object
from scenegen.config.schema import MESH_AXES
from scenegen.errors import EXIT_INPUT, ConfigError
from scenegen.world.dictionary import ObjectDictionary

PAIRS = [(u, f) for u, f in itertools.product(MESH_AXES, MESH_AXES) if u[-1] != f[-1]]
# the model in the object frame (metres): a 1 m tall box, 0.2 deep (x) and 0.25 wide (y),
# with a 0.1 m bump on its front (+x) face
HEIGHT, DEPTH, WIDTH, BUMP = 1.0, 0.2, 0.25, 0.1


def model() -> trimesh.Trimesh:
    body = trimesh.creation.box(extents=(DEPTH, WIDTH, HEIGHT))
    body.apply_translation([0, 0, HEIGHT / 2])
    bump = trimesh.creation.box(extents=(BUMP, BUMP, BUMP))
    bump.apply_translation([DEPTH / 2 + BUMP / 2, 0, 0.6])
    return trimesh.util.concatenate([body, bump])


def expected_canonical() -> np.ndarray:
    """The model's vertices in the canonical frame (base centred at 0, largest extent 1)."""
    vertices = np.asarray(model().vertices)
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    offset = np.array([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2, low[2]])
    return (vertices - offset) / (high - low).max()


def write(path, up="z", front="x", metres_per_unit=1.0, first=None):
    """The model as the file ``path`` stores it: its up along ``up``, its front along
    ``front``, in units of ``metres_per_unit``, ``first`` (4x4) undone."""
    mesh = model()
    to_file = np.eye(4)
    to_file[:3, :3] = axis_rotation(up, front).T / metres_per_unit
    if first is not None:
        to_file = np.linalg.inv(first) @ to_file
    mesh.apply_transform(to_file)
    mesh.export(str(path))
    return path


def assert_same_points(actual, expected, atol: float) -> None:
    """The two vertex sets are equal up to ``atol`` (order and duplicates differ after
    crease splitting; GLB stores float32)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert cKDTree(expected).query(actual)[0].max() <= atol
    assert cKDTree(actual).query(expected)[0].max() <= atol


def entry(overrides):
    cfg = load_config([f"objects.bottle_mesh.{o}" for o in overrides])
    return ObjectDictionary(cfg)["bottle_mesh"]


def assert_stands(item):
    """The loaded shape is the model in the canonical frame: tallest along z, bump +x,
    base on z = 0, centred in x and y."""
    mesh = item.variant().mesh()
    assert_same_points(mesh.vertices, expected_canonical(), atol=1e-6)
    low, high = mesh.bounds
    assert np.argmax(high - low) == 2 and low[2] == pytest.approx(0, abs=1e-9)
    np.testing.assert_allclose((low + high)[:2] / 2, 0, atol=1e-9)
    front = mesh.vertices[mesh.vertices[:, 0] > high[0] - 1e-9]
    assert np.abs(front[:, 1]).max() <= BUMP / 2 / HEIGHT + 1e-6  # only the bump reaches +x


def test_glb_is_y_up_by_default(tmp_path):
    """trimesh loads a glTF file's coordinates as stored (Y-up): with no key, the
    entry still stands."""
    path = write(tmp_path / "thing.glb", up="y")
    loaded = trimesh.load(str(path), force="mesh", process=False)
    assert np.argmax(np.ptp(loaded.vertices, axis=0)) == 1  # trimesh did not turn it Z-up
    assert_stands(entry([f"mesh={path}"]))


def test_obj_is_z_up_by_default(tmp_path):
    assert_stands(entry([f"mesh={write(tmp_path / 'thing.obj')}"]))


def test_ply_with_minus_y_up_and_a_front(tmp_path):
    path = write(tmp_path / "thing.ply", up="-y", front="z")
    assert_stands(entry([f"mesh={path}", "up=-y", "front=z"]))
    with pytest.raises(AssertionError):  # without the keys it lies on its side
        assert_stands(entry([f"mesh={path}"]))


def test_units_keep_the_file_size_in_metres(tmp_path):
    path = write(tmp_path / "thing.glb", up="y", metres_per_unit=0.01)  # 100 units tall
    item = entry([f"mesh={path}", "units=cm", "size=[0.3,0.6]"])
    assert_stands(item)
    assert item.size == pytest.approx((HEIGHT, HEIGHT), abs=1e-6)
    mm = entry([f"mesh={write(tmp_path / 'mm.obj', metres_per_unit=0.001)}", "units=mm", "size=[0.3,0.6]"])
    assert mm.size == pytest.approx((HEIGHT, HEIGHT), abs=1e-6)
    # without units the size range scales it as before
    assert entry([f"mesh={path}"]).size == tuple(load_config().objects.bottle_mesh.size)


def test_transform_is_applied_first(tmp_path):
    first = euler_matrix([30, -20, 75], [5, -3, 2])
    first[:3, :3] *= 2.5  # a uniform scale is allowed
    path = write(tmp_path / "thing.glb", up="y", first=first)
    assert_stands(entry([f"mesh={path}", f"transform={first.tolist()}"]))
    rotated = write(tmp_path / "rotated.obj", first=euler_matrix([30, -20, 75], [1, 2, 3]))
    assert_stands(entry([f"mesh={rotated}", "rotation=[30,-20,75]", "translation=[1,2,3]"]))
    assert_stands(entry([f"mesh={rotated}", "rotation=[30,-20,75]"]))  # the base is centred anyway


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PAIRS), st.sampled_from([None, "m", "cm", "mm"]))
def test_every_axis_pair_gives_a_proper_rotation(pair, units):
    up, front = pair
    rotation = axis_rotation(up, front)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    np.testing.assert_allclose(rotation @ axis_vector(up), [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(rotation @ axis_vector(front), [1, 0, 0], atol=1e-12)
    matrix, metres = file_to_object({"mesh": "a.ply", "up": up, "front": front, "units": units}, "objects.a")
    scale = metres or 1.0
    np.testing.assert_allclose(matrix[:3, :3], scale * rotation, atol=1e-12)
    # the model stored that way comes back standing, front +x
    mesh = model()
    stored = np.eye(4)
    stored[:3, :3] = rotation.T / scale
    mesh.apply_transform(stored)
    mesh.apply_transform(matrix)
    assert_same_points(mesh.vertices, model().vertices, atol=1e-9)


def test_all_24_pairs_and_only_those_are_valid():
    assert len(PAIRS) == 24
    for up, front in itertools.product(MESH_AXES, MESH_AXES):
        if (up, front) in PAIRS:
            axis_rotation(up, front)
        else:
            with pytest.raises(ConfigError, match="perpendicular"):
                axis_rotation(up, front)


@pytest.mark.parametrize("overrides, words", [
    (["up=q"], ["objects.bottle_mesh.up", "'q'", "'-x'", "'z'"]),
    (["front=sideways"], ["objects.bottle_mesh.front", "valid"]),
    (["units=inch"], ["objects.bottle_mesh.units", "'cm'", "'m'", "'mm'"]),
    (["up=z", "front=-z"], ["objects.bottle_mesh.front", "perpendicular", "'x'", "'-y'"]),
    (["front=y"], ["objects.bottle_mesh.front", "default 'y' for this file"]),  # a .glb: y up
    (["transform=[[1,0,0,0],[0,1,0,0],[0,0,-1,0],[0,0,0,1]]"], ["objects.bottle_mesh.transform", "determinant"]),
    (["transform=[[1,0,0,0],[0,2,0,0],[0,0,1,0],[0,0,0,1]]"], ["objects.bottle_mesh.transform", "uniform scale"]),
    (["transform=[[1,0.5,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]"], ["objects.bottle_mesh.transform", "shears"]),
    (["transform=[[1,0,0],[0,1,0],[0,0,1]]"], ["objects.bottle_mesh.transform", "4x4"]),
    (["transform=[[1,0,0,0],[0,1,0,0],[0,0,1,0],[1,0,0,1]]"], ["objects.bottle_mesh.transform", "last row"]),
    (["transform=[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,0,1]]", "rotation=[0,0,90]"], ["objects.bottle_mesh", "not both"]),
    (["rotation=[0,90]"], ["objects.bottle_mesh.rotation", "3 finite numbers"]),
    (["units=cm", "size=[1,2]"], ["'units'", "'size'", "not both"]),
])
def test_invalid_keys_name_the_key_and_choices(tmp_path, overrides, words):
    path = write(tmp_path / "thing.glb", up="y")
    with pytest.raises(ConfigError) as caught:
        load_config([f"objects.bottle_mesh.mesh={path}"] + [f"objects.bottle_mesh.{o}" for o in overrides])
    for word in words:
        assert word in str(caught.value)


def test_keys_belong_to_mesh_entries():
    with pytest.raises(ConfigError, match=r"objects\.ball\.up applies to a mesh-file entry only"):
        load_config(["objects.ball.up=y"])


def test_cli_exits_2_on_a_bad_key(tmp_path, capsys):
    status = main(["generate", f"out={tmp_path / 'out'}", "n=1", "objects.bottle_mesh.up=sideways"])
    assert status == EXIT_INPUT
    assert "objects.bottle_mesh.up" in capsys.readouterr().err


def test_a_y_up_glb_stands_in_a_render(tmp_path):
    """Seen from the front, the object's instance mask is taller than wide; read Z-up
    (the old behaviour), the same file lies on its side and is wider than tall."""
    from studio import lone_scene, make_camera, make_object

    from scenegen.render.raster import Renderer

    path = write(tmp_path / "thing.glb", up="y")
    spans = {}
    for up in ("y", "z"):
        dictionary = ObjectDictionary(load_config([f"objects.bottle_mesh.mesh={path}", f"objects.bottle_mesh.up={up}"]))
        camera = make_camera((3.0, 0.0, 0.3), (0.0, 0.0, 0.3), 64, 64)
        scene = lone_scene(make_object(dictionary, "bottle_mesh", scale=0.6), camera)
        with Renderer(dictionary) as renderer:
            frame = renderer.render(scene)
        v, u = np.nonzero(frame.instances == 1)
        spans[up] = (np.ptp(v) + 1, np.ptp(u) + 1)  # (rows, columns)
    assert spans["y"][0] > 2 * spans["y"][1]
    assert spans["z"][0] < spans["z"][1]
