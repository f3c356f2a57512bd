"""Colour arithmetic shared by the procedural maps, textures and the image effects: the
luminance of linear Rec. 709 RGB, and the exact sRGB transfer curves (IEC 61966-2-1).

Faster forms (tables over uint8 codes, float32 images) are built from these, where they
are used (:mod:`scenegen.render.effects`, :mod:`scenegen.render.textures`).
"""

from __future__ import annotations

import numpy as np

REC709_LUMINANCE = np.array([0.2126, 0.7152, 0.0722])  # linear Rec. 709 RGB -> luminance Y


def luminance(rgb: np.ndarray) -> np.ndarray:
    """(...) float64 luminance of linear Rec. 709 ``rgb`` (..., 3 or more channels: the
    first three), in its units."""
    return np.asarray(rgb, dtype=np.float64)[..., :3] @ REC709_LUMINANCE


def srgb_to_linear(encoded: np.ndarray) -> np.ndarray:
    """float64 linear values in [0, 1] of sRGB-encoded ``encoded``: uint8 codes, or floats
    in [0, 1] (any shape)."""
    x = np.asarray(encoded)
    x = x / 255.0 if x.dtype == np.uint8 else np.asarray(x, dtype=float)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """uint8 sRGB codes of linear values (any shape; clipped to [0, 1]), rounded."""
    x = np.clip(np.asarray(linear, dtype=float), 0.0, 1.0)
    encoded = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)
    return np.rint(encoded * 255.0).astype(np.uint8)
