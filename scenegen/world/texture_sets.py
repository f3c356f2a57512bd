"""PBR texture sets by material class: base-colour detail, roughness, metallic and a
normal map, made in code (offline, deterministic) or read from a folder of images laid
out as the common PBR libraries (ambientCG, Poly Haven) ship them.

A :class:`TextureSet` holds one seamless tile of four maps, all (S, S) texels (S a power
of two), rows ``v`` (row 0 at the top of the image), columns ``u``:

- ``albedo`` (S, S, 3) uint8, sRGB-encoded. For the built-in sets (``absolute=False``)
  it is the *detail* of a base colour: the renderer multiplies the object's own base
  colour by it (after decoding sRGB), so it is near-white/grey variation (grain, weave,
  brush lines, speckle) whose mean linear luminance is :data:`DETAIL_LUMINANCE` (0.85;
  ``granite`` 0.75, leaving room for its near-black crystals; ``grass`` 0.5, and
  green-ish: floors carry their own colours, so a floor of grass shows a green detail on
  whatever colour the floor has, best a light neutral one). For a folder's sets
  (``absolute=True``) it is the photo's colour as read; :meth:`TextureSet.detail` (see
  :func:`as_detail`) gives its detail version. Which of the two a renderer uses (the
  object's colour times the detail, or the photo's own colour) is the renderer's choice.
- ``roughness`` (S, S) uint8: absolute perceptual roughness (glTF's ``alpha =
  roughness**2``), 0..255 = 0..1. A renderer that also has a material roughness factor
  combines the two as it sees fit (e.g. multiplies by ``factor / 0.5``).
- ``metallic`` (S, S) uint8: metalness, 0..255 = 0..1.
- ``normal`` (S, S, 3) uint8 tangent-space normal map in the OpenGL convention (as
  ambientCG's ``_NormalGL`` files): ``rgb = rint(127.5 * (n + 1))`` with ``+X`` along
  growing columns (``u``), ``+Y`` towards row 0 (image up: green is up), ``+Z`` out of
  the surface; a flat texel is (128, 128, 255). A renderer whose ``v`` grows down the
  rows uses the bitangent ``-dP/dv``.
- ``tile_size``: metres one tile spans on a surface (the normal maps' slopes are those
  of a tile of that size).

Built-in sets (:func:`builtin_sets`) are procedural: tileable value, spectral and
cellular noise, every draw from ``scenegen.streams.texture_noise_seed`` with a key of the
set's name and the part drawn, so a set is the same in every process and run (on one
platform: transcendental functions may differ in their last bit between CPUs, which can
move a rare texel by one level). Their height fields (metres) become normal maps with
:func:`normal_from_height`. A set's maps are kept in the cache folder
(``cache.kind_dir("texture-sets")``, keyed by its name, size and scenegen's source), so each is
made once, not in every process.

A folder of texture sets (:func:`load_texture_sets`)::

    DIR/<material class>/<set name>/Wood049_2K-JPG_Color.jpg       # base colour (required)
                                    Wood049_2K-JPG_Roughness.jpg   # optional
                                    Wood049_2K-JPG_NormalGL.jpg    # optional
                                    meta.yaml                      # optional: {tile_size: 0.5}

``<material class>`` is one of :data:`MATERIAL_CLASSES`; a map is found by the end of
its file name's stem (case-insensitive; :data:`MAP_SUFFIXES`), also before a trailing
Poly Haven resolution (``wood_table_001_nor_gl_2k.jpg``). Missing maps: roughness 0.5
everywhere, metallic 0 (1 in the class ``metal``), a flat normal map. A DirectX normal
map (``_NormalDX``, ``_nor_dx``) has its green flipped to the OpenGL convention; when a
set has both, the OpenGL one is used. A Poly Haven ``_arm`` image (ambient occlusion,
roughness, metalness in R, G, B) stands in for missing roughness and metalness maps.
Images are cropped to their centre square, then resized (Pillow, LANCZOS) to the largest
power of two no larger than ``max_size`` and the base colour's side; every map of a set
to the base colour's size. ``meta.yaml`` may give ``tile_size`` (metres, default 1.0) and
``surface`` (``object``, ``floor`` or ``wall``; default ``object``).
"""

from __future__ import annotations

import difflib
import functools
import math
import numbers
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..cache import content_key, kept_arrays
from ..config.schema import MATERIAL_CLASSES
from ..errors import ConfigError, choices
from ..fileio import read_yaml
from ..streams import texture_noise_seed
from .colour import linear_to_srgb, luminance, srgb_to_linear

SURFACES = ("object", "floor", "wall")  # what a set is made for
DEFAULT_SIZE = 256  # texels a side of a built-in tile
MIN_SIZE = 16
MAX_BUILTIN_SIZE = 4096
MAX_SIZE = 1024  # texels a side of a folder's maps, at most (default)
TEXTURE_SET_CACHE = "texture-sets"  # the cache folder (scenegen.cache.kind_dir) of built-in sets' maps
DETAIL_LUMINANCE = 0.85  # mean linear luminance of a detail albedo
DETAIL_CHROMA = 0.25  # as_detail keeps this fraction of a photo's hue variation
DEFAULT_ROUGHNESS = 0.5  # a folder's set without a roughness map
DEFAULT_TILE_SIZE = 1.0  # metres: a folder's set without meta.yaml
IMAGE_SUFFIXES = (".bmp", ".jpeg", ".jpg", ".png", ".tga", ".tif", ".tiff", ".webp")
META_FILE = "meta.yaml"
META_KEYS = ("surface", "tile_size")
NAME_FORBIDDEN = ("=", ",", ":")

# map -> the endings of an image's stem that name it (lower case, longest tried first)
MAP_SUFFIXES = {
    "albedo": ("_color", "_basecolor", "_albedo", "_diffuse", "_diff"),
    "roughness": ("_roughness", "_rough"),
    "metallic": ("_metalness", "_metallic", "_metal"),
    "normal_gl": ("_normalgl", "_normal", "_nor_gl"),
    "normal_dx": ("_normaldx", "_nor_dx"),
    "arm": ("_arm",),
}
_MAP_NAMES = {"albedo": "base colour", "roughness": "roughness", "metallic": "metallic",
              "normal_gl": "normal (OpenGL)", "normal_dx": "normal (DirectX)", "arm": "AO/roughness/metal"}
_RESOLUTION = re.compile(r"_\d+k$", re.IGNORECASE)  # Poly Haven: <name>_<map>_<res>

FLAT_NORMAL = (128, 128, 255)


# ---------------------------------------------------------------------------------------
# the texture set


@dataclass(frozen=True, eq=False)
class TextureSet:
    """One seamless tile of PBR maps (see the module docstring for each map's meaning).

    Attributes:
        name: the set's name (a short factor-level-like string).
        material_class: one of :data:`MATERIAL_CLASSES`.
        albedo: (S, S, 3) uint8 sRGB: base-colour detail, or the absolute colour of a
            photo where ``absolute`` is true.
        roughness: (S, S) uint8, absolute perceptual roughness 0..1.
        metallic: (S, S) uint8 metalness 0..1.
        normal: (S, S, 3) uint8 tangent-space normal map, OpenGL convention.
        tile_size: metres one tile spans.
        absolute: ``albedo`` is a photo's own colour (a folder's set), not a detail map.
        surface: what the set is made for: ``object``, ``floor`` or ``wall``.

    The arrays are read-only copies. Raises ConfigError for maps of the wrong shape or
    dtype, an unknown class or surface, or a tile size that is not a positive number.
    """

    name: str
    material_class: str
    albedo: np.ndarray
    roughness: np.ndarray
    metallic: np.ndarray
    normal: np.ndarray
    tile_size: float
    absolute: bool = False
    surface: str = "object"

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"texture set name must be a non-empty string, got {self.name!r}")
        where = f"texture set {self.name!r}"
        if self.material_class not in MATERIAL_CLASSES:
            raise ConfigError(f"{where}: material class {self.material_class!r} is unknown; "
                              f"valid: {choices(MATERIAL_CLASSES)}")
        if self.surface not in SURFACES:
            raise ConfigError(f"{where}: surface {self.surface!r} is unknown; valid: {choices(SURFACES)}")
        object.__setattr__(self, "tile_size", _check_tile_size(self.tile_size, where))
        object.__setattr__(self, "absolute", bool(self.absolute))
        albedo = np.asarray(self.albedo)
        if albedo.ndim != 3 or albedo.shape[2] != 3 or albedo.shape[0] != albedo.shape[1] or albedo.shape[0] < 1:
            raise ConfigError(f"{where}: albedo must be (S, S, 3), got shape {albedo.shape}")
        size = albedo.shape[0]
        for field, shape in (("albedo", (size, size, 3)), ("roughness", (size, size)), ("metallic", (size, size)),
                             ("normal", (size, size, 3))):
            value = np.asarray(getattr(self, field))
            if value.shape != shape or value.dtype != np.uint8:
                raise ConfigError(f"{where}: {field} must be uint8 of shape {shape}, got {value.dtype} {value.shape}")
            value = np.array(value, copy=True, order="C")
            value.setflags(write=False)
            object.__setattr__(self, field, value)

    @property
    def size(self) -> int:
        """Texels a side of the tile."""
        return int(self.albedo.shape[0])

    def detail(self) -> np.ndarray:
        """The albedo as a detail map (mean linear luminance :data:`DETAIL_LUMINANCE`, small
        hue variation; see :func:`as_detail`): ``albedo`` itself for a built-in set."""
        return as_detail(self.albedo) if self.absolute else self.albedo


def _check_tile_size(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{where}: tile_size {value!r} is not valid; valid: a finite number of metres > 0")
    return float(value)


# ---------------------------------------------------------------------------------------
# colour and normal encodings


def encode_normals(normals: np.ndarray) -> np.ndarray:
    """(..., 3) unit normals -> uint8 ``rint(127.5 * (n + 1))`` ((0, 0, 1) -> (128, 128, 255))."""
    return np.clip(np.rint(127.5 * (np.asarray(normals, dtype=float) + 1.0)), 0, 255).astype(np.uint8)


def decode_normals(encoded: np.ndarray) -> np.ndarray:
    """uint8 normal map -> (..., 3) float unit normals (the inverse of :func:`encode_normals`,
    renormalised)."""
    n = np.asarray(encoded, dtype=float) / 127.5 - 1.0
    return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)


def normal_from_height(height: np.ndarray, strength: float = 1.0, texel_size: float = 1.0) -> np.ndarray:
    """(S, S, 3) uint8 OpenGL tangent-space normal map of a tileable height field.

    Slopes are central differences that wrap around both axes (so a seamless height field
    gives a seamless normal map): ``dh/du = (h[r, c+1] - h[r, c-1]) / (2 texel_size)`` and
    ``dh/dy = (h[r-1, c] - h[r+1, c]) / (2 texel_size)`` (``y`` towards row 0), and the
    normal is ``normalize(-strength dh/du, -strength dh/dy, 1)`` (see
    :func:`encode_normals`). A constant height gives (128, 128, 255) everywhere.

    Args:
        height: (H, W) heights, in the unit of ``texel_size`` (metres for the built-ins).
        strength: factor on the slopes (1 = the height's true slopes).
        texel_size: the distance between neighbouring texels.
    """
    h = np.asarray(height, dtype=float)
    if h.ndim != 2:
        raise ValueError(f"height must be a 2-D array, got shape {h.shape}")
    if not (math.isfinite(texel_size) and texel_size > 0):
        raise ValueError(f"texel_size must be a finite number > 0, got {texel_size!r}")
    scale = strength / (2.0 * texel_size)
    du = (np.roll(h, -1, axis=1) - np.roll(h, 1, axis=1)) * scale
    dy = (np.roll(h, 1, axis=0) - np.roll(h, -1, axis=0)) * scale
    n = np.stack([-du, -dy, np.ones_like(h)], axis=-1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    return encode_normals(n)


def as_detail(albedo: np.ndarray, luminance_target: float = DETAIL_LUMINANCE,
              chroma: float = DETAIL_CHROMA) -> np.ndarray:
    """A colour photo (uint8 sRGB, (H, W, 3)) as a detail map: divided by its mean linear
    colour (so its own colour goes), its hue variation kept at ``chroma`` (0.25) of the
    photo's, scaled to mean linear luminance ``luminance_target``. Where the photo's
    brightest texels would pass 1, the variation about the mean is compressed (about
    the mean, so the mean stays) until the 99.5th percentile fits; the rest is clipped.
    A uniform photo gives a uniform grey of that luminance.

    Returns:
        (H, W, 3) uint8 sRGB-encoded detail.
    """
    linear = srgb_to_linear(np.asarray(albedo)[..., :3])
    mean = linear.reshape(-1, 3).mean(axis=0)
    relative = linear / np.maximum(mean, 1e-4)
    grey = luminance(relative)[..., None]
    relative = grey + chroma * (relative - grey)
    return linear_to_srgb(_fit_mean(relative, luminance_target))


def _fit_mean(linear_rgb: np.ndarray, target: float) -> np.ndarray:
    """``linear_rgb`` scaled to mean luminance ``target``; where the 99.5th percentile of a
    channel would pass 1, every channel's variation about its mean is compressed by one
    factor (so the means, and the hue of the mean, stay) until it fits; then clipped."""
    pixels = np.asarray(linear_rgb, dtype=float)
    relative = pixels / max(float(luminance(pixels).mean()), 1e-6)
    means = relative.reshape(-1, 3).mean(axis=0)
    top = np.percentile(relative.reshape(-1, 3), 99.5, axis=0)
    room = np.maximum(1.0 / target - means, 0.0)
    over = top - means > room
    if over.any():
        factor = float(np.min(room[over] / (top - means)[over]))
        relative = means + (relative - means) * factor
    return np.clip(relative * target, 0.0, 1.0)


# ---------------------------------------------------------------------------------------
# tileable noise (every draw from texture_noise_seed)


def _rng(name: str, part: str) -> np.random.Generator:
    """The generator of one part of built-in set ``name`` (independent of the tile's size,
    so lattice noise is the same field at every size)."""
    seed = texture_noise_seed(f"texture-set|{name}|{part}".encode())
    return np.random.Generator(np.random.PCG64(seed))


def _standard(x: np.ndarray) -> np.ndarray:
    """``x`` shifted and scaled to mean 0, standard deviation 1 (0 if constant)."""
    std = float(x.std())
    return (x - x.mean()) / std if std > 0 else np.zeros_like(x)


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(v, u) of the texel centres in [0, 1), as (S, 1) and (1, S) arrays."""
    t = (np.arange(size) + 0.5) / size
    return t[:, None], t[None, :]


def _bspline(cells: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Lattice indices (4, size) and cubic B-spline weights (4, size) of the texel centres
    of one axis over ``cells`` wrapping lattice cells."""
    x = (np.arange(size) + 0.5) / size * cells
    i = np.floor(x).astype(int)
    t = x - i
    index = (i[None, :] + np.arange(-1, 3)[:, None]) % cells
    weights = np.stack([(1 - t) ** 3, 3 * t**3 - 6 * t**2 + 4, -3 * t**3 + 3 * t**2 + 3 * t + 1, t**3]) / 6.0
    return index, weights


def _lattice(rng: np.random.Generator, size: int, cells_v: int, cells_u: int | None = None, octaves: int = 1,
             gain: float = 0.5) -> np.ndarray:
    """(size, size) tileable fractal value noise, mean 0 and standard deviation 1:
    uniform lattice values over ``cells_v`` x ``cells_u`` wrapping cells (``cells_u``
    fewer than ``cells_v`` stretches the noise along u), cubic B-spline interpolated;
    octave ``k`` has ``2**k`` times the cells and ``gain**k`` the amplitude."""
    cells_u = cells_v if cells_u is None else cells_u
    total = np.zeros((size, size))
    for octave in range(octaves):
        cv, cu = cells_v * 2**octave, cells_u * 2**octave
        values = rng.random((cv, cu)) - 0.5
        index_u, weight_u = _bspline(cu, size)
        rows = sum(values[:, index_u[k]] * weight_u[k][None, :] for k in range(4))  # (cv, size)
        index_v, weight_v = _bspline(cv, size)
        total += gain**octave * sum(rows[index_v[k], :] * weight_v[k][:, None] for k in range(4))
    return _standard(total)


def _frequencies(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies in cycles per tile of ``rfft2`` of a (size, size) tile: along v (rows)
    as (size, 1), along u as (1, size // 2 + 1)."""
    return (np.fft.fftfreq(size) * size)[:, None], (np.fft.rfftfreq(size) * size)[None, :]


def _spectral(rng: np.random.Generator, size: int, spectrum: Callable[[np.ndarray, np.ndarray], np.ndarray]
              ) -> np.ndarray:
    """(size, size) tileable noise, mean 0, standard deviation 1: white noise filtered (a
    circular convolution, so it wraps) by the amplitude ``spectrum(fv, fu)`` of
    frequencies in cycles per tile."""
    white = rng.standard_normal((size, size))
    fv, fu = _frequencies(size)
    return _standard(np.fft.irfft2(np.fft.rfft2(white) * spectrum(fv, fu), s=(size, size)))


def _streaks(rng: np.random.Generator, size: int, along: float, across: float, angle: float = 0.0) -> np.ndarray:
    """Spectral noise of streaks: a Gaussian spectrum of width ``along`` cycles per tile
    along the streaks and ``across`` across them (streaks about ``1 / along`` tiles long
    and ``1 / across`` wide), running along u turned by ``angle`` radians."""
    c, s = math.cos(angle), math.sin(angle)

    def spectrum(fv, fu):
        f_along = c * fu + s * fv
        f_across = -s * fu + c * fv
        return np.exp(-((f_along / along) ** 2) - (f_across / across) ** 2)

    return _spectral(rng, size, spectrum)


def _band(rng: np.random.Generator, size: int, low: float, high: float) -> np.ndarray:
    """Isotropic spectral noise of the frequencies ``low`` to ``high`` cycles per tile
    (soft edges)."""
    def spectrum(fv, fu):
        f = np.hypot(fv, fu)
        return _smoothstep(0.5 * low, low, f) * np.exp(-((f / high) ** 2))

    return _spectral(rng, size, spectrum)


class _Cells(NamedTuple):
    f1: np.ndarray  # distance to the nearest feature point, in cells
    f2: np.ndarray  # distance to the second nearest
    cell: np.ndarray  # int index (row * cells + column) of the nearest point's cell
    value: np.ndarray  # a uniform [0, 1) value per cell, of the nearest point's cell


def _cellular(rng: np.random.Generator, size: int, cells: int, jitter: float = 0.9) -> _Cells:
    """Tileable cellular (Worley) noise: one feature point per cell of a ``cells`` x
    ``cells`` wrapping grid."""
    points = 0.5 + jitter * (rng.random((2, cells, cells)) - 0.5)  # (v, u) within each cell
    values = rng.random((cells, cells))
    x = (np.arange(size) + 0.5) / size * cells
    ci = np.floor(x).astype(int)
    fx = x - ci
    best = np.full((size, size), np.inf)
    second = np.full((size, size), np.inf)
    cell = np.zeros((size, size), dtype=int)
    for dv in (-1, 0, 1):
        rows = (ci + dv) % cells
        for du in (-1, 0, 1):
            cols = (ci + du) % cells
            pv = points[0][rows[:, None], cols[None, :]] + dv
            pu = points[1][rows[:, None], cols[None, :]] + du
            d = np.hypot(pv - fx[:, None], pu - fx[None, :])
            here = rows[:, None] * cells + cols[None, :]
            closer = d < best
            second = np.where(closer, best, np.minimum(second, d))
            cell = np.where(closer, here, cell)
            best = np.where(closer, d, best)
    return _Cells(best, second, cell, values.reshape(-1)[cell])


def _cell_edges(rng: np.random.Generator, size: int, cells: int, width: float) -> np.ndarray:
    """(size, size) in [0, 1]: 1 on the borders of tileable Voronoi cells (where the two
    nearest points are about equally far), falling to 0 at ``width`` cells from them."""
    c = _cellular(rng, size, cells)
    return 1.0 - _smoothstep(0.0, width, c.f2 - c.f1)


def _grey(value: np.ndarray) -> np.ndarray:
    return np.repeat(np.asarray(value, dtype=float)[..., None], 3, axis=-1)


def _tint(value: np.ndarray, darkness: np.ndarray, warm: float) -> np.ndarray:
    """Grey ``value`` with its dark parts (``darkness`` 0..1) a little warmer (blue and
    green lowered by ``warm`` x darkness, blue twice as much)."""
    return np.stack([value, value * (1 - 0.5 * warm * darkness), value * (1 - warm * darkness)], axis=-1)


# ---------------------------------------------------------------------------------------
# the built-in sets: each maker gives linear albedo, roughness, metallic (0..1) and a
# height field in metres


class _Maps(NamedTuple):
    albedo: np.ndarray  # (S, S, 3) linear detail (scaled to the set's mean luminance later)
    roughness: np.ndarray | float
    metallic: np.ndarray | float
    height: np.ndarray | float  # metres


def _displace_rows(field: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``field`` sampled ``shift`` texels further down its rows (wrapping, linear
    interpolation): a pattern along u bent as ``shift`` bends."""
    size = field.shape[0]
    rows = np.arange(size)[:, None] + shift
    low = np.floor(rows)
    t = rows - low
    low = low.astype(int) % size
    cols = np.arange(size)[None, :]
    return field[low, cols] * (1 - t) + field[(low + 1) % size, cols] * t


class _Grain(NamedTuple):
    darkness: np.ndarray  # 0..1-ish: how much darker than the lightest wood
    late: np.ndarray  # 0..1: late wood (the dark line of each growth ring)
    pores: np.ndarray  # 0..1: open pores
    fibres: np.ndarray  # mean 0, std 1: fine lines along the grain


def _wood_grain(name: str, size: int, rings: int, wobble: float, contrast: float, pores: float, porous: str
                ) -> _Grain:
    """Wood with its grain along u: ``rings`` growth rings across the tile (an integer,
    so it wraps), their lines bent by up to about ``wobble`` rings; the fibres and pores
    follow the bent lines. ``porous``: ``ring`` (oak: pores in the early wood) or
    ``diffuse`` (walnut: pores everywhere)."""
    v, _ = _grid(size)
    bend = wobble / rings * _lattice(_rng(name, "bend"), size, 2, 1, octaves=2, gain=0.4)  # tiles, along v
    phase = rings * (v + bend) + 0.12 * _lattice(_rng(name, "wiggle"), size, 12, 2, octaves=2)
    f = phase - np.floor(phase)
    late = _smoothstep(0.55, 0.9, f) * (1.0 - _smoothstep(0.92, 1.0, f))  # dark late wood, sharp outer edge
    strength = 0.7 + 0.3 * np.clip(_lattice(_rng(name, "ring-strength"), size, 6, 2), -1.5, 1.5) / 1.5
    shift = bend * size
    fibres = _displace_rows(_streaks(_rng(name, "fibres"), size, along=2.0, across=size / 4), shift)
    dashes = _displace_rows(_lattice(_rng(name, "pores"), size, size, max(size // 16, 4)), shift)
    where = (1.0 - _smoothstep(0.05, 0.35, f)) if porous == "ring" else np.full_like(f, 0.6)
    pore = _smoothstep(1.4, 2.4, dashes) * where
    darkness = contrast * late * strength + 0.05 * fibres + pores * pore
    return _Grain(darkness, late, pore, fibres)


def _wood(name: str, size: int, rings: int, wobble: float, contrast: float, pores: float, porous: str,
          warm: float, roughness: float) -> _Maps:
    grain = _wood_grain(name, size, rings, wobble, contrast, pores, porous)
    dark = np.clip(grain.darkness, 0, 1)
    albedo = _tint(1.0 - grain.darkness, dark, warm)
    rough = roughness + 0.1 * grain.late + 0.2 * grain.pores + 0.02 * grain.fibres
    height = 0.3e-3 * grain.late - 0.8e-3 * grain.pores + 80e-6 * grain.fibres
    return _Maps(albedo, rough, 0.0, height)


def _oak(size: int) -> _Maps:
    return _wood("oak", size, rings=18, wobble=2.5, contrast=0.3, pores=0.35, porous="ring", warm=0.25,
                 roughness=0.5)


def _walnut(size: int) -> _Maps:
    return _wood("walnut", size, rings=13, wobble=3.5, contrast=0.45, pores=0.25, porous="diffuse", warm=0.35,
                 roughness=0.42)


def _brushed_steel(size: int) -> _Maps:
    fine = _streaks(_rng("brushed-steel", "fine"), size, along=1.0, across=size / 3)
    coarse = _streaks(_rng("brushed-steel", "coarse"), size, along=0.7, across=size / 12)
    scratches = _smoothstep(1.8, 3.0, _streaks(_rng("brushed-steel", "scratches"), size, along=0.5, across=size / 2))
    grain = 0.6 * fine + 0.4 * coarse
    albedo = _grey(1.0 + 0.05 * grain - 0.08 * scratches)
    rough = 0.3 + 0.05 * grain + 0.12 * scratches
    height = 40e-6 * grain - 60e-6 * scratches
    return _Maps(albedo, rough, 1.0, height)


def _painted_metal(size: int) -> _Maps:
    chips_noise = _lattice(_rng("painted-metal", "chips"), size, 8, octaves=4, gain=0.6)
    threshold = float(np.quantile(chips_noise, 0.955))
    chip = _smoothstep(threshold, threshold + 0.08, chips_noise)  # ~4 % bare metal
    rim = _smoothstep(threshold - 0.25, threshold, chips_noise) * (1.0 - chip)  # worn paint round the chips
    peel = _lattice(_rng("painted-metal", "orange-peel"), size, 48, octaves=2)
    cloud = _lattice(_rng("painted-metal", "cloud"), size, 3, octaves=3)
    paint = 1.0 + 0.015 * peel + 0.025 * cloud - 0.12 * rim
    albedo = _grey(paint * (1.0 - chip) + 0.55 * chip)
    rough = 0.35 + 0.03 * peel + 0.1 * rim + 0.1 * chip
    height = 60e-6 * peel + 40e-6 * cloud - 0.25e-3 * chip
    return _Maps(albedo, rough, chip, height)


def _plastic(size: int) -> _Maps:
    speckle = _band(_rng("plastic", "speckle"), size, size / 6, size / 2.5)
    mould = _lattice(_rng("plastic", "mould"), size, 3, octaves=3)
    stipple = _cellular(_rng("plastic", "stipple"), size, 40)
    bump = 1.0 - _smoothstep(0.0, 0.7, stipple.f1)
    albedo = _grey(1.0 + 0.025 * speckle + 0.015 * mould)
    rough = 0.22 + 0.04 * mould + 0.05 * bump
    height = 80e-6 * bump + 60e-6 * mould
    return _Maps(albedo, rough, 0.0, height)


def _glazed_ceramic(size: int) -> _Maps:
    crazing = np.maximum(_cell_edges(_rng("glazed-ceramic", "crazing"), size, 7, 0.03),
                         0.6 * _cell_edges(_rng("glazed-ceramic", "crazing-fine"), size, 15, 0.03))
    pooling = _lattice(_rng("glazed-ceramic", "pooling"), size, 3, octaves=3)
    albedo = _grey(1.0 + 0.03 * pooling - 0.06 * crazing)
    rough = 0.07 + 0.01 * pooling + 0.08 * crazing
    height = -50e-6 * crazing + 60e-6 * pooling
    return _Maps(albedo, rough, 0.0, height)


def _linen(size: int) -> _Maps:
    threads = 32  # per tile, each way (even, so the over-under pattern wraps)
    v, u = _grid(size)
    tu, tv = threads * u, threads * v
    iu, iv = np.floor(tu), np.floor(tv)
    # per-thread thickness and shade, and slubs (thicker stretches) along each thread
    rng = _rng("linen", "threads")
    thick_warp, thick_weft = 0.8 + 0.4 * rng.random((2, threads))
    shade_warp, shade_weft = rng.standard_normal((2, threads))
    slub_warp = _lattice(_rng("linen", "slub-warp"), size, 6, threads)  # along v (the warp's length)
    slub_weft = _lattice(_rng("linen", "slub-weft"), size, threads, 6)
    width_warp = np.clip(thick_warp[iu.astype(int) % threads] * (1.0 + 0.15 * slub_warp), 0.5, 1.3)
    width_weft = np.clip(thick_weft[iv.astype(int) % threads] * (1.0 + 0.15 * slub_weft), 0.5, 1.3)
    # rounded cross-sections (0 between threads), rising over and dipping under the other way
    cross_warp = np.sqrt(np.clip(1.0 - ((tu - iu - 0.5) / (0.5 * width_warp)) ** 2, 0.0, 1.0))
    cross_weft = np.sqrt(np.clip(1.0 - ((tv - iv - 0.5) / (0.5 * width_weft)) ** 2, 0.0, 1.0))
    warp = cross_warp * (0.6 + 0.4 * np.sin(np.pi * (tv - iu)))
    weft = cross_weft * (0.6 - 0.4 * np.sin(np.pi * (tu - iv)))
    on_top = warp >= weft
    top = np.maximum(warp, weft)  # 0..1
    shade = np.where(on_top, shade_warp[iu.astype(int) % threads], shade_weft[iv.astype(int) % threads])
    fuzz = _band(_rng("linen", "fuzz"), size, size / 8, size / 3)
    albedo = _tint((0.6 + 0.4 * top) * (1.0 + 0.05 * shade + 0.03 * fuzz), 1.0 - top, 0.08)
    rough = 0.88 + 0.06 * (1.0 - top) + 0.02 * fuzz
    height = 0.35e-3 * top
    return _Maps(albedo, rough, 0.0, height)


def _fibres(name: str, size: int, count: int, length: float, width: float) -> np.ndarray:
    """Fibres at ``count`` random angles: spectral streaks, each about ``size / length``
    texels long and ``size / width`` wide, the brightest of them at each texel."""
    rng = _rng(name, "fibre-angles")
    angles = rng.random(count) * np.pi
    layers = [_streaks(_rng(name, f"fibres-{k}"), size, along=length, across=width, angle=float(a))
              for k, a in enumerate(angles)]
    return _standard(np.max(layers, axis=0))


def _paper(size: int) -> _Maps:
    fibres = _fibres("paper", size, 4, length=size / 16, width=size / 3)
    flocs = _lattice(_rng("paper", "flocs"), size, 8, octaves=3)
    albedo = _grey(1.0 + 0.02 * fibres + 0.025 * flocs)
    rough = 0.85 + 0.03 * fibres
    height = 50e-6 * fibres + 60e-6 * flocs
    return _Maps(albedo, rough, 0.0, height)


def _cardboard(size: int) -> _Maps:
    v, _ = _grid(size)
    flutes = 40  # corrugation ridges per tile, along u
    ridge = 0.5 + 0.5 * np.cos(2 * np.pi * flutes * v)
    fibres = _fibres("cardboard", size, 5, length=size / 12, width=size / 2.5)
    flecks = _smoothstep(2.0, 3.0, _band(_rng("cardboard", "flecks"), size, size / 10, size / 4))
    mottle = _lattice(_rng("cardboard", "mottle"), size, 4, octaves=4)
    darkness = np.clip(0.35 * flecks + 0.04 * (1 - ridge), 0, 1)
    albedo = _tint((1.0 + 0.05 * fibres + 0.05 * mottle) * (1.0 - darkness), darkness, 0.4)
    rough = 0.9 + 0.03 * fibres
    height = 0.3e-3 * ridge + 40e-6 * fibres
    return _Maps(albedo, rough, 0.0, height)


def _rubber(size: int) -> _Maps:
    cells = _cellular(_rng("rubber", "bumps"), size, 48)
    bump = np.sqrt(np.clip(1.0 - (cells.f1 / 0.55) ** 2, 0.0, 1.0)) * (0.7 + 0.6 * cells.value)
    dust = _lattice(_rng("rubber", "dust"), size, 4, octaves=3)
    albedo = _grey(1.0 + 0.03 * dust + 0.04 * bump)
    rough = 0.82 - 0.06 * bump + 0.04 * dust
    height = 0.2e-3 * bump
    return _Maps(albedo, rough, 0.0, height)


def _concrete(size: int) -> _Maps:
    cloud = _lattice(_rng("concrete", "cloud"), size, 4, octaves=6, gain=0.55)
    aggregate = _cellular(_rng("concrete", "aggregate"), size, 40)
    sand = _band(_rng("concrete", "sand"), size, size / 5, size / 2)
    holes = _smoothstep(2.3, 3.2, _band(_rng("concrete", "pits"), size, size / 12, size / 5))
    albedo = _grey((1.0 + 0.08 * cloud + 0.05 * (aggregate.value - 0.5) + 0.04 * sand) * (1.0 - 0.5 * holes))
    rough = 0.88 + 0.04 * sand + 0.05 * holes
    height = 0.5e-3 * cloud + 0.3e-3 * sand - 2e-3 * holes
    return _Maps(albedo, rough, 0.0, height)


def _granite(size: int) -> _Maps:
    coarse = _cellular(_rng("granite", "crystals"), size, 24, jitter=1.0)
    fine = _cellular(_rng("granite", "fine-crystals"), size, 80, jitter=1.0)
    # each small crystal's mineral, more often dark where a large cell clusters them
    dark = (fine.value < 0.05 + 0.25 * (coarse.value < 0.15)).astype(float)  # mica, hornblende: near black
    quartz = ((fine.value > 0.6) & (fine.value < 0.8)).astype(float) * (1.0 - dark)  # grey, glassy
    feldspar = 1.0 - dark - quartz  # white to faintly pink
    grain = _band(_rng("granite", "grain"), size, size / 8, size / 2)
    value = (0.08 * dark + 0.7 * quartz + (0.92 + 0.08 * fine.value) * feldspar) * (1.0 + 0.03 * grain)
    albedo = _tint(value, feldspar, 0.06)
    boundaries = 1.0 - _smoothstep(0.0, 0.06, fine.f2 - fine.f1)
    rough = 0.14 + 0.1 * dark - 0.03 * quartz + 0.06 * boundaries
    height = -50e-6 * boundaries + 15e-6 * grain
    return _Maps(albedo, rough, 0.0, height)


def _frosted_glass(size: int) -> _Maps:
    etch = _band(_rng("frosted-glass", "etch"), size, size / 6, size / 2.5)
    haze = _lattice(_rng("frosted-glass", "haze"), size, 4, octaves=2)
    albedo = _grey(1.0 + 0.01 * haze + 0.008 * etch)
    rough = 0.1 + 0.015 * etch + 0.01 * haze
    height = 12e-6 * etch + 30e-6 * haze
    return _Maps(albedo, rough, 0.0, height)


def _floor_tiles(size: int) -> _Maps:
    tiles, tile = 2, 0.3  # tiles a side of the set, and metres a tile spans
    grout, bevel = 0.005, 0.003  # metres: grout width, rounded tile edge
    v, u = _grid(size)

    def to_edge(t):  # metres from the nearest tile border (borders at 0 and k / tiles)
        return np.abs(((t * tiles + 0.5) % 1.0) - 0.5) * tile

    edge = np.minimum(to_edge(u), to_edge(v))
    in_grout = 1.0 - _smoothstep(0.5 * grout - 0.001, 0.5 * grout + 0.001, edge)
    rise = _smoothstep(0.5 * grout, 0.5 * grout + bevel, edge)
    index = (np.floor(v * tiles) % tiles) * tiles + np.floor(u * tiles) % tiles
    shade = _rng("floor-tiles", "tile-shade").standard_normal(tiles * tiles)[index.astype(int)]
    glaze = _lattice(_rng("floor-tiles", "glaze"), size, 6, octaves=3)
    sand = _band(_rng("floor-tiles", "grout-sand"), size, size / 6, size / 2)
    albedo = _grey((1.0 + 0.025 * shade + 0.015 * glaze) * (1.0 - in_grout) + (0.5 + 0.04 * sand) * in_grout)
    rough = (0.12 + 0.02 * glaze) * (1.0 - in_grout) + (0.85 + 0.05 * sand) * in_grout
    height = 1.5e-3 * rise + 3e-6 * glaze + 30e-6 * sand * in_grout
    return _Maps(albedo, rough, 0.0, height)


def _parquet(size: int) -> _Maps:
    rows, per_row = 8, 2  # planks: rows across v, planks per row along u
    grain = _wood_grain("parquet", size, rings=24, wobble=3.0, contrast=0.4, pores=0.25, porous="ring")
    rng = _rng("parquet", "planks")
    offsets = rng.random(rows) / per_row  # where each row's planks start, in tiles
    shifts = rng.integers(0, size, size=(rows, per_row, 2))  # each plank's own stretch of grain
    shade = rng.standard_normal((rows, per_row))
    v, u = _grid(size)
    row = np.minimum(np.floor(v * rows).astype(int), rows - 1) + np.zeros((1, size), dtype=int)
    along = (u - offsets[row]) * per_row
    plank = np.floor(along).astype(int) % per_row
    ids = row * per_row + plank
    grain_dark = np.empty((size, size))
    grain_late = np.empty((size, size))
    grain_pore = np.empty((size, size))
    for r in range(rows):
        for p in range(per_row):
            mask = ids == r * per_row + p
            dv, du = shifts[r, p]
            for target, source in ((grain_dark, grain.darkness), (grain_late, grain.late), (grain_pore, grain.pores)):
                target[mask] = np.roll(source, (int(dv), int(du)), axis=(0, 1))[mask]
    texel = 1.0 / size
    across = np.abs(((v * rows + 0.5) % 1.0) - 0.5) / rows  # tiles from the nearest row border
    end = np.abs(((along + 0.5) % 1.0) - 0.5) / per_row  # tiles from the nearest plank end
    gap = 1.0 - _smoothstep(0.4 * texel, 1.4 * texel, np.minimum(across, end))
    plank_shade = shade[row, plank]
    dark = np.clip(grain_dark, 0, 1)
    albedo = _tint((1.0 - dark) * (1.0 + 0.06 * plank_shade) * (1.0 - 0.55 * gap), dark, 0.25)
    rough = (0.42 + 0.1 * grain_late + 0.2 * grain_pore) * (1.0 - gap) + 0.8 * gap
    height = 0.2e-3 * grain_late - 0.6e-3 * grain_pore - 1e-3 * gap
    return _Maps(albedo, rough, 0.0, height)


def _grass(size: int) -> _Maps:
    blades = _fibres("grass", size, 10, length=size / 14, width=size / 2.5)
    clumps = _lattice(_rng("grass", "clumps"), size, 24, octaves=2)
    patches = _lattice(_rng("grass", "patches"), size, 3, octaves=4)
    dry = _smoothstep(0.5, 1.8, patches)  # yellow-brown patches
    top = _smoothstep(-1.2, 1.6, blades + 0.5 * clumps)  # 0 deep between blades, 1 on top
    value = 0.12 + 0.88 * top
    # detail for a green floor colour: neutral, yellower in the dry patches
    green = np.stack([1.0 + 0.35 * dry, np.ones_like(dry), 1.0 - 0.3 * dry], axis=-1)
    albedo = value[..., None] * green * (1.0 + 0.1 * patches)[..., None]
    rough = 0.82 + 0.12 * (1.0 - top)
    height = 4e-3 * top
    return _Maps(albedo, rough, 0.0, height)


def _plaster(size: int) -> _Maps:
    trowel = _lattice(_rng("plaster", "trowel"), size, 3, octaves=4, gain=0.5)
    blotch = _lattice(_rng("plaster", "blotches"), size, 10, octaves=2, gain=0.5)
    smooth = _smoothstep(0.3, 1.2, blotch)  # trowelled-flat patches: smoother, a touch lighter
    sand = _band(_rng("plaster", "sand"), size, size / 4, size / 2)
    albedo = _grey(1.0 + 0.02 * trowel + 0.02 * smooth + 0.025 * sand * (1.0 - 0.6 * smooth))
    rough = 0.85 + 0.04 * sand - 0.08 * smooth
    height = 1.5e-3 * trowel + 0.3e-3 * blotch + 0.2e-3 * sand * (1.0 - 0.7 * smooth)
    return _Maps(albedo, rough, 0.0, height)


class _Builtin(NamedTuple):
    material_class: str
    surface: str
    tile_size: float  # metres
    make: Callable[[int], _Maps]
    luminance: float = DETAIL_LUMINANCE


BUILTIN = {
    "oak": _Builtin("wood", "object", 0.5, _oak),
    "walnut": _Builtin("wood", "object", 0.5, _walnut),
    "brushed-steel": _Builtin("metal", "object", 0.2, _brushed_steel),
    "painted-metal": _Builtin("metal", "object", 0.5, _painted_metal),
    "plastic": _Builtin("plastic", "object", 0.2, _plastic),
    "glazed-ceramic": _Builtin("ceramic", "object", 0.3, _glazed_ceramic),
    "linen": _Builtin("fabric", "object", 0.1, _linen),
    "paper": _Builtin("paper", "object", 0.2, _paper),
    "cardboard": _Builtin("paper", "object", 0.3, _cardboard),
    "rubber": _Builtin("rubber", "object", 0.1, _rubber),
    "concrete": _Builtin("stone", "object", 1.0, _concrete),
    "granite": _Builtin("stone", "object", 0.3, _granite, luminance=0.75),  # room for its dark crystals
    "frosted-glass": _Builtin("glass", "object", 0.2, _frosted_glass),
    "floor-tiles": _Builtin("ceramic", "floor", 0.6, _floor_tiles),
    "parquet": _Builtin("wood", "floor", 1.2, _parquet),
    "grass": _Builtin("fabric", "floor", 1.0, _grass, luminance=0.7),  # no class fits: rough, soft, dielectric
    "plaster": _Builtin("stone", "wall", 1.0, _plaster),
}
BUILTIN_NAMES = tuple(BUILTIN)


def check_size(size) -> int:
    """``size`` if it is a power of two from :data:`MIN_SIZE` to :data:`MAX_BUILTIN_SIZE`,
    else a ConfigError."""
    if (isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < MIN_SIZE
            or size > MAX_BUILTIN_SIZE or size & (size - 1)):
        raise ConfigError(f"texture set size must be a power of two from {MIN_SIZE} to {MAX_BUILTIN_SIZE} texels, "
                          f"got {size!r}")
    return int(size)


def _map_u8(value, size: int) -> np.ndarray:
    return np.rint(np.clip(np.broadcast_to(np.asarray(value, dtype=float), (size, size)), 0, 1) * 255).astype(np.uint8)


MAPS = ("albedo", "roughness", "metallic", "normal")  # a TextureSet's arrays


@functools.lru_cache(maxsize=None)
def _made(name: str, size: int) -> TextureSet:
    """Built-in set ``name`` at ``size``: its maps from the cache folder when this source
    made them before (bit for bit the ones :func:`_make` works out), else made and kept."""
    spec = BUILTIN[name]
    shapes = ((size, size, 3), (size, size), (size, size), (size, size, 3))  # of MAPS, uint8 (as TextureSet checks)
    maps = kept_arrays(TEXTURE_SET_CACHE, content_key("texture-set", name, size), MAPS,
                       lambda: {field: getattr(_make(name, size), field) for field in MAPS},
                       lambda kept: all(m.dtype == np.uint8 and m.shape == shape for m, shape in zip(kept, shapes)))
    return TextureSet(name=name, material_class=spec.material_class, **dict(zip(MAPS, maps)),
                      tile_size=spec.tile_size, absolute=False, surface=spec.surface)


def _make(name: str, size: int) -> TextureSet:
    spec = BUILTIN[name]
    maps = spec.make(size)
    albedo = linear_to_srgb(_fit_mean(np.broadcast_to(maps.albedo, (size, size, 3)), spec.luminance))
    height = np.broadcast_to(np.asarray(maps.height, dtype=float), (size, size))
    normal = normal_from_height(height, 1.0, spec.tile_size / size)
    return TextureSet(name=name, material_class=spec.material_class, albedo=albedo,
                      roughness=_map_u8(maps.roughness, size), metallic=_map_u8(maps.metallic, size), normal=normal,
                      tile_size=spec.tile_size, absolute=False, surface=spec.surface)


def builtin_set(name: str, size: int = DEFAULT_SIZE) -> TextureSet:
    """Built-in set ``name`` (:data:`BUILTIN_NAMES`) at ``size`` texels a side, made on
    first use and kept (per name and size).

    Raises:
        ConfigError: an unknown name (with the closest names) or a size that is not a
            power of two from 16 to 4096.
    """
    if name not in BUILTIN:
        close = difflib.get_close_matches(str(name), BUILTIN_NAMES, n=3)
        hint = f" (did you mean {choices(close)}?)" if close else ""
        raise ConfigError(f"texture set {name!r} is not a built-in set{hint}; valid: {choices(BUILTIN_NAMES)}")
    return _made(name, check_size(size))


def builtin_sets(size: int = DEFAULT_SIZE) -> dict[str, TextureSet]:
    """Every built-in set at ``size`` texels a side, by name (in :data:`BUILTIN_NAMES`
    order), made on first use and kept per size (the dict is a new one each call; its
    sets are shared and read-only)."""
    size = check_size(size)
    return {name: _made(name, size) for name in BUILTIN_NAMES}


def clear_cache() -> None:
    """Forget the built-in sets made so far in this process (when next asked for they are
    read from the cache folder, or made again)."""
    _made.cache_clear()


# ---------------------------------------------------------------------------------------
# a folder of texture sets


def _valid_suffixes() -> str:
    return "; ".join(f"{_MAP_NAMES[kind]}: {', '.join(ends)}" for kind, ends in MAP_SUFFIXES.items())


def map_kind(filename) -> str | None:
    """Which map an image file is (a key of :data:`MAP_SUFFIXES`), from the end of its
    name's stem, any case, also before a Poly Haven resolution (``_2k``), or a stem that is
    the map's name alone (``albedo.png``); None for another file (a displacement or
    ambient-occlusion map, a preview)."""
    stem = Path(filename).stem.lower()
    candidates = [stem]
    stripped = _RESOLUTION.sub("", stem)
    if stripped != stem:
        candidates.append(stripped)
    ordered = sorted(((end, kind) for kind, ends in MAP_SUFFIXES.items() for end in ends), key=lambda e: -len(e[0]))
    for candidate in candidates:
        for end, kind in ordered:
            if candidate.endswith(end) or candidate == end[1:]:  # also a bare "albedo.png"
                return kind
    return None


def _power_of_two_at_most(value: int) -> int:
    return 1 << (max(int(value), 1).bit_length() - 1)


def _read_image(path: Path, mode: str, size: int | None, max_size: int) -> np.ndarray:
    """The image at ``path`` as uint8 ``mode`` ("RGB" or "L") pixels, cropped to its centre
    square and resized (LANCZOS) to ``size`` (or, None, the largest power of two no
    larger than ``max_size`` and its side)."""
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
                values = np.asarray(image, dtype=float)
                top = 65535.0 if image.mode.startswith("I") else 1.0
                image = Image.fromarray(np.rint(np.clip(values / top, 0, 1) * 255).astype(np.uint8), "L")
            image = image.convert(mode)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable image ({exc}); valid: an image file Pillow reads "
                          f"({', '.join(IMAGE_SUFFIXES)})") from None
    width, height = image.size
    side = min(width, height)
    if width != height:
        left, top = (width - side) // 2, (height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    target = size if size is not None else _power_of_two_at_most(min(side, max_size))
    if image.size != (target, target):
        image = image.resize((target, target), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def _read_set_meta(folder: Path) -> dict:
    path = folder / META_FILE
    meta = read_yaml(path)
    if meta is None:
        return {}
    if not isinstance(meta, dict) or not set(meta) <= set(META_KEYS):
        raise ConfigError(f"{path}: must be a mapping of {choices(META_KEYS)}, got {meta!r}")
    out = {}
    if "tile_size" in meta:
        out["tile_size"] = _check_tile_size(meta["tile_size"], str(path))
    if "surface" in meta:
        if meta["surface"] not in SURFACES:
            raise ConfigError(f"{path}: surface {meta['surface']!r} is unknown; valid: {choices(SURFACES)}")
        out["surface"] = meta["surface"]
    return out


def _check_set_name(name: str, folder: Path) -> str:
    if name != name.strip() or any(mark in name for mark in NAME_FORBIDDEN):
        raise ConfigError(f"{folder}: {name!r} is not a valid texture set name (its folder's name); valid: a name "
                          f"without {choices(NAME_FORBIDDEN)} and no spaces at its ends")
    return name


def _load_set(folder: Path, material_class: str, max_size: int) -> TextureSet:
    found: dict[str, Path] = {}
    images = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    for path in images:
        kind = map_kind(path.name)
        if kind is None:
            continue
        if kind in found:
            raise ConfigError(f"{folder}: two {_MAP_NAMES[kind]} images ({found[kind].name}, {path.name}); "
                              f"keep one")
        found[kind] = path
    if "albedo" not in found:
        listed = ", ".join(p.name for p in sorted(folder.iterdir()) if p.is_file()) or "none"
        raise ConfigError(f"{folder}: no base colour image; files found: {listed}; valid base colour names end "
                          f"(before the extension, any case, or before a resolution such as _2k) with "
                          f"{', '.join(MAP_SUFFIXES['albedo'])}")
    albedo = _read_image(found["albedo"], "RGB", None, max_size)
    size = albedo.shape[0]
    arm = _read_image(found["arm"], "RGB", size, max_size) if "arm" in found else None
    if "roughness" in found:
        roughness = _read_image(found["roughness"], "L", size, max_size)
    elif arm is not None:
        roughness = np.ascontiguousarray(arm[..., 1])
    else:
        roughness = _map_u8(DEFAULT_ROUGHNESS, size)
    if "metallic" in found:
        metallic = _read_image(found["metallic"], "L", size, max_size)
    elif arm is not None:
        metallic = np.ascontiguousarray(arm[..., 2])
    else:
        metallic = _map_u8(1.0 if material_class == "metal" else 0.0, size)
    if "normal_gl" in found or "normal_dx" in found:
        directx = "normal_gl" not in found
        pixels = _read_image(found["normal_dx" if directx else "normal_gl"], "RGB", size, max_size)
        normals = decode_normals(pixels)
        if directx:
            normals[..., 1] = -normals[..., 1]
        normal = encode_normals(normals)
    else:
        normal = np.broadcast_to(np.array(FLAT_NORMAL, dtype=np.uint8), (size, size, 3))
    meta = _read_set_meta(folder)
    return TextureSet(name=folder.name, material_class=material_class, albedo=albedo, roughness=roughness,
                      metallic=metallic, normal=normal, tile_size=meta.get("tile_size", DEFAULT_TILE_SIZE),
                      absolute=True, surface=meta.get("surface", "object"))


def load_texture_sets(folder, max_size: int = MAX_SIZE) -> dict[str, TextureSet]:
    """The texture sets of ``folder`` (``DIR/<material class>/<set name>/``, see the module
    docstring), by set name, sorted; ``absolute=True`` (their albedo is the photo's colour:
    :meth:`TextureSet.detail` for the detail version).

    Folders and files whose names start with "." are skipped, as are files directly in
    ``DIR`` and files in a set folder that name no map.

    Raises:
        ConfigError: naming the folder or file: a missing folder or one without sets, an
            unknown material class (with the closest one), an image directly in a class
            folder, a set without a base colour image (listing the files and the names
            accepted), two images of one map, an unreadable image, two sets of one name,
            a broken ``meta.yaml``, a ``max_size`` that is not an integer >= 1.
    """
    max_size = _check_max_size(max_size)
    return {name: _load_set(path, material_class, max_size)
            for name, (material_class, path) in set_folders(folder).items()}


def _check_max_size(max_size) -> int:
    if isinstance(max_size, bool) or not isinstance(max_size, numbers.Integral) or max_size < 1:
        raise ConfigError(f"max_size must be an integer >= 1 texels, got {max_size!r}")
    return int(max_size)


def set_folders(folder) -> dict[str, tuple[str, Path]]:
    """Set name -> (material class, its folder) of the sets of ``folder``, sorted by
    name, without reading an image.

    Raises:
        ConfigError: as :func:`load_texture_sets`, for the folders' names and layout.
    """
    root = Path(folder)
    layout = f"a folder of <material class>/<set name>/ folders of images, classes {choices(MATERIAL_CLASSES)}"
    if not root.is_dir():
        raise ConfigError(f"texture sets folder {str(root)!r} does not exist; valid: {layout}")
    found: dict[str, tuple[str, Path]] = {}
    for class_folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        material_class = class_folder.name
        if material_class not in MATERIAL_CLASSES:
            close = difflib.get_close_matches(material_class.lower(), MATERIAL_CLASSES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{class_folder}: {material_class!r} is not a material class{hint}; valid: "
                              f"{choices(MATERIAL_CLASSES)}")
        for entry in sorted(p for p in class_folder.iterdir() if not p.name.startswith(".")):
            if entry.is_file():
                if entry.suffix.lower() in IMAGE_SUFFIXES:
                    raise ConfigError(f"{entry}: an image directly in a class folder; valid: images in a set folder "
                                      f"{class_folder}/<set name>/")
                continue
            name = _check_set_name(entry.name, entry)
            if name in found:
                raise ConfigError(f"two texture sets named {name!r} ({found[name][1]}, {entry}); a set's name is its "
                                  f"folder's name, so rename one")
            found[name] = (material_class, entry)
    if not found:
        raise ConfigError(f"texture sets folder {str(root)!r} holds no texture set; valid: {layout}")
    return dict(sorted(found.items()))


def catalogue(source: str) -> dict[str, tuple[str, str]]:
    """Set name -> (material class, surface) of the sets of ``source``: ``"builtin"``
    (:data:`BUILTIN`) or a folder (classes from its layout, surfaces from each set's
    ``meta.yaml``, default ``object``), without making or reading a texture.

    Raises:
        ConfigError: as :func:`set_folders`.
    """
    if source == "builtin":
        return {name: (recipe.material_class, recipe.surface) for name, recipe in BUILTIN.items()}
    return {name: (material_class, _read_set_meta(path).get("surface", "object"))
            for name, (material_class, path) in set_folders(source).items()}


def texture_set(source: str, name: str, size: int = DEFAULT_SIZE, max_size: int = MAX_SIZE) -> TextureSet:
    """Set ``name`` of ``source`` (``"builtin"``: made at ``size`` texels a side; a
    folder: read, at most ``max_size`` a side).

    Raises:
        ConfigError: no such set (with the valid names), or as :func:`load_texture_sets`.
    """
    if source == "builtin":
        return builtin_set(name, size)
    folders = set_folders(source)
    if name not in folders:
        raise ConfigError(f"texture set {name!r} is not in {source!r}; valid: {choices(folders)}")
    material_class, path = folders[name]
    return _load_set(path, material_class, _check_max_size(max_size))
