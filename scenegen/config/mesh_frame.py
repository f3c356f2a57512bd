"""The placement keys of a mesh-file entry (``objects.<name>.up``, ``front``,
``transform`` or ``rotation`` + ``translation``, ``units``): their checks and the matrix
they define from the file's coordinates into the object frame.

The object frame is scenegen's (see :mod:`scenegen.world.dictionary`): z up, front along
+x, base on z = 0 and centred in x and y. A file point ``p`` (its units) goes to

    units_scale * R(up, front) @ (T @ p)

where ``T`` is ``transform`` (or ``rotation`` then ``translation``, as a part's: xyz
Euler angles in degrees, static axes) and ``R`` the proper rotation that turns the
file's ``up`` axis (after ``T``) to +z and its ``front`` axis to +x. The result is then
translated so its base is centred on the origin (so a translation never moves the
object) and, without ``units``, scaled to the entry's ``size`` like any other shape.

Defaults: ``up`` is ``y`` for glTF (``.glb``, ``.gltf``: Y-up by the glTF
specification; trimesh 5 loads a glTF file's coordinates unchanged, node transforms
applied, without turning Y-up to Z-up) and ``z`` for every other format; ``front`` is
``x``. With the defaults a file other than glTF is used as it was before these keys.

A leaf of :mod:`scenegen.config` (numpy only): the config's checks use it, and so does
the dictionary that builds the meshes.
"""

from __future__ import annotations

import math
from typing import Any, Optional

import numpy as np

from ..errors import ConfigError, choices
from .schema import MESH_AXES, MESH_UNITS, ObjectEntryConfig, field_default

# an entry's `size` when not given (`units` and a size of its own conflict)
DEFAULT_SIZE = [float(v) for v in field_default(ObjectEntryConfig.__dataclass_fields__["size"])]

UNIT_METRES = {"m": 1.0, "cm": 0.01, "mm": 0.001}  # per MESH_UNITS name
if tuple(UNIT_METRES) != MESH_UNITS:
    raise RuntimeError("mesh_frame.UNIT_METRES is out of sync with schema.MESH_UNITS")
Y_UP_FORMATS = (".glb", ".gltf")  # Y-up by specification: their default `up` is y
RIGID_TOLERANCE = 1e-6  # relative: how far a transform's 3x3 may be from a scaled rotation
KEYS = ("up", "front", "transform", "rotation", "translation", "units")  # mesh-file entries only


def axis_vector(axis: str) -> np.ndarray:
    """(3,) float unit vector of an axis name in :data:`MESH_AXES` (``"-y"``: (0, -1, 0))."""
    if axis not in MESH_AXES:
        raise ConfigError(f"unknown axis {axis!r}; valid: {choices(MESH_AXES)}")
    vector = np.zeros(3)
    vector["xyz".index(axis[-1])] = -1.0 if axis.startswith("-") else 1.0
    return vector


def axis_rotation(up: str, front: str) -> np.ndarray:
    """(3, 3) proper rotation (det +1) taking the ``up`` axis to +z and ``front`` to +x.

    Raises:
        ConfigError: an unknown axis, or ``front`` not perpendicular to ``up``.
    """
    u, f = axis_vector(up), axis_vector(front)
    if abs(float(u @ f)) > 0.5:
        raise ConfigError(f"front {front!r} must be perpendicular to up {up!r}; "
                          f"valid with up {up!r}: {choices(perpendicular(up))}")
    return np.stack([f, np.cross(u, f), u])  # rows: the file's +x, +y, +z directions


def perpendicular(up: str) -> tuple[str, ...]:
    """The axis names perpendicular to ``up`` (valid ``front`` values), in MESH_AXES order."""
    return tuple(axis for axis in MESH_AXES if axis[-1] != up[-1])


def default_up(path: Any) -> str:
    """``y`` for a glTF file (``.glb``, ``.gltf``), ``z`` for any other."""
    return "y" if str(path).lower().endswith(Y_UP_FORMATS) else "z"


def euler_matrix(rotation_deg, translation) -> np.ndarray:
    """(4, 4): rotate by xyz Euler angles in degrees (static axes: R = Rz @ Ry @ Rx), then
    translate (the convention of a part's ``rotation`` and ``position``)."""
    ax, ay, az = (math.radians(float(a)) for a in rotation_deg)
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
    matrix = np.eye(4)
    matrix[:3, :3] = rz @ ry @ rx
    matrix[:3, 3] = [float(v) for v in translation]
    return matrix


def transform_problem(matrix: Any) -> Optional[str]:
    """Why ``matrix`` is not a usable ``transform`` (None when it is): it must be 4x4 of
    finite numbers, last row (0, 0, 0, 1), its 3x3 a rotation times a positive uniform
    scale (so det > 0: no mirroring, no shear)."""
    try:
        array = np.array(matrix, dtype=float)
    except (TypeError, ValueError):
        return "must be a 4x4 matrix (4 rows of 4 numbers)"
    if array.shape != (4, 4):
        return f"must be a 4x4 matrix (4 rows of 4 numbers), got shape {array.shape}"
    if not np.isfinite(array).all():
        return "must hold finite numbers"
    if not np.allclose(array[3], [0, 0, 0, 1], atol=RIGID_TOLERANCE):
        return f"must have last row [0, 0, 0, 1], got {array[3].tolist()}"
    linear = array[:3, :3]
    det = float(np.linalg.det(linear))
    if not det > 0:
        return (f"must have a 3x3 part with a positive determinant (a rotation and a uniform "
                f"scale; no mirroring), got det {det:.6g}")
    scale = det ** (1 / 3)
    if not np.allclose(linear.T @ linear / scale**2, np.eye(3), atol=RIGID_TOLERANCE * 10):
        return "must be a rotation, a uniform scale and a translation (its 3x3 part shears or scales unevenly)"
    return None


def check_mesh_frame(entry: Any, key: str) -> None:
    """The cross-field rules of an entry's placement keys (``entry`` a mapping or config
    node; ``key`` its name, ``objects.<name>``): the keys belong to a mesh-file entry;
    ``front`` perpendicular to ``up``; ``transform`` or ``rotation``/``translation``, not
    both; 3 numbers each; ``transform`` rigid with a uniform scale; ``units`` and a
    ``size`` other than the default not both.

    Raises:
        ConfigError: naming the key and what is valid.
    """
    given = {name: _get(entry, name) for name in KEYS}
    given = {name: value for name, value in given.items() if value is not None}
    if not _get(entry, "mesh"):
        if given:
            raise ConfigError(f"{key}.{next(iter(given))} applies to a mesh-file entry only (one with "
                              f"'mesh'); {choices(KEYS)} place a mesh file's coordinates")
        return
    for name in ("up", "front"):
        if name in given and given[name] not in MESH_AXES:
            raise ConfigError(f"{key}.{name} is {given[name]!r}; valid: {choices(MESH_AXES)}")
    if "units" in given and given["units"] not in MESH_UNITS:
        raise ConfigError(f"{key}.units is {given['units']!r}; valid: {choices(MESH_UNITS)}")
    up = given.get("up") or default_up(_get(entry, "mesh"))
    front = given.get("front", "x")
    if up[-1] == front[-1]:
        which = "up" if "up" in given else f"up (default {up!r} for this file)"
        raise ConfigError(f"{key}.front {front!r} must be perpendicular to {key}.{which}; "
                          f"valid with up {up!r}: {choices(perpendicular(up))}")
    if "transform" in given and ("rotation" in given or "translation" in given):
        raise ConfigError(f"{key}: give either 'transform' (a 4x4 matrix) or 'rotation' and "
                          f"'translation', not both")
    for name in ("rotation", "translation"):
        values = given.get(name)
        if values is not None and (len(values) != 3 or not all(_finite(v) for v in values)):
            unit = "degrees" if name == "rotation" else "in the file's units"
            raise ConfigError(f"{key}.{name} must be 3 finite numbers [x, y, z] ({unit}), got {list(values)}")
    if "transform" in given:
        problem = transform_problem(_plain(given["transform"]))
        if problem:
            raise ConfigError(f"{key}.transform {problem}")
    size = _get(entry, "size")
    if "units" in given and size is not None and [float(v) for v in size] != DEFAULT_SIZE:
        raise ConfigError(f"{key}: give either 'units' (the object keeps the file's size) or 'size' "
                          f"(the file is scaled to a size in that range), not both")


def file_to_object(entry: Any, key: str) -> tuple[np.ndarray, Optional[float]]:
    """The (4, 4) matrix taking a mesh file's coordinates into the object frame's axes
    and, with ``units``, into metres (before the base is centred), and the metres per
    file unit (None without ``units``: the shape is then scaled to ``size``).

    Raises:
        ConfigError: see :func:`check_mesh_frame`.
    """
    check_mesh_frame(entry, key)
    first = np.eye(4)
    if _get(entry, "transform") is not None:
        first = np.array(_plain(_get(entry, "transform")), dtype=float)
    elif _get(entry, "rotation") is not None or _get(entry, "translation") is not None:
        first = euler_matrix(_get(entry, "rotation") or (0, 0, 0), _get(entry, "translation") or (0, 0, 0))
    axes = np.eye(4)
    axes[:3, :3] = axis_rotation(_get(entry, "up") or default_up(_get(entry, "mesh")), _get(entry, "front") or "x")
    units = _get(entry, "units")
    metres = UNIT_METRES[units] if units is not None else None
    scale = np.diag([metres or 1.0] * 3 + [1.0])
    return scale @ axes @ first, metres


def _get(node: Any, name: str) -> Any:
    value = node.get(name, None) if hasattr(node, "get") else getattr(node, name, None)
    return value


def _plain(value: Any) -> Any:
    """A config list as nested Python lists."""
    if hasattr(value, "__iter__") and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
