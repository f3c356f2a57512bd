"""Procedural radiance maps scenegen ships, made in code so the default works offline:
clear skies (Preetham et al. 1999 with a sun disk), a CIE standard overcast sky, a photo
studio and a room.

Map convention (world frame: z up): an equirectangular map is an (H, 2H, 3) float32
array of linear Rec. 709 (sRGB primaries) RGB radiance. Pixel row ``r`` of ``H`` looks
at polar angle ``theta = pi (r + 0.5) / H`` from +z (row 0 at the zenith), column ``c``
of ``W`` at azimuth ``phi = 2 pi (c + 0.5) / W`` from +x towards +y. A map turned by
``rotation`` radians about z lights the scene as if every pixel's azimuth were
``phi + rotation``.

Units: the built-in maps are scaled so that a pixel's luminance
(0.2126 R + 0.7152 G + 0.0722 B, :func:`scenegen.world.colour.luminance`) is in kcd/m^2 (1 = 1000
cd/m^2); the irradiance they give (radiance x steradians) is then in klux. The renderer
rescales every map to a wanted irradiance, so only the ratios within a map matter; the
absolute scale is the real one so that the ratios are the real ones: the sun of
``clear-noon`` gives a horizontal surface about 79 klux, its sky about 31 klux (Preetham's
sky is a bright one; at turbidity 2, 88 and 24 klux).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from ..errors import ConfigError
from ..scene.geometry import direction
from .colour import luminance

XYZ_TO_REC709 = np.array([[3.2406, -1.5372, -0.4986],
                          [-0.9689, 1.8758, 0.0415],
                          [0.0557, -0.2040, 1.0570]])

SUN_ANGULAR_RADIUS = math.radians(0.27)
SUN_SOLID_ANGLE = 2.0 * math.pi * (1.0 - math.cos(SUN_ANGULAR_RADIUS))  # sr, about 6.98e-5
SOLAR_ILLUMINANCE = 128.0  # klux: the sun's illuminance outside the atmosphere
SUN_TEMPERATURE = 5778.0  # K: the sun outside the atmosphere as a black body
TURBIDITY_RANGE = (2.0, 10.0)  # where Preetham et al. fitted their model

# Perez coefficients A..E as (slope, intercept) in turbidity T (Preetham et al. 1999, appendix A.2)
PEREZ_Y = ((0.1787, -1.4630), (-0.3554, 0.4275), (-0.0227, 5.3251), (0.1206, -2.5771), (-0.0670, 0.3703))
PEREZ_X = ((-0.0193, -0.2592), (-0.0665, 0.0008), (-0.0004, 0.2125), (-0.0641, -0.8989), (-0.0033, 0.0452))
PEREZ_YC = ((-0.0167, -0.2608), (-0.0950, 0.0092), (-0.0079, 0.2102), (-0.0441, -1.6537), (-0.0109, 0.0529))
# zenith chromaticity: [T^2, T, 1] @ M @ [theta_s^3, theta_s^2, theta_s, 1] (appendix A.2)
ZENITH_X = np.array([[0.00166, -0.00375, 0.00209, 0.0],
                     [-0.02903, 0.06377, -0.03202, 0.00394],
                     [0.11693, -0.21196, 0.06052, 0.25886]])
ZENITH_Y = np.array([[0.00275, -0.00610, 0.00317, 0.0],
                     [-0.04214, 0.08970, -0.04153, 0.00516],
                     [0.15346, -0.26756, 0.06670, 0.26688]])

WAVELENGTHS = np.arange(380.0, 781.0, 5.0)  # nm, for the sun's spectrum

OVERCAST_ZENITH = 6.0  # kcd/m^2: about 15 klux on the ground
OVERCAST_TEMPERATURE = 7500.0  # K: neutral, slightly bluish grey


class Key(NamedTuple):
    """Where a built-in map's key light is: ``direction`` (3,) unit vector from the map's
    centre towards the light's centre (map frame), ``radius`` its angular half-size in
    radians (the farthest its brightest pixel can be from ``direction``, not counting
    the pixel's own size)."""

    direction: tuple[float, float, float]
    radius: float


def map_directions(height: int, width: int, rotation: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """((H, W, 3) unit world directions of the map's pixel centres, (H, W) solid angle
    of each pixel in steradians, summing to 4 pi), for a map turned by ``rotation``
    radians about z."""
    theta = math.pi * (np.arange(height) + 0.5) / height
    phi = 2.0 * math.pi * (np.arange(width) + 0.5) / width + rotation
    sin_theta = np.sin(theta)[:, None]
    directions = np.stack(np.broadcast_arrays(sin_theta * np.cos(phi)[None], sin_theta * np.sin(phi)[None],
                                              np.cos(theta)[:, None]), axis=-1)
    # the exact solid angle of each row's band, shared by its pixels
    edges = math.pi * np.arange(height + 1) / height
    band = (np.cos(edges[:-1]) - np.cos(edges[1:])) * (2.0 * math.pi / width)
    return directions, np.broadcast_to(band[:, None], (height, width))


def up_weights(height: int, width: int) -> np.ndarray:
    """(H, W) integral over each pixel of ``max(cos theta, 0)`` d omega, in steradians
    (summing to pi): a map's irradiance on an upward-facing surface is
    ``sum(L * up_weights)``, exact for a map constant over each pixel."""
    edges = np.minimum(math.pi * np.arange(height + 1) / height, math.pi / 2)
    band = 0.5 * (np.sin(edges[1:]) ** 2 - np.sin(edges[:-1]) ** 2) * (2.0 * math.pi / width)
    return np.broadcast_to(band[:, None], (height, width))


def xyY_to_rgb(x, y, Y) -> np.ndarray:
    """(..., 3) linear Rec. 709 RGB of CIE chromaticity ``x``, ``y`` and luminance ``Y``
    (arrays of one shape); out-of-gamut components clipped at 0."""
    x, y, Y = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, y, Y)))
    xyz = np.stack([x * Y / y, Y, (1.0 - x - y) * Y / y], axis=-1)
    return np.maximum(xyz @ XYZ_TO_REC709.T, 0.0)


def _lobe(wavelength: np.ndarray, mean: float, below: float, above: float) -> np.ndarray:
    return np.exp(-0.5 * ((wavelength - mean) / np.where(wavelength < mean, below, above)) ** 2)


def cie_xyz_matching(wavelength: np.ndarray) -> np.ndarray:
    """(N, 3) CIE 1931 colour matching functions at ``wavelength`` (N,) in nm (the
    multi-lobe fit of Wyman, Sloan and Shirley 2013, within a few percent)."""
    x = 1.056 * _lobe(wavelength, 599.8, 37.9, 31.0) + 0.362 * _lobe(wavelength, 442.0, 16.0, 26.7) \
        - 0.065 * _lobe(wavelength, 501.1, 20.4, 26.2)
    y = 0.821 * _lobe(wavelength, 568.8, 46.9, 40.5) + 0.286 * _lobe(wavelength, 530.9, 16.3, 31.1)
    z = 1.217 * _lobe(wavelength, 437.0, 11.8, 36.0) + 0.681 * _lobe(wavelength, 459.0, 26.0, 13.8)
    return np.stack([x, y, z], axis=-1)


def planck(wavelength: np.ndarray, kelvin: float) -> np.ndarray:
    """(N,) black-body spectral radiance at ``wavelength`` (N,) nm, up to a constant."""
    return (wavelength * 1e-3) ** -5 / np.expm1(1.4388e7 / (wavelength * kelvin))


def spectrum_rgb(spectrum: np.ndarray) -> np.ndarray:
    """(3,) linear Rec. 709 RGB of ``spectrum`` sampled at :data:`WAVELENGTHS`, with the
    luminance scale of the CIE Y matching function (unnormalized)."""
    return np.maximum(XYZ_TO_REC709 @ (spectrum @ cie_xyz_matching(WAVELENGTHS)), 0.0)


def blackbody_color(kelvin: float) -> np.ndarray:
    """(3,) linear Rec. 709 RGB of a black body at ``kelvin``, of luminance 1."""
    rgb = spectrum_rgb(planck(WAVELENGTHS, kelvin))
    return rgb / luminance(rgb)


def optical_mass(sun_elevation: float) -> float:
    """Relative optical air mass towards the sun (Kasten 1966, as Preetham et al.)."""
    zenith_deg = 90.0 - math.degrees(sun_elevation)
    return 1.0 / (math.cos(math.radians(zenith_deg)) + 0.15 * (93.885 - zenith_deg) ** -1.253)


def sun_radiance(sun_elevation: float, turbidity: float) -> np.ndarray:
    """(3,) RGB radiance (luminance in kcd/m^2) of the solar disk seen from the ground:
    a :data:`SUN_TEMPERATURE` black body of illuminance :data:`SOLAR_ILLUMINANCE` outside
    the atmosphere, dimmed and reddened by Rayleigh scattering and by aerosols of
    Angstrom exponent 1.3 and turbidity ``turbidity`` (Preetham et al. appendix A.1;
    ozone and gas absorption left out)."""
    micrometres = WAVELENGTHS * 1e-3
    beta = 0.04608 * turbidity - 0.04586
    depth = 0.008735 * micrometres ** -4.08 + beta * micrometres ** -1.3
    outside = planck(WAVELENGTHS, SUN_TEMPERATURE)
    scale = (SOLAR_ILLUMINANCE / SUN_SOLID_ANGLE) / luminance(spectrum_rgb(outside))
    return scale * spectrum_rgb(outside * np.exp(-depth * optical_mass(sun_elevation)))


def _perez_coefficients(table, turbidity: float) -> tuple[float, ...]:
    return tuple(slope * turbidity + intercept for slope, intercept in table)


def perez(cos_theta: np.ndarray, gamma: np.ndarray, coefficients) -> np.ndarray:
    """The Perez sky distribution F(theta, gamma) at view zenith cosine ``cos_theta``
    (clamped to >= 0.01) and angle ``gamma`` (radians) to the sun, for coefficients
    (A, B, C, D, E)."""
    a, b, c, d, e = coefficients
    cos_theta = np.maximum(cos_theta, 0.01)
    return (1.0 + a * np.exp(b / cos_theta)) * (1.0 + c * np.exp(d * gamma) + e * np.cos(gamma) ** 2)


def preetham_zenith(sun_elevation: float, turbidity: float) -> tuple[float, float, float]:
    """(luminance kcd/m^2, chromaticity x, y) of the zenith of Preetham's clear sky."""
    theta_s = math.pi / 2 - sun_elevation
    chi = (4.0 / 9.0 - turbidity / 120.0) * (math.pi - 2.0 * theta_s)
    zenith_luminance = (4.0453 * turbidity - 4.9710) * math.tan(chi) - 0.2155 * turbidity + 2.4192
    t = np.array([turbidity ** 2, turbidity, 1.0])
    s = np.array([theta_s ** 3, theta_s ** 2, theta_s, 1.0])
    return zenith_luminance, float(t @ ZENITH_X @ s), float(t @ ZENITH_Y @ s)


def preetham_sky(directions: np.ndarray, sun_elevation: float, turbidity: float) -> np.ndarray:
    """(..., 3) RGB radiance (luminance kcd/m^2) of Preetham's clear sky (without the
    sun) towards unit ``directions`` (..., 3) above the horizon, the sun at azimuth 0."""
    sun = direction(0.0, sun_elevation)
    cos_theta = directions[..., 2]
    gamma = np.arccos(np.clip(directions @ sun, -1.0, 1.0))
    theta_s = math.pi / 2 - sun_elevation
    zenith_luminance, zenith_x, zenith_y = preetham_zenith(sun_elevation, turbidity)
    values = []  # x, y, Y: each its zenith value times the Perez distribution of its table
    for table, zenith in ((PEREZ_X, zenith_x), (PEREZ_YC, zenith_y), (PEREZ_Y, zenith_luminance)):
        coefficients = _perez_coefficients(table, turbidity)
        values.append(zenith * perez(cos_theta, gamma, coefficients) / perez(1.0, theta_s, coefficients))
    return xyY_to_rgb(*values)


def disk_weights(directions: np.ndarray, solid_angle: np.ndarray, centre: np.ndarray, radius: float,
                 allowed: np.ndarray | None = None) -> np.ndarray:
    """(H, W) factors that spread a disk of angular ``radius`` around unit ``centre`` over
    the map's pixels (only where ``allowed``, (H, W) bool): a pixel's share falls off
    linearly over one pixel pitch across the disk's edge, at least the pixel nearest
    the centre is lit, and ``sum(weights * solid_angle)`` is the disk's solid angle, so
    a disk of radiance L adds ``L * weights`` with its exact energy at any resolution."""
    pitch = math.pi / directions.shape[0]
    cos_angle = directions @ centre
    if allowed is not None:
        cos_angle = np.where(allowed, cos_angle, -1.0)
    share = np.clip((radius - np.arccos(np.clip(cos_angle, -1.0, 1.0))) / pitch + 0.5, 0.0, 1.0)
    if allowed is not None:
        share = np.where(allowed, share, 0.0)
    if not share.any():
        share.flat[int(np.argmax(cos_angle))] = 1.0
    disk = 2.0 * math.pi * (1.0 - math.cos(radius))
    return share * (disk / float(np.sum(share * solid_angle)))


def _with_ground(radiance: np.ndarray, ground_albedo: float) -> np.ndarray:
    """``radiance`` (H, W, 3) float64 with its lower hemisphere set to a uniform
    Lambertian ground of ``ground_albedo`` lit by the upper hemisphere, as float32."""
    height, width = radiance.shape[:2]
    irradiance = np.einsum("hw,hwc->c", up_weights(height, width), radiance)
    radiance[~_sky_rows(height)] = ground_albedo * irradiance / math.pi
    return radiance.astype(np.float32)


def _sky_rows(height: int) -> np.ndarray:
    """(H,) bool: the rows above the horizon (a middle row on it counts as ground)."""
    return math.pi * (np.arange(height) + 0.5) / height < math.pi / 2


def check_height(height) -> int:
    """``height`` as an int if it is a valid map height (an integer >= 2), else a ConfigError."""
    if isinstance(height, bool) or not isinstance(height, (int, np.integer)) or height < 2:
        raise ConfigError(f"an environment map's height must be an integer >= 2 pixels, got {height!r}")
    return int(height)


def _check_albedo(ground_albedo) -> float:
    if not 0.0 <= ground_albedo <= 1.0:
        raise ConfigError(f"ground_albedo must be in [0, 1], got {ground_albedo!r}")
    return float(ground_albedo)


def clear_sky(height: int, sun_elevation: float, turbidity: float = 3.0, ground_albedo: float = 0.3) -> np.ndarray:
    """(H, 2H, 3) float32 radiance (luminance kcd/m^2) of a clear sky: Preetham et al.'s
    sky of ``turbidity`` (2 to 10), a sun disk of angular radius 0.27 degrees at azimuth
    0 (+x) and ``sun_elevation`` radians (0 < e <= pi/2) carrying the real sun's energy
    at any resolution (:func:`disk_weights`), and a uniform ground of ``ground_albedo``
    lit by sky and sun."""
    height = check_height(height)
    if not 0.0 < sun_elevation <= math.pi / 2:
        raise ConfigError(f"sun_elevation must be in (0, pi/2] radians (0 to 90 degrees), got {sun_elevation!r}")
    if not TURBIDITY_RANGE[0] <= turbidity <= TURBIDITY_RANGE[1]:
        raise ConfigError(f"turbidity must be in [{TURBIDITY_RANGE[0]}, {TURBIDITY_RANGE[1]}], got {turbidity!r}")
    directions, solid_angle = map_directions(height, 2 * height)
    above = np.broadcast_to(_sky_rows(height)[:, None], solid_angle.shape)
    radiance = np.zeros(directions.shape)
    radiance[above] = preetham_sky(directions[above], sun_elevation, turbidity)
    sun = sun_radiance(sun_elevation, turbidity)
    weights = disk_weights(directions, solid_angle, direction(0.0, sun_elevation), SUN_ANGULAR_RADIUS, above)
    radiance += weights[..., None] * sun
    return _with_ground(radiance, _check_albedo(ground_albedo))


def overcast_sky(height: int, ground_albedo: float = 0.3) -> np.ndarray:
    """(H, 2H, 3) float32 radiance (luminance kcd/m^2) of the CIE standard overcast sky,
    ``L(theta) = Lz (1 + 2 cos theta) / 3`` with ``Lz`` = :data:`OVERCAST_ZENITH`, a
    neutral slightly bluish grey, over a uniform ground of ``ground_albedo``."""
    height = check_height(height)
    directions, _ = map_directions(height, 2 * height)
    cos_theta = np.maximum(directions[..., 2], 0.0)
    sky = OVERCAST_ZENITH * (1.0 + 2.0 * cos_theta) / 3.0
    radiance = sky[..., None] * blackbody_color(OVERCAST_TEMPERATURE)
    return _with_ground(radiance, _check_albedo(ground_albedo))


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def panel(directions: np.ndarray, elevation: float, azimuth: float, half_width: float, half_height: float,
          hot_spot: float = 0.2) -> np.ndarray:
    """(H, W) brightness in [0, 1] of a flat rectangular light centred at ``elevation``,
    ``azimuth`` (radians), ``half_width`` x ``half_height`` radians seen from the
    centre, its top and bottom edges level: 1 at its centre, falling by ``hot_spot`` towards its
    corners (a softbox's diffuser), with edges softened over about one pixel."""
    pitch = math.pi / directions.shape[0]
    centre = direction(azimuth, elevation)
    right = np.array([-math.sin(azimuth), math.cos(azimuth), 0.0])
    up = np.cross(centre, right)
    depth = np.maximum(directions @ centre, 1e-6)
    u = (directions @ right) / depth / math.tan(half_width)
    v = (directions @ up) / depth / math.tan(half_height)
    front = directions @ centre > 0.0
    soft_u = pitch / half_width
    soft_v = pitch / half_height
    inside = np.clip((1.0 - np.abs(u)) / soft_u + 0.5, 0.0, 1.0) * np.clip((1.0 - np.abs(v)) / soft_v + 0.5, 0.0, 1.0)
    return np.where(front, inside * (1.0 - 0.5 * hot_spot * (np.minimum(u * u, 1.0) + np.minimum(v * v, 1.0))), 0.0)


STUDIO_KEY = (math.radians(45.0), 0.0, math.radians(20.0), math.radians(15.0))  # elevation, azimuth, half sizes
INTERIOR_WINDOW = (math.radians(12.0), 0.0, math.radians(28.0), math.radians(22.0))


def studio(height: int) -> np.ndarray:
    """(H, 2H, 3) float32 radiance (luminance kcd/m^2) of a photo studio: a light grey
    cyclorama surround (about 150 to 350 cd/m^2, lighter upwards), a large softbox key light
    (5 kcd/m^2, slightly warm) at elevation 45 degrees, azimuth 0, a larger, weaker
    fill softbox at azimuth -110 degrees and a narrow rim strip overhead behind."""
    height = check_height(height)
    directions, _ = map_directions(height, 2 * height)
    z = directions[..., 2]
    grey = 0.25 + 0.1 * z
    radiance = grey[..., None] * blackbody_color(6500.0)
    radiance += 5.0 * panel(directions, *STUDIO_KEY)[..., None] * blackbody_color(5500.0)
    fill = panel(directions, math.radians(15.0), math.radians(-110.0), math.radians(30.0), math.radians(22.0))
    radiance += 1.2 * fill[..., None] * blackbody_color(6000.0)
    rim = panel(directions, math.radians(62.0), math.radians(160.0), math.radians(40.0), math.radians(5.0))
    radiance += 2.5 * rim[..., None] * blackbody_color(6000.0)
    return radiance.astype(np.float32)


def interior(height: int) -> np.ndarray:
    """(H, 2H, 3) float32 radiance (luminance kcd/m^2) of a room: warm off-white walls
    (about 40 to 110 cd/m^2, lightest facing the window) fading into a dimmer ceiling, a
    darker warm floor (lower hemisphere), a window of daylight (about 4 kcd/m^2,
    slightly bluish) at azimuth 0 and two small warm ceiling lights (1.2 kcd/m^2)."""
    height = check_height(height)
    directions, solid_angle = map_directions(height, 2 * height)
    x, z = directions[..., 0], directions[..., 2]
    wall = (0.075 - 0.035 * x) * (1.0 - 0.35 * _smoothstep(0.5, 0.9, z))
    floor = 0.025
    radiance = np.where(z[..., None] >= 0.0, wall[..., None] * blackbody_color(4200.0),
                        floor * blackbody_color(3200.0))
    window = panel(directions, *INTERIOR_WINDOW, hot_spot=0.3) * (1.0 + 0.1 * z)
    radiance += 4.0 * window[..., None] * blackbody_color(7500.0)
    for azimuth in (math.radians(135.0), math.radians(225.0)):
        lamp = disk_weights(directions, solid_angle, direction(azimuth, math.radians(65.0)), math.radians(3.0))
        radiance += 1.2 * lamp[..., None] * blackbody_color(2700.0)
    return radiance.astype(np.float32)


SUNSET_TURBIDITY = 3.5
CLEAR_SKIES = {  # name -> (sun elevation, turbidity)
    "clear-noon": (math.radians(60.0), 3.0),
    "clear-morning": (math.radians(25.0), 3.0),
    "clear-sunset": (math.radians(6.0), SUNSET_TURBIDITY),
}
BUILTIN: dict[str, Callable[[int], np.ndarray]] = {
    **{name: partial(clear_sky, sun_elevation=elevation, turbidity=turbidity)
       for name, (elevation, turbidity) in CLEAR_SKIES.items()},
    "overcast": overcast_sky,
    "studio": studio,
    "interior": interior,
}


def _plain(vector: np.ndarray) -> tuple[float, float, float]:
    return tuple(float(v) for v in vector)


KEYS: dict[str, Key] = {
    **{name: Key(_plain(direction(0.0, elevation)), SUN_ANGULAR_RADIUS)
       for name, (elevation, _) in CLEAR_SKIES.items()},
    "overcast": Key((0.0, 0.0, 1.0), 0.0),
    "studio": Key(_plain(direction(STUDIO_KEY[1], STUDIO_KEY[0])), math.hypot(*STUDIO_KEY[2:])),
    "interior": Key(_plain(direction(INTERIOR_WINDOW[1], INTERIOR_WINDOW[0])), math.hypot(*INTERIOR_WINDOW[2:])),
}
