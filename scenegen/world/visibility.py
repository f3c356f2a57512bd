"""Renderer-free visibility estimates by ray casting (trimesh; Embree when installed).

Used by the sampler to realize occlusion directives before anything is rendered: the
visible fraction of an object is estimated on a grid of pixel rays over its projected
bounding box, as (rays whose first hit is the object) / (rays that hit the object at
all), the same ratio the labels measure on the rendered masks.

Each object is a :class:`Body`: its canonical mesh, whose ray intersector (an Embree BVH)
is built once and cached on the mesh, placed by a yaw, a scale and a position. Rays are
moved into the body's frame instead of moving the mesh into the world, so trying an
occluder at many spots builds no new acceleration structure.

:func:`visible_fraction` is the definition. The occluder search asks
:func:`fractions_in_band` instead, for a batch of candidate layouts at once: for each,
the very float :func:`visible_fraction` returns when it lies in a band ``[low, high]``,
else None. It gets there with far less work, and changes no ray's answer:

- numpy's steps (the target's image box, the pixel grid, the rays) run once for the
  batch, each case's products with its own matrices (a row of a product has the same
  bits in any batch); the image box comes from the projection of the target's convex
  hull's vertices when that gives the same floor and ceil (:func:`image_boxes`);
- rays are cast by one lean first-hit query per mesh for the whole batch
  (:class:`MeshRays`: trimesh's own Embree query of each ray alone and plane
  intersection, without its per-call overhead);
- a ray through no other body's padded bounding box (first tested on the box's
  projection in the image) cannot be hidden and is cast against nothing else; a case
  none of whose rays meets another box is wholly visible or unseen, decided without
  casting when neither 1 nor 0 is in the band;
- a case whose target rays, even all those meeting other boxes hidden, would leave it
  above ``high`` is decided without casting them.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ..lazy import ConvexHull, QhullError, trimesh
from ..lazy import trimesh_intersections as intersections
from ..lazy import trimesh_util as util
from ..scene.geometry import project, rotation_about_z
from ..scene.scene import Camera

GRID = 40  # rays per side of the object's image box at most
# A projected extreme of the hull this near (pixels) an integer is recomputed from every
# vertex: floor/ceil then cannot depend on the last bits a dropped vertex might differ in.
HULL_EXTREME_TOLERANCE = 1e-6
# Bounding boxes are padded by this share of the coordinates' magnitude (float32, which
# Embree computes in, rounds at 6e-8 of it).
BOX_PADDING = 1e-4
# Metres: a hull or box with a point nearer the camera's image plane than this is not
# projected for a bound (its pixel coordinates would lose too many bits).
NEAR_DEPTH = 1e-3


def pixel_rays(camera: Camera, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) origins and unit directions (world) of the rays through pixels (u, v)
    (OpenCV convention: pixel centres at integers)."""
    pose = camera.pose
    local = np.column_stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones(len(u))])
    directions = local @ pose[:3, :3].T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return np.repeat(pose[:3, 3][None], len(u), axis=0), directions


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

    def hit_distances(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """(N,) world distance (metres) along each unit ray (N, 3) to its first hit on this
        body; ``inf`` where the ray misses it."""
        rotation = self.rotation
        # row vectors: body = R^T (world - position) / scale; unit directions stay unit
        local_origins = (origins - np.asarray(self.position)) @ rotation / self.scale
        local_directions = directions @ rotation
        distances = np.full(len(origins), np.inf)
        if len(origins) == 0:
            return distances
        locations, rays, _ = self.mesh.ray.intersects_location(local_origins, local_directions, multiple_hits=False)
        if len(rays):
            along = np.linalg.norm(locations - local_origins[rays], axis=1) * self.scale
            np.minimum.at(distances, rays, along)
        return distances


def box_body(extents: Sequence[float], centre: Sequence[float]) -> Body:
    """An axis-aligned box of ``extents`` (3,) metres centred at ``centre`` (3,)."""
    return Body(trimesh.creation.box(extents=extents), position=tuple(float(c) for c in centre))


def visible_fraction(bodies: Sequence[Body], camera: Camera, index: int, grid: int = GRID) -> float:
    """Estimated visible fraction in [0, 1] of body ``index`` among ``bodies``; 0 when
    the body covers no ray of the grid. A ray counts as visible where the body's first
    hit is not farther than any other body's (touching surfaces count as visible)."""
    target = bodies[index]
    origins, directions = box_rays(target.world_vertices(), camera, grid)
    own = target.hit_distances(origins, directions)
    on_target = np.isfinite(own)
    if not on_target.any():
        return 0.0
    origins, directions, own = origins[on_target], directions[on_target], own[on_target]
    visible = np.ones(len(own), dtype=bool)
    for i, body in enumerate(bodies):
        rays = np.flatnonzero(visible)  # only rays no other body has hidden yet
        if i == index or len(rays) == 0:
            continue
        visible[rays] = own[rays] <= body.hit_distances(origins[rays], directions[rays])
    return float(visible.sum() / len(own))


class MeshRays:
    """A canonical mesh's share of the batched visibility query, computed once per mesh
    (see :func:`mesh_rays`).

    Attributes:
        hull: (K, 3) vertices of the mesh's convex hull, canonical units (every vertex
            when the mesh is flat).
        bounds: (2, 3) the mesh's axis-aligned box (min, max), canonical units.
    """

    def __init__(self, mesh: trimesh.Trimesh):
        self._mesh = weakref.ref(mesh)
        vertices = np.asarray(mesh.vertices, dtype=float)
        try:
            self.hull = vertices[ConvexHull(vertices).vertices]
        except (QhullError, ValueError):  # flat or degenerate: every vertex
            self.hull = vertices
        self.bounds = np.array([vertices.min(axis=0), vertices.max(axis=0)])
        self._embree = None  # trimesh's Embree scene of the mesh, when it ray casts with Embree
        intersector = mesh.ray
        if type(intersector).__module__.endswith("ray_pyembree") and hasattr(intersector, "_scene"):
            self._embree = intersector._scene
            self._plane_origins = np.asarray(mesh.triangles[:, 0, :], dtype=np.float64)
            self._plane_normals = np.asarray(mesh.face_normals, dtype=np.float64)

    @property
    def mesh(self) -> Optional[trimesh.Trimesh]:
        return self._mesh()

    def first_hits(self, origins: np.ndarray, directions: np.ndarray, scale) -> np.ndarray:
        """(N,) distance (metres: canonical units times ``scale``, a float or an (N,)
        array) along each ray, given by (N, 3) origins and unit directions in the mesh's
        canonical frame, to its first hit; ``inf`` where it misses. The floats of
        :meth:`Body.hit_distances`: this is trimesh's
        ``intersects_location(multiple_hits=False)`` (its Embree query of each ray
        alone, then the hit triangle's plane met by the ray in float64) without its
        per-call overhead."""
        distances = np.full(len(origins), np.inf)
        if len(origins) == 0:
            return distances
        if self._embree is None:
            locations, rays, _ = self.mesh.ray.intersects_location(origins, directions, multiple_hits=False)
        else:
            ray_origins = np.array(origins, dtype=np.float64)
            ray_directions = util.unitize(np.array(directions, dtype=np.float64))
            query = self._embree.run(ray_origins, ray_directions)
            rays = np.flatnonzero(query != -1)
            if len(rays) == 0:
                return distances
            tris = query[rays]
            locations, valid = intersections.planes_lines(
                plane_origins=self._plane_origins[tris],
                plane_normals=self._plane_normals[tris],
                line_origins=ray_origins[rays],
                line_directions=ray_directions[rays],
            )
            rays = rays[valid]
        if len(rays):
            scale = scale[rays] if np.ndim(scale) else scale
            # one hit per ray: the minimum over its hits (Body.hit_distances) is that hit
            distances[rays] = np.linalg.norm(locations - origins[rays], axis=1) * scale
        return distances


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


def _group(keys) -> dict:
    """key -> indices (in order) of the items with that key."""
    groups: dict = {}
    for n, key in enumerate(keys):
        groups.setdefault(key, []).append(n)
    return groups


def _poses(bodies: Sequence[Body]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(B, 3, 3) rotations, (B,) scales and (B, 3) positions of ``bodies``."""
    return (np.array([b.rotation for b in bodies]).reshape(-1, 3, 3), np.array([float(b.scale) for b in bodies]),
            np.array([np.asarray(b.position, dtype=float) for b in bodies]).reshape(-1, 3))


def _projections(bodies: Sequence[Body], cameras: Sequence[Camera]) -> tuple[np.ndarray, np.ndarray]:
    """(B, 3, 3) A and (B, 3) b: a point x (canonical frame) of body ``n`` is at
    homogeneous pixel ``x @ A[n] + b[n]`` = (u w, v w, w), w its depth (metres), in
    camera ``n`` (``project``'s formula, not its last bits: for bounds only)."""
    rotations, scales, positions = _poses(bodies)
    poses = np.array([c.pose for c in cameras]).reshape(-1, 4, 4)
    camera_from_world = np.linalg.inv(poses)
    intrinsics = np.array([c.K for c in cameras]).reshape(-1, 3, 3)
    to_pixels = intrinsics @ camera_from_world[:, :3, :3]
    A = np.swapaxes(to_pixels @ rotations * scales[:, None, None], 1, 2)
    b = (to_pixels @ positions[:, :, None])[:, :, 0] + (intrinsics @ camera_from_world[:, :3, 3:])[:, :, 0]
    return A, b


def image_boxes(targets: Sequence[Body], cameras: Sequence[Camera]) -> tuple[np.ndarray, np.ndarray]:
    """(C, 2) min and (C, 2) max pixel coordinates of each body's vertices as its camera
    sees it: ``project(body.world_vertices(), ...)``'s extremes, as far as
    :func:`box_rays` can tell (its floor and ceil of them are the same).

    They come from the convex hull's vertices when that is safe: the hull wholly in
    front of the camera (a pixel coordinate, a ratio of affine functions with a positive
    denominator, then has its extremes at hull vertices) and no extreme within
    ``HULL_EXTREME_TOLERANCE`` of an integer (rounding and vertices the hull left out
    move them by far less); otherwise from every vertex by ``project`` itself.
    """
    uv_min, uv_max = np.empty((len(targets), 2)), np.empty((len(targets), 2))
    nearest = np.empty(len(targets))  # metres: the hull's least depth
    A, b = _projections(targets, cameras)
    for members in _group(id(t.mesh) for t in targets).values():
        uvw = np.matmul(mesh_rays(targets[members[0]].mesh).hull, A[members]) + b[members, None, :]
        depth = uvw[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = uvw[..., :2] / depth[..., None]
        uv_min[members], uv_max[members], nearest[members] = uv.min(axis=1), uv.max(axis=1), depth.min(axis=1)
    extremes = np.concatenate([uv_min, uv_max], axis=1)
    with np.errstate(invalid="ignore"):
        part = extremes - np.floor(extremes)
        safe = ((nearest > NEAR_DEPTH) & np.isfinite(extremes).all(axis=1) & (part > HULL_EXTREME_TOLERANCE).all(axis=1)
                & (part < 1.0 - HULL_EXTREME_TOLERANCE).all(axis=1))
    for n in np.flatnonzero(~safe):
        uv = project(targets[n].world_vertices(), cameras[n].K, cameras[n].pose)
        uv_min[n], uv_max[n] = uv.min(axis=0), uv.max(axis=0)
    return uv_min, uv_max


def _linspace(start: np.ndarray, stop: np.ndarray, num: int) -> np.ndarray:
    """(C, num) rows ``np.linspace(start[c], stop[c], num)``, the same floats (numpy's
    own steps: ``arange * step + start``, the last set to ``stop``)."""
    step = (stop - start) / (num - 1)
    rows = np.arange(0, num, dtype=float)[None, :] * step[:, None] + start[:, None]
    flat = step == 0
    rows[flat] = start[flat, None]  # numpy: arange / div * delta (all 0) + start
    rows[:, -1] = stop
    return rows


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, counts): each row's ``np.unique`` (sorted, NaNs last and as one),
    concatenated, and their (C,) numbers."""
    rows = np.sort(rows, axis=1)
    first = np.ones(rows.shape, dtype=bool)
    first[:, 1:] = (rows[:, 1:] != rows[:, :-1]) & ~(np.isnan(rows[:, 1:]) & np.isnan(rows[:, :-1]))
    return rows[first], first.sum(axis=1)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenated ``arange(start, start + length)`` of each pair."""
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64), lengths) + offsets


@dataclass(frozen=True)
class _Grid:
    """Each case's pixel grid: (N, 2) ``pixels`` in case order, ``owner`` (N,) their
    case; per case the sorted unique columns ``us`` and rows ``vs`` (concatenated, ``nu``
    and ``nv`` (C,) of them): pixel k of a case is (us[k % nu], vs[k // nu])."""

    pixels: np.ndarray
    owner: np.ndarray
    us: np.ndarray
    nu: np.ndarray
    vs: np.ndarray
    nv: np.ndarray


def _grid(cameras: Sequence[Camera], uv_min: np.ndarray, uv_max: np.ndarray, grid: int) -> _Grid:
    """Each case's :func:`box_rays` pixel grid over its image box (``uv_min``,
    ``uv_max``: (C, 2)): numpy's steps for every case at once, the same floats."""
    limits = np.array([[c.width - 1, c.height - 1] for c in cameras], dtype=float)
    low = np.clip(np.floor(uv_min), 0, limits)
    high = np.clip(np.ceil(uv_max), 0, limits)
    us, nu = _unique_rows(np.round(_linspace(low[:, 0], high[:, 0], grid)))
    vs, nv = _unique_rows(np.round(_linspace(low[:, 1], high[:, 1], grid)))
    # np.meshgrid(us, vs) raveled
    sizes = nu * nv
    owner = np.repeat(np.arange(len(cameras)), sizes)
    k = _ranges(np.zeros(len(cameras)), sizes)
    u = us[np.repeat(np.cumsum(nu) - nu, sizes) + k % nu[owner]]
    v = vs[np.repeat(np.cumsum(nv) - nv, sizes) + k // nu[owner]]
    return _Grid(np.column_stack([u, v]), owner, us, nu, vs, nv)


def _index_range(values: np.ndarray, counts: np.ndarray, owner: np.ndarray, low: np.ndarray, high: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(first, stop) (P,) indices, within its case's sorted ``values`` (concatenated, case
    ``c`` has ``counts[c]``), of the values in [low, high] for each item of case
    ``owner`` (P,)."""
    span = float(np.abs(values).max(initial=0.0)) + 2.0
    keys = values + np.repeat(np.arange(len(counts)), counts) * 4 * span  # cases apart, each sorted
    shift = owner * 4 * span
    starts = (np.cumsum(counts) - counts)[owner]
    first = np.searchsorted(keys, np.clip(low, -span, 2 * span) + shift, side="left") - starts
    stop = np.searchsorted(keys, np.clip(high, -span, 2 * span) + shift, side="right") - starts
    return np.clip(first, 0, counts[owner]), np.clip(stop, 0, counts[owner])


def _pixel_rays(cameras: Sequence[Camera], pixels: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) origins and unit directions of :func:`pixel_rays` through each case's
    pixels (``owner`` sorted): its steps for every case at once, and each case's own
    product with its camera's rotation, so every row has its bits."""
    u, v = pixels[:, 0], pixels[:, 1]
    fx, fy, cx, cy = (np.array([getattr(c, name) for c in cameras], dtype=float)[owner]
                      for name in ("fx", "fy", "cx", "cy"))
    local = np.column_stack([(u - cx) / fx, (v - cy) / fy, np.ones(len(u))])
    directions = np.empty_like(local)
    origins = np.empty_like(local)
    cuts = np.searchsorted(owner, np.arange(len(cameras) + 1))
    for case in np.flatnonzero(np.diff(cuts)):
        rows = slice(cuts[case], cuts[case + 1])
        pose = cameras[case].pose
        directions[rows] = local[rows] @ pose[:3, :3].T
        origins[rows] = pose[:3, 3]
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return origins, directions


def _local_rays(body: Body, origins: np.ndarray, directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) origins and directions of world rays in ``body``'s canonical frame
    (:meth:`Body.hit_distances`' arithmetic, so each row has its bits)."""
    rotation = body.rotation
    return (origins - np.asarray(body.position)) @ rotation / body.scale, directions @ rotation


def _cast(pieces) -> list[np.ndarray]:
    """First-hit distances (metres) of ``pieces``, a list of (body, (N, 3) local origins,
    (N, 3) local directions): one :meth:`MeshRays.first_hits` query per mesh."""
    found: list = [None] * len(pieces)
    for members in _group(id(body.mesh) for body, _, _ in pieces).values():
        lengths = [len(pieces[n][1]) for n in members]
        origins = np.concatenate([pieces[n][1] for n in members])
        directions = np.concatenate([pieces[n][2] for n in members])
        scale = np.repeat([float(pieces[n][0].scale) for n in members], lengths)
        distances = mesh_rays(pieces[members[0]][0].mesh).first_hits(origins, directions, scale)
        for n, part in zip(members, np.split(distances, np.cumsum(lengths)[:-1])):
            found[n] = part
    return found


def meets_box(bounds: np.ndarray, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """(N,) bool: whether each ray, (N, 3) origins and directions, meets its box at a
    distance >= 0; ``bounds``: one (2, 3) box (min, max) or (N, 2, 3), one per ray, as
    given (:func:`fractions_in_band` pads them)."""
    bounds = np.broadcast_to(bounds, (len(origins), 2, 3))
    low, high = bounds[:, 0], bounds[:, 1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inverse = 1.0 / directions
        t_low = (low - origins) * inverse
        t_high = (high - origins) * inverse
    near, far = np.minimum(t_low, t_high), np.maximum(t_low, t_high)
    parallel = np.abs(directions) < 1e-200  # (or all but: it moves no measurable distance)
    if parallel.any():  # inside the slab: any distance; outside: none
        inside = (origins >= low) & (origins <= high)
        near = np.where(parallel, np.where(inside, -np.inf, np.inf), near)
        far = np.where(parallel, np.where(inside, np.inf, -np.inf), far)
    return far.min(axis=1) >= np.maximum(near.max(axis=1), 0.0)


_BOX_CORNERS = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], dtype=float)  # (8, 3) unit box
PIXEL_MARGIN = 1e-3  # pixels: projected boxes are widened by this (their corners' rounding is ~1e-12)


def _other_boxes(cases, index: int, grid: _Grid):
    """Every other body of every case: (pairs [(case, body)], (P, 2, 3) padded boxes,
    (P, 4) the index ranges [u first, u stop, v first, v stop] of its case's grid
    columns and rows through the pair's projected padded box).

    A box is padded by ``BOX_PADDING`` of the largest coordinate Embree rounds in that
    body's frame (the camera's, the box's), so a ray missing it cannot hit the body in
    float32 either. While the padded box is wholly in front of the camera, only pixels
    inside its projected corners' rectangle (widened by ``PIXEL_MARGIN``) can meet it;
    otherwise the whole grid is kept."""
    pairs = [(case, body) for case, (bodies, _) in enumerate(cases) for i, body in enumerate(bodies) if i != index]
    if not pairs:
        return pairs, np.zeros((0, 2, 3)), np.zeros((0, 4), dtype=np.int64)
    bodies = [body for _, body in pairs]
    cameras = [cases[case][1] for case, _ in pairs]
    pair_case = np.array([case for case, _ in pairs])
    rotations, scales, positions = _poses(bodies)
    bounds = np.array([mesh_rays(body.mesh).bounds for body in bodies])
    eyes = np.array([c.pose[:3, 3] for c in cameras])
    eye_local = np.matmul((eyes - positions)[:, None, :], rotations)[:, 0, :] / scales[:, None]
    pad = BOX_PADDING * (np.abs(eye_local).max(axis=1) + np.abs(bounds).max(axis=(1, 2)))
    padded = bounds + np.array([-1.0, 1.0])[None, :, None] * pad[:, None, None]
    corners = padded[:, :1, :] + _BOX_CORNERS[None] * (padded[:, 1:] - padded[:, :1])
    A, b = _projections(bodies, cameras)
    uvw = np.matmul(corners, A) + b[:, None, :]
    depth = uvw[..., 2]
    ahead = (depth > NEAR_DEPTH).all(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = uvw[..., :2] / depth[..., None]
    low = np.where(ahead[:, None], uv.min(axis=1) - PIXEL_MARGIN, -np.inf)
    high = np.where(ahead[:, None], uv.max(axis=1) + PIXEL_MARGIN, np.inf)
    columns = _index_range(grid.us, grid.nu, pair_case, low[:, 0], high[:, 0])
    rows = _index_range(grid.vs, grid.nv, pair_case, low[:, 1], high[:, 1])
    return pairs, padded, np.column_stack(columns + rows)


def _rays_through(ranges: np.ndarray, pair_case: np.ndarray, cuts: np.ndarray, nu: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(pair (R,), ray (R,)): the grid rays in each pair's column and row ranges
    (``ranges`` (P, 4)), in pair order, then ray order; a case's ray k at column
    k % nu, row k // nu, its rays from ``cuts[case]``."""
    widths = np.maximum(ranges[:, 1] - ranges[:, 0], 0)
    heights = np.where(widths > 0, np.maximum(ranges[:, 3] - ranges[:, 2], 0), 0)
    line_pair = np.repeat(np.arange(len(ranges)), heights)
    lines = _ranges(ranges[:, 2], heights)  # the grid rows crossed, pair by pair
    case = pair_case[line_pair]
    rays = _ranges(cuts[case] + lines * nu[case] + ranges[line_pair, 0], widths[line_pair])
    return np.repeat(line_pair, widths[line_pair]), rays


def fractions_in_band(cases: Sequence[tuple[Sequence[Body], Camera]], index: int, low: float, high: float,
                      grid: int = GRID) -> list[Optional[float]]:
    """For each (bodies, camera) of ``cases``: ``visible_fraction(bodies, camera, index,
    grid)`` when it lies in ``[low, high]`` (the same float), else None.

    The occluder search's question for a batch of candidate layouts, answered with
    numpy steps shared by the batch, one Embree query per mesh, and no ray cast that
    cannot change the answer (see the module docstring).
    """
    results: list[Optional[float]] = [None] * len(cases)
    if not cases:
        return results
    targets = [bodies[index] for bodies, _ in cases]
    cameras = [camera for _, camera in cases]
    pixels = _grid(cameras, *image_boxes(targets, cameras), grid)
    pairs, padded, ranges = _other_boxes(cases, index, pixels)
    pair_case = np.array([case for case, _ in pairs], dtype=np.int64)
    sizes = pixels.nu * pixels.nv
    # a case whose grid no other body's box can reach is wholly visible (1) or unseen (0)
    reaching = (ranges[:, 1] > ranges[:, 0]) & (ranges[:, 3] > ranges[:, 2])
    reached = np.zeros(len(cases), dtype=bool)
    reached[pair_case[reaching]] = True
    keep = np.ones(len(cases), dtype=bool)
    if not low <= 0.0 <= high and not low <= 1.0 <= high:
        keep = reached
    sizes = np.where(keep, sizes, 0)
    cuts = np.concatenate([[0], np.cumsum(sizes)])
    kept = keep[pixels.owner]
    owner = pixels.owner[kept]
    origins, directions = _pixel_rays(cameras, pixels.pixels[kept], owner)
    # the target's first hits, case by case in its frame, one query for the batch
    spans = [(case, cuts[case], cuts[case + 1]) for case in np.flatnonzero(sizes)]
    own = np.full(len(owner), np.inf)
    hits = _cast([(targets[case], *_local_rays(targets[case], origins[a:b], directions[a:b])) for case, a, b in spans])
    for (_, a, b), distances in zip(spans, hits):
        own[a:b] = distances
    on_target = np.isfinite(own)
    counts = np.bincount(owner[on_target], minlength=len(cases))
    # each pair's rays through its projected box that hit the target and meet its padded box
    use = reaching & keep[pair_case]
    pair_of, rays = _rays_through(np.where(use[:, None], ranges, 0), pair_case, cuts, pixels.nu)
    on = on_target[rays]
    pair_of, rays = pair_of[on], rays[on]
    parts = np.searchsorted(pair_of, np.arange(len(pairs) + 1))
    local_origins, local_directions = np.empty((len(rays), 3)), np.empty((len(rays), 3))
    for n in np.flatnonzero(np.diff(parts)):
        part = slice(parts[n], parts[n + 1])
        local_origins[part], local_directions[part] = _local_rays(pairs[n][1], origins[rays[part]],
                                                                  directions[rays[part]])
    met = meets_box(padded[pair_of], local_origins, local_directions)
    pair_of, rays, local_origins, local_directions = (a[met] for a in (pair_of, rays, local_origins, local_directions))
    # the fraction is at least (hits - rays some other body might hide) / hits
    exposed = np.zeros(len(own), dtype=bool)
    exposed[rays] = True
    may_hide = np.bincount(owner[exposed], minlength=len(cases))
    with np.errstate(divide="ignore", invalid="ignore"):
        undecided = (counts > 0) & ~((counts - may_hide) / counts > high)
    # the undecided cases' rays against each body whose box they meet
    take = undecided[pair_case[pair_of]]
    pair_of, rays, local_origins, local_directions = (a[take] for a in (pair_of, rays, local_origins, local_directions))
    parts = np.searchsorted(pair_of, np.arange(len(pairs) + 1))
    cast = np.flatnonzero(np.diff(parts))
    visible = on_target.copy()
    for n, distances in zip(cast, _cast([(pairs[n][1], local_origins[parts[n]:parts[n + 1]],
                                          local_directions[parts[n]:parts[n + 1]]) for n in cast])):
        hit = rays[parts[n]:parts[n + 1]]
        visible[hit] &= own[hit] <= distances
    shown = np.bincount(owner[visible], minlength=len(cases))
    for case in range(len(cases)):
        if counts[case] == 0:  # no target hit (or left out above, 0 being outside the band)
            fraction = 0.0
        elif undecided[case]:
            fraction = float(shown[case] / counts[case])  # visible_fraction's division
        else:
            continue
        if low <= fraction <= high:
            results[case] = fraction
    return results


def fraction_in_band(bodies: Sequence[Body], camera: Camera, index: int, low: float, high: float,
                     grid: int = GRID) -> Optional[float]:
    """``visible_fraction(bodies, camera, index, grid)`` when it lies in ``[low, high]``
    (the same float), else None (:func:`fractions_in_band` of one case)."""
    return fractions_in_band([(bodies, camera)], index, low, high, grid)[0]
