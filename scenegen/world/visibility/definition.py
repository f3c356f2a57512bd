"""The definition of an object's visible fraction, by ray casting (trimesh; Embree
when installed).

:func:`visible_fraction` is the definition. Its arithmetic on rays is written out
elementwise, ray by ray (:func:`_rotate`, :func:`_camera_directions`, :func:`_dot`):
numpy's elementwise ufuncs round each product and sum alone, so a ray's floats are the
same whatever rays are computed beside it, which a BLAS product does not promise. Rays
are held by coordinate, (3, N) arrays. A ray's first hit is Embree's of that ray alone,
its distance the hit triangle's plane's along the ray, in float64 (:class:`MeshRays`).
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ...lazy import ConvexHull, QhullError, trimesh
from ...scene.geometry import project, rotation_about_z
from ...scene.scene import Camera

GRID = 40  # rays per side of the object's image box at most


def _rotate(x: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """(3, N) vectors times rotations, as row vectors: ``x[:, n] @ R_n``. The vectors by
    coordinate: ``x`` (3, N), ``x[i]`` their i-th coordinates (any strides); the
    rotations by entry: ``rotation`` (9, N), ``rotation[3 i + j, n] = R_n[i, j]``, or
    (9, 1), one for every vector (:func:`_entries`).

    Written out elementwise, ``x0 R[0] + x1 R[1] + x2 R[2]`` in that order: numpy's
    elementwise ufuncs round each product and sum alone (no fused multiply-add), so a
    vector's floats are the same in any batch, beside any other vectors, which a BLAS
    product does not promise.
    """
    return x[0] * rotation[0:3] + x[1] * rotation[3:6] + x[2] * rotation[6:9]


def _entries(matrices: np.ndarray) -> np.ndarray:
    """(9, M) the entries, row by row, of (M, 3, 3) ``matrices``; (9, 1) those of one
    (3, 3): :func:`_rotate`'s layout."""
    return matrices.reshape(-1, 9).T


def _unit(x: np.ndarray) -> np.ndarray:
    """(3, N) vectors ``x`` (3, N), by coordinate, each divided by its length
    (:func:`_length`: a vector's floats the same in any batch)."""
    return x / _length(x)


def _rows(x: np.ndarray) -> np.ndarray:
    """(N, 3) C-ordered rows of vectors ``x`` (3, N) given by coordinate."""
    return np.ascontiguousarray(x.T)


def _camera_directions(right: np.ndarray, down: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """(3, N) unit world directions (by coordinate) of pixel rays from their parts along
    a camera's axes (x, y, z in the world): ``right`` = x (u - cx) / fx, ``down`` = y
    (v - cy) / fy and ``forward`` = z, (3, N) each, summed in that order, elementwise
    (:func:`_unit`): a ray's floats do not depend on the others'."""
    return _unit(right + down + forward)


def pixel_rays(camera: Camera, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) origins and unit directions (world) of the rays through pixels (u, v)
    (OpenCV convention: pixel centres at integers), :func:`_camera_directions`."""
    pose = camera.pose
    x, y, z = pose[:3, 0:1], pose[:3, 1:2], pose[:3, 2:3]  # the camera's axes in the world
    directions = _camera_directions((u - camera.cx) / camera.fx * x, (v - camera.cy) / camera.fy * y,
                                    np.broadcast_to(z, (3, len(u))))
    return np.repeat(pose[:3, 3][None], len(u), axis=0), _rows(directions)


def box_rays(vertices: np.ndarray, camera: Camera, grid: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) origins and unit directions (world) of a grid of at most ``grid`` x ``grid``
    pixel rays over the image box of ``vertices`` (V, 3) world metres, clipped to the
    image (N <= grid**2: rounded pixels are taken once)."""
    uv = project(vertices, camera.K, camera.pose)
    low = np.clip(np.floor(uv.min(axis=0)), 0, [camera.width - 1, camera.height - 1])
    high = np.clip(np.ceil(uv.max(axis=0)), 0, [camera.width - 1, camera.height - 1])
    us = np.unique(np.round(np.linspace(low[0], high[0], grid)))
    vs = np.unique(np.round(np.linspace(low[1], high[1], grid)))
    u, v = (a.ravel() for a in np.meshgrid(us, vs))
    return pixel_rays(camera, u, v)


@dataclass(frozen=True)
class Body:
    """A mesh placed in the world: ``world = scale * R(yaw) @ canonical + position``.

    Attributes:
        mesh: the canonical mesh (its intersector is cached on it, so share it).
        yaw: rotation about +z, radians.
        scale: uniform scale (unitless; canonical units to metres).
        position: (3,) world translation, metres.
    """

    mesh: trimesh.Trimesh
    yaw: float = 0.0
    scale: float = 1.0
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @functools.cached_property
    def rotation(self) -> np.ndarray:
        """(3, 3) world-from-body rotation (computed once; do not modify it)."""
        return rotation_about_z(self.yaw)

    def world_vertices(self) -> np.ndarray:
        """(V, 3) vertices in the world frame, metres."""
        return np.asarray(self.mesh.vertices) * self.scale @ self.rotation.T + np.asarray(self.position)

    def local_rays(self, origins: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(3, N) origins and directions, by coordinate, in the body's canonical frame of
        world rays, (N, 3) origins and directions (:func:`_frame_points`,
        :func:`_rotate`)."""
        rotation = _entries(self.rotation)
        position = np.asarray(self.position, dtype=float).reshape(3, 1)
        return _frame_points(origins.T, rotation, position, self.scale), _rotate(directions.T, rotation)

    def hit_distances(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """(N,) world distance (metres) along each unit ray (N, 3) to its first hit on this
        body; ``inf`` where the ray misses it (:meth:`MeshRays.first_hits` in the body's
        frame)."""
        return mesh_rays(self.mesh).first_hits(*self.local_rays(origins, directions), self.scale)


def _frame_points(points: np.ndarray, rotation: np.ndarray, position: np.ndarray, scale) -> np.ndarray:
    """(3, N) world ``points`` (3, N) (by coordinate) in a body's canonical frame: as row
    vectors, ``(world - position) @ R / scale``, ``R`` its world-from-body rotation (a
    direction's is ``direction @ R``: :func:`_rotate`). The body's ``rotation`` entries
    (:func:`_entries`), ``position`` (metres) and ``scale``: (9, 1), (3, 1) and a float,
    or one per point: (9, N), (3, N) and (N,). Elementwise: a point's floats do not depend
    on the others'."""
    return _rotate(points - position, rotation) / scale


def box_body(extents: Sequence[float], centre: Sequence[float]) -> Body:
    """An axis-aligned box of ``extents`` (3,) metres centred at ``centre`` (3,)."""
    return Body(trimesh.creation.box(extents=extents), position=tuple(float(c) for c in centre))


def visible_fraction(bodies: Sequence[Body], camera: Camera, index: int, grid: int = GRID) -> float:
    """Estimated visible fraction in [0, 1] of body ``index`` among ``bodies``; 0 when
    the body covers no ray of the grid. A ray counts as visible where the body's first
    hit is not farther than any other body's (touching surfaces count as visible)."""
    shown, hits = visible_counts(bodies, camera, index, grid)
    return shown / hits if hits else 0.0


def visible_counts(bodies: Sequence[Body], camera: Camera, index: int, grid: int = GRID) -> tuple[int, int]:
    """(rays on which body ``index`` is visible, rays that hit it) of the grid of
    :func:`visible_fraction`, whose fraction is their ratio."""
    target = bodies[index]
    origins, directions = box_rays(target.world_vertices(), camera, grid)
    own = target.hit_distances(origins, directions)
    on_target = np.isfinite(own)
    if not on_target.any():
        return 0, 0
    origins, directions, own = origins[on_target], directions[on_target], own[on_target]
    visible = np.ones(len(own), dtype=bool)
    for i, body in enumerate(bodies):
        rays = np.flatnonzero(visible)  # only rays no other body has hidden yet
        if i == index or len(rays) == 0:
            continue
        visible[rays] = own[rays] <= body.hit_distances(origins[rays], directions[rays])
    return int(visible.sum()), len(own)


class MeshRays:
    """A canonical mesh's first-hit query, and what the batched query needs of the mesh,
    kept once per mesh (see :func:`mesh_rays`).

    Rays are given in the mesh's canonical frame by coordinate: (3, N) origins and
    directions (unit). With Embree, each ray's first triangle is Embree's hit of that ray
    alone (trimesh's scene of the mesh, the rays moved into its float32 frame), or none
    where the ray is within 1e-5 of parallel to its plane (as trimesh's ``planes_lines``
    has it); without, trimesh's ``intersects_id``. Its distance is then worked out in
    float64, elementwise: a ray's float is the same in any batch.

    Attributes:
        hull: (K, 3) vertices of the mesh's convex hull, canonical units (every vertex
            when the mesh is flat).
        bounds: (2, 3) the mesh's axis-aligned box (min, max), canonical units.
    """

    def __init__(self, mesh: trimesh.Trimesh):
        self._mesh = weakref.ref(mesh)
        self._embree = None  # trimesh's Embree scene of the mesh, when it ray casts with Embree
        intersector = mesh.ray
        if type(intersector).__module__.endswith("ray_pyembree") and hasattr(intersector, "_scene"):
            wrap = intersector._scene  # the scene, and the frame its float32 vertices are in
            if all(hasattr(wrap, name) for name in ("scene", "origin", "scale")):
                self._embree = wrap.scene
                self._shift = np.asarray(wrap.origin, dtype=np.float64).reshape(3, 1)
                self._scale = float(wrap.scale)
        # each triangle's plane by coordinate: (3, F) a corner, (3, F) the unit normal
        self._plane_origins = np.ascontiguousarray(np.asarray(mesh.triangles[:, 0, :], dtype=np.float64).T)
        self._plane_normals = np.ascontiguousarray(np.asarray(mesh.face_normals, dtype=np.float64).T)

    @property
    def mesh(self) -> Optional[trimesh.Trimesh]:
        return self._mesh()

    @functools.cached_property
    def hull(self) -> np.ndarray:
        vertices = np.asarray(self.mesh.vertices, dtype=float)
        try:
            return vertices[ConvexHull(vertices).vertices]
        except (QhullError, ValueError):  # flat or degenerate: every vertex
            return vertices

    @functools.cached_property
    def bounds(self) -> np.ndarray:
        vertices = np.asarray(self.mesh.vertices, dtype=float)
        return np.array([vertices.min(axis=0), vertices.max(axis=0)])

    def first_triangles(self, origins: np.ndarray, directions: np.ndarray, sources: Optional[np.ndarray] = None
                        ) -> np.ndarray:
        """(N,) int: the triangle (face index) each ray first hits; -1 where none.
        ``origins`` (3, N), one per ray, or (3, S) and ``sources`` (N,): ray n starts at
        ``origins[:, sources[n]]`` (rays sharing their origins, a camera's)."""
        if directions.shape[1] == 0:
            return np.zeros(0, dtype=np.int64)
        if self._embree is None:
            starts = _rows(origins if sources is None else origins.take(sources, axis=1))
            triangles = np.full(directions.shape[1], -1, dtype=np.int64)
            found, rays = self.mesh.ray.intersects_id(starts, _rows(directions), multiple_hits=False)
            triangles[rays] = found
        else:
            starts = _float32_rows((origins - self._shift) * self._scale)
            if sources is not None:
                starts = starts.take(sources, axis=0)
            triangles = self._embree.run(starts, _float32_rows(directions)).astype(np.int64)
        rays = (triangles != -1).nonzero()[0]
        across = _dot(directions.take(rays, axis=1), self._plane_normals.take(triangles[rays], axis=1))
        triangles[rays[~(np.abs(across) > 1e-5)]] = -1
        return triangles

    def plane_distances(self, triangles: np.ndarray, origins: np.ndarray, directions: np.ndarray, scale
                        ) -> np.ndarray:
        """(N,) distance (metres: canonical units times ``scale``, a float or (N,)) along
        each ray, (3, N) ``origins`` and ``directions``, to the plane of its triangle
        ``triangles`` (N,) (none within 1e-5 of parallel to the ray)."""
        normals = self._plane_normals.take(triangles, axis=1)
        offsets = _dot(self._plane_origins.take(triangles, axis=1) - origins, normals)  # plane from origin
        return np.abs(offsets / _dot(directions, normals)) * _length(directions) * scale

    def first_hits(self, origins: np.ndarray, directions: np.ndarray, scale, sources: Optional[np.ndarray] = None
                   ) -> np.ndarray:
        """(N,) distance (metres: canonical units times ``scale``, a float or (N,)) along
        each ray (as :meth:`first_triangles` has them) to its first hit; ``inf`` where it
        misses (:meth:`Body.hit_distances`)."""
        triangles = self.first_triangles(origins, directions, sources)
        rays = (triangles != -1).nonzero()[0]
        distances = np.full(directions.shape[1], np.inf)
        starts = origins.take(rays if sources is None else sources[rays], axis=1)
        distances[rays] = self.plane_distances(triangles[rays], starts, directions.take(rays, axis=1),
                                               scale[rays] if np.ndim(scale) else scale)
        return distances


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N,) dot products of vectors (3, N) by coordinate, ``a0 b0 + a1 b1 + a2 b2`` in
    that order, elementwise."""
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _length(x: np.ndarray) -> np.ndarray:
    """(N,) lengths of vectors (3, N) by coordinate (:func:`_dot`)."""
    return np.sqrt(_dot(x, x))


def _float32_rows(x: np.ndarray) -> np.ndarray:
    """(N, 3) C-ordered float32 rows (each float rounded to nearest) of vectors (3, N) by
    coordinate: what Embree takes."""
    return np.ascontiguousarray(x.T, dtype=np.float32)


_MESH_RAYS: dict[int, MeshRays] = {}  # id(mesh) -> its MeshRays, dropped with the mesh


def mesh_rays(mesh: trimesh.Trimesh) -> MeshRays:
    """The :class:`MeshRays` of ``mesh``, computed on first use and kept while the mesh
    lives."""
    key = id(mesh)
    found = _MESH_RAYS.get(key)
    if found is None or found.mesh is not mesh:
        found = _MESH_RAYS[key] = MeshRays(mesh)
        weakref.finalize(mesh, _MESH_RAYS.pop, key, None)
    return found
