import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenegen.scene.geometry import (
    box_corners,
    convex_polygon_contains,
    cross3,
    footprint,
    intrinsics_from_fov,
    look_at_opencv,
    project,
    rectangle_axes,
    rectangles_overlap,
    vector_norm,
)

coords = st.floats(-5, 5, allow_nan=False)


def test_look_at_axes_follow_opencv():
    pose = look_at_opencv([3.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(pose[:3, 2], [-1, 0, 0], atol=1e-12)  # z forward
    np.testing.assert_allclose(pose[:3, 1], [0, 0, -1], atol=1e-12)  # y down
    np.testing.assert_allclose(pose[:3, 0], [0, 1, 0], atol=1e-12)  # x right
    np.testing.assert_allclose(pose[:3, 3], [3, 0, 0])


@given(coords, coords, st.floats(0.5, 5), st.floats(0, 2 * math.pi), st.floats(0.1, 1.4))
def test_target_projects_to_principal_point(tx, ty, dist, az, el):
    target = np.array([tx, ty, 0.3])
    eye = target + dist * np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    pose = look_at_opencv(eye, target)
    np.testing.assert_allclose(pose[:3, :3] @ pose[:3, :3].T, np.eye(3), atol=1e-9)
    assert np.linalg.det(pose[:3, :3]) > 0
    fx, fy, cx, cy = intrinsics_from_fov(math.radians(50), 64, 48)
    K = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]])
    np.testing.assert_allclose(project(target[None], K, pose)[0], [cx, cy], atol=1e-6)


def test_intrinsics_match_field_of_view():
    fx, fy, cx, cy = intrinsics_from_fov(math.radians(90), 200, 100)
    assert fx == fy == pytest.approx(50.0, rel=1e-12)
    assert (cx, cy) == (99.5, 49.5)


def test_rectangles_overlap_and_gap():
    a = footprint([0, 0], [1, 1], 0.0)
    assert rectangles_overlap(a, footprint([1.5, 0], [1, 1], 0.0))
    assert not rectangles_overlap(a, footprint([2.5, 0], [1, 1], 0.0))
    assert not rectangles_overlap(a, footprint([2.0, 0], [1, 1], 0.0))  # touching is allowed
    assert rectangles_overlap(a, footprint([2.05, 0], [1, 1], 0.0), gap=0.1)
    # rotated 45 degrees: the corner reaches sqrt(2) from the centre
    diamond = footprint([2.3, 0], [1, 1], math.pi / 4)
    assert rectangles_overlap(a, diamond)
    assert not rectangles_overlap(a, footprint([2.5, 0], [1, 1], math.pi / 4))


@given(coords, coords, st.floats(0, 2 * math.pi))
def test_convex_polygon_contains_its_own_shrunk_copy(x, y, yaw):
    outer = footprint([x, y], [1.0, 0.5], yaw)
    assert convex_polygon_contains(outer, footprint([x, y], [0.9, 0.4], yaw))
    assert not convex_polygon_contains(outer, footprint([x, y], [1.1, 0.4], yaw))


def test_convex_polygon_contains_respects_the_outline_of_a_disc():
    angles = np.linspace(0, 2 * math.pi, 64, endpoint=False)
    disc = np.column_stack([np.cos(angles), np.sin(angles)])  # counter-clockwise, radius 1
    assert convex_polygon_contains(disc, [[0.0, 0.0], [0.99, 0.0], [0.0, -0.99]])
    # the corner of the disc's bounding square is outside the disc
    assert not convex_polygon_contains(disc, [[0.8, 0.8]])


def test_box_corners_of_a_turned_box():
    corners = box_corners([1.0, 2.0, 0.5], math.pi / 2, [0.4, 0.2, 0.3])
    assert corners.shape == (8, 3)
    # a quarter turn swaps the x and y extents
    np.testing.assert_allclose(corners.min(axis=0), [0.9, 1.8, 0.5], atol=1e-12)
    np.testing.assert_allclose(corners.max(axis=0), [1.1, 2.2, 0.8], atol=1e-12)


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=6, max_size=6))
def test_cross3_is_numpys_cross_bit_for_bit(values):
    a, b = np.array(values[:3]), np.array(values[3:])
    for x, y in ((a, b), (a, np.array([0.0, 0.0, 1.0])), (b, -a)):
        expected, found = np.cross(x, y), cross3(x, y)
        assert np.array_equal(found, expected) and np.array_equal(np.signbit(found), np.signbit(expected))


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=6))
def test_vector_norm_is_numpys_float(values):
    vector = np.array(values)
    assert vector_norm(vector) == float(np.linalg.norm(vector))


@given(coords, coords, st.floats(0.01, 3), st.floats(0.01, 3), st.floats(-7, 7))
def test_rectangle_axes_are_the_unit_edges_numpy_gives(x, y, hx, hy, yaw):
    corners = footprint([x, y], [hx, hy], yaw)
    edges = np.array([corners[1] - corners[0], corners[2] - corners[1]])
    assert rectangle_axes(corners).tobytes() == (edges / np.linalg.norm(edges, axis=1, keepdims=True)).tobytes()
