"""Spherical-harmonic irradiance against maps whose irradiance is known analytically."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen.render.irradiance import irradiance, map_directions, sh_basis, sh_coefficients

H, W = 64, 128


def _normals(seed: int, n: int = 50) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_pixels_cover_the_sphere_once():
    directions, solid_angle = map_directions(H, W)
    assert solid_angle.sum() == pytest.approx(4 * math.pi, rel=1e-12)
    np.testing.assert_allclose(np.linalg.norm(directions, axis=-1), 1.0, atol=1e-12)
    assert directions[0, 0, 2] > 0.999 and directions[-1, 0, 2] < -0.999  # row 0 at the zenith


def test_the_basis_is_orthonormal_on_the_map_grid():
    directions, solid_angle = map_directions(256, 512)
    basis = sh_basis(directions)
    gram = np.einsum("hwi,hwj,hw->ij", basis, basis, solid_angle)
    np.testing.assert_allclose(gram, np.eye(9), atol=2e-4)


@settings(max_examples=20, deadline=None)
@given(level=st.floats(0.01, 100.0), seed=st.integers(0, 1000))
def test_a_constant_environment_gives_pi_times_its_radiance_everywhere(level, seed):
    coefficients = sh_coefficients(np.full((H, W, 3), level))
    np.testing.assert_allclose(irradiance(coefficients, _normals(seed)), math.pi * level, rtol=1e-3)


@settings(max_examples=20, deadline=None)
@given(a=st.floats(1.0, 5.0), b=st.floats(-1.0, 1.0), seed=st.integers(0, 1000))
def test_a_linear_sky_gives_its_exact_irradiance(a, b, seed):
    """L(w) = a + b z is of degree 1, so its irradiance is exact: E(n) = pi a + 2 pi / 3 b n_z."""
    directions, _ = map_directions(H, W)
    coefficients = sh_coefficients((a + b * directions[..., 2])[..., None])
    normals = _normals(seed)
    expected = math.pi * a + 2.0 * math.pi / 3.0 * b * normals[:, 2]
    np.testing.assert_allclose(irradiance(coefficients, normals)[:, 0], expected, rtol=2e-3)


def test_turning_the_map_turns_the_lighting():
    """A sky brighter towards +x, turned a quarter turn, is brighter towards +y."""
    directions, _ = map_directions(H, W)
    sky = (1.0 + directions[..., 0])[..., None]
    turned = sh_coefficients(sky, rotation=math.pi / 2)
    lit = irradiance(turned, np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]))[:, 0]
    np.testing.assert_allclose(lit, [math.pi + 2 * math.pi / 3, math.pi, math.pi - 2 * math.pi / 3], rtol=2e-3)

