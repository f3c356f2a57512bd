"""Diffuse lighting from an environment map: 9 spherical-harmonic coefficients.

The first piece of environment lighting (issue 16): an equirectangular radiance map is
projected onto the real spherical harmonics of degree <= 2, whose convolution with the
clamped cosine gives the irradiance at any surface normal to within a few percent
(Ramamoorthi and Hanrahan, "An Efficient Representation for Irradiance Environment
Maps", SIGGRAPH 2001); a shader evaluates it with one quadratic form per pixel.

Map convention (world frame: z up): pixel row ``r`` of ``H`` looks at polar angle
``theta = pi (r + 0.5) / H`` from +z (row 0 at the zenith), column ``c`` of ``W`` at
azimuth ``phi = 2 pi (c + 0.5) / W`` from +x towards +y. A map turned by ``rotation``
radians about z lights the scene as if every pixel's azimuth were ``phi + rotation``.
"""

from __future__ import annotations

import math

import numpy as np

from ..world.skies import map_directions

# the clamped cosine's coefficients per degree l (Ramamoorthi and Hanrahan, eq. 8)
COSINE_LOBE = (math.pi, 2.0 * math.pi / 3.0, math.pi / 4.0)
DEGREE_OF = (0, 1, 1, 1, 2, 2, 2, 2, 2)  # degree l of each of the 9 basis functions


def sh_basis(directions: np.ndarray) -> np.ndarray:
    """(..., 9) real spherical harmonics of degree <= 2 at unit ``directions`` (..., 3),
    in the order (0,0), (1,-1), (1,0), (1,1), (2,-2), (2,-1), (2,0), (2,1), (2,2)."""
    x, y, z = directions[..., 0], directions[..., 1], directions[..., 2]
    return np.stack([
        np.full_like(x, 0.282095),
        0.488603 * y, 0.488603 * z, 0.488603 * x,
        1.092548 * x * y, 1.092548 * y * z, 0.315392 * (3.0 * z * z - 1.0), 1.092548 * x * z,
        0.546274 * (x * x - y * y),
    ], axis=-1)


def sh_coefficients(radiance: np.ndarray, rotation: float = 0.0) -> np.ndarray:
    """(9, C) coefficients of an equirectangular ``radiance`` map (H, W, C), linear
    units, turned by ``rotation`` radians about z."""
    radiance = np.asarray(radiance, dtype=np.float64)
    directions, solid_angle = map_directions(radiance.shape[0], radiance.shape[1], rotation)
    weighted = sh_basis(directions) * solid_angle[..., None]  # (H, W, 9)
    return np.einsum("hwk,hwc->kc", weighted, radiance)


def irradiance(coefficients: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """(N, C) irradiance (radiance units x steradians: a white Lambertian surface's
    outgoing radiance is this / pi) at unit ``normals`` (N, 3) from ``coefficients``
    (9, C) of :func:`sh_coefficients`."""
    return sh_basis(np.asarray(normals, dtype=np.float64)) @ convolve_with_cosine(coefficients)


def convolve_with_cosine(coefficients: np.ndarray) -> np.ndarray:
    """(9, C) ``coefficients`` (9, C) times the clamped cosine's lobe of each one's degree:
    irradiance is ``sh_basis(n) @`` these (what ``mesh.frag`` sums)."""
    return np.array([COSINE_LOBE[degree] for degree in DEGREE_OF])[:, None] * coefficients
