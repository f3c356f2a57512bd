"""Procedural primitive meshes, part composition, mesh-file loading and normalisation.

Units are metres and frames are Z-up. Part rotations are given in degrees (as in the
config) and converted to radians here. Meshes are ``trimesh.Trimesh`` objects with
``vertices`` of shape (V, 3) float64 (metres) and ``faces`` of shape (F, 3) int.

Normals. Every mesh this module hands out carries the vertex normals it is shaded with
(``vertex_normals``, (V, 3)), and its vertices are split where the surface has a crease,
so that a vertex belongs to one smooth surface. A primitive's normals are exact: each
vertex carries the analytic normal of its surface, and the apex of a cone, where the
surface has none, carries a zero normal (see :func:`primitive`). A mesh file's are the
mean of its faces' normals on each side of its creases (:func:`split_creases`).
trimesh keeps normals that were set through ``apply_transform`` (which turns them with
the mesh) and ``copy(include_cache=True)``; a plain ``copy()`` or new ``vertices`` drop
them, and trimesh then recomputes them from the faces (still split at the creases, but
no longer exact).
"""

from __future__ import annotations

import codecs
import functools
import json
import math
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..cache import content_key, kept_arrays
from ..config.schema import MAX_MESH_FACES, PRIMITIVE_SHAPES
from ..errors import ConfigError, MeshError, choices
from ..lazy import trimesh

SECTIONS = 32  # segments around round shapes; enough at 256-512 px
PRIMITIVE_CACHE = "primitives"  # the cache folder (scenegen.cache.kind_dir) of tessellated primitives
COMPOSED_CACHE = "composed"  # the cache folder (scenegen.cache.kind_dir) of placed parts, one file per part list
# the arrays a kept mesh is (its Trimesh attributes and constructor arguments), in this order
_MESH_ARRAYS = ("vertices", "faces", "vertex_normals")
SPHERE_SUBDIVISIONS = 3  # icosphere level: 1280 faces
# a torus's flat triangles cut inside its ring by up to major * (1 - cos(pi / sections)); its
# sections round the ring grow with major / minor (in eights, from SECTIONS) so that this stays
# within TORUS_SAG_DEG degrees of the tube's normal
TORUS_SAG_DEG = 0.5
DEGENERATE_REL_EDGE = 1e-6  # a face is degenerate below (1e-6 * mesh size)^2 of area
# mesh files: faces meeting at more than this are shaded apart (the shipped meshes' round
# parts turn by at most 22.5 degrees a face, their designed creases by 37 or more)
CREASE_ANGLE_DEG = 30.0
MESH_FORMATS = ("glb", "gltf", "obj", "off", "ply", "stl")  # what trimesh reads without extras
TEXT_MESH_FORMATS = ("gltf", "obj", "off")  # always text; PLY and STL may be binary
# metres: a vertex farther from the origin is a unit or export error, and would make every
# face of an object-sized mesh degenerate at float64 precision
MAX_COORDINATE = 1e6
_CHUNK = 1 << 20  # bytes read at a time when counting the lines of a text mesh file

_PARAMS = {
    "box": ("x", "y", "z"),
    "cylinder": ("radius", "height"),
    "sphere": ("radius",),
    "cone": ("radius", "height"),
    "capsule": ("radius", "height"),
    "torus": ("major_radius", "minor_radius"),
    "vessel": ("radius", "bottom_radius", "height", "thickness"),
}
if set(_PARAMS) != set(PRIMITIVE_SHAPES):
    raise RuntimeError("shapes._PARAMS is out of sync with config.PRIMITIVE_SHAPES")


def _check_params(shape: str, params: Mapping[str, float]) -> dict[str, float]:
    if shape not in PRIMITIVE_SHAPES:
        raise ConfigError(f"unknown primitive shape {shape!r}; valid: {choices(PRIMITIVE_SHAPES)}")
    expected = _PARAMS[shape]
    given = dict(params.items())
    for key in given:
        if key not in expected:
            raise ConfigError(
                f"primitive {shape!r} has unknown param {key!r}; valid: {choices(expected)}"
            )
    values = {}
    for key in expected:
        if key not in given:
            raise ConfigError(
                f"primitive {shape!r} is missing param {key!r}; it needs: {choices(expected)}"
            )
        try:
            value = float(given[key])
        except (TypeError, ValueError):
            raise ConfigError(
                f"primitive {shape!r} param {key!r} must be a number, got {given[key]!r}"
            ) from None
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(
                f"primitive {shape!r} param {key!r} must be a positive number of metres, "
                f"got {given[key]!r}"
            )
        values[key] = value
    if shape == "capsule" and values["height"] <= 2 * values["radius"]:
        raise ConfigError(
            f"primitive 'capsule' param 'height' (total height) must exceed 2 * 'radius', "
            f"got height={values['height']}, radius={values['radius']}"
        )
    if shape == "torus" and values["minor_radius"] >= values["major_radius"]:
        raise ConfigError(
            f"primitive 'torus' param 'minor_radius' must be < 'major_radius', "
            f"got {values['minor_radius']} >= {values['major_radius']}"
        )
    if shape == "vessel" and not (values["thickness"] < values["height"] and _vessel_floor_radius(values) > 0):
        raise ConfigError(
            f"primitive 'vessel' param 'thickness' must be < 'height' and leave an inner floor "
            f"(thickness < bottom_radius, about), got thickness={values['thickness']}, "
            f"height={values['height']}, bottom_radius={values['bottom_radius']}"
        )
    return values


def _vessel_floor_radius(p: Mapping[str, float]) -> float:
    """Radius of a vessel's inner floor: its outer wall's radius at height ``thickness``
    above the base, less the wall's (horizontal) thickness."""
    return p["bottom_radius"] + (p["radius"] - p["bottom_radius"]) * p["thickness"] / p["height"] - p["thickness"]


def _vessel_profile(p: Mapping[str, float]) -> np.ndarray:
    """(6, 2) (rho, z) profile of a centred vessel, from the bottom's centre up the
    outside, over the rim and down the inside to the inner floor's centre."""
    r, rb, t, top = p["radius"], p["bottom_radius"], p["thickness"], p["height"] / 2
    return np.array([(0.0, -top), (rb, -top), (r, top), (r - t, top), (_vessel_floor_radius(p), t - top), (0.0, t - top)])


def primitive(shape: str, params: Mapping[str, float]) -> trimesh.Trimesh:
    """Build a closed primitive mesh centred at its bounding-box centre, axis along z.

    Its vertices are split between the smooth surfaces it is made of (a box's six faces;
    a cylinder's side and two caps; a cone's side and base; a vessel's base, outer wall,
    rim, inner wall and inner floor; a sphere, capsule or torus is one surface), each
    vertex carrying the exact normal of its surface, so the normals interpolated across
    a triangle are the surface's own: exactly on planes, spheres, cylinders, capsules,
    cones and a vessel's walls (each a cone's side, the inner one facing the axis; a
    cone's normal depends only on the angle about its axis; its apex, where the surface
    has no normal, is one vertex per side triangle with a zero normal, which gives it no
    weight in the interpolation), and within 1.5 degrees on the torus, whose triangles
    curve both ways (its ring has :func:`torus_sections` segments, more for a thin tube).

    Args:
        shape: one of ``config.PRIMITIVE_SHAPES``.
        params: metres. box {x, y, z} full extents; cylinder, cone {radius, height};
            sphere {radius}; capsule {radius, height} with height the total height
            (> 2 * radius); torus {major_radius, minor_radius}, ring in the xy plane;
            vessel {radius, bottom_radius, height, thickness}: an open cup (a solid of
            revolution) whose outer wall runs straight from ``bottom_radius`` at the base
            to ``radius`` at the rim, with a wall ``thickness`` thick (horizontally) and a
            floor as thick.

    Returns:
        A new mesh whose axis-aligned bounding box is centred at the origin, with
        ``vertex_normals`` (V, 3): unit, except zero at a cone's apex.

    Raises:
        ConfigError: unknown shape, missing or extra param, or a non-positive value;
            the message names the shape, the param and the valid choices.
    """
    p = _check_params(shape, params)
    # tessellated before (by this source): the same arrays, from the cache folder
    arrays = kept_arrays(PRIMITIVE_CACHE, content_key("primitive", shape, p), _MESH_ARRAYS,
                         lambda: _tessellated(shape, p), _mesh_arrays_fit)
    return trimesh.Trimesh(**dict(zip(_MESH_ARRAYS, arrays)), process=False)


def _tessellated(shape: str, p: Mapping[str, float]) -> dict[str, np.ndarray]:
    """{vertices, faces, vertex_normals} of primitive ``shape`` with checked params ``p``,
    centred on its bounding box, each vertex with its surface's exact normal."""
    mesh = _tessellate(shape, p)
    mesh.apply_translation(-mesh.bounds.mean(axis=0))
    vertices, faces, normals = _with_exact_normals(mesh, shape, p)
    return {"vertices": vertices, "faces": faces, "vertex_normals": normals}


def _tessellate(shape: str, p: Mapping[str, float]) -> trimesh.Trimesh:
    """trimesh's closed mesh of primitive ``shape`` with checked params ``p`` (metres)."""
    create = trimesh.creation
    if shape == "box":
        return create.box(extents=(p["x"], p["y"], p["z"]))
    if shape == "cylinder":
        return create.cylinder(radius=p["radius"], height=p["height"], sections=SECTIONS)
    if shape == "sphere":
        return create.icosphere(subdivisions=SPHERE_SUBDIVISIONS, radius=p["radius"])
    if shape == "cone":
        return create.cone(radius=p["radius"], height=p["height"], sections=SECTIONS)
    if shape == "vessel":  # revolve's triangles are wound outwards, the mesh is closed
        return create.revolve(_vessel_profile(p), sections=SECTIONS)
    if shape == "capsule":
        # trimesh's height is the distance between the two hemisphere centres
        return create.capsule(
            height=p["height"] - 2 * p["radius"], radius=p["radius"], count=[SECTIONS, SECTIONS]
        )
    return create.torus(
        major_radius=p["major_radius"],
        minor_radius=p["minor_radius"],
        major_sections=torus_sections(p["major_radius"], p["minor_radius"]),
        minor_sections=SECTIONS,
    )


def torus_sections(major_radius: float, minor_radius: float) -> int:
    """Segments round a torus's ring: the fewest (a multiple of 8, at least SECTIONS)
    whose chords stay within TORUS_SAG_DEG of the tube, i.e. major * (1 - cos(pi / n))
    <= minor * radians(TORUS_SAG_DEG)."""
    tolerance = minor_radius * math.radians(TORUS_SAG_DEG) / major_radius
    needed = math.pi / math.acos(max(1.0 - tolerance, -1.0))
    return max(SECTIONS, 8 * math.ceil(needed / 8))


def _unit(vectors: np.ndarray) -> np.ndarray:
    """(N, 3) ``vectors`` scaled to unit length; zero rows stay zero."""
    length = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, length, out=np.zeros_like(vectors), where=length > 0)


def _curved_normals(shape: str, p: Mapping[str, float], points: np.ndarray) -> np.ndarray:
    """(N, 3) exact outward normals of the curved surface of a centred primitive at its
    (N, 3) surface ``points``; zero at a cone's apex. Not used for boxes."""
    x, y, z = points.T
    radial = _unit(np.column_stack([x, y, np.zeros_like(z)]))
    if shape == "sphere":
        return _unit(points)
    if shape == "cylinder":
        return radial
    if shape == "cone":  # apex up: the normal leans up by the angle of the side to the axis
        normals = _unit(radial + [0.0, 0.0, p["radius"] / p["height"]])
        normals[np.hypot(x, y) <= 1e-9 * p["radius"]] = 0.0  # the apex
        return normals
    if shape == "vessel":  # the outer wall leans by (bottom_radius - radius) / height; the inner one
        # (nearer the axis than the wall's middle) is parallel to it and faces the axis
        rho = np.hypot(x, y)
        outer_radius = p["bottom_radius"] + (p["radius"] - p["bottom_radius"]) * (z / p["height"] + 0.5)
        sign = np.where(rho > outer_radius - p["thickness"] / 2, 1.0, -1.0)[:, None]
        return _unit(sign * (p["height"] * radial + [0.0, 0.0, p["bottom_radius"] - p["radius"]]))
    if shape == "capsule":  # from the nearest point of the segment joining the hemispheres' centres
        half = p["height"] / 2 - p["radius"]
        return _unit(points - np.column_stack([0 * x, 0 * y, np.clip(z, -half, half)]))
    # torus: from the nearest point of the tube's centre circle
    return _unit(points - p["major_radius"] * radial)


def _flat_faces(shape: str, face_normals: np.ndarray) -> np.ndarray:
    """(F,) bool: the faces on a plane of the primitive (a box's faces, the caps of a
    cylinder or cone, a vessel's base, rim and inner floor)."""
    if shape == "box":
        return np.ones(len(face_normals), dtype=bool)
    if shape in ("cylinder", "cone", "vessel"):
        return np.abs(face_normals[:, 2]) > 1.0 - 1e-9
    return np.zeros(len(face_normals), dtype=bool)


def split_corners(faces: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split vertices so that face corners with different ``keys`` stop sharing them.

    Args:
        faces: (F, 3) int vertex indices.
        keys: (F, 3) int, one per face corner; corners of one vertex with equal keys
            keep sharing one vertex.

    Returns:
        (source (V',) int: the original vertex of each new vertex, (V',) int its key,
        new faces (F, 3) int: the same triangles in the same order and winding).
    """
    vertex, key = np.asarray(faces, dtype=np.int64).ravel(), np.asarray(keys, dtype=np.int64).ravel()
    if not len(vertex):
        return vertex, key, vertex.reshape(-1, 3)
    # one int64 per (vertex, key) pair, ordered as the pairs are lexicographically: the
    # rows np.unique(axis=0) would give, in its order, at a fraction of its cost
    lowest, span = key.min(), int(key.max() - key.min()) + 1
    packed, inverse = np.unique(vertex * span + (key - lowest), return_inverse=True)
    return packed // span, packed % span + lowest, inverse.reshape(-1, 3)


def _surface_keys(flat: np.ndarray, face_normals: np.ndarray, corner_normals: np.ndarray) -> np.ndarray:
    """(F, 3) int: for each face corner, which smooth surface it is on (see
    :func:`split_corners`): 0 the curved one, 1 + i the i-th plane (by its normal).
    A corner where the curved surface has no normal (zero in ``corner_normals`` (F, 3,
    3): a cone's apex) takes a key of its own per face, so that normals recomputed from
    the faces (after a plain copy) are each face's own there, not the axis."""
    keys = np.zeros(len(flat), dtype=np.int64)
    if flat.any():
        keys[flat] = 1 + np.unique(np.round(face_normals[flat], 6), axis=0, return_inverse=True)[1].ravel()
    keys = np.repeat(keys[:, None], 3, axis=1)
    singular = ~flat[:, None] & ~corner_normals.any(axis=2)
    keys[singular] = -1 - np.nonzero(singular)[0]
    return keys


def _with_exact_normals(mesh: trimesh.Trimesh, shape: str, p: Mapping[str, float]) -> tuple[np.ndarray, ...]:
    """(vertices (V, 3), faces (F, 3), vertex normals (V, 3)) of ``mesh`` (a centred
    primitive) split into its smooth surfaces, with exact normals (see :func:`primitive`)."""
    vertices, faces = np.asarray(mesh.vertices), np.asarray(mesh.faces)
    face_normals = np.asarray(mesh.face_normals)
    flat = _flat_faces(shape, face_normals)
    curved = np.zeros((len(vertices), 3)) if flat.all() else _curved_normals(shape, p, vertices)
    source, _, new_faces = split_corners(faces, _surface_keys(flat, face_normals, curved[faces]))
    normals = curved[source]
    normals[new_faces[flat]] = face_normals[flat][:, None, :]
    return vertices[source], new_faces, normals


def _field(part, key: str, default=None):
    """``part[key]`` for mappings (dict, DictConfig), ``part.key`` for other objects."""
    if isinstance(part, Mapping):
        value = part.get(key, default)
    else:
        value = getattr(part, key, default)
    if value is None:
        if default is None:
            raise ConfigError(f"part is missing {key!r}: {part!r}")
        return default
    return value


def part_transform(position: Sequence[float], rotation_deg: Sequence[float]) -> np.ndarray:
    """(4, 4) transform: rotate by xyz Euler angles in degrees (static axes, so
    R = Rz @ Ry @ Rx) about the origin, then translate by ``position`` (metres)."""
    if len(position) != 3 or len(rotation_deg) != 3:
        raise ConfigError(
            f"part position and rotation need 3 numbers each, got {list(position)} and "
            f"{list(rotation_deg)}"
        )
    ax, ay, az = np.radians([float(a) for a in rotation_deg])
    matrix = trimesh.transformations.euler_matrix(ax, ay, az, axes="sxyz")
    matrix[:3, 3] = [float(v) for v in position]
    return matrix


def compose_parts(parts) -> list[tuple[str, trimesh.Trimesh]]:
    """Build and place each part of a part-composed object.

    A list composed before (by this source) is read from the cache folder, one file for
    all its parts: the same arrays (vertices, faces, vertex normals) as composing them
    again, where each part costs a primitive's file and a transform.

    Args:
        parts: sequence of ``config.PartConfig``-like objects or mappings with
            ``name``, ``shape``, ``params`` (metres), ``position`` (3,) metres where the
            part's bounding-box centre goes, and ``rotation`` (3,) xyz Euler angles in
            degrees applied about that centre before the translation.

    Returns:
        ``[(name, mesh), ...]`` in input order, meshes in the object's frame (metres).

    Raises:
        ConfigError: a bad shape or params (see :func:`primitive`), naming the part.
    """
    specs = []
    for part in parts:
        name = str(_field(part, "name"))
        try:
            shape = str(_field(part, "shape"))
            params = _check_params(shape, _field(part, "params", {}))
            position = [float(v) for v in _field(part, "position", [0.0, 0.0, 0.0])]
            rotation = [float(v) for v in _field(part, "rotation", [0.0, 0.0, 0.0])]
            matrix = part_transform(position, rotation)
        except ConfigError as exc:
            raise ConfigError(f"part {name!r}: {exc}") from None
        specs.append((name, shape, params, matrix))
    if not specs:
        return []
    made: list = []

    def make() -> dict[str, np.ndarray]:
        for name, shape, params, matrix in specs:
            mesh = primitive(shape, params)
            mesh.apply_transform(matrix)
            made.append((name, mesh))
        return {f"{attribute}{k}": np.asarray(getattr(mesh, attribute))
                for k, (_, mesh) in enumerate(made) for attribute in _MESH_ARRAYS}

    names = tuple(f"{attribute}{k}" for k in range(len(specs)) for attribute in _MESH_ARRAYS)
    key = content_key("composed", [(shape, params, matrix.tolist()) for _, shape, params, matrix in specs])
    arrays = kept_arrays(COMPOSED_CACHE, key, names, make, _mesh_arrays_fit)
    if made:
        return made
    stride = len(_MESH_ARRAYS)
    return [(name, trimesh.Trimesh(**dict(zip(_MESH_ARRAYS, arrays[stride * k:stride * (k + 1)])), process=False))
            for k, (name, _, _, _) in enumerate(specs)]


def _mesh_arrays_fit(arrays: tuple[np.ndarray, ...]) -> bool:
    """Whether kept arrays are :data:`_MESH_ARRAYS` of one mesh or more, one after the
    other: (V, 3) float64 vertices, (F, 3) integer faces, (V, 3) float64 normals."""
    for k in range(0, len(arrays), len(_MESH_ARRAYS)):
        vertices, faces, normals = arrays[k:k + len(_MESH_ARRAYS)]
        if (vertices.ndim != 2 or vertices.shape[1:] != (3,) or vertices.dtype != np.float64
                or normals.shape != vertices.shape or normals.dtype != np.float64
                or faces.ndim != 2 or faces.shape[1:] != (3,) or faces.dtype.kind not in "iu"):
            return False
    return True


def validate_mesh(mesh, source: str) -> None:
    """Check that ``mesh`` is usable for rendering.

    Checks: a ``Trimesh`` with at least one vertex and one face; finite vertices, none
    farther than :data:`MAX_COORDINATE` metres from the origin; face indices within
    ``[0, V)``; no degenerate (near zero-area) triangles, where "near zero" is
    ``(DEGENERATE_REL_EDGE * largest bbox extent)^2``.

    Raises:
        MeshError: naming ``source`` (a file path or description) and what is wrong.
    """
    if not isinstance(mesh, trimesh.Trimesh):
        raise MeshError(f"{source}: not a triangle mesh (got {type(mesh).__name__})")
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces)
    if len(vertices) == 0 or len(faces) == 0:
        raise MeshError(
            f"{source}: empty mesh ({len(vertices)} vertices, {len(faces)} faces); "
            f"is it a readable mesh file?"
        )
    bad = ~np.isfinite(vertices).all(axis=1)
    if bad.any():
        raise MeshError(
            f"{source}: {int(bad.sum())} vertices are not finite "
            f"(first: vertex {int(np.argmax(bad))})"
        )
    far = np.abs(vertices).max(axis=1) > MAX_COORDINATE
    if far.any():
        raise MeshError(
            f"{source}: {int(far.sum())} vertices lie more than {MAX_COORDINATE:g} from the origin "
            f"(largest coordinate {float(np.abs(vertices).max()):.3g}, first: vertex "
            f"{int(np.argmax(far))}); mesh files are in metres: rescale or fix it"
        )
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise MeshError(
            f"{source}: face indices out of range [0, {len(vertices)}): "
            f"min {int(faces.min())}, max {int(faces.max())}"
        )
    triangles = vertices[faces]  # (F, 3, 3)
    areas = 0.5 * np.linalg.norm(
        np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1
    )
    size = float(np.ptp(vertices, axis=0).max())
    degenerate = areas <= (DEGENERATE_REL_EDGE * size) ** 2
    if degenerate.any():
        raise MeshError(
            f"{source}: {int(degenerate.sum())} degenerate (zero-area) faces "
            f"(first: face {int(np.argmax(degenerate))})"
        )


SIMPLIFY_HEADROOM = 20  # with simplify, files of up to this many times max_faces are read and decimated


def load_mesh_file(path, max_faces: int = MAX_MESH_FACES, search: Sequence[Path] = (),
                   simplify: bool = False) -> trimesh.Trimesh:
    """Load a mesh file (any format trimesh reads) as one triangle mesh and validate it.

    The files it refers to (an OBJ's material library and textures) are looked up beside
    it and then in the folders ``search`` (by their name there, or by a relative path
    leading into them, such as ``../materials/textures/texture.png`` of Google Scanned
    Objects): never elsewhere.

    A file holding a scene of several geometries is concatenated into one mesh.
    Vertices are in the file's units (expected metres; they are normalised later).
    The file's size is checked against ``max_faces`` before it is read where its format
    tells (see :func:`declared_size`), and exactly once it is read. With ``simplify``, a
    file of up to ``SIMPLIFY_HEADROOM`` x ``max_faces`` triangles is read and decimated to
    ``max_faces`` (quadric decimation, :func:`decimate`).

    Raises:
        MeshError: the file is missing, unreadable, empty, has more than ``max_faces``
            triangles (or more than 3 x ``max_faces`` vertices) and may not or cannot be
            decimated, is non-finite or too large in extent, has face indices out of
            range or degenerate faces; the message names the file.
    """
    path = Path(path)
    source = f"mesh file {str(path)!r}"
    if not path.is_file():
        raise MeshError(f"{source} does not exist (or is not a file)")
    if path.stat().st_size == 0:
        raise MeshError(f"{source} is empty (0 bytes)")
    _check_mesh_size(source, *declared_size(path), max_faces, SIMPLIFY_HEADROOM if simplify else 1)
    if path.suffix.lower().lstrip(".") in TEXT_MESH_FORMATS and not _is_utf8(path):
        # checked here: with charset_normalizer installed, trimesh guesses an encoding
        # for any bytes and reads garbage as an empty mesh
        raise MeshError(f"{source} could not be read as a mesh (it is not UTF-8 text, as a "
                        f"{path.suffix} mesh file must be); scenegen reads "
                        f"{', '.join('.' + f for f in MESH_FORMATS)}")
    try:
        # process=False: keep the file's data as is, so validation sees what is there
        mesh = trimesh.load(str(path), force="mesh", process=False, resolver=_resolver_class()(path, search))
    except Exception as exc:  # trimesh raises many unrelated types on bad input
        raise MeshError(f"{source} could not be read as a mesh ({_read_failure(path, exc)}); "
                        f"scenegen reads {', '.join('.' + f for f in MESH_FORMATS)}") from None
    if isinstance(mesh, trimesh.Trimesh):
        if simplify and len(mesh.faces) > max_faces:
            mesh = decimate(mesh, max_faces, source)
        _check_mesh_size(source, len(mesh.vertices), len(mesh.faces), max_faces)
    validate_mesh(mesh, source)
    return mesh


def decimate(mesh: trimesh.Trimesh, max_faces: int, source: str) -> trimesh.Trimesh:
    """``mesh`` decimated to at most ``max_faces`` triangles by quadric error
    decimation (trimesh with the ``fast-simplification`` package: deterministic).

    Raises:
        MeshError: the mesh carries texture coordinates or vertex or face colours (which
            decimation does not keep), or the package is missing (the install hint).
    """
    kind = getattr(mesh.visual, "kind", None)
    if kind in ("texture", "vertex", "face"):
        what = "texture coordinates" if kind == "texture" else f"{kind} colours"
        raise MeshError(f"{source} has {len(mesh.faces):,} triangles, more than meshes.max_faces={max_faces:,}, "
                        f"and carries {what}, which decimation would not keep; decimate it in a mesh "
                        f"editor or raise meshes.max_faces")
    try:
        found = mesh.simplify_quadric_decimation(face_count=max_faces)
    except ImportError:
        raise MeshError(f"{source} has {len(mesh.faces):,} triangles, more than meshes.max_faces={max_faces:,}; "
                        f"meshes.simplify needs the fast-simplification package: "
                        f"pip install 'scenegen[simplify]'") from None
    return trimesh.Trimesh(vertices=found.vertices, faces=found.faces, process=False)


def _is_utf8(path: Path) -> bool:
    """Whether the file at ``path`` decodes as UTF-8, read in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as file:
            while chunk := file.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _resolver_class() -> type:
    """trimesh's resolver of the files a mesh file refers to (restricted to its folder),
    extended to folders to search: defined on first use, since it subclasses trimesh's."""

    class _Resolver(trimesh.resolvers.FilePathResolver):
        """trimesh's resolver of the files a mesh file refers to (restricted to its folder),
        extended to the folders ``search``."""

        def __init__(self, path: Path, search: Sequence[Path]):
            super().__init__(str(path))
            self.mesh_folder = Path(path).resolve().parent
            self.search = tuple(Path(folder).resolve() for folder in search)

        def get(self, name: str) -> bytes:
            try:
                return super().get(name)
            except (FileNotFoundError, ValueError):
                if not self.search:
                    raise
            relative = (self.mesh_folder / name.strip()).resolve()
            for folder in self.search:
                for found in (relative, folder / Path(name.strip()).name):
                    if found.is_relative_to(folder) and found.is_file():
                        return found.read_bytes()
            raise FileNotFoundError(name)

    return _Resolver


def _read_failure(path: Path, exc: Exception) -> str:
    """Why trimesh could not read ``path``, in a few words."""
    if isinstance(exc, UnicodeError) or getattr(exc, "name", None) == "charset_normalizer":
        # trimesh decodes text formats as UTF-8, then guesses with an optional package
        return f"it is not UTF-8 text, as a {path.suffix or 'text'} mesh file must be"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _check_mesh_size(source: str, vertices: int | None, faces: int | None, max_faces: int,
                     headroom: int = 1) -> None:
    """Refuse a mesh of more than ``headroom`` x ``max_faces`` triangles, or of more than
    3 x as many vertices (more than any mesh within the budget can use); ``None``: not
    known. ``headroom`` > 1: what ``meshes.simplify`` may still decimate.

    Raises:
        MeshError: naming ``source``, the count and the keys to change.
    """
    for count, what, limit in ((faces, "triangles", headroom * max_faces), (vertices, "vertices", 3 * headroom * max_faces)):
        if count is None or count <= limit:
            continue
        if headroom > 1:
            raise MeshError(f"{source} has at least {count:,} {what}, more than the {limit:,} that meshes.simplify "
                            f"decimates ({headroom}x meshes.max_faces={max_faces:,}); decimate it in a mesh editor "
                            f"or raise meshes.max_faces")
        raise MeshError(
            f"{source} has at least {count:,} {what}, more than the {limit:,} that "
            f"meshes.max_faces={max_faces:,} allows; simplify the mesh (decimate it), set "
            f"meshes.simplify=true (decimates files of up to {SIMPLIFY_HEADROOM}x the budget) or raise "
            f"meshes.max_faces"
        )


def declared_size(path: Path) -> tuple[int | None, int | None]:
    """(vertices, triangles) a mesh file holds at least, read without building the mesh:
    the headers of PLY, OFF and binary STL, the vertex and face lines of OBJ and ASCII
    STL (streamed), the accessors of glTF and GLB. ``None`` where the format or a
    malformed file does not tell (trimesh's own reading then reports what is wrong).
    Polygons count as one triangle each, so the triangles may be more."""
    reader = _SIZE_READERS.get(path.suffix.lower().lstrip("."))
    try:
        return reader(path) if reader else (None, None)
    except (OSError, ValueError, LookupError, TypeError, AttributeError, struct.error):
        return None, None


def _ply_size(path: Path) -> tuple[int | None, int | None]:
    """The vertex and face counts a PLY header declares."""
    with open(path, "rb") as file:
        header = file.read(_CHUNK)
    end = header.find(b"end_header")
    if not header.startswith(b"ply") or end < 0:
        return None, None
    counts = {}
    for line in header[:end].splitlines():
        words = line.split()
        if len(words) == 3 and words[0] == b"element":
            counts[words[1]] = int(words[2])
    return counts.get(b"vertex"), counts.get(b"face")


def _off_size(path: Path) -> tuple[int | None, int | None]:
    """The vertex and face counts after an OFF file's keyword."""
    with open(path, "rb") as file:
        head = file.read(_CHUNK)
    words = [word for line in head.splitlines() for word in line.split(b"#")[0].split()]
    if not words or not words[0].endswith(b"OFF"):
        return None, None
    return int(words[1]), int(words[2])


def _stl_size(path: Path) -> tuple[int | None, int | None]:
    """A binary STL's face count (when the file's size matches it), else an ASCII
    STL's facets; every facet has its own three vertices."""
    with open(path, "rb") as file:
        head = file.read(84)
    if len(head) == 84:
        (faces,) = struct.unpack("<I", head[80:])
        if 84 + 50 * faces == path.stat().st_size:
            return 3 * faces, faces
    if not head.lstrip().startswith(b"solid"):
        return None, None
    (faces,) = _count_tokens(path, (b"endfacet",))
    return 3 * faces, faces


def _obj_size(path: Path) -> tuple[int | None, int | None]:
    """An OBJ file's vertex and face lines."""
    vertices, faces = _count_tokens(path, (b"\nv ", b"\nf "))
    return vertices, faces


def _gltf_size(path: Path) -> tuple[int | None, int | None]:
    """Vertices and triangles of the triangle primitives of a glTF (JSON) or GLB file's
    meshes, from its accessors (a mesh used by several nodes counts once)."""
    with open(path, "rb") as file:
        if path.suffix.lower() == ".glb":  # header, then the JSON chunk: length, type
            magic, _, _, length, kind = struct.unpack("<4sIIII", file.read(20))
            if magic != b"glTF" or kind != 0x4E4F534A:
                return None, None
            document = json.loads(file.read(length))
        else:
            document = json.load(file)
    accessors, vertices, faces = document.get("accessors", []), 0, 0
    for mesh in document.get("meshes", []):
        for prim in mesh.get("primitives", []):
            count = accessors[prim["attributes"]["POSITION"]]["count"]
            vertices += count
            if prim.get("mode", 4) == 4:  # triangles
                indices = prim.get("indices")
                faces += (count if indices is None else accessors[indices]["count"]) // 3
    return vertices, faces


def _count_tokens(path: Path, tokens: tuple[bytes, ...]) -> list[int]:
    """How often each of ``tokens`` occurs in the file (read in chunks: bounded memory),
    the file's start counting as a line start."""
    counts, tail = [0] * len(tokens), b"\n"
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            for i, token in enumerate(tokens):
                # the tail is shorter than the token: an occurrence is counted once
                counts[i] += (tail[len(tail) - len(token) + 1:] + chunk).count(token)
            tail = (tail + chunk)[-max(map(len, tokens)):]
    return counts


_SIZE_READERS = {"ply": _ply_size, "off": _off_size, "stl": _stl_size, "obj": _obj_size,
                 "gltf": _gltf_size, "glb": _gltf_size}


def split_creases(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """A copy of ``mesh`` whose vertices are split along its creases, for shading.

    Coincident vertices are merged first (a file may store each triangle's corners
    apart), then faces meeting at more than :data:`CREASE_ANGLE_DEG` across an edge
    (and large planar regions) stop sharing vertices, so the vertex normals (each the
    angle-weighted mean of its faces' normals) are smooth everywhere but across creases.
    The same triangles, with the same winding, possibly reordered.
    """
    merged = mesh.copy()
    merged.merge_vertices(merge_tex=True, merge_norm=True)
    split = trimesh.graph.smooth_shade(merged, angle=math.radians(CREASE_ANGLE_DEG))
    return trimesh.Trimesh(vertices=split.vertices, faces=split.faces, process=False)


def normalize_parts(parts: list[tuple[str, trimesh.Trimesh]]) -> list[tuple[str, trimesh.Trimesh]]:
    """Scale and translate all parts jointly into the canonical frame.

    Afterwards the union of the parts has a bounding box whose largest extent is 1,
    whose minimum z is 0 and whose x/y centre is at the origin. Unitless (metres / size).

    Args:
        parts: ``[(name, mesh), ...]``; not modified.

    Returns:
        ``[(name, mesh_copy), ...]`` in the same order.

    Raises:
        ValueError: no parts, or the union has zero extent.
    """
    if not parts:
        raise ValueError("normalize_parts needs at least one part")
    bounds = np.array([mesh.bounds for _, mesh in parts])  # (P, 2, 3)
    low, high = bounds[:, 0].min(axis=0), bounds[:, 1].max(axis=0)
    size = float((high - low).max())
    if not size > 0:
        raise ValueError("cannot normalise parts whose union has zero extent")
    offset = np.array([(low[0] + high[0]) / 2, (low[1] + high[1]) / 2, low[2]])
    out = []
    for name, mesh in parts:
        copy = mesh.copy()
        copy.vertices = (np.asarray(mesh.vertices) - offset) / size
        copy.vertex_normals = mesh.vertex_normals  # a translation and a uniform scale keep them
        out.append((name, copy))
    return out
