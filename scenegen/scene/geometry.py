"""Small geometric helpers: camera frames, intrinsics, footprints, projection.

Conventions: metres, radians, world Z-up. Cameras in the OpenCV convention (x right,
y down, z forward), pixel centres at integer coordinates.
"""

from __future__ import annotations

import math

import numpy as np

# Flips the y and z axes: maps an OpenCV camera frame to an OpenGL one (and back).
OPENCV_TO_OPENGL = np.diag([1.0, -1.0, -1.0, 1.0])


def rotation_about_z(angle: float) -> np.ndarray:
    """(3, 3) float rotation by ``angle`` radians about +z (the world's up): an object's
    yaw, an environment map's turn."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def yaw_rotation(yaw: float) -> np.ndarray:
    """(2, 2) float rotation of the xy plane by ``yaw`` radians."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s], [s, c]])


def direction(azimuth: float, elevation: float) -> np.ndarray:
    """(3,) unit vector at ``azimuth`` (from +x towards +y) and ``elevation`` above z = 0."""
    ce = np.cos(elevation)
    return np.array([ce * np.cos(azimuth), ce * np.sin(azimuth), np.sin(elevation)])


def cross3(a, b) -> np.ndarray:
    """(3,) float cross product of two (3,) float vectors: ``np.cross(a, b)``'s floats
    (each product rounded, then their difference, as numpy computes it) at a fraction of
    its cost for one pair."""
    a0, a1, a2 = (float(x) for x in a)
    b0, b1, b2 = (float(x) for x in b)
    return np.array([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0])


def vector_norm(vector: np.ndarray) -> float:
    """The length of a (N,) float vector: ``np.linalg.norm(vector)``'s float (the square
    root of its dot product with itself, as numpy computes it) without its checks."""
    return math.sqrt(vector.dot(vector))


def look_at_opencv(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """(4, 4) float ``world_from_camera`` with OpenCV axes, camera at ``eye`` facing ``target``.

    Raises:
        ValueError: if the viewing direction is parallel to ``up``.
    """
    eye = np.asarray(eye, dtype=float)
    forward = np.asarray(target, dtype=float) - eye
    forward /= vector_norm(forward)
    right = cross3(forward, np.asarray(up, dtype=float))
    norm = vector_norm(right)
    if norm < 1e-9:
        raise ValueError("camera looks straight along the up axis; its roll is undefined")
    right /= norm
    down = cross3(forward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, eye
    return pose


def intrinsics_from_fov(fov_y: float, width: int, height: int) -> tuple[float, float, float, float]:
    """(fx, fy, cx, cy) in pixels for a centred pinhole camera with vertical field of view
    ``fov_y`` radians and square pixels. The principal point is the image centre in the
    OpenCV convention (pixel centres at integers): ((width - 1) / 2, (height - 1) / 2)."""
    focal = 0.5 * height / np.tan(0.5 * fov_y)
    return float(focal), float(focal), (width - 1) / 2.0, (height - 1) / 2.0


def project(points_world: np.ndarray, K: np.ndarray, world_from_camera: np.ndarray,
            camera_from_world: np.ndarray | None = None) -> np.ndarray:
    """Project (N, 3) world points to (N, 2) pixel coordinates (OpenCV convention).
    ``camera_from_world``: ``np.linalg.inv(world_from_camera)`` (4, 4) where the caller
    has it (projecting several point sets with one camera).

    Points behind the camera get non-finite or meaningless coordinates; callers check depth.
    """
    if camera_from_world is None:
        camera_from_world = np.linalg.inv(world_from_camera)
    points = np.asarray(points_world, dtype=float)
    cam = points @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]
    uvw = cam @ np.asarray(K, dtype=float).T
    return uvw[:, :2] / uvw[:, 2:3]


def footprint(center_xy, half_extents_xy, yaw: float) -> np.ndarray:
    """(4, 2) corners, counter-clockwise, of a rectangle of half sizes ``half_extents_xy``
    (metres) rotated by ``yaw`` about ``center_xy``."""
    hx, hy = half_extents_xy
    local = np.array([[hx, hy], [-hx, hy], [-hx, -hy], [hx, -hy]])
    return local @ yaw_rotation(yaw).T + np.asarray(center_xy, dtype=float)


def box_corners(position, yaw: float, extents) -> np.ndarray:
    """(8, 3) world corners of an upright box: base centre ``position`` (3,), turned by
    ``yaw`` radians about z, ``extents`` (3,) metres (x, y, height)."""
    xy = footprint(np.asarray(position, dtype=float)[:2], np.asarray(extents[:2], dtype=float) / 2, yaw)
    z0 = float(position[2])
    corners = np.empty((8, 3))
    corners[:, :2] = np.repeat(xy, 2, axis=0)
    corners[0::2, 2] = z0  # each footprint corner at the base, then at the top
    corners[1::2, 2] = z0 + float(extents[2])
    return corners


def rectangle_axes(corners: np.ndarray) -> np.ndarray:
    """(2, 2) unit directions of the first two edges of a (4, 2) rectangle."""
    edges = np.array([corners[1] - corners[0], corners[2] - corners[1]])
    # np.linalg.norm(edges, axis=1, keepdims=True)'s floats, without its checks
    return edges / np.sqrt(np.add.reduce(edges * edges, axis=1, keepdims=True))


def rectangles_overlap(a: np.ndarray, b: np.ndarray, gap: float = 0.0, a_axes: np.ndarray | None = None) -> bool:
    """Whether two (4, 2) rectangles come closer than ``gap`` metres (separating axes).
    ``a_axes``: ``rectangle_axes(a)``, where the caller tests ``a`` against several.

    Touching rectangles (distance exactly ``gap``) do not overlap.
    """
    if a_axes is None:
        a_axes = rectangle_axes(a)
    for axis in np.concatenate((a_axes, rectangle_axes(b))):
        pa, pb = (a @ axis).tolist(), (b @ axis).tolist()  # 4 floats each: Python's max and min are quicker
        if max(pa) + gap <= min(pb) or max(pb) + gap <= min(pa):
            return False
    return True


def convex_polygon_contains(polygon: np.ndarray, points: np.ndarray, tolerance: float = 1e-9) -> bool:
    """Whether every (N, 2) point lies inside the (K, 2) counter-clockwise convex
    ``polygon`` (within ``tolerance`` metres of its edges)."""
    edges = np.roll(polygon, -1, axis=0) - polygon  # (K, 2)
    lengths = np.linalg.norm(edges, axis=1)
    rel = np.asarray(points, dtype=float)[:, None, :] - polygon[None, :, :]  # (N, K, 2)
    signed = (edges[None, :, 0] * rel[..., 1] - edges[None, :, 1] * rel[..., 0]) / lengths
    return bool(np.all(signed >= -tolerance))


def rigid_inverse(matrix: np.ndarray) -> np.ndarray:
    """(4, 4) inverse of a rigid transform (rotation and translation only)."""
    matrix = np.asarray(matrix, dtype=float)
    inverse = np.eye(4)
    inverse[:3, :3] = matrix[:3, :3].T
    inverse[:3, 3] = -matrix[:3, :3].T @ matrix[:3, 3]
    return inverse


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 3) points mapped by the (4, 4) affine ``matrix``."""
    matrix = np.asarray(matrix, dtype=float)
    return np.asarray(points, dtype=float) @ matrix[:3, :3].T + matrix[:3, 3]
