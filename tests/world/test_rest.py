"""Tests of scenegen.world.rest: rest states of canonical meshes, their levels and
probabilities, on analytic shapes, random convex shapes and every built-in shape."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import trimesh
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scenegen.errors import MeshError
from scenegen.world import rest
from scenegen.world.rest import (
    LEVELS,
    RestState,
    check_stable,
    clear_cache,
    level_of,
    posed_mesh,
    rest_states,
    rotation_to_down,
)


def canonical(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """``mesh`` with its base on z = 0 and its bounding box centred in x and y."""
    low, high = mesh.bounds
    mesh = mesh.copy()
    mesh.apply_translation([-(low[0] + high[0]) / 2, -(low[1] + high[1]) / 2, -low[2]])
    return mesh


def box(x, y, z):
    return canonical(trimesh.creation.box([x, y, z]))


def by_level(states) -> dict:
    return {s.level: s for s in states}


def square_solid_angle(side: float, distance: float) -> float:
    """Solid angle of a square of side ``side`` seen from ``distance`` above its centre."""
    a = side * side
    return 4.0 * math.asin(a / (a + 4.0 * distance * distance))


def check_state(mesh, state: RestState, *, min_margin: float = 1e-3) -> None:
    """What every returned state must satisfy."""
    rotation = np.array(state.rotation)
    assert rotation.shape == (3, 3)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(rotation @ np.array(state.down), [0.0, 0.0, -1.0], atol=1e-12)
    assert state.level in LEVELS
    assert 0.0 < state.probability <= 1.0 + 1e-12
    posed = posed_mesh(mesh, state)
    z = posed.vertices[:, 2]
    assert abs(z.min()) <= 1e-9
    hull = posed.convex_hull.vertices
    touching = hull[np.abs(hull[:, 2]) <= 1e-6]
    assert len(touching) >= 3  # on a face, not on a point or an edge
    spread = touching[:, :2] - touching[:, :2].mean(axis=0)
    assert np.linalg.matrix_rank(spread, tol=1e-9) == 2
    margin = check_stable(mesh, state)
    assert margin > min_margin
    assert margin == pytest.approx(state.stability_margin, abs=1e-7)
    assert state.support_area > 0.0


# ---------------------------------------------------------------------------- analytic shapes


def test_unit_cube():
    cube = box(1, 1, 1)
    states = rest_states(cube, 4)
    levels = by_level(states)
    assert set(levels) == {"upright", "upside-down", "on-side"}
    assert [s.level for s in states][0] == "on-side"  # most probable first
    assert levels["upright"].probability == pytest.approx(1 / 6, abs=1e-9)
    assert levels["upside-down"].probability == pytest.approx(1 / 6, abs=1e-9)
    assert levels["on-side"].probability == pytest.approx(4 / 6, abs=1e-9)
    for state in states:
        assert state.stability_margin == pytest.approx(0.5, abs=1e-9)
        assert state.support_area == pytest.approx(1.0, abs=1e-9)
        check_state(cube, state)
    assert levels["upright"].rotation == ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    assert levels["upright"].offset == (0.0, 0.0, 0.0)
    # upside-down on exactly +z: a half turn about x, the front stays at +x
    np.testing.assert_allclose(levels["upside-down"].rotation, np.diag([1.0, -1.0, -1.0]), atol=1e-15)
    # on-side rests on an axis-aligned face: yaw left free, no needless turn
    assert max(abs(c) for c in levels["on-side"].down) == pytest.approx(1.0, abs=1e-12)


def test_tall_box_lies_on_its_side_and_upright_is_kept():
    tall = box(0.2, 0.2, 1.0)
    levels = by_level(rest_states(tall, 4, min_probability=0.0))
    assert set(levels) == {"upright", "upside-down", "on-side"}
    assert levels["upright"].probability < 0.05 and levels["upside-down"].probability < 0.05
    assert levels["on-side"].probability > 0.9
    end = square_solid_angle(0.2, 0.5) / (4 * math.pi)
    assert levels["upright"].probability == pytest.approx(end, abs=1e-9)
    # with the default cut (2%) upside-down goes, upright stays: objects are made to stand
    default = rest_states(tall, 4)
    assert [s.level for s in default] == ["on-side", "upright"]
    assert by_level(default)["upright"].probability == pytest.approx(end, abs=1e-9)
    # and it stays even when only one state may be kept
    assert [s.level for s in rest_states(tall, 4, max_states=1)] == ["upright"]
    assert [s.level for s in rest_states(tall, 4, max_states=2, min_probability=0.0)] == ["on-side", "upright"]


def test_flat_box_lies_on_either_face():
    flat = box(1.0, 1.0, 0.1)
    levels = by_level(rest_states(flat, 4))
    face = square_solid_angle(1.0, 0.05) / (4 * math.pi)  # 0.455
    assert levels["upright"].probability == pytest.approx(face, abs=1e-9)
    assert levels["upside-down"].probability == pytest.approx(face, abs=1e-9)
    assert abs(levels["upright"].probability - 0.5) < 0.05
    assert levels["on-side"].stability_margin == pytest.approx(0.05, abs=1e-9)
    assert sum(s.probability for s in levels.values()) == pytest.approx(1.0, abs=1e-12)


def test_cylinder():
    cylinder = canonical(trimesh.creation.cylinder(radius=0.5, height=1.0, sections=32))
    states = rest_states(cylinder, 0)
    levels = by_level(states)
    assert set(levels) == {"upright", "upside-down", "on-side"}
    assert levels["upright"].probability == pytest.approx(levels["upside-down"].probability, abs=1e-9)
    assert levels["on-side"].probability > levels["upright"].probability
    assert sum(s.probability for s in states) == pytest.approx(1.0, abs=1e-12)
    side = levels["on-side"].down
    assert side[2] == pytest.approx(0.0, abs=1e-12)
    # of 32 equally likely side faces (none facing an axis), the one nearest an axis represents them
    assert max(abs(c) for c in side) == pytest.approx(math.cos(math.pi / 32), abs=1e-9)
    assert np.array_equal(levels["upright"].rotation, np.eye(3))
    for state in states:
        check_state(cylinder, state)


def test_cone_rests_on_its_base_or_its_slanted_surface():
    tall = canonical(trimesh.creation.cone(radius=0.5, height=1.0, sections=32))  # half-angle 26.6 deg
    squat = canonical(trimesh.creation.cone(radius=1.0, height=0.5, sections=32))  # half-angle 63.4 deg
    tall_levels = by_level(rest_states(tall, 0))
    squat_levels = by_level(rest_states(squat, 0))
    # lying on the slant, down is 90 + half-angle from -z: within 30 deg of horizontal is on-side
    assert set(tall_levels) == {"upright", "on-side"}
    assert set(squat_levels) == {"upright", "tilted"}
    theta = math.degrees(math.acos(-tall_levels["on-side"].down[2]))
    assert theta == pytest.approx(90 + math.degrees(math.atan(0.5)), abs=0.5)
    for mesh, levels in ((tall, tall_levels), (squat, squat_levels)):
        assert sum(s.probability for s in levels.values()) == pytest.approx(1.0, abs=1e-12)
        assert np.array_equal(levels["upright"].rotation, np.eye(3))
        for state in levels.values():
            check_state(mesh, state)


def test_sphere_is_one_upright_state():
    sphere = canonical(trimesh.creation.icosphere(subdivisions=3, radius=0.5))
    states = rest_states(sphere, 0)
    assert len(states) == 1
    (state,) = states
    assert state.level == "upright" and state.probability == 1.0
    assert -state.down[2] > math.cos(math.radians(10))  # the facet nearest -z
    check_state(sphere, state)


def test_symmetry_merges_horizontal_levels():
    shape = box(1.0, 0.8, 0.6)
    one, two, four = (by_level(rest_states(shape, s, min_probability=0.0)) for s in (1, 2, 4))
    assert set(one) == {"upright", "upside-down", "on-front", "on-back", "on-side"}
    assert set(two) == {"upright", "upside-down", "on-front", "on-side"}
    assert set(four) == set(by_level(rest_states(shape, 0, min_probability=0.0))) == {
        "upright", "upside-down", "on-side"}
    assert len(one) >= len(two) >= len(four)
    assert two["on-front"].probability == pytest.approx(one["on-front"].probability + one["on-back"].probability)
    assert four["on-side"].probability == pytest.approx(
        one["on-front"].probability + one["on-back"].probability + one["on-side"].probability)
    for levels in (one, two, four):
        assert sum(s.probability for s in levels.values()) == pytest.approx(1.0, abs=1e-12)
    # on-front: the front (+x) faces the ground; on-back: -x
    assert one["on-front"].down == pytest.approx((1.0, 0.0, 0.0), abs=1e-12)
    assert one["on-back"].down == pytest.approx((-1.0, 0.0, 0.0), abs=1e-12)
    assert abs(one["on-side"].down[1]) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("down, symmetry, level", [
    ((0, 0, -1), 1, "upright"),
    ((math.sin(math.radians(9)), 0, -math.cos(math.radians(9))), 1, "upright"),
    ((math.sin(math.radians(11)), 0, -math.cos(math.radians(11))), 1, "tilted"),
    ((0, 0, 1), 4, "upside-down"),
    ((1, 0, 0), 1, "on-front"),
    ((-1, 0, 0), 1, "on-back"),
    ((0, 1, 0), 1, "on-side"),
    ((0, -1, 0), 1, "on-side"),
    ((-1, 0, 0), 2, "on-front"),
    ((0, 1, 0), 2, "on-side"),
    ((1, 0, 0), 4, "on-side"),
    ((-1, 0, 0), 0, "on-side"),
    ((1, 1, 0), 8, "on-side"),
    ((1, 0.9, 0), 1, "on-front"),
    ((1, 0, math.tan(math.radians(29))), 1, "on-front"),
    ((1, 0, math.tan(math.radians(31))), 1, "tilted"),
    ((1, 0, -math.tan(math.radians(31))), 0, "tilted"),
])
def test_level_of(down, symmetry, level):
    assert level_of(down, symmetry) == level


@settings(max_examples=100, deadline=None)
@given(st.tuples(*[st.floats(-1, 1, allow_nan=False)] * 3))
def test_rotation_to_down_is_proper_and_turns_down_to_minus_z(vector):
    v = np.array(vector)
    assume(np.linalg.norm(v) > 1e-3)
    rotation = rotation_to_down(v)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0, abs=1e-12)
    # within 1e-9 of an axis the rotation snaps to the axis' (identity or half turn)
    np.testing.assert_allclose(rotation @ (v / np.linalg.norm(v)), [0.0, 0.0, -1.0], atol=2e-9)
    # the smallest turn: the axis is horizontal (z stays in the plane of down and z)
    if abs(v[0]) + abs(v[1]) > 1e-6:
        axis = np.cross(v, [0.0, 0.0, -1.0])
        np.testing.assert_allclose(rotation @ axis, axis, atol=1e-12)


# ---------------------------------------------------------------------------- random convex shapes


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.floats(-1, 1, allow_nan=False)] * 3), min_size=5, max_size=30),
       st.sampled_from([0, 1, 2, 4, 8]))
def test_random_convex_shapes(points, symmetry):
    cloud = np.array(points)
    assume(np.linalg.matrix_rank(cloud - cloud.mean(axis=0), tol=0.05) == 3)
    hull = trimesh.convex.convex_hull(cloud)
    assume(hull.volume > 0.05)
    mesh = canonical(hull)
    mesh.apply_scale(1.0 / mesh.extents.max())
    states = rest_states(mesh, symmetry, min_probability=0.0, max_states=len(LEVELS))
    assert len(states) >= 1
    assert len({s.level for s in states}) == len(states)
    assert sum(s.probability for s in states) == pytest.approx(1.0, abs=1e-9)  # nothing dropped
    assert [s.probability for s in states] == sorted((s.probability for s in states), reverse=True)
    for state in states:
        check_state(mesh, state, min_margin=0.0)
        # the support polygon's centroid is at x = y = 0
        posed = posed_mesh(mesh, state).convex_hull
        touching = posed.vertices[np.abs(posed.vertices[:, 2]) <= rest.DEFAULT_TOLERANCE][:, :2]
        ring = touching[rest._hull2d(touching)]
        np.testing.assert_allclose(rest._polygon_centroid(ring), [0.0, 0.0], atol=1e-9)


def test_center_of_mass_moves_the_rests():
    shape = box(1.0, 1.0, 1.0)
    low = rest_states(shape, 1, center=(0.0, 0.0, 0.1), min_probability=0.0)
    levels = by_level(low)
    # bottom-heavy: it lands upright more often than upside-down, and sides become less stable
    assert levels["upright"].probability > levels["upside-down"].probability
    for state in low:
        assert check_stable(shape, state, center=(0.0, 0.0, 0.1)) == pytest.approx(state.stability_margin, abs=1e-9)
    # off-centre: margins are the distances from its foot to each face's nearest edge
    off = by_level(rest_states(shape, 1, center=(0.45, 0.0, 0.9), min_probability=0.0))
    assert off["upright"].stability_margin == pytest.approx(0.05, abs=1e-9)
    assert off["on-front"].stability_margin == pytest.approx(0.1, abs=1e-9)
    assert off["on-side"].stability_margin == pytest.approx(0.05, abs=1e-9)
    assert off["upside-down"].probability > off["upright"].probability  # top-heavy
    assert off["on-front"].probability > off["on-back"].probability  # the faces nearest it subtend most


# ---------------------------------------------------------------------------- built-in shapes


def test_every_builtin_state_is_stable(dictionary):
    """Every state of every style of every entry (76 shapes in the built-in config)."""
    shapes = 0
    for name in dictionary:
        entry = dictionary[name]
        for style in entry.styles:
            mesh = entry.variant(style).mesh()
            states = rest_states(mesh, entry.symmetry)
            shapes += 1
            assert 1 <= len(states) <= 8
            assert len({s.level for s in states}) == len(states)
            assert [s.probability for s in states] == sorted((s.probability for s in states), reverse=True)
            assert sum(s.probability for s in states) <= 1.0 + 1e-9
            levels = by_level(states)
            assert "upright" in levels, (name, style)
            for state in states:
                assert state.probability >= 0.02 or state.level == "upright"
                check_state(mesh, state)
    assert shapes >= 50


def test_upright_is_the_identity_on_a_flat_base(dictionary):
    """Each entry's default style that stands on a face (>= 3 base vertices, not in a line)
    rests upright without a turn; one whose base is a point or a segment (the ball, the
    dumbbell's round plates) rests on the facet nearest -z."""
    on_a_point = []
    for name in dictionary:
        entry = dictionary[name]
        mesh = entry.variant(entry.styles[0]).mesh()
        upright = by_level(rest_states(mesh, entry.symmetry))["upright"]
        base = mesh.vertices[np.abs(mesh.vertices[:, 2]) <= 1e-9][:, :2]
        if len(base) >= 3 and np.linalg.matrix_rank(base - base.mean(axis=0), tol=1e-6) == 2:
            assert upright.rotation == ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)), name
            assert upright.offset[2] == 0.0
        else:
            on_a_point.append(name)
            assert -upright.down[2] > math.cos(math.radians(10))
    assert len(on_a_point) <= 2  # the ball; the dumbbell, on the bottom edges of its round plates
    assert len(dictionary) - len(on_a_point) >= 10


# ---------------------------------------------------------------------------- cache and determinism


def test_cache_and_determinism(dictionary):
    entry = dictionary["chair"]
    mesh = entry.variant(entry.styles[0]).mesh()
    first = rest_states(mesh, entry.symmetry)
    assert rest_states(mesh, entry.symmetry) is first  # memoised
    assert rest_states(mesh.copy(), entry.symmetry) is first  # keyed by the bytes, not the object
    assert rest_states(mesh, 2) is not first
    assert rest_states(mesh, entry.symmetry, min_probability=0.0) is not first
    clear_cache()
    again = rest_states(mesh, entry.symmetry)
    assert again is not first
    assert again == first and repr(again) == repr(first)


def test_analyses_are_kept_on_disk_and_read_back_exactly(dictionary, tmp_path, monkeypatch):
    """An analysis is kept in the cache folder, read back equal (every float's bits) in
    a process that has none in memory, and worked out again when the file is damaged."""
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path))
    entry = dictionary["mug"]
    mesh = entry.variant(entry.styles[0]).mesh()
    clear_cache()
    computed = rest_states(mesh, entry.symmetry)
    (kept,) = (tmp_path / "rest").glob("*.json")
    clear_cache()
    assert rest_states(mesh, entry.symmetry) == computed and repr(rest_states(mesh, entry.symmetry)) == repr(computed)
    kept.write_text("[{not json")
    clear_cache()
    assert rest_states(mesh, entry.symmetry) == computed
    clear_cache()


def test_same_bytes_in_another_process(tmp_path, monkeypatch):
    """Worked out (not read from a cache) in this process and in another."""
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path / "here"))
    code = ("import trimesh\n"
            "from scenegen.world.rest import rest_states\n"
            "m = trimesh.creation.cone(radius=0.4, height=1.0, sections=24)\n"
            "m.apply_translation([0, 0, -m.bounds[0][2]])\n"
            "print(repr(rest_states(m, 1, min_probability=0.0)))\n")
    mesh = trimesh.creation.cone(radius=0.4, height=1.0, sections=24)
    mesh.apply_translation([0, 0, -mesh.bounds[0][2]])
    clear_cache()
    here = repr(rest_states(mesh, 1, min_probability=0.0))
    env = {**os.environ, "SCENEGEN_CACHE": str(tmp_path / "there")}
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env=env).stdout.strip()
    assert there == here


def test_posed_mesh_leaves_the_input_alone():
    cube = box(1, 1, 1)
    before = cube.vertices.copy()
    state = by_level(rest_states(cube, 1))["on-front"]
    posed = posed_mesh(cube, state)
    np.testing.assert_array_equal(cube.vertices, before)
    np.testing.assert_allclose(posed.vertices, cube.vertices @ np.array(state.rotation).T + state.offset, atol=1e-12)
    np.testing.assert_allclose(state.transform[:3, :3], state.rotation)


# ---------------------------------------------------------------------------- errors


def test_bad_input():
    cube = box(1, 1, 1)
    flat = trimesh.Trimesh(vertices=[[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], faces=[[0, 1, 2], [1, 3, 2]])
    with pytest.raises(MeshError, match="flat or degenerate"):
        rest_states(flat, 1)
    with pytest.raises(MeshError):
        rest_states(trimesh.Trimesh(), 1)
    for kwargs in ({"symmetry": -1}, {"symmetry": 1.5}, {"symmetry": 1, "max_states": 0},
                   {"symmetry": 1, "min_probability": 2.0}, {"symmetry": 1, "tolerance": -1.0}):
        with pytest.raises(ValueError):
            rest_states(cube, **kwargs)
