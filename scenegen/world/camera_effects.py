"""Drawing a scene's camera effects from its profile (``camera.effects.<name>``).

The renderer applies them (:mod:`scenegen.render.effects`) and draws nothing: every
strength, and the seed of the sensor noise, is drawn here and recorded in the Scene's
:class:`~scenegen.scene.scene.CameraEffects`.
"""

from __future__ import annotations

import numpy as np

from ..scene.scene import CameraEffects

NEUTRAL_KELVIN = 6500.0  # the colour temperature whose white balance changes nothing
# CIE XYZ -> linear sRGB (Rec. 709 primaries, D65 white)
_XYZ_TO_RGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                        [-0.9692660, 1.8760108, 0.0415560],
                        [0.0556434, -0.2040259, 1.0572252]])


def planckian_xy(kelvin: float) -> tuple[float, float]:
    """CIE 1931 (x, y) chromaticity of a black body at ``kelvin`` (1667..25000 K), by
    the cubic splines of Kang et al. (2002)."""
    t = float(kelvin)
    if t <= 4000.0:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222.0:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000.0:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    return x, y


def _linear_rgb(kelvin: float) -> np.ndarray:
    x, y = planckian_xy(kelvin)
    return _XYZ_TO_RGB @ np.array([x / y, 1.0, (1.0 - x - y) / y])


def white_balance_gains(kelvin: float) -> tuple[float, float, float]:
    """(3,) gains of the linear R, G, B channels that tint a neutral image as light of
    colour temperature ``kelvin`` would (green gain 1; (1, 1, 1) at
    :data:`NEUTRAL_KELVIN`): a camera balanced for daylight under a warmer light."""
    gains = _linear_rgb(kelvin) / _linear_rgb(NEUTRAL_KELVIN)
    return tuple(float(g) for g in gains / gains[1])


def _uniform(rng: np.random.Generator, bounds) -> float:
    low, high = (float(v) for v in bounds)
    return float(rng.uniform(low, high))


def sample_effects(rng: np.random.Generator, name: str, profile, focus_distance: float) -> CameraEffects:
    """The camera effects of one scene under profile ``name`` (its config ``profile``),
    focused at ``focus_distance`` metres (the camera's distance to its target).

    Draws, in this order: noise, temperature, JPEG quality, aperture, motion-blur length
    and angle, vignetting, then the noise seed; a range [a, a] draws a itself."""
    noise = _uniform(rng, profile.noise)
    kelvin = _uniform(rng, profile.temperature)
    low, high = (int(v) for v in profile.jpeg_quality)
    quality = int(rng.integers(low, high + 1))
    aperture = _uniform(rng, profile.aperture)
    blur = _uniform(rng, profile.motion_blur)
    angle = float(rng.uniform(0.0, np.pi))
    vignetting = _uniform(rng, profile.vignetting)
    seed = int(rng.integers(2**32))
    return CameraEffects(
        name=name,
        seed=seed,
        noise=noise,
        white_balance=white_balance_gains(kelvin),
        jpeg_quality=quality,
        aperture=aperture,
        focus_distance=float(focus_distance) if aperture > 0 else 0.0,
        motion_blur=blur,
        motion_angle=angle if blur > 0 else 0.0,
        vignetting=vignetting,
    )
