"""The occluder search's batched visibility query: many candidate layouts at once,
each answered with the float of the definition (:mod:`.definition`).

The occluder search asks :func:`fractions_in_band`, not the definition
(:func:`~.definition.visible_fraction`), for a batch of candidate layouts at once: for
each, the very float ``visible_fraction`` returns when it lies in a band
``[low, high]``, else None. It gets there with far less work, and changes no ray's
answer:

- numpy's steps (the target's image box, the pixel grid, the rays) run once for the
  batch, with the definition's elementwise arithmetic, so every ray has the definition's
  bits; a product the same for many rays (a pixel column's part of its rays' directions,
  the camera's centre in a body's frame) is made once for all of them. The image box
  comes from the projection of the target's convex hull's vertices when that gives the
  same floor and ceil (:func:`image_boxes`);
- rays are cast by one first-hit query per mesh for the whole batch, and a target's
  distance is worked out only for the rays another body might hide;
- a ray through no other body's padded bounding box (first tested on the box's
  projection in the image) cannot be hidden and is cast against nothing else; a case
  none of whose rays meets another box is wholly visible or unseen, decided without
  casting when neither 1 nor 0 is in the band;
- a case whose target rays, even all those meeting other boxes hidden, would leave it
  above ``high`` is decided without casting them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from ...scene.geometry import project
from ...scene.scene import Camera
from .definition import GRID, Body, _camera_directions, _entries, _frame_points, _rotate, mesh_rays

# A projected extreme of the hull this near (pixels) an integer is recomputed from every
# vertex: floor/ceil then cannot depend on the last bits a dropped vertex might differ in.
HULL_EXTREME_TOLERANCE = 1e-6
# Bounding boxes are padded by this share of the coordinates' magnitude (float32, which
# Embree computes in, rounds at 6e-8 of it).
BOX_PADDING = 1e-4
# Metres: a hull or box with a point nearer the camera's image plane than this is not
# projected for a bound (its pixel coordinates would lose too many bits).
NEAR_DEPTH = 1e-3


def _groups(keys: np.ndarray) -> list[np.ndarray]:
    """The indices (in order) of the items of each key in ``keys`` (int array)."""
    if len(keys) == 0:
        return []
    if (keys == keys[0]).all():
        return [np.arange(len(keys))]
    return [(keys == key).nonzero()[0] for key in np.unique(keys)]


# The batched query's helpers are called with these floating-point warnings silenced
# (pixels and distances of points behind a camera, rays parallel to a plane or a slab)
_QUIET = {"divide": "ignore", "invalid": "ignore", "over": "ignore"}


@dataclass(frozen=True)
class _Placed:
    """Bodies as arrays, body by body.

    Attributes:
        rotations: (B, 3, 3) world-from-body rotations (each :attr:`Body.rotation`).
        entries: (9, B) their entries (:func:`_entries`), C-ordered.
        scales: (B,) uniform scales.
        positions: (B, 3) world translations, metres.
        mesh: (B,) each body's index into ``meshes``.
        meshes: the :class:`MeshRays` of the bodies' distinct meshes.
    """

    rotations: np.ndarray
    entries: np.ndarray
    scales: np.ndarray
    positions: np.ndarray
    mesh: np.ndarray
    meshes: list


def _placed(bodies: Sequence[Body]) -> _Placed:
    """``bodies`` as a :class:`_Placed`."""
    distinct = {id(body.mesh): body.mesh for body in bodies}  # in the order first met
    keys = {key: n for n, key in enumerate(distinct)}
    mesh = [keys[id(body.mesh)] for body in bodies]
    meshes = [mesh_rays(found) for found in distinct.values()]
    rotations = np.array([body.rotation for body in bodies], dtype=float).reshape(-1, 3, 3)
    rest = np.array([(body.scale, *body.position) for body in bodies], dtype=float).reshape(-1, 4)
    return _Placed(rotations, np.ascontiguousarray(_entries(rotations)), rest[:, 0], rest[:, 1:],
                   np.array(mesh, dtype=np.int64), meshes)


@dataclass(frozen=True)
class _Views:
    """Cameras as arrays, camera by camera.

    Attributes:
        axes: (C, 3, 3) world-from-camera rotations transposed (rows: each camera's x, y,
            z axes in the world; as row vectors, camera = (world - eye) @ axes.T).
        frames: (9, C) the same by entry (:func:`_entries`): ``frames[0:3]`` the x axes
            by coordinate, then the y and the z axes.
        intrinsics: (4, C) fx, fy, cx, cy, pixels.
        eyes: (C, 3) camera centres, metres.
        K: (C, 3, 3) intrinsic matrices.
        limits: (C, 2) the last pixel column and row (width - 1, height - 1).
    """

    axes: np.ndarray
    frames: np.ndarray
    intrinsics: np.ndarray
    eyes: np.ndarray
    K: np.ndarray
    limits: np.ndarray


def _views(cameras: Sequence[Camera]) -> _Views:
    """``cameras`` as a :class:`_Views` (each pose and intrinsic the floats of
    :attr:`Camera.pose` and :attr:`Camera.K`)."""
    poses = np.array([camera.world_from_camera for camera in cameras], dtype=float).reshape(-1, 4, 4)
    rest = np.array([(c.fx, c.fy, c.cx, c.cy, c.width - 1, c.height - 1) for c in cameras], dtype=float).reshape(-1, 6)
    axes = poses[:, :3, :3].swapaxes(1, 2)
    K = np.zeros((len(rest), 3, 3))
    K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = rest[:, 0], rest[:, 1], rest[:, 2], rest[:, 3], 1.0
    return _Views(axes, np.ascontiguousarray(_entries(axes)), rest[:, :4].T, poses[:, :3, 3], K, rest[:, 4:])


def _projections(placed: _Placed, views: _Views, case: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, 3, 3) M and (B, 3) b: a point x (column, canonical frame) of body n of
    ``placed`` is at homogeneous pixel ``M[n] @ x + b[n]`` = (u w, v w, w), w its depth
    (metres), in camera ``case[n]`` of ``views``. ``project``'s formula but not its last
    bits (camera_from_world is the pose's transpose, not its computed inverse, and the
    products are grouped otherwise): for bounds only, whose tolerances cover a few
    roundings."""
    to_pixels = views.K[case] @ views.axes[case]
    M = to_pixels @ placed.rotations * placed.scales[:, None, None]
    b = np.matmul(to_pixels, (placed.positions - views.eyes[case])[:, :, None])[:, :, 0]
    return M, b


def image_boxes(targets: Sequence[Body], cameras: Sequence[Camera]) -> tuple[np.ndarray, np.ndarray]:
    """(C, 2) min and (C, 2) max pixel coordinates of each body's vertices as its camera
    sees it: ``project(body.world_vertices(), ...)``'s extremes, as far as
    :func:`box_rays` can tell (its floor and ceil of them are the same)
    (:func:`_image_boxes`)."""
    placed = _placed(targets)
    with np.errstate(**_QUIET):
        return _image_boxes(*_projections(placed, _views(cameras), np.arange(len(targets))), placed.mesh,
                            placed.meshes, targets, cameras)


def _image_boxes(M: np.ndarray, b: np.ndarray, mesh: np.ndarray, meshes: list, targets: Sequence[Body],
                 cameras: Sequence[Camera]) -> tuple[np.ndarray, np.ndarray]:
    """(C, 2) min and (C, 2) max pixel coordinates of the vertices of each body
    ``targets[c]`` (mesh ``meshes[mesh[c]]``, a :class:`MeshRays`) seen by its camera
    ``cameras[c]``, which takes a point x of its canonical frame to homogeneous pixel
    ``M[c] @ x + b[c]`` (:func:`_projections`), as far as :func:`box_rays` can tell (its
    floor and ceil of them are the same).

    They come from the convex hull's vertices when that is safe: the hull wholly in
    front of the camera (a pixel coordinate, a ratio of affine functions with a positive
    denominator, then has its extremes at hull vertices) and no extreme within
    ``HULL_EXTREME_TOLERANCE`` of an integer (rounding, in :func:`_projections` or in
    ``project``, and vertices the hull left out move them by far less); otherwise from
    every vertex by ``project`` itself.
    """
    uv_min, uv_max = np.empty((len(mesh), 2)), np.empty((len(mesh), 2))
    nearest = np.empty(len(mesh))  # metres: the hull's least depth
    for members in _groups(mesh):
        hull = meshes[mesh[members[0]]].hull
        uvw = (M[members].reshape(-1, 3) @ hull.T).reshape(len(members), 3, -1) + b[members, :, None]  # (m, 3, K)
        depth = uvw[:, 2]
        uv = uvw[:, :2] / depth[:, None]
        uv_min[members], uv_max[members], nearest[members] = uv.min(axis=2), uv.max(axis=2), depth.min(axis=1)
    extremes = np.concatenate([uv_min, uv_max], axis=1)
    part = extremes - np.floor(extremes)  # NaN where not finite
    safe = (nearest > NEAR_DEPTH) & ((part > HULL_EXTREME_TOLERANCE) & (part < 1.0 - HULL_EXTREME_TOLERANCE)).all(axis=1)
    for n in (~safe).nonzero()[0]:
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
    """(values, counts): (C, n) each row's ``np.unique`` (sorted, NaNs last and as one) in
    its first ``counts[c]`` places, the rest NaN, and (C,) their numbers."""
    rows = np.sort(rows, axis=1)
    first = np.ones(rows.shape, dtype=bool)
    first[:, 1:] = (rows[:, 1:] != rows[:, :-1]) & ~(np.isnan(rows[:, 1:]) & np.isnan(rows[:, :-1]))
    return np.sort(np.where(first, rows, np.nan), axis=1), first.sum(axis=1)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The concatenated ``arange(start, start + length)`` of each pair (int arrays)."""
    cuts = lengths.cumsum()
    return (starts - cuts + lengths).repeat(lengths) + np.arange(cuts[-1] if len(cuts) else 0)


@dataclass(frozen=True)
class _Grid:
    """Each case's pixel grid, :func:`box_rays`' columns and rows: (C, 2, n) ``lines``,
    per case its sorted unique columns u (``lines[c, 0]``) and rows v (``lines[c, 1]``)
    in their first ``counts[c]`` (C, 2) places (the rest NaN); pixel k of a case is
    (u[k % nu], v[k // nu]), nu its number of columns."""

    lines: np.ndarray
    counts: np.ndarray

    def directions(self, views: _Views, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """((3, N) unit world directions (by coordinate) of the first ``sizes[c]`` (C,)
        pixels of each case (all or none), case after case, their camera ``views``';
        (N,) their case): :func:`pixel_rays`' floats (:func:`_camera_directions`), each
        part along the camera's x (y) axis the same product of the same floats, made
        once per column (row)."""
        owner = np.arange(len(sizes)).repeat(sizes)
        row, column = np.divmod(_ranges(np.zeros(len(sizes), dtype=np.int64), sizes), self.counts[:, 0].repeat(sizes))
        fx, fy, cx, cy = views.intrinsics[:, :, None]
        right = ((self.lines[:, 0] - cx) / fx * views.frames[0:3, :, None]).reshape(3, -1)  # (3, C n)
        down = ((self.lines[:, 1] - cy) / fy * views.frames[3:6, :, None]).reshape(3, -1)
        line = owner * self.lines.shape[2]  # where its case's columns (rows) start
        return _camera_directions(right.take(line + column, axis=1), down.take(line + row, axis=1),
                                  views.frames[6:9].repeat(sizes, axis=1)), owner


def _grid(limits: np.ndarray, uv_min: np.ndarray, uv_max: np.ndarray, grid: int) -> _Grid:
    """Each case's :func:`box_rays` pixel grid over its image box (``uv_min``,
    ``uv_max``: (C, 2)) in an image whose last column and row are ``limits`` (C, 2):
    numpy's steps for every case at once, the same floats."""
    low = np.clip(np.floor(uv_min), 0, limits)
    high = np.clip(np.ceil(uv_max), 0, limits)
    lines, counts = _unique_rows(np.round(_linspace(low.ravel(), high.ravel(), grid)))  # u, v; u, v; ...
    return _Grid(lines.reshape(-1, 2, grid), counts.reshape(-1, 2))


def _per_mesh(mesh: np.ndarray, query, *columns: np.ndarray) -> np.ndarray:
    """(N,) the answers of ``query(k, *columns)`` for the items (the last axis of each
    column) of each mesh k, ``mesh`` (N,) their meshes: one call per mesh."""
    groups = _groups(mesh)
    if len(groups) == 1:
        return query(mesh[0], *columns)
    found = np.zeros(0)
    for n, members in enumerate(groups):
        part = query(mesh[members[0]], *(column.take(members, axis=-1) for column in columns))
        if n == 0:
            found = np.empty(len(mesh), dtype=part.dtype)
        found[members] = part
    return found


def meets_box(bounds: np.ndarray, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """(N,) bool: whether each ray, (N, 3) origins and directions, meets its box at a
    distance >= 0; ``bounds``: one (2, 3) box (min, max) or (N, 2, 3), one per ray, as
    given (:func:`fractions_in_band` pads them) (:func:`_meets_boxes`)."""
    bounds = np.broadcast_to(bounds, (len(origins), 2, 3))
    with np.errstate(**_QUIET):
        return _meets_boxes(bounds[:, 0].T, bounds[:, 1].T, origins.T, directions.T)


def _meets_boxes(low: np.ndarray, high: np.ndarray, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """(N,) bool: whether each ray, (3, N) origins and directions (by coordinate), meets
    its box, (3, N) corners ``low`` and ``high``, at a distance >= 0."""
    inverse = 1.0 / directions
    t_low = (low - origins) * inverse
    t_high = (high - origins) * inverse
    near, far = np.minimum(t_low, t_high), np.maximum(t_low, t_high)
    parallel = np.abs(directions) < 1e-200  # (or all but: it moves no measurable distance)
    if parallel.any():  # inside the slab: any distance; outside: none
        inside = (origins >= low) & (origins <= high)
        near = np.where(parallel, np.where(inside, -np.inf, np.inf), near)
        far = np.where(parallel, np.where(inside, np.inf, -np.inf), far)
    return np.minimum(np.minimum(far[0], far[1]), far[2]) >= np.maximum(np.maximum(near[0], near[1]),
                                                                        np.maximum(near[2], 0.0))


_BOX_CORNERS = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], dtype=float)  # (8, 3) unit box
PIXEL_MARGIN = 1e-3  # pixels: projected boxes are widened by this (their corners' rounding is ~1e-12)


def _other_boxes(bounds: np.ndarray, eyes: np.ndarray, M: np.ndarray, b: np.ndarray, lines: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pair, a body other than the target in a case, its box (P, 2, 3) ``bounds``
    (min, max) and the camera's centre ``eyes`` (3, P) in its canonical frame, its
    points x at homogeneous pixels ``M[p] @ x + b[p]`` (:func:`_projections`), and its
    case's grid ``lines`` (P, 2, n) (:class:`_Grid`): ((P, 2, 3) its padded box, (P, 2)
    first and (P, 2) stop: the index ranges of the grid's columns (``[:, 0]``) and rows
    (``[:, 1]``) through its projected padded box).

    A box is padded by ``BOX_PADDING`` of the largest coordinate Embree rounds in that
    body's frame (the camera's, the box's), so a ray missing it cannot hit the body in
    float32 either. While the padded box is wholly in front of the camera, only pixels
    inside its projected corners' rectangle (widened by ``PIXEL_MARGIN``) can meet it;
    otherwise the whole grid is kept."""
    pad = BOX_PADDING * (np.abs(eyes).max(axis=0) + np.abs(bounds).max(axis=(1, 2)))
    padded = bounds + np.array([-1.0, 1.0])[None, :, None] * pad[:, None, None]
    corners = padded[:, :1, :] + _BOX_CORNERS[None] * (padded[:, 1:] - padded[:, :1])
    uvw = np.matmul(M, corners.swapaxes(1, 2)) + b[:, :, None]  # (P, 3, 8)
    depth = uvw[:, 2]
    ahead = (depth > NEAR_DEPTH).all(axis=1)[:, None]
    uv = uvw[:, :2] / depth[:, None]
    low = np.where(ahead, uv.min(axis=2) - PIXEL_MARGIN, -np.inf)
    high = np.where(ahead, uv.max(axis=2) + PIXEL_MARGIN, np.inf)
    # sorted, NaN last: the values in [low, high] are consecutive
    return padded, (lines < low[:, :, None]).sum(axis=2), (lines <= high[:, :, None]).sum(axis=2)


def _rays_through(first: np.ndarray, stop: np.ndarray, pair_case: np.ndarray, cuts: np.ndarray, nu: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(pair (R,), ray (R,)): the grid rays in each pair's column and row index ranges
    ([first, stop), (P, 2): columns, rows), in pair order, then ray order; a case's ray k
    at column k % nu, row k // nu, its rays from ``cuts[case]``."""
    widths = np.maximum(stop[:, 0] - first[:, 0], 0)
    heights = np.where(widths > 0, np.maximum(stop[:, 1] - first[:, 1], 0), 0)
    line_pair = np.arange(len(first)).repeat(heights)
    case = pair_case[line_pair]
    # the grid rows crossed, pair by pair, then the rays along each
    starts = cuts[case] + _ranges(first[:, 1], heights) * nu[case] + first[line_pair, 0]
    lengths = widths[line_pair]
    return line_pair.repeat(lengths), _ranges(starts, lengths)


def fractions_in_band(cases: Sequence[tuple[Sequence[Body], Camera]], index: int, low: float, high: float,
                      grid: int = GRID) -> list[Optional[float]]:
    """For each (bodies, camera) of ``cases``: ``visible_fraction(bodies, camera, index,
    grid)`` when it lies in ``[low, high]`` (the same float), else None
    (:func:`band_fractions` without the side of the band)."""
    return [f if low <= f <= high else None for f in band_fractions(cases, index, low, high, grid)]


def band_fractions(cases: Sequence[tuple[Sequence[Body], Camera]], index: int, low: float, high: float,
                   grid: int = GRID) -> list[float]:
    """For each (bodies, camera) of ``cases``, a float on the same side of ``[low, high]``
    as ``f = visible_fraction(bodies, camera, index, grid)``: ``f`` itself when it lies
    in the band or its rays were cast; ``inf`` where a bound put ``f`` above ``high``
    without casting; NaN (on neither side) where no other body's box reaches the
    target's rays, so that ``f`` is 1 or 0, neither in the band, and no ray was cast to
    tell which.

    The occluder search's question for a batch of candidate layouts, answered with
    numpy steps shared by the batch, one Embree query per mesh, and no ray cast that
    cannot change the answer (see the module docstring).
    """
    if not cases:
        return []
    with np.errstate(**_QUIET):
        return _band_fractions(_Batch.of(cases, index), low, high, grid)


@dataclass(frozen=True)
class _Batch:
    """The batched query's cases as arrays.

    Attributes:
        cases: the (bodies, camera) of each case.
        index: the target's index among each case's bodies.
        placed: every body of every case, case after case (:class:`_Placed`).
        views: each case's camera (:class:`_Views`).
        target: (C,) each case's target among ``placed``.
        others: (P,) every other body (a "pair": the case and one of its other bodies).
        pair_case: (P,) their cases.
        eyes: (3, B) each body's camera's centre in the body's frame (by coordinate):
            where its rays start there (:func:`_frame_points`'s floats).
        M, b: each body's projection into its camera's image (:func:`_projections`).
    """

    cases: Sequence[tuple[Sequence[Body], Camera]]
    index: int
    placed: _Placed
    views: _Views
    target: np.ndarray
    others: np.ndarray
    pair_case: np.ndarray
    eyes: np.ndarray
    M: np.ndarray
    b: np.ndarray

    @staticmethod
    def of(cases: Sequence[tuple[Sequence[Body], Camera]], index: int) -> _Batch:
        """The :class:`_Batch` of ``cases`` (at least one), body ``index`` the target."""
        placed = _placed([body for bodies, _ in cases for body in bodies])
        views = _views([camera for _, camera in cases])
        numbers = np.array([len(bodies) for bodies, _ in cases])
        body_case = np.arange(len(cases)).repeat(numbers)
        target = numbers.cumsum() - numbers + index
        others = (np.arange(len(body_case)) != target[body_case]).nonzero()[0]
        eyes = _frame_points(views.eyes[body_case].T, placed.entries, placed.positions.T, placed.scales)
        return _Batch(cases, index, placed, views, target, others, body_case[others], eyes,
                      *_projections(placed, views, body_case))

    def grid(self, grid: int) -> _Grid:
        """Each case's :func:`box_rays` grid over its target's image box."""
        targets = [bodies[self.index] for bodies, _ in self.cases]
        cameras = [camera for _, camera in self.cases]
        t = self.target
        uv_min, uv_max = _image_boxes(self.M[t], self.b[t], self.placed.mesh[t], self.placed.meshes, targets, cameras)
        return _grid(self.views.limits, uv_min, uv_max, grid)

    def other_boxes(self, pixels: _Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`_other_boxes` of every pair: (P, 2, 3) padded boxes, (P, 2) first and
        (P, 2) stop: the grid columns and rows through them."""
        others = self.others
        bounds = np.array([mesh.bounds for mesh in self.placed.meshes]).reshape(-1, 2, 3)
        return _other_boxes(bounds[self.placed.mesh[others]], self.eyes.take(others, axis=1), self.M[others],
                            self.b[others], pixels.lines[self.pair_case])

    def frame_directions(self, directions: np.ndarray, bodies: np.ndarray, runs: np.ndarray) -> np.ndarray:
        """(3, N) world ``directions`` (3, N) in the frames of ``bodies`` (R,), the
        first ``runs[0]`` in the first's, and so on (:func:`_rotate`)."""
        return _rotate(directions, self.placed.entries.take(bodies, axis=1).repeat(runs, axis=1))

    def cast(self, bodies: np.ndarray, query, *columns: np.ndarray) -> np.ndarray:
        """(N,) ``query(mesh, *columns)`` of N rays, ``columns`` their arrays (N along
        the last axis), ray n on ``bodies[n]``'s mesh (its :class:`MeshRays`); one query
        per mesh."""
        meshes = self.placed.meshes
        return _per_mesh(self.placed.mesh[bodies], lambda k, *rays: query(meshes[k], *rays), *columns)


@dataclass(frozen=True)
class _TargetRays:
    """The grid rays of some of a batch's cases, case after case, and their first hits on
    the case's target: ray n of case ``owner[n]``, unit ``directions[:, n]`` (world) and
    ``local[:, n]`` (the target's frame), by coordinate, its first triangle
    ``triangles[n]`` (-1: none); it starts at the camera's centre, ``batch.eyes``."""

    owner: np.ndarray
    directions: np.ndarray
    local: np.ndarray
    triangles: np.ndarray

    @staticmethod
    def cast(batch: _Batch, pixels: _Grid, sizes: np.ndarray) -> _TargetRays:
        """The rays of the first ``sizes[c]`` pixels of each case (all or none)."""
        directions, owner = pixels.directions(batch.views, sizes)
        local = batch.frame_directions(directions, batch.target, sizes)
        origins = batch.eyes.take(batch.target, axis=1)  # ray n's at origins[:, owner[n]]
        triangles = batch.cast(batch.target[owner], lambda mesh, *rays: mesh.first_triangles(origins, *rays), local,
                               owner)
        return _TargetRays(owner, directions, local, triangles)

    def distances(self, batch: _Batch, rays: np.ndarray) -> np.ndarray:
        """(R,) the distances (metres) of ``rays`` (R,) to their hits on their targets:
        :meth:`MeshRays.first_hits`' (the planes of their triangles)."""
        bodies = batch.target[self.owner[rays]]
        return batch.cast(bodies, lambda mesh, *columns: mesh.plane_distances(*columns), self.triangles[rays],
                          batch.eyes.take(bodies, axis=1), self.local.take(rays, axis=1), batch.placed.scales[bodies])


def _band_fractions(batch: _Batch, low: float, high: float, grid: int) -> list[float]:
    """:func:`band_fractions` of a batch of at least one case."""
    count = len(batch.target)
    pixels = batch.grid(grid)
    padded, first, stop = batch.other_boxes(pixels)
    # a case whose grid no other body's box can reach is wholly visible (1) or unseen (0)
    reaching = (stop > first).all(axis=1)
    keep = np.ones(count, dtype=bool)
    if not low <= 0.0 <= high and not low <= 1.0 <= high:
        keep = np.zeros(count, dtype=bool)
        keep[batch.pair_case[reaching]] = True
    nu = pixels.counts[:, 0]
    sizes = np.where(keep, nu * pixels.counts[:, 1], 0)
    target = _TargetRays.cast(batch, pixels, sizes)
    on_target = target.triangles != -1
    counts = np.bincount(target.owner[on_target], minlength=count)
    pair_of, rays, local = _pair_rays(batch, padded, first, stop, reaching & keep[batch.pair_case], sizes, nu, target)
    # the fraction is at least (hits - rays some other body might hide) / hits
    exposed = np.zeros(len(on_target), dtype=bool)
    exposed[rays] = True
    may_hide = np.bincount(target.owner[exposed], minlength=count)
    undecided = (counts > 0) & ~((counts - may_hide) / counts > high)
    # the undecided cases' rays against each body whose box they meet
    cast = undecided[batch.pair_case[pair_of]].nonzero()[0]
    bodies, hit = batch.others[pair_of[cast]], rays[cast]
    distances = batch.cast(bodies, lambda mesh, *columns: mesh.first_hits(batch.eyes, *columns),
                           local.take(cast, axis=1), batch.placed.scales[bodies], bodies)
    visible = on_target.copy()
    visible[hit[~(target.distances(batch, hit) <= distances)]] = False  # visible_fraction's test
    shown = np.bincount(target.owner[visible], minlength=count)
    fractions = np.where(counts > 0, shown / counts, 0.0)  # visible_fraction's division
    # left as it is: undecided and cast, or no target hit (0); above the band by the bound
    # (undecided is false); or left out above (no ray cast: 1 or 0, unknown which)
    fractions[(counts > 0) & ~undecided] = np.inf
    fractions[~keep] = np.nan
    return fractions.tolist()


def _pair_rays(batch: _Batch, padded: np.ndarray, first: np.ndarray, stop: np.ndarray, use: np.ndarray,
               sizes: np.ndarray, nu: np.ndarray, target: _TargetRays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pair (R,), ray (R,), (3, R) its direction in the pair's body's frame): the
    target rays that might be hidden by each pair's body, pair after pair (of the pairs
    ``use`` (P,) bool): those through its projected box (``first``, ``stop``:
    :meth:`_Batch.other_boxes`) that hit the target and meet its ``padded`` box."""
    pair_of, rays = _rays_through(np.where(use[:, None], first, 0), np.where(use[:, None], stop, 0), batch.pair_case,
                                  np.concatenate([[0], sizes.cumsum()]), nu)
    on = target.triangles[rays] != -1
    pair_of, rays = pair_of[on], rays[on]
    runs = np.bincount(pair_of, minlength=len(batch.others))  # pair_of is sorted
    local = batch.frame_directions(target.directions.take(rays, axis=1), batch.others, runs)
    met = _meets_boxes(padded[:, 0].T.repeat(runs, axis=1), padded[:, 1].T.repeat(runs, axis=1),
                       batch.eyes.take(batch.others, axis=1).repeat(runs, axis=1), local).nonzero()[0]
    return pair_of[met], rays[met], local.take(met, axis=1)


def fraction_in_band(bodies: Sequence[Body], camera: Camera, index: int, low: float, high: float,
                     grid: int = GRID) -> Optional[float]:
    """``visible_fraction(bodies, camera, index, grid)`` when it lies in ``[low, high]``
    (the same float), else None (:func:`fractions_in_band` of one case)."""
    return fractions_in_band([(bodies, camera)], index, low, high, grid)[0]
