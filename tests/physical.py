"""Physical checks of sampled scenes on the real mesh geometry (independently of the
sampler's footprint rectangles), shared by the sampler and directive tests."""

import math

import numpy as np
from scipy.spatial import ConvexHull

TOL = 1e-7


def world_vertices(obj, dictionary) -> np.ndarray:
    vertices = dictionary[obj.entry].variant(obj.style).mesh().vertices * obj.scale
    pose = obj.world_from_object()
    return vertices @ pose[:3, :3].T + pose[:3, 3]


def hull_polygon(points_xy: np.ndarray) -> np.ndarray:
    return points_xy[ConvexHull(points_xy).vertices]


def convex_polygons_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Positive-area overlap of two convex polygons (separating axis theorem)."""
    for poly in (a, b):
        edges = np.roll(poly, -1, axis=0) - poly
        for nx, ny in np.column_stack([-edges[:, 1], edges[:, 0]]):
            axis = np.array([nx, ny]) / math.hypot(nx, ny)
            pa, pb = a @ axis, b @ axis
            if pa.max() <= pb.min() + TOL or pb.max() <= pa.min() + TOL:
                return False
    return True


def point_in_convex_polygon(point, poly) -> bool:
    edges = np.roll(poly, -1, axis=0) - poly
    rel = point - poly
    cross = edges[:, 0] * rel[:, 1] - edges[:, 1] * rel[:, 0]
    return bool(np.all(cross >= -TOL) or np.all(cross <= TOL))


def assert_physical(scene, dictionary, cfg):
    """Every object rests on the ground or on its support within 1 mm (the vertices of
    its base inside the outline of the support's top face), inside the floor,
    and no two objects' meshes overlap (convex hulls of their vertices in xy, where their
    heights overlap)."""
    lo, hi = cfg.placement.objects
    assert lo <= len(scene.objects) <= hi
    verts = [world_vertices(o, dictionary) for o in scene.objects]
    hulls = [hull_polygon(v[:, :2]) for v in verts]
    zs = [(v[:, 2].min(), v[:, 2].max()) for v in verts]
    floor_half = scene.context.floor_size / 2
    for i, obj in enumerate(scene.objects):
        assert np.abs(verts[i][:, :2]).max() <= floor_half
        if obj.support == -1:
            assert abs(zs[i][0]) < 1e-3, "ground object must touch z = 0"
            if obj.relation == "ground":
                assert np.all(np.abs(np.asarray(obj.position[:2])) <= cfg.placement.area + TOL)
        else:
            assert 0 <= obj.support < i
            assert dictionary[scene.objects[obj.support].entry].support
            assert abs(zs[i][0] - zs[obj.support][1]) < 1e-3, "must rest on its support's top"
            support = verts[obj.support]
            top = hull_polygon(support[support[:, 2] >= zs[obj.support][1] - 1e-6][:, :2])
            base = verts[i][verts[i][:, 2] <= zs[i][0] + 1e-6][:, :2]
            assert all(point_in_convex_polygon(p, top) for p in base), "must stand inside its support's top face"
        if obj.relation != "ground":
            assert 0 <= obj.anchor < i
        for j in range(i):
            z_overlap = min(zs[i][1], zs[j][1]) - max(zs[i][0], zs[j][0])
            if z_overlap > TOL:
                assert not convex_polygons_overlap(hulls[i], hulls[j]), f"objects {j} and {i} interpenetrate"
