"""Procedural textures (numpy) and the box (triplanar) UV projection they are drawn with.

A texture is a *modulation* of an object's base colour: an (S, S, 3) uint8 image where
255 (1.0) leaves the base colour as it is and lower values darken it. Its dark phase is
``1 - contrast`` (contrast 0: flat; 1: black). The image holds exactly one tile of the
pattern and tiles seamlessly, so a renderer samples it with a repeating sampler.

UVs come from :func:`uv_coordinates`: each face takes the two coordinates of its
vertices orthogonal to the axis its normal is closest to, in the mesh's own units
(canonical units for objects, whose largest extent is 1; metres for floors and walls).
Multiplying them by :func:`uv_scale` gives the texture coordinates: ``repeats`` pattern
periods per unit.

Nothing here draws from global random state: the noise of a texture is seeded from a
fixed root and the texture's parameters, so it is the same in every process and run.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..config.schema import TEXTURE_PATTERNS
from ..errors import ConfigError, choices
from ..lazy import trimesh
from ..world.colour import linear_to_srgb
from ..world.dictionary import Texture
from ..world.shapes import split_corners

PATTERNS = TEXTURE_PATTERNS  # the config schema validates against the same names
DEFAULT_SIZE = 128  # texels a side of one tile
NOISE_CELLS = 4  # lattice cells of the coarsest noise octave across one tile
NOISE_OCTAVES = 3  # octaves of 4, 8, 16 cells, amplitudes 1, 1/2, 1/4
_NOISE_ROOT = 0x5CE7E6E7  # fixed root entropy of every noise texture's SeedSequence

# for a face whose normal is closest to axis a, its (u, v) are these vertex coordinates
UV_AXES = np.array([[1, 2], [0, 2], [0, 1]])


def uv_scale(texture: Texture) -> float:
    """Texture coordinates per mesh unit (canonical unit on objects, metre on floors and
    walls) so that ``texture.repeats`` periods span one unit.

    A checker or stripes tile is one period. A noise tile holds :data:`NOISE_CELLS`
    coarse lattice cells (so its repetition is hard to see), and a noise "period" is one
    cell: its scale is ``repeats / NOISE_CELLS``.
    """
    if texture.pattern == "noise":
        return texture.repeats / NOISE_CELLS
    return float(texture.repeats)


def _noise_seed(texture: Texture) -> np.random.SeedSequence:
    """SeedSequence of a noise texture: fixed root, spawn key from its parameters."""
    key = f"{texture.pattern}|{texture.repeats!r}|{texture.contrast!r}".encode()
    return np.random.SeedSequence(_NOISE_ROOT, spawn_key=(zlib.crc32(key),))


def _value_noise(size: int, seed: np.random.SeedSequence) -> np.ndarray:
    """(size, size) float in [0, 1]: tileable fractal value noise (smoothstep-blended
    lattice values; each octave's lattice wraps around, so the tile repeats seamlessly).
    The lattice values do not depend on ``size``: other sizes resample the same field."""
    rng = np.random.Generator(np.random.PCG64(seed))
    t = (np.arange(size) + 0.5) / size  # texel centres in [0, 1)
    total = np.zeros((size, size))
    for octave in range(NOISE_OCTAVES):
        cells = NOISE_CELLS * 2**octave
        lattice = rng.random((cells, cells))
        x = t * cells
        i0 = np.floor(x).astype(int) % cells
        i1 = (i0 + 1) % cells
        f = x - np.floor(x)
        f = f * f * (3.0 - 2.0 * f)  # smoothstep: continuous slope across cells
        # rows are v, columns are u
        top = lattice[i0][:, i0] * (1 - f)[None, :] + lattice[i0][:, i1] * f[None, :]
        bottom = lattice[i1][:, i0] * (1 - f)[None, :] + lattice[i1][:, i1] * f[None, :]
        total += (top * (1 - f)[:, None] + bottom * f[:, None]) * 0.5**octave
    low, high = total.min(), total.max()
    return (total - low) / (high - low) if high > low else np.zeros_like(total)


def darkness(texture: Texture, size: int = DEFAULT_SIZE) -> np.ndarray:
    """(size, size) float in [0, 1]: how dark each texel of one tile is (0 = base
    colour, 1 = the full ``contrast``). Rows are v, columns are u; texel centres at
    ``(i + 0.5) / size``.

    checker: one period = 2 x 2 squares, dark where exactly one of u, v is in [0.5, 1).
    stripes: one period along u, dark for u in [0.5, 1); constant along v.
    noise: tileable value noise (see :func:`uv_scale` for its period).

    Raises:
        ConfigError: unknown pattern, or an odd or too small ``size``.
    """
    if texture.pattern not in PATTERNS:
        raise ConfigError(f"texture pattern {texture.pattern!r} is unknown; valid: {choices(PATTERNS)}")
    if size < 2 or size % 2:
        raise ConfigError(f"texture size {size} must be even and at least 2")
    half = (np.arange(size) >= size // 2).astype(float)  # 0 first half, 1 second half
    if texture.pattern == "plain":
        return np.zeros((size, size))
    if texture.pattern == "checker":
        return np.abs(half[:, None] - half[None, :])
    if texture.pattern == "stripes":
        return np.broadcast_to(half[None, :], (size, size)).copy()
    return _value_noise(size, _noise_seed(texture))


def texture_image(texture: Texture, size: int = DEFAULT_SIZE) -> np.ndarray:
    """(size, size, 3) uint8 linear modulation image of one tile of ``texture``:
    ``255 * (1 - contrast * darkness)`` (see :func:`darkness`), equal in all channels.

    255 keeps the base colour; contrast 0 gives a flat 255 image; contrast 1 makes the
    dark phase 0. Deterministic (no global random state).
    """
    contrast = float(np.clip(texture.contrast, 0.0, 1.0))
    value = np.rint(255.0 * (1.0 - contrast * darkness(texture, size))).astype(np.uint8)
    return np.repeat(value[:, :, None], 3, axis=2)


def srgb_encode(image: np.ndarray) -> np.ndarray:
    """uint8 linear values -> uint8 sRGB-encoded values (for samplers that decode sRGB,
    as glTF base-colour textures do), so the decoded value is the linear one again."""
    return _SRGB_CODES[image]


_SRGB_CODES = linear_to_srgb(np.arange(256) / 255.0)  # uint8 linear value -> its sRGB code


def uv_coordinates(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """A copy of ``mesh`` with box-projected (triplanar) per-vertex UVs.

    Each face takes, for its vertices, the two coordinates orthogonal to the axis of its
    normal's largest component (``UV_AXES``: x -> (y, z), y -> (x, z), z -> (x, y)), in
    the mesh's units. Vertices are split where faces of different projection axes meet
    (so each face's UVs are its own at the seams); every vertex keeps the mesh's vertex
    normal (scenegen's meshes are split at their creases and carry the normals they are
    shaded with: see :mod:`scenegen.world.shapes`).

    Returns:
        a Trimesh with ``vertices`` (V, 3) in the units of ``mesh``, ``faces`` (F, 3)
        (the same triangles, order and winding as ``mesh``), ``vertex_normals`` (V, 3)
        those of ``mesh``, and ``visual.uv`` (V, 2) float (same units as the vertices).
    """
    vertices, faces, normals, uv = uv_arrays(mesh)
    return trimesh.Trimesh(
        vertices=vertices,
        faces=faces,
        vertex_normals=normals,
        visual=trimesh.visual.TextureVisuals(uv=uv),
        process=False,
    )


def uv_arrays(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The arrays of :func:`uv_coordinates` without building a Trimesh: (vertices (V, 3),
    faces (F, 3), vertex normals (V, 3), uv (V, 2)), float64 but the int faces."""
    axis = np.argmax(np.abs(np.asarray(mesh.face_normals)), axis=1)
    source, vertex_axis, faces = split_corners(mesh.faces, np.repeat(axis[:, None], 3, axis=1))
    vertices = np.asarray(mesh.vertices)[source]
    uv = np.take_along_axis(vertices, UV_AXES[vertex_axis], axis=1)
    return vertices, faces, np.asarray(mesh.vertex_normals)[source], uv
