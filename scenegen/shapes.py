"""Procedural primitive meshes, part composition, mesh-file loading and normalisation.

Units are metres and frames are Z-up. Part rotations are given in degrees (as in the
config) and converted to radians here. Meshes are ``trimesh.Trimesh`` objects with
``vertices`` of shape (V, 3) float64 (metres) and ``faces`` of shape (F, 3) int.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import trimesh

from .config import PRIMITIVE_SHAPES
from .errors import ConfigError, MeshError, choices

SECTIONS = 32  # segments around round shapes; enough at 256-512 px
SPHERE_SUBDIVISIONS = 3  # icosphere level: 1280 faces
DEGENERATE_REL_EDGE = 1e-6  # a face is degenerate below (1e-6 * mesh size)^2 of area

_PARAMS = {
    "box": ("x", "y", "z"),
    "cylinder": ("radius", "height"),
    "sphere": ("radius",),
    "cone": ("radius", "height"),
    "capsule": ("radius", "height"),
    "torus": ("major_radius", "minor_radius"),
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
    return values


def primitive(shape: str, params: Mapping[str, float]) -> trimesh.Trimesh:
    """Build a closed primitive mesh centred at its bounding-box centre, axis along z.

    Args:
        shape: one of ``config.PRIMITIVE_SHAPES``.
        params: metres. box {x, y, z} full extents; cylinder, cone {radius, height};
            sphere {radius}; capsule {radius, height} with height the total height
            (> 2 * radius); torus {major_radius, minor_radius}, ring in the xy plane.

    Returns:
        A new mesh whose axis-aligned bounding box is centred at the origin.

    Raises:
        ConfigError: unknown shape, missing or extra param, or a non-positive value;
            the message names the shape, the param and the valid choices.
    """
    p = _check_params(shape, params)
    create = trimesh.creation
    if shape == "box":
        mesh = create.box(extents=(p["x"], p["y"], p["z"]))
    elif shape == "cylinder":
        mesh = create.cylinder(radius=p["radius"], height=p["height"], sections=SECTIONS)
    elif shape == "sphere":
        mesh = create.icosphere(subdivisions=SPHERE_SUBDIVISIONS, radius=p["radius"])
    elif shape == "cone":
        mesh = create.cone(radius=p["radius"], height=p["height"], sections=SECTIONS)
    elif shape == "capsule":
        # trimesh's height is the distance between the two hemisphere centres
        mesh = create.capsule(
            height=p["height"] - 2 * p["radius"], radius=p["radius"], count=[SECTIONS, SECTIONS]
        )
    else:  # torus
        mesh = create.torus(
            major_radius=p["major_radius"],
            minor_radius=p["minor_radius"],
            major_sections=SECTIONS,
            minor_sections=SECTIONS,
        )
    mesh.apply_translation(-mesh.bounds.mean(axis=0))
    return mesh


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
    placed = []
    for part in parts:
        name = str(_field(part, "name"))
        try:
            mesh = primitive(str(_field(part, "shape")), _field(part, "params", {}))
            position = list(_field(part, "position", [0.0, 0.0, 0.0]))
            rotation = list(_field(part, "rotation", [0.0, 0.0, 0.0]))
            mesh.apply_transform(part_transform(position, rotation))
        except ConfigError as exc:
            raise ConfigError(f"part {name!r}: {exc}") from None
        placed.append((name, mesh))
    return placed


def validate_mesh(mesh, source: str) -> None:
    """Check that ``mesh`` is usable for rendering.

    Checks: a ``Trimesh`` with at least one vertex and one face; finite vertices;
    face indices within ``[0, V)``; no degenerate (near zero-area) triangles, where
    "near zero" is ``(DEGENERATE_REL_EDGE * largest bbox extent)^2``.

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


def load_mesh_file(path) -> trimesh.Trimesh:
    """Load a mesh file (any format trimesh reads) as one triangle mesh and validate it.

    A file holding a scene of several geometries is concatenated into one mesh.
    Vertices are in the file's units (expected metres; they are normalised later).

    Raises:
        MeshError: the file is missing, unreadable, empty, non-finite, has face
            indices out of range or degenerate faces; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise MeshError(f"mesh file {str(path)!r} does not exist (or is not a file)")
    if path.stat().st_size == 0:
        raise MeshError(f"mesh file {str(path)!r} is empty (0 bytes)")
    try:
        # process=False: keep the file's data as is, so validation sees what is there
        mesh = trimesh.load(str(path), force="mesh", process=False)
    except Exception as exc:  # trimesh raises many unrelated types on bad input
        raise MeshError(
            f"mesh file {str(path)!r} could not be read: {type(exc).__name__}: {exc}"
        ) from None
    validate_mesh(mesh, f"mesh file {str(path)!r}")
    return mesh


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
        out.append((name, copy))
    return out
