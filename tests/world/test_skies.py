"""The procedural radiance maps of scenegen.world.skies against the models they follow."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen.errors import ConfigError
from scenegen.render import irradiance
from scenegen.scene.factors import BUILTIN_ENVIRONMENTS
from scenegen.scene.geometry import direction
from scenegen.world import skies
from scenegen.world.colour import luminance
from scenegen.world.skies import (
    BUILTIN,
    CLEAR_SKIES,
    KEYS,
    OVERCAST_ZENITH,
    SUN_ANGULAR_RADIUS,
    SUN_SOLID_ANGLE,
    blackbody_color,
    clear_sky,
    disk_weights,
    map_directions,
    overcast_sky,
    preetham_sky,
    preetham_zenith,
    sun_radiance,
    up_weights,
)


def _brightest(radiance: np.ndarray) -> np.ndarray:
    directions, _ = map_directions(radiance.shape[0], radiance.shape[1])
    return directions.reshape(-1, 3)[int(np.argmax(luminance(radiance)))]


def _angle(a, b) -> float:
    return math.acos(min(1.0, float(np.dot(a, b))))


def _pixel_diagonal(height: int) -> float:
    """The largest angle across one pixel of a (H, 2H) map: its rows and columns span
    at most pi / H radians."""
    return math.sqrt(2.0) * math.pi / height


def _sky_rows(height: int) -> int:
    return height // 2


def test_map_directions_moved_here_and_the_renderer_uses_it():
    assert irradiance.map_directions is map_directions


def test_the_builtin_names_are_the_environment_levels_of_the_factors():
    assert tuple(BUILTIN) == BUILTIN_ENVIRONMENTS == tuple(KEYS)


@pytest.mark.parametrize("name", list(BUILTIN))
@pytest.mark.parametrize("height", [8, 33, 64])
def test_every_builtin_map_is_a_finite_non_negative_float32_2_to_1_map(name, height):
    radiance = BUILTIN[name](height)
    assert radiance.shape == (height, 2 * height, 3)
    assert radiance.dtype == np.float32
    assert np.isfinite(radiance).all() and (radiance >= 0).all() and radiance.max() > 0
    np.testing.assert_array_equal(radiance, BUILTIN[name](height))  # deterministic


@pytest.mark.parametrize("name", list(BUILTIN))
@pytest.mark.parametrize("height", [16, 64, 256])
def test_the_brightest_pixel_is_on_the_key_light(name, height):
    key = KEYS[name]
    assert _angle(_brightest(BUILTIN[name](height)), key.direction) <= key.radius + _pixel_diagonal(height)


@settings(max_examples=15, deadline=None)
@given(elevation=st.floats(math.radians(3.0), math.radians(89.0)), turbidity=st.floats(2.0, 6.0),
       height=st.sampled_from([32, 64, 128]))
def test_the_brightest_pixel_of_a_clear_sky_is_the_sun_within_one_pixel(elevation, turbidity, height):
    radiance = clear_sky(height, elevation, turbidity)
    assert _angle(_brightest(radiance), direction(0.0, elevation)) <= _pixel_diagonal(height)


@settings(max_examples=30, deadline=None)
@given(low=st.floats(0.01, 1.5), rise=st.floats(0.01, 0.5), turbidity=st.floats(2.0, 10.0))
def test_the_zenith_luminance_grows_with_the_sun_elevation(low, rise, turbidity):
    high = min(low + rise, math.pi / 2)
    assert preetham_zenith(high, turbidity)[0] > preetham_zenith(low, turbidity)[0] > 0


def test_the_zenith_luminance_is_preethams():
    """Y_z = (4.0453 T - 4.9710) tan(chi) - 0.2155 T + 2.4192, chi = (4/9 - T/120)(pi - 2 theta_s),
    worked out by hand for T = 3 and the sun at 60 degrees (theta_s = 30 degrees)."""
    chi = (4.0 / 9.0 - 3.0 / 120.0) * (math.pi - math.pi / 3.0)
    zenith, x, y = preetham_zenith(math.radians(60.0), 3.0)
    assert zenith == pytest.approx((4.0453 * 3 - 4.9710) * math.tan(chi) - 0.2155 * 3 + 2.4192, rel=1e-12)
    assert zenith == pytest.approx(10.413, abs=1e-3)
    assert 0.24 < x < 0.27 and 0.25 < y < 0.28  # a bluish white


@pytest.mark.parametrize("elevation", [6.0, 25.0, 60.0])
def test_the_map_s_zenith_is_the_model_s_zenith(elevation):
    """The top row looks 0.35 degrees off the zenith: its luminance is the model's Y_z."""
    radiance = clear_sky(256, math.radians(elevation))
    assert luminance(radiance[0]).mean() == pytest.approx(preetham_zenith(math.radians(elevation), 3.0)[0], rel=1e-2)


@pytest.mark.parametrize("name", ["clear-noon", "clear-morning", "clear-sunset"])
def test_the_sky_is_bluer_than_the_sun(name):
    elevation, turbidity = CLEAR_SKIES[name]
    zenith = BUILTIN[name](64)[0].mean(axis=0)
    sun = sun_radiance(elevation, turbidity)
    assert zenith[2] / zenith[0] > 1.0 > sun[2] / sun[0]


def test_the_sunset_sun_is_redder_and_dimmer_than_the_noon_sun():
    noon = sun_radiance(*CLEAR_SKIES["clear-noon"])
    sunset = sun_radiance(*CLEAR_SKIES["clear-sunset"])
    assert CLEAR_SKIES["clear-sunset"][1] > CLEAR_SKIES["clear-noon"][1]  # a hazier sky
    assert sunset[2] / sunset[0] < 0.2 * noon[2] / noon[0]
    assert sunset[1] / sunset[0] < noon[1] / noon[0]
    assert luminance(sunset) < 0.2 * luminance(noon)


def test_the_sun_outside_the_atmosphere_gives_the_solar_illuminance():
    """Without air (no optical depth) the sun's luminance times its solid angle is 128 klux:
    at the zenith with turbidity 2 the air takes 10% to 30% of it."""
    through = luminance(sun_radiance(math.pi / 2, 2.0)) * SUN_SOLID_ANGLE
    assert 0.7 * skies.SOLAR_ILLUMINANCE < through < 0.9 * skies.SOLAR_ILLUMINANCE


def _sun_and_sky(name: str, height: int = 128) -> tuple[float, float]:
    """(sun, sky) irradiance of an upward-facing surface under a built-in clear sky, klux."""
    elevation, turbidity = CLEAR_SKIES[name]
    total = luminance(np.einsum("hw,hwc->c", up_weights(height, 2 * height), BUILTIN[name](height).astype(float)))
    sun = float(luminance(sun_radiance(elevation, turbidity))) * SUN_SOLID_ANGLE * math.sin(elevation)
    return sun, total - sun


def test_the_sun_outshines_the_sky_by_a_few_times_at_noon_and_less_when_low():
    ratios = [sun / sky for sun, sky in map(_sun_and_sky, ["clear-noon", "clear-morning", "clear-sunset"])]
    assert 2.0 < ratios[0] < 10.0
    assert ratios[0] > ratios[1] > ratios[2] > 0.01
    sun, sky = _sun_and_sky("clear-noon")
    assert 60.0 < sun < 100.0 and 10.0 < sky < 40.0  # klux, as the module's docstring says


@pytest.mark.parametrize("height", [16, 64, 256, 1024])
def test_the_sun_disk_carries_the_sun_s_energy_at_any_resolution(height):
    """The map minus its sky holds exactly the sun's radiance times its solid angle,
    whether the disk is smaller than a pixel (16, 64, 256) or spans several (1024)."""
    elevation = math.radians(40.0)
    directions, solid_angle = map_directions(height, 2 * height)
    sky = np.zeros(directions.shape)
    above = np.broadcast_to((directions[:, :1, 2] > 1e-9), solid_angle.shape)
    sky[above] = preetham_sky(directions[above], elevation, 3.0)
    disk = clear_sky(height, elevation).astype(float)[above] - sky[above]
    energy = np.einsum("n,nc->c", solid_angle[above], disk)
    np.testing.assert_allclose(energy, sun_radiance(elevation, 3.0) * SUN_SOLID_ANGLE, rtol=1e-4)


@settings(max_examples=25, deadline=None)
@given(elevation=st.floats(-1.5, 1.5), azimuth=st.floats(0.0, 2 * math.pi), radius=st.floats(1e-4, 0.3),
       height=st.integers(4, 96))
def test_disk_weights_keep_the_disk_s_solid_angle(elevation, azimuth, radius, height):
    directions, solid_angle = map_directions(height, 2 * height)
    weights = disk_weights(directions, solid_angle, direction(azimuth, elevation), radius)
    assert float(np.sum(weights * solid_angle)) == pytest.approx(2 * math.pi * (1 - math.cos(radius)), rel=1e-9)
    assert (weights >= 0).all() and weights.any()


def test_a_disk_larger_than_its_pixels_is_about_uniform():
    """Pixels well inside a disk get the disk's own radiance (weight 1, to 5%)."""
    directions, solid_angle = map_directions(256, 512)
    centre = direction(1.0, 0.3)
    weights = disk_weights(directions, solid_angle, centre, math.radians(10.0))
    deep = directions @ centre > math.cos(math.radians(8.0))
    np.testing.assert_allclose(weights[deep], 1.0, atol=0.05)


@pytest.mark.parametrize("height", [16, 31, 256])
def test_up_weights_integrate_the_clamped_cosine_exactly(height):
    """Against a fine midpoint rule over each row's band (the middle row of an odd
    height straddles the horizon: only its upper half counts)."""
    fine = 2000
    theta = math.pi * (np.arange(height * fine) + 0.5) / (height * fine)
    band = np.maximum(np.cos(theta), 0) * np.sin(theta) * (math.pi / (height * fine)) * (2 * math.pi / (2 * height))
    weights = up_weights(height, 2 * height)
    assert weights.sum() == pytest.approx(math.pi, rel=1e-12)
    np.testing.assert_allclose(weights[:, 0], band.reshape(height, fine).sum(axis=1), rtol=1e-6, atol=1e-12)
    assert (weights == weights[:, :1]).all()


@pytest.mark.parametrize("height", [64, 256])
def test_the_overcast_sky_is_three_times_brighter_at_the_zenith_than_at_the_horizon(height):
    """L(theta) = Lz (1 + 2 cos theta) / 3: fitted as a + b cos theta over the sky's rows,
    b = 2 a (zenith a + b = 3 a, horizon a) and a + b = Lz, per channel."""
    radiance = overcast_sky(height).astype(float)
    rows = _sky_rows(height)
    directions, _ = map_directions(height, 2 * height)
    cos_theta = directions[:rows, 0, 2]
    design = np.stack([np.ones(rows), cos_theta], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, radiance[:rows, 0, :], rcond=None)
    np.testing.assert_allclose((a + b) / a, 3.0, rtol=1e-5)
    assert luminance(a + b) == pytest.approx(OVERCAST_ZENITH, rel=1e-5)
    np.testing.assert_allclose(radiance[:rows], radiance[:rows, :1].repeat(2 * height, axis=1))  # no azimuth


def test_the_overcast_sky_is_a_neutral_slightly_bluish_grey():
    r, g, b = overcast_sky(32)[0, 0]
    assert r < g < b < 1.3 * r


@pytest.mark.parametrize("albedo", [0.0, 0.1, 0.3, 1.0])
def test_the_overcast_ground_reflects_the_sky_s_analytic_irradiance(albedo):
    """E = integral of Lz (1 + 2 cos t) / 3 cos t over the hemisphere = 7 pi Lz / 9."""
    radiance = overcast_sky(256, ground_albedo=albedo).astype(float)
    colour = blackbody_color(skies.OVERCAST_TEMPERATURE)
    expected = albedo * 7.0 * OVERCAST_ZENITH / 9.0 * colour
    np.testing.assert_allclose(radiance[128:].reshape(-1, 3), np.broadcast_to(expected, (128 * 512, 3)),
                               rtol=1e-3, atol=1e-9)


@pytest.mark.parametrize("name", ["clear-noon", "clear-sunset"])
def test_the_clear_ground_reflects_sky_and_sun(name):
    height = 64
    radiance = BUILTIN[name](height).astype(float)
    above = np.einsum("hw,hwc->c", up_weights(height, 2 * height), radiance)
    np.testing.assert_allclose(radiance[height // 2:], np.broadcast_to(0.3 * above / math.pi, (32, 128, 3)),
                               rtol=1e-5)


def test_blackbody_colours_run_from_warm_to_cool_at_luminance_one():
    colours = [blackbody_color(k) for k in (2700.0, 4000.0, 6500.0, 9000.0)]
    ratios = [b / r for r, _, b in colours]
    assert ratios == sorted(ratios)
    np.testing.assert_allclose([luminance(c) for c in colours], 1.0, rtol=1e-12)
    np.testing.assert_allclose(colours[2], 1.0, atol=0.06)  # 6500 K is nearly sRGB's D65 white


def test_the_studio_key_is_slightly_warm_and_the_fill_weaker():
    radiance = skies.studio(128)
    key = radiance.reshape(-1, 3)[int(np.argmax(luminance(radiance)))]
    assert key[0] > key[2] > 0.7 * key[0]
    directions, _ = map_directions(128, 256)
    fill = directions @ direction(math.radians(-110.0), math.radians(15.0)) > math.cos(math.radians(5.0))
    assert 0.1 * luminance(key) < luminance(radiance[fill]).max() < 0.5 * luminance(key)


def test_the_interior_window_is_bluish_and_the_ceiling_lights_warm():
    radiance = skies.interior(128)
    directions, _ = map_directions(128, 256)
    window = radiance.reshape(-1, 3)[int(np.argmax(luminance(radiance)))]
    assert window[2] > window[0]
    lamp = directions @ direction(math.radians(135.0), math.radians(65.0)) > math.cos(math.radians(2.0))
    r, _, b = radiance[lamp].mean(axis=0)
    assert r > 2 * b
    back = directions[..., 0] < 0  # away from the window, whose sill is below the horizon
    floor, walls = radiance[back & (directions[..., 2] < 0)], radiance[back & (directions[..., 2] > 0)]
    assert luminance(floor).max() < 0.7 * luminance(walls).min()


@pytest.mark.parametrize("call", [
    lambda: clear_sky(32, 0.0), lambda: clear_sky(32, -0.1), lambda: clear_sky(32, 2.0),
    lambda: clear_sky(32, 0.5, turbidity=1.0), lambda: clear_sky(32, 0.5, turbidity=12.0),
    lambda: clear_sky(32, 0.5, ground_albedo=1.5), lambda: overcast_sky(1), lambda: overcast_sky(16.0),
    lambda: skies.studio(True),
])
def test_arguments_out_of_range_are_refused(call):
    with pytest.raises(ConfigError):
        call()


def test_a_sun_at_the_zenith_is_in_the_top_row():
    radiance = clear_sky(64, math.pi / 2)
    assert np.unravel_index(int(np.argmax(luminance(radiance))), (64, 128))[0] == 0


def test_the_sun_is_at_azimuth_zero():
    radiance = clear_sky(128, math.radians(30.0))
    sun = _brightest(radiance)
    assert math.atan2(sun[1], sun[0]) == pytest.approx(0.0, abs=math.pi / 128)
    assert sun[2] == pytest.approx(math.sin(math.radians(30.0)), abs=math.pi / 128)
    assert SUN_ANGULAR_RADIUS == pytest.approx(math.radians(0.27))
