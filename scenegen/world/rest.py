"""Rest states: the poses an object can lie in on flat ground, and how likely each is.

Pure data, computed from a canonical mesh (z-up, base on z = 0, largest extent 1, front
along +x; see :mod:`scenegen.world.dictionary`) and its order of rotational symmetry about
z. Nothing here draws random numbers: the same mesh and parameters give the same
:class:`RestState` tuple, byte for byte; results are memoised in-process and kept in
``cache_dir()/rest/`` (keyed by the mesh, the parameters and this module's source).

Method (exact and deterministic, on the convex hull, as trimesh's quasi-static model):

1. **Hull and centre of mass.** The statics use the convex hull of all vertices (parts may
   overlap or be open) and, unless a ``center`` is given, the hull's volume centroid as the
   centre of mass ``c``.
2. **Facets.** Hull triangles are grouped into facets, largest triangle first: a facet is
   the seed triangle's plane plus every not yet grouped hull triangle whose three vertices
   lie within ``tolerance`` of that plane; its *contacts* are all hull vertices within
   ``tolerance`` of the plane. Resting on the facet means the seed triangle's outward
   normal points straight down, so three vertices touch z = 0 exactly and the rest lie on
   or above it (those within ``tolerance`` count as touching).
3. **Stability.** The support polygon is the 2-D convex hull of the contacts; the
   *stability margin* is the signed distance from the projection of ``c`` to the
   polygon's boundary (positive inside). A facet is stable if its margin exceeds
   ``min_margin``; the facet nearest to ``c`` is always a rest (the foot of ``c`` on it
   lies inside it), even with a smaller margin.
4. **Probability** (quasi-static model of Wiegley, Rao & Goldberg 1992, also trimesh's
   ``compute_stable_poses``, here computed exactly instead of by sampling): an object
   dropped in a uniformly random orientation first lands on the facet hit by the ray from
   ``c`` straight down, so facet ``f`` is hit with probability (solid angle of ``f`` seen
   from ``c``) / 4 pi, computed per triangle with the Van Oosterom-Strackee formula. An
   unstable facet tips over the edge of its support polygon nearest to the foot of ``c``
   (of the two edges at a nearest corner, the one ``c`` lies further beyond) onto the
   facet across that edge, whose ``c`` is strictly lower; if that neighbour is not lower
   (a marginal facet), onto the lower facet whose normal is closest. Heights decrease at
   every step, so each unstable facet drains into one stable facet, which collects its
   probability. Probabilities are not renormalised after states are dropped.
5. **Round objects.** An object whose hull is nearly a sphere about ``c`` (farthest hull
   vertex / nearest facet plane < :data:`ROUND_RATIO`) rolls: every rest is the same
   pose class, and one state is returned, ``upright`` with probability 1, resting on the
   stable facet whose normal is closest to -z.

Levels. A state is named by the direction of the canonical frame that points down (its
facet's outward normal ``down``), with ``theta`` its angle from -z and ``phi`` the
azimuth of its horizontal part (0 = +x, the front):

- ``upright``: ``theta <= 10`` degrees; ``upside-down``: ``theta >= 170``;
- horizontal, ``|theta - 90| <= 30``: ``on-front`` (front on the ground, ``|phi| <= 45``),
  ``on-back`` (``|phi| >= 135``), ``on-side`` (otherwise: left and right are merged);
- ``tilted``: anything else (10 < theta < 60 or 120 < theta < 170).

Symmetry merges horizontal levels that are the same pose class: with symmetry 1 they are
kept apart; with symmetry 2 (a turn by 180 degrees maps +x to -x) front and back are one
level, ``on-front``, and the sides ``on-side``; with symmetry >= 3 or 0 (continuous) every
horizontal direction is ``on-side``. The states of one level are merged: probabilities
summed, the rest taken from its representative, the most probable state (ties: the one
whose ``down`` is closest to an axis, then the first facet), except for ``upright``,
whose representative is the state closest to -z.

Yaw. A state's rotation is the smallest rotation that turns ``down`` to -z (``upside-down``
on exactly +z: a half turn about x, keeping the front at +x), so the object's yaw stays
free for the sampler to add about world z afterwards; ``upright`` on a flat base is the
identity exactly.

Limits. Symmetry is known only about z: an object round about a horizontal axis (a
dumbbell's plates) splits one rolling family over ``upright``, ``tilted`` and ``on-front``
by its polygonal facets. The hull's uniform-density centroid stands in for the centre of
mass (a mug's handle gap counts as filled); pass ``center`` where a better one is known.

Levels are returned most probable first; those below ``min_probability`` are dropped and
at most ``max_states`` kept, but a stable ``upright`` state is always kept (objects are
designed to stand on their base), in place of the last one if need be.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..cache import array_digest
from ..config.schema import REST_LEVELS
from ..errors import MeshError
from ..fileio import atomic_write_bytes
from ..lazy import ConvexHull, QhullError, trimesh
from ..resources import cache_dir

LEVELS = REST_LEVELS  # ("upright", "upside-down", "on-front", "on-back", "on-side", "tilted")
UPRIGHT_DEG = 10.0  # down within this of -z: upright (of +z: upside-down)
HORIZONTAL_DEG = 30.0  # down within this of the horizon: on-front / on-back / on-side
FRONT_DEG = 45.0  # horizontal down within this of +x: on-front (of -x: on-back)
ROUND_RATIO = 1.05  # farthest hull vertex / nearest facet plane, about c, below which an object rolls
DEFAULT_TOLERANCE = 1e-4  # canonical units: hull vertices this close to the ground touch it
DEFAULT_MIN_MARGIN = 2e-3  # canonical units: a facet needs this stability margin to be a rest
_AXIS_EPS = 1e-9  # a down direction this close to -z (per component) is exactly upright

_CACHE: dict[str, tuple["RestState", ...]] = {}


@dataclass(frozen=True)
class RestState:
    """One named rest level of an object (see the module docstring).

    Attributes:
        level: one of :data:`LEVELS`.
        rotation: (3, 3) proper rotation (row-major tuples) applied to the canonical mesh.
        offset: (3,) translation: ``rotation @ v + offset`` rests the canonical mesh on
            z = 0 with its support polygon's centroid at x = y = 0 (canonical units).
        probability: quasi-static probability of landing in this level (its states'
            summed), in [0, 1].
        support_area: area of the support polygon, canonical units^2.
        stability_margin: distance from the centre of mass's vertical projection to the
            support polygon's edge, canonical units; > 0: statically stable.
        down: (3,) unit direction of the canonical frame that points to the ground.
    """

    level: str
    rotation: tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]
    offset: tuple[float, float, float]
    probability: float
    support_area: float
    stability_margin: float
    down: tuple[float, float, float]

    @property
    def transform(self) -> np.ndarray:
        """(4, 4) float homogeneous transform from the canonical frame to the rest pose."""
        matrix = np.eye(4)
        matrix[:3, :3] = self.rotation
        matrix[:3, 3] = self.offset
        return matrix


def clear_cache() -> None:
    """Forget every memoised :func:`rest_states` result."""
    _CACHE.clear()


def rest_states(mesh: trimesh.Trimesh, symmetry: int, *, max_states: int = 8, min_probability: float = 0.02,
                tolerance: float = DEFAULT_TOLERANCE, min_margin: float = DEFAULT_MIN_MARGIN,
                center=None) -> tuple[RestState, ...]:
    """The named rest levels of a canonical mesh, most probable first.

    Args:
        mesh: the object's canonical mesh (unitless, z-up, front +x); only its vertices
            matter (their convex hull).
        symmetry: order of rotational symmetry about z (0 continuous; 1, 2, 4, 8, ...).
        max_states: keep at most this many levels (>= 1).
        min_probability: drop levels less probable than this (``upright`` excepted).
        tolerance: canonical units; hull vertices within it of a facet plane belong to it.
        min_margin: canonical units; the stability margin a facet needs to be a rest.
        center: (3,) centre of mass in the canonical frame; None: the hull's centroid.

    Returns:
        tuple of :class:`RestState`, one per level, sorted by probability (descending).

    Raises:
        ValueError: a bad argument.
        MeshError: the mesh has no solid convex hull (empty, non-finite or flat).
    """
    if isinstance(symmetry, bool) or not isinstance(symmetry, (int, np.integer)) or symmetry < 0:
        raise ValueError(f"symmetry must be an integer >= 0 (0: continuous), got {symmetry!r}")
    if isinstance(max_states, bool) or not isinstance(max_states, (int, np.integer)) or max_states < 1:
        raise ValueError(f"max_states must be an integer >= 1, got {max_states!r}")
    if not (0.0 <= min_probability <= 1.0):
        raise ValueError(f"min_probability must be in [0, 1], got {min_probability!r}")
    if not (tolerance >= 0.0 and min_margin >= 0.0):
        raise ValueError(f"tolerance and min_margin must be >= 0, got {tolerance!r}, {min_margin!r}")
    vertices = np.ascontiguousarray(mesh.vertices, dtype=np.float64)
    faces = np.ascontiguousarray(mesh.faces, dtype=np.int64)
    centre = None if center is None else tuple(float(x) for x in np.asarray(center, dtype=float).reshape(3))
    params = (int(symmetry), int(max_states), float(min_probability), float(tolerance), float(min_margin), centre)
    digest = hashlib.sha256(array_digest(vertices, faces).encode())
    digest.update(repr(params).encode())
    digest.update(_code_fingerprint().encode())
    key = digest.hexdigest()
    found = _CACHE.get(key)
    if found is None:
        found = _read_cached(key)
        if found is None:
            found = _compute(vertices, *params)
            _write_cached(key, found)
        _CACHE[key] = found
    return found


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """sha256 of this module's source: a cached analysis is one of this code."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _cache_path(key: str) -> Path:
    return cache_dir() / "rest" / f"{key}.json"


def _read_cached(key: str) -> tuple[RestState, ...] | None:
    """The analysis kept under ``key`` in the cache folder, or None (missing or unreadable:
    it is then worked out again)."""
    try:
        data = json.loads(_cache_path(key).read_text())
        return tuple(RestState(level=str(d["level"]), rotation=tuple(tuple(float(x) for x in row) for row in d["rotation"]),
                               offset=tuple(float(x) for x in d["offset"]), probability=float(d["probability"]),
                               support_area=float(d["support_area"]), stability_margin=float(d["stability_margin"]),
                               down=tuple(float(x) for x in d["down"])) for d in data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cached(key: str, states: tuple[RestState, ...]) -> None:
    """Keep an analysis in the cache folder (atomically; a folder that cannot be written
    only costs the analysis again next time)."""
    try:
        atomic_write_bytes(_cache_path(key), json.dumps([asdict(s) for s in states]).encode())
    except OSError:
        pass


def posed_mesh(mesh: trimesh.Trimesh, state: RestState) -> trimesh.Trimesh:
    """A copy of ``mesh`` (canonical) moved into ``state``: resting on z = 0."""
    posed = mesh.copy(include_cache=True)
    posed.apply_transform(state.transform)
    return posed


def check_stable(mesh: trimesh.Trimesh, state: RestState, *, tolerance: float = DEFAULT_TOLERANCE,
                 center=None) -> float:
    """The stability margin of ``mesh`` posed in ``state``, recomputed from the posed mesh.

    The support polygon is the 2-D hull of the posed hull vertices within ``tolerance`` of
    the lowest one; the centre of mass is the posed hull's centroid (or ``center``, (3,)
    canonical, moved with the mesh). Returns the signed distance (canonical units) from
    its vertical projection to the polygon's edge: > 0 inside; <= 0 outside, or when the
    object touches the ground only at a point or along a segment.
    """
    posed = posed_mesh(mesh, state)
    points, triangles, _, _ = _hull(np.asarray(posed.vertices, dtype=np.float64))
    if center is None:
        com = _centroid(points, triangles)
    else:
        com = state.transform[:3, :3] @ np.asarray(center, dtype=float) + np.asarray(state.offset)
    z = points[:, 2]
    contacts = points[z <= z.min() + tolerance][:, :2]
    polygon = contacts[_hull2d(contacts)]
    if len(polygon) < 3 or _area(polygon) <= 1e-12:
        if len(polygon) == 1:
            return -float(np.linalg.norm(com[:2] - polygon[0]))
        return -float(_outside(polygon, com[:2])[0]) if len(polygon) == 2 else 0.0
    return _margin(polygon, com[:2])[0]


def level_of(down, symmetry: int) -> str:
    """The level name of a rest whose canonical direction ``down`` (3,) points to the
    ground, for an object with rotational symmetry ``symmetry`` about z (module docstring)."""
    d = np.asarray(down, dtype=float)
    d = d / np.linalg.norm(d)
    theta = math.degrees(math.acos(min(1.0, max(-1.0, -float(d[2])))))
    if theta <= UPRIGHT_DEG:
        return "upright"
    if theta >= 180.0 - UPRIGHT_DEG:
        return "upside-down"
    if abs(theta - 90.0) > HORIZONTAL_DEG:
        return "tilted"
    if symmetry != 1 and symmetry != 2:
        return "on-side"
    phi = abs(math.degrees(math.atan2(float(d[1]), float(d[0]))))
    if phi <= FRONT_DEG:
        return "on-front"
    if phi >= 180.0 - FRONT_DEG:
        return "on-front" if symmetry == 2 else "on-back"
    return "on-side"


def rotation_to_down(down) -> np.ndarray:
    """(3, 3) the smallest rotation turning unit ``down`` (3,) to -z; identity exactly when
    ``down`` is -z (within 1e-9 per component), a half turn about x when it is +z."""
    x, y, z = (float(v) for v in np.asarray(down, dtype=float).reshape(3))
    length = math.sqrt(x * x + y * y + z * z)
    x, y, z = x / length, y / length, z / length
    if abs(x) <= _AXIS_EPS and abs(y) <= _AXIS_EPS:
        return np.eye(3) if z < 0 else np.diag([1.0, -1.0, -1.0])
    # Rodrigues about the unit axis k = (down x -z) / sin, sin = |down x -z|, cos = -z
    sine = math.sqrt(x * x + y * y)
    kx, ky = -y / sine, x / sine
    skew = np.array([[0.0, 0.0, ky], [0.0, 0.0, -kx], [-ky, kx, 0.0]])
    return np.eye(3) + sine * skew + (1.0 + z) * (skew @ skew)


# ---------------------------------------------------------------------------- internals


def _hull(vertices: np.ndarray):
    """Convex hull: (P, 3) points, (T, 3) triangles into them, (T, 3) unit outward
    normals, (T,) plane offsets (``normal . x <= offset`` inside)."""
    if len(vertices) < 4 or not np.all(np.isfinite(vertices)):
        raise MeshError(f"rest states need a solid mesh: {len(vertices)} vertices, finite: "
                        f"{bool(np.all(np.isfinite(vertices)))}")
    try:
        hull = ConvexHull(vertices)
    except QhullError as exc:
        raise MeshError(f"rest states need a solid mesh; its convex hull is flat or degenerate: {exc}") from exc
    keep = np.sort(hull.vertices)
    remap = np.full(len(vertices), -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    normals = hull.equations[:, :3]
    lengths = np.linalg.norm(normals, axis=1)
    return vertices[keep], remap[hull.simplices], normals / lengths[:, None], -hull.equations[:, 3] / lengths


def _centroid(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """(3,) volume centroid of the convex solid bounded by ``triangles``."""
    apex = points.mean(axis=0)
    a, b, c = (points[triangles[:, i]] - apex for i in range(3))
    volumes = np.abs(np.einsum("ij,ij->i", a, np.cross(b, c)))
    return apex + (volumes[:, None] * (a + b + c)).sum(axis=0) / (4.0 * volumes.sum())


def _solid_angles(points: np.ndarray, triangles: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """(T,) solid angle of each triangle seen from ``centre`` (Van Oosterom-Strackee)."""
    r1, r2, r3 = (points[triangles[:, i]] - centre for i in range(3))
    l1, l2, l3 = (np.linalg.norm(r, axis=1) for r in (r1, r2, r3))
    numerator = np.abs(np.einsum("ij,ij->i", r1, np.cross(r2, r3)))
    denominator = (l1 * l2 * l3 + np.einsum("ij,ij->i", r1, r2) * l3
                   + np.einsum("ij,ij->i", r1, r3) * l2 + np.einsum("ij,ij->i", r2, r3) * l1)
    return 2.0 * np.arctan2(numerator, denominator)


def _hull2d(points: np.ndarray) -> list[int]:
    """Indices of the counter-clockwise convex hull of (N, 2) ``points`` (monotone chain;
    collinear points dropped)."""
    order = sorted(range(len(points)), key=lambda i: (points[i, 0], points[i, 1], i))

    def cross(o, a, b):
        return ((points[a, 0] - points[o, 0]) * (points[b, 1] - points[o, 1])
                - (points[a, 1] - points[o, 1]) * (points[b, 0] - points[o, 0]))

    lower: list[int] = []
    for i in order:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], i) <= 0:
            lower.pop()
        lower.append(i)
    upper: list[int] = []
    for i in reversed(order):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], i) <= 0:
            upper.pop()
        upper.append(i)
    chain = lower[:-1] + upper[:-1]
    return chain if len(chain) >= 2 else order[:1]


def _next(polygon: np.ndarray) -> np.ndarray:
    """Each corner's successor around the polygon."""
    return np.concatenate([polygon[1:], polygon[:1]])


def _area(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    successor = _next(polygon)
    return 0.5 * float(np.dot(x, successor[:, 1]) - np.dot(successor[:, 0], y))


def _polygon_centroid(polygon: np.ndarray) -> np.ndarray:
    x, y = polygon[:, 0], polygon[:, 1]
    successor = _next(polygon)
    xn, yn = successor[:, 0], successor[:, 1]
    cross = x * yn - xn * y
    return np.array([((x + xn) * cross).sum(), ((y + yn) * cross).sum()]) / (3.0 * cross.sum())


def _outside(polygon: np.ndarray, point: np.ndarray) -> tuple[float, int, float]:
    """Distance from ``point`` to the closed polygonal chain, the nearest edge (its start
    index) and the parameter in [0, 1] of the nearest point along it."""
    starts = polygon
    edges = _next(polygon) - polygon
    if len(polygon) == 2:
        starts, edges = polygon[:1], edges[:1]
    lengths2 = np.maximum((edges * edges).sum(axis=1), 1e-300)
    t = np.clip(((point - starts) * edges).sum(axis=1) / lengths2, 0.0, 1.0)
    distances = np.linalg.norm(starts + t[:, None] * edges - point, axis=1)
    i = int(np.argmin(distances))
    return float(distances[i]), i, float(t[i])


def _margin(polygon: np.ndarray, point: np.ndarray) -> tuple[float, int]:
    """Signed distance from ``point`` to a counter-clockwise convex polygon's boundary
    (> 0 inside) and the edge to tip over (start index): the nearest edge, or, from
    outside, the edge at the nearest point (at a corner: the one ``point`` lies further
    beyond)."""
    edges = _next(polygon) - polygon
    outward = edges[:, ::-1] * np.array([1.0, -1.0]) / np.sqrt((edges * edges).sum(axis=1))[:, None]
    beyond = ((point - polygon) * outward).sum(axis=1)  # > 0: outside that edge's line
    if beyond.max() <= 0.0:
        i = int(np.argmax(beyond))
        return -float(beyond[i]), i
    distance, i, t = _outside(polygon, point)
    if t <= 0.0 or t >= 1.0:  # nearest at a corner: of its two edges, the one point is further beyond
        other = (i - 1) % len(polygon) if t <= 0.0 else (i + 1) % len(polygon)
        if beyond[other] > beyond[i]:
            i = other
    return -distance, i


@dataclass
class _Facet:
    seed: int  # its seed triangle
    normal: np.ndarray  # (3,) outward unit normal: the down direction when resting on it
    contacts: np.ndarray  # hull point indices within tolerance of its plane
    height: float  # distance from the centre of mass to its plane
    solid: float  # its solid angle from the centre of mass / 4 pi
    rotation: np.ndarray  # (3, 3) rotation_to_down(normal)
    polygon: np.ndarray  # (K,) hull point indices of the support polygon, counter-clockwise
    area: float
    margin: float
    tip: int  # start index in polygon of the edge it would tip over


def _facets(points, triangles, normals, offsets, centre, tolerance) -> list[_Facet]:
    a, b, c = (points[triangles[:, i]] for i in range(3))
    areas = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    solids = _solid_angles(points, triangles, centre)
    solids = solids / solids.sum()
    group = np.full(len(triangles), -1, dtype=np.int64)
    facets: list[_Facet] = []
    for t in np.lexsort((np.arange(len(triangles)), -areas)):
        if group[t] >= 0:
            continue
        normal, offset = normals[t], offsets[t]
        near = offset - points @ normal <= tolerance
        members = (group < 0) & near[triangles].all(axis=1)
        members[t] = True
        group[members] = len(facets)
        contacts = np.flatnonzero(near)
        rotation = rotation_to_down(normal)
        flat = points[contacts] @ rotation[:2].T  # (K, 2) x, y in the rest pose
        foot = rotation[:2] @ centre
        ring = _hull2d(flat)
        polygon = flat[ring]
        area = _area(polygon) if len(ring) >= 3 else 0.0
        if area > 0.0:
            margin, tip = _margin(polygon, foot)
        else:  # cannot happen for a hull facet; treated as a point or a segment
            margin, tip, area = -math.inf, 0, 0.0
        facets.append(_Facet(int(t), normal, contacts, float(offset - normal @ centre), float(solids[members].sum()),
                             rotation, contacts[ring], float(area), float(margin), int(tip)))
    return facets


def _drain(facets: list[_Facet], points: np.ndarray, min_margin: float) -> list[int]:
    """For each facet, the index of the facet it comes to rest on (itself if stable)."""
    lowest = min(range(len(facets)), key=lambda i: (facets[i].height, i))
    by_vertex: dict[int, list[int]] = {}
    for i, facet in enumerate(facets):
        for v in facet.contacts.tolist():
            by_vertex.setdefault(v, []).append(i)
    target = list(range(len(facets)))
    for i, facet in enumerate(facets):
        if facet.margin > min_margin or i == lowest:
            continue
        ring = facet.polygon
        start, end = int(ring[facet.tip]), int(ring[(facet.tip + 1) % len(ring)])
        edge = facet.rotation @ (points[end] - points[start])
        outward = facet.rotation.T @ np.array([edge[1], -edge[0], 0.0])  # canonical frame
        across = sorted(set(by_vertex[start]) & set(by_vertex[end]) - {i})
        across = [j for j in across if facets[j].normal @ outward > 0.0]
        rank = (facet.height, i)
        if across:
            nearest = max(across, key=lambda j: (facets[j].normal @ facet.normal, -j))
            if (facets[nearest].height, nearest) < rank:
                target[i] = nearest
                continue
        # no lower facet across the edge (a marginal facet): the closest lower one
        lower = [j for j in range(len(facets)) if (facets[j].height, j) < rank]
        target[i] = max(lower, key=lambda j: (facets[j].normal @ facet.normal, -j))
    for i in sorted(range(len(facets)), key=lambda i: (facets[i].height, i)):  # lowest first: targets are final
        target[i] = target[target[i]]
    return target


def _state(level, facet: _Facet, probability: float, vertices: np.ndarray, points: np.ndarray) -> RestState:
    rotation = facet.rotation
    posed = vertices @ rotation.T
    centre = _polygon_centroid((points[facet.polygon] @ rotation.T)[:, :2])
    offset = np.array([-centre[0], -centre[1], -posed[:, 2].min()]) + 0.0  # + 0.0: no -0.0
    return RestState(
        level=level,
        rotation=tuple(tuple(float(x) for x in row) for row in rotation),
        offset=tuple(float(x) for x in offset),
        probability=float(probability),
        support_area=float(facet.area),
        stability_margin=float(facet.margin),
        down=tuple(float(x) for x in facet.normal),
    )


def _compute(vertices, symmetry, max_states, min_probability, tolerance, min_margin, center) -> tuple[RestState, ...]:
    points, triangles, normals, offsets = _hull(vertices)
    centre = _centroid(points, triangles) if center is None else np.asarray(center, dtype=float)
    facets = _facets(points, triangles, normals, offsets, centre, tolerance)
    target = _drain(facets, points, min_margin)
    sinks = sorted(set(target))

    if float(np.linalg.norm(points - centre, axis=1).max()) < ROUND_RATIO * min(f.height for f in facets):
        best = max(sinks, key=lambda i: (-facets[i].normal[2], -i))
        return (_state("upright", facets[best], 1.0, vertices, points),)

    probability = dict.fromkeys(sinks, 0.0)
    for i, facet in enumerate(facets):
        probability[target[i]] += facet.solid
    levels: dict[str, list[int]] = {}
    for i in sinks:
        levels.setdefault(level_of(facets[i].normal, symmetry), []).append(i)
    states = []
    for level, members in levels.items():
        if level == "upright":
            best = max(members, key=lambda i: (-facets[i].normal[2], round(probability[i], 12), -i))
        else:
            best = max(members, key=lambda i: (round(probability[i], 12), round(float(np.abs(facets[i].normal).max()),
                                                                               12), -i))
        total = math.fsum(probability[i] for i in members)
        states.append(_state(level, facets[best], total, vertices, points))
    states.sort(key=lambda s: (-s.probability, s.level))
    kept = [s for s in states if s.probability >= min_probability][:max_states]
    upright = [s for s in states if s.level == "upright"]
    if upright and upright[0] not in kept:
        kept = kept[: max_states - 1] + upright
        kept.sort(key=lambda s: (-s.probability, s.level))
    return tuple(kept)
