"""The environment maps a dataset chooses from, and the key light split off each.

An :class:`EnvironmentSet` is the maps of one source: ``"builtin"`` (the procedural maps
of :mod:`scenegen.world.skies`) or a folder of Radiance ``.hdr`` / OpenEXR ``.exr``
files, with an optional ``meta.yaml`` giving each map its factor level and weight::

    sunny_field:            # the file's name without its extension
      level: sunny          # its ``environment`` factor level (default: the name)
      weight: 2.0           # its relative chance under lighting.environment=random (default 1)

Maps follow the convention of :mod:`scenegen.world.skies`: (H, 2H, 3) float32 linear
RGB radiance, row 0 at the zenith (+z), column 0 at azimuth 0 (+x), azimuth growing
towards +y; a map turned by ``rotation`` radians about z moves each of its directions by
+rotation in azimuth (:func:`rotate_direction`). A file's radiance is in its own units
(the built-ins': luminance in kcd/m^2); every irradiance derived from a map is radiance
x steradians in those units.

Reading files needs the extra ``hdri`` (packages ``imagecodecs`` and ``OpenEXR``),
imported only when a file is read. The built-in maps and their key lights are pure
functions of scenegen's source and their height: they are kept in the cache folder
(``cache.kind_dir("environments")``), so each is made once, not in every process.
"""

from __future__ import annotations

import importlib
import math
import numbers
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

from ..cache import content_key, kept_arrays
from ..errors import ConfigError, choices
from ..fileio import atomic_write_bytes
from .colour import luminance
from .folders import LevelledFolder, LevelledSet
from .skies import BUILTIN, check_height, map_directions, up_weights

BUILTIN_SOURCE = "builtin"
MAP_SUFFIXES = (".exr", ".hdr")
MAX_WIDTH = 2048  # pixels: wider maps of a folder are halved until they fit
INSTALL_HINT = "pip install 'scenegen[hdri]'"
SUN_CONE = math.radians(12.0)
ENVIRONMENT_CACHE = "environments"  # the cache folder (scenegen.cache.kind_dir) of the built-in maps and their lights


def _needs(package: str, path: Path) -> ConfigError:
    return ConfigError(f"{path}: reading or writing it needs the Python package {package!r}, "
                       f"not installed: {INSTALL_HINT}")


READERS = {".hdr": "imagecodecs", ".exr": "OpenEXR"}  # the package each map format needs


def check_reader(path: Path) -> None:
    """Raise the install hint when the package that reads ``path``'s format is missing
    (before any pixel is read: a run fails at load, not at its first scene)."""
    package = READERS.get(path.suffix.lower())
    if package is not None:
        try:
            importlib.import_module(package)
        except ImportError:
            raise _needs(package, path) from None


def _decode_hdr(path: Path) -> np.ndarray:
    try:
        import imagecodecs
    except ImportError:
        raise _needs("imagecodecs", path) from None
    return imagecodecs.rgbe_decode(path.read_bytes())


def _decode_exr(path: Path) -> np.ndarray:
    try:
        import OpenEXR
    except ImportError:
        raise _needs("OpenEXR", path) from None
    with OpenEXR.File(str(path)) as exr:
        channels = {name: channel.pixels for name, channel in exr.channels().items()}
    for merged in ("RGB", "RGBA"):
        if merged in channels:
            return np.asarray(channels[merged])[..., :3]
    if all(name in channels for name in "RGB"):
        return np.stack([np.asarray(channels[name]) for name in "RGB"], axis=-1)
    raise ConfigError(f"{path}: no colour channels; found {choices(channels)}, valid: 'RGB', 'RGBA' or 'R', 'G', 'B'")


def _checked(pixels: np.ndarray, path: Path) -> np.ndarray:
    """``pixels`` as an (H, 2H, 3) float32 radiance map with negatives clamped to 0.

    Raises:
        ConfigError: naming ``path``: not an image of 3 channels, empty, non-finite,
            nothing positive, or not twice as wide as high.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[2] < 3 or pixels.size == 0:
        raise ConfigError(f"{path}: not an RGB image (array of shape {pixels.shape})")
    radiance = np.ascontiguousarray(pixels[..., :3], dtype=np.float32)
    if not np.isfinite(radiance).all():
        raise ConfigError(f"{path}: has NaN or infinite pixels; an environment map must be finite")
    radiance = np.maximum(radiance, 0.0)
    if not radiance.any():
        raise ConfigError(f"{path}: no positive radiance (black or negative everywhere)")
    height, width = radiance.shape[:2]
    if width != 2 * height:
        raise ConfigError(f"{path}: {width} x {height} pixels; an equirectangular map is twice as wide as high (2:1)")
    return radiance


def read_map(path) -> np.ndarray:
    """(H, 2H, 3) float32 linear radiance of a Radiance ``.hdr`` or OpenEXR ``.exr``
    file (the file's units; alpha dropped, negatives clamped to 0).

    Raises:
        ConfigError: naming the file: another extension (the valid ones listed), a
            missing package (the install command), a missing, broken, empty, non-finite
            or all-black file, or one not 2:1.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MAP_SUFFIXES:
        raise ConfigError(f"{path}: not an environment map file; valid extensions: {choices(MAP_SUFFIXES)}")
    decode = _decode_hdr if suffix == ".hdr" else _decode_exr
    try:
        pixels = decode(path)
    except ConfigError:
        raise
    except Exception as exc:  # the decoders raise ValueError, RuntimeError, OSError, ...
        raise ConfigError(f"{path}: cannot be read as a {suffix} environment map ({exc})") from None
    return _checked(pixels, path)


def write_hdr(path, radiance: np.ndarray) -> None:
    """Write ``radiance`` (H, W, 3), finite and >= 0, as a Radiance ``.hdr`` file
    (RGBE: about 1% precision), atomically.

    Raises:
        ConfigError: ``imagecodecs`` missing (the install command), or ``radiance`` not
            (H, W, 3) finite and non-negative.
    """
    path = Path(path)
    radiance = np.ascontiguousarray(radiance, dtype=np.float32)
    if radiance.ndim != 3 or radiance.shape[2] != 3 or not np.isfinite(radiance).all() or (radiance < 0).any():
        raise ConfigError(f"{path}: can only write (H, W, 3) finite non-negative radiance, got shape {radiance.shape}")
    try:
        import imagecodecs
    except ImportError:
        raise _needs("imagecodecs", path) from None
    atomic_write_bytes(path, imagecodecs.rgbe_encode(radiance))


def _shrink(values: np.ndarray, size: int, axis: int) -> np.ndarray:
    """``values`` resampled to ``size`` along ``axis`` by averaging over equal spans
    (the mean of each pair when ``size`` is half the length)."""
    length = values.shape[axis]
    if length == 2 * size:
        shape = values.shape[:axis] + (size, 2) + values.shape[axis + 1:]
        return values.reshape(shape).mean(axis=axis + 1, dtype=np.float64).astype(np.float32)
    values = np.moveaxis(values, axis, 0).astype(np.float64)
    cumulative = np.concatenate([np.zeros_like(values[:1]), np.cumsum(values, axis=0)])
    edges = np.arange(size + 1) * (length / size)
    index = np.minimum(np.floor(edges).astype(int), length - 1)
    integral = cumulative[index] + (edges - index).reshape(-1, *[1] * (values.ndim - 1)) * values[index]
    return np.moveaxis((np.diff(integral, axis=0) * (size / length)).astype(np.float32), 0, axis)


def fit_width(radiance: np.ndarray, max_width: int) -> np.ndarray:
    """``radiance`` (H, 2H, 3) halved (2x2 box averages; an odd height rounds down)
    until it is at most ``max_width`` pixels wide."""
    while radiance.shape[1] > max_width and radiance.shape[0] > 1:
        height = radiance.shape[0] // 2
        radiance = _shrink(_shrink(radiance, height, 0), 2 * height, 1)
    return radiance


def _read_fitted(path: Path, max_width: int) -> np.ndarray:
    return fit_width(read_map(path), max_width)


def _builtin_radiance(name: str, height: int) -> np.ndarray:
    """(H, 2H, 3) float32 radiance of built-in map ``name`` (:mod:`scenegen.world.skies`)
    ``height`` pixels high: from the cache folder when this source made it before (bit for
    bit), else made and kept."""
    return kept_arrays(ENVIRONMENT_CACHE, content_key("environment-radiance", name, height), ("radiance",),
                       lambda: {"radiance": np.ascontiguousarray(BUILTIN[name](height), dtype=np.float32)},
                       lambda kept: _is_map(kept[0], height))[0]


def _is_map(radiance: np.ndarray, height: int) -> bool:
    """Whether ``radiance`` is a float32 map ``height`` pixels high (H, 2H, 3)."""
    return radiance.dtype == np.float32 and radiance.shape == (height, 2 * height, 3)


@dataclass(frozen=True, eq=False)
class MapLighting:
    """A map split into its key light and the rest (map frame, unturned; map units).

    Attributes:
        direction: (3,) unit vector towards the light.
        irradiance: (3,) RGB irradiance (radiance x sr) the light gives a surface facing
            it; zeros when the map has no light standing out.
        sky: (H, W, 3) float32 radiance of the map without the light (read-only).
        up_irradiance: luminance of the irradiance of an upward-facing (+z) surface
            under the whole map, sky and light (radiance x sr).
    """

    direction: np.ndarray
    irradiance: np.ndarray
    sky: np.ndarray
    up_irradiance: float


_LIGHTING_ARRAYS = ("direction", "irradiance", "sky", "up_irradiance")


def _builtin_lighting(name: str, height: int, split: Callable[[], MapLighting]) -> MapLighting:
    """:class:`MapLighting` of built-in map ``name`` ``height`` pixels high: from the cache
    folder when this source split it before (bit for bit), else ``split()`` and kept."""
    def arrays() -> dict[str, np.ndarray]:
        found = split()
        return {"direction": found.direction, "irradiance": found.irradiance, "sky": found.sky,
                "up_irradiance": np.float64(found.up_irradiance)}

    def fits(kept) -> bool:
        direction, irradiance, sky, up = kept
        return (direction.shape == irradiance.shape == (3,) and _is_map(sky, height)
                and up.shape == () and up.dtype == np.float64)

    direction, irradiance, sky, up = kept_arrays(ENVIRONMENT_CACHE, content_key("environment-lighting", name, height),
                                                 _LIGHTING_ARRAYS, arrays, fits)
    sky.setflags(write=False)
    return MapLighting(direction=direction, irradiance=irradiance, sky=sky, up_irradiance=float(up))


def _surround(radiance: np.ndarray, cos_angle: np.ndarray, cone: float) -> np.ndarray:
    """(3,) median radiance per channel in the ring between ``cone`` and twice it (all
    outside the cone when the ring holds no pixel; zeros when nothing is outside)."""
    outside = cos_angle < math.cos(cone)
    ring = outside & (cos_angle >= math.cos(min(2.0 * cone, math.pi)))
    chosen = ring if ring.any() else outside
    return np.median(radiance[chosen], axis=0) if chosen.any() else np.zeros(3)


def split_sun(radiance: np.ndarray, cone: float = SUN_CONE) -> MapLighting:
    """The key light of ``radiance`` (H, W, 3), map units: around the brightest pixel
    (Rec. 709 luminance), the radiance in excess of the median of the ring between
    ``cone`` and ``2 cone`` radians, taken from every pixel within ``cone`` of it. The
    light's direction is the excess's luminance-weighted mean direction."""
    radiance = np.asarray(radiance, dtype=np.float64)[..., :3]
    height, width = radiance.shape[:2]
    directions, solid_angle = map_directions(height, width)
    brightest = directions.reshape(-1, 3)[int(np.argmax(luminance(radiance)))]
    cos_angle = directions @ brightest
    inside = cos_angle >= math.cos(cone)
    excess = np.zeros_like(radiance)
    excess[inside] = np.maximum(radiance[inside] - _surround(radiance, cos_angle, cone), 0.0)
    energy = luminance(excess) * solid_angle
    toward = np.einsum("hw,hwk->k", energy, directions) if energy.any() else brightest
    toward = toward / np.linalg.norm(toward)
    cos_light = np.maximum(directions @ toward, 0.0)
    sky = (radiance - excess).astype(np.float32)
    sky.setflags(write=False)
    return MapLighting(
        direction=toward,
        irradiance=np.einsum("hw,hwc->c", solid_angle * cos_light, excess),
        sky=sky,
        up_irradiance=float(luminance(np.einsum("hw,hwc->c", up_weights(height, width), radiance))),
    )


def rotate_direction(direction, rotation: float) -> np.ndarray:
    """(..., 3) map-frame ``direction`` (..., 3) as seen in the world when the map is
    turned by ``rotation`` radians about z: its azimuth grows by ``rotation``."""
    direction = np.asarray(direction, dtype=np.float64)
    c, s = math.cos(rotation), math.sin(rotation)
    x, y = direction[..., 0], direction[..., 1]
    return np.stack([c * x - s * y, s * x + c * y, direction[..., 2]], axis=-1)


class EnvironmentSet(LevelledSet):
    """The environment maps of one source, their ``environment`` factor levels and
    weights; pixels read on demand and kept.

    Attributes:
        source: ``"builtin"`` or the folder, as given to :meth:`load`.
        names: the maps' names (built-in order, or sorted file stems).
    """

    what = "environment map"

    def __init__(self, source: str, makers: dict[str, Callable[[], np.ndarray]], levels: dict[str, str],
                 weights: dict[str, float], builtin_height: int | None = None):
        super().__init__(source, {name: levels[name] for name in makers}, weights)
        self._makers = makers
        self._builtin_height = builtin_height  # the built-in maps' height: their lights kept in the cache folder
        self._radiance: dict[str, np.ndarray] = {}
        self._lighting: dict[str, MapLighting] = {}

    @classmethod
    def load(cls, source: str, height: int = 256, max_width: int = MAX_WIDTH) -> EnvironmentSet:
        """The maps of ``source``: ``"builtin"`` (the procedural maps of
        :mod:`scenegen.world.skies`, made ``height`` pixels high), or a folder's ``.hdr``
        and ``.exr`` files (names only: pixels are read when first asked for, halved
        until at most ``max_width`` pixels wide) with its optional ``meta.yaml``.

        Raises:
            ConfigError: naming the folder or file: a missing folder, no map file in it,
                two files of one name, a broken ``meta.yaml``, a name or level that is
                not a valid factor level.
        """
        if not isinstance(source, str) or not source:
            raise ConfigError(f"environment maps source must be {BUILTIN_SOURCE!r} or a folder, got {source!r}")
        if isinstance(max_width, bool) or not isinstance(max_width, numbers.Integral) or max_width < 2:
            raise ConfigError(f"max_width must be an integer >= 2 pixels, got {max_width!r}")
        if source == BUILTIN_SOURCE:
            height = check_height(height)
            makers = {name: partial(_builtin_radiance, name, height) for name in BUILTIN}
            return cls(source, makers, {name: name for name in makers}, {name: 1.0 for name in makers}, height)
        found = LevelledFolder.load(Path(source), MAP_SUFFIXES, "map", "environment map", f"{BUILTIN_SOURCE!r} or ")
        for path in found.files.values():
            check_reader(path)
        makers = {name: partial(_read_fitted, path, max_width) for name, path in found.files.items()}
        return cls(source, makers, found.levels, found.weights)

    def radiance(self, name: str) -> np.ndarray:
        """(H, 2H, 3) float32 read-only radiance of map ``name`` (read once, then kept).

        Raises:
            ConfigError: the map's file cannot be read (see :func:`read_map`).
        """
        found = self._radiance.get(self._known(name))
        if found is None:
            found = np.ascontiguousarray(self._makers[name](), dtype=np.float32)
            found.setflags(write=False)
            self._radiance[name] = found
        return found

    def lighting(self, name: str) -> MapLighting:
        """Map ``name`` split into its key light and sky (:func:`split_sun`; kept)."""
        found = self._lighting.get(self._known(name))
        if found is None:
            if self._builtin_height is None:
                found = split_sun(self.radiance(name))
            else:
                found = _builtin_lighting(name, self._builtin_height, lambda: split_sun(self.radiance(name)))
            self._lighting[name] = found
        return found

    def __getstate__(self) -> dict:
        """Pickled without the pixels: a worker reads them again when it needs them."""
        return {**self.__dict__, "_radiance": {}, "_lighting": {}}
