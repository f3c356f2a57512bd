"""Environment map files, sets of maps and the key light split off a map."""

from __future__ import annotations

import json
import math
import pickle
import sys

import numpy as np
import OpenEXR
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenegen.errors import ConfigError
from scenegen.scene.geometry import direction
from scenegen.world.colour import luminance
from scenegen.world.environments import (
    EnvironmentSet,
    MapLighting,
    fit_width,
    read_map,
    rotate_direction,
    split_sun,
    write_hdr,
)
from scenegen.world.skies import BUILTIN, map_directions


def _disk_map(height: int, centre: np.ndarray, radius: float, level: float, samples: int = 8) -> np.ndarray:
    """(H, 2H) 1 + ``level`` x the fraction of each pixel inside the disk of angular
    ``radius`` around ``centre`` (``samples`` x ``samples`` points per pixel)."""
    width = 2 * height
    offsets = (np.arange(samples) + 0.5) / samples
    theta = math.pi * (np.arange(height)[:, None] + offsets[None]).reshape(-1) / height
    phi = 2 * math.pi * (np.arange(width)[:, None] + offsets[None]).reshape(-1) / width
    sin_theta = np.sin(theta)[:, None]
    points = np.stack(np.broadcast_arrays(sin_theta * np.cos(phi), sin_theta * np.sin(phi), np.cos(theta)[:, None]),
                      axis=-1)
    inside = (points @ centre >= math.cos(radius)).astype(float)
    # weight each sample by the solid angle it stands for (sin theta), per pixel
    weight = np.broadcast_to(sin_theta, inside.shape)
    covered = (inside * weight).reshape(height, samples, width, samples).sum(axis=(1, 3))
    return 1.0 + level * covered / weight.reshape(height, samples, width, samples).sum(axis=(1, 3))


@settings(max_examples=12, deadline=None)
@given(elevation=st.floats(-1.2, 1.2), azimuth=st.floats(0.0, 2 * math.pi), radius_deg=st.floats(3.0, 6.0),
       level=st.floats(10.0, 1000.0))
def test_split_sun_finds_a_disk_s_analytic_irradiance(elevation, azimuth, radius_deg, level):
    """A disk of radiance ``level`` above 1 and angular radius a gives a surface facing it
    pi level sin^2 a; the sky left behind is 1 everywhere."""
    centre = direction(azimuth, elevation)
    radius = math.radians(radius_deg)
    grey = _disk_map(96, centre, radius, level)
    lighting = split_sun(np.repeat(grey[..., None], 3, axis=-1))
    np.testing.assert_allclose(lighting.irradiance, math.pi * level * math.sin(radius) ** 2, rtol=0.02)
    assert math.degrees(math.acos(min(1.0, float(lighting.direction @ centre)))) < 0.3
    np.testing.assert_allclose(lighting.sky, 1.0, atol=1e-3)
    assert lighting.sky.dtype == np.float32 and lighting.sky.shape == (96, 192, 3)
    assert np.linalg.norm(lighting.direction) == pytest.approx(1.0)


@settings(max_examples=20, deadline=None)
@given(level=st.floats(1e-3, 1e4), height=st.integers(1, 80))
def test_up_irradiance_of_a_constant_map_is_pi_times_its_radiance(level, height):
    lighting = split_sun(np.full((height, 2 * height, 3), level, dtype=np.float32))
    assert lighting.up_irradiance == pytest.approx(math.pi * level, rel=1e-6)
    np.testing.assert_array_equal(lighting.irradiance, 0.0)  # nothing stands out
    np.testing.assert_array_equal(lighting.sky, np.float32(level))


def test_up_irradiance_counts_the_light_too():
    """A disk of radius a at the zenith (each row's covered fraction exact) adds its
    irradiance pi L sin^2 a to the upward-facing surface's pi."""
    height, radius, level = 96, math.radians(5.0), 100.0
    edges = math.pi * np.arange(height + 1) / height
    inside = np.cos(edges[:-1]) - np.cos(np.minimum(edges[1:], np.maximum(edges[:-1], radius)))
    covered = inside / (np.cos(edges[:-1]) - np.cos(edges[1:]))
    grey = np.broadcast_to(1.0 + level * covered[:, None, None], (height, 2 * height, 3))
    lighting = split_sun(grey)
    assert lighting.up_irradiance == pytest.approx(math.pi * (1.0 + level * math.sin(radius) ** 2), rel=1e-3)
    np.testing.assert_allclose(lighting.irradiance, math.pi * level * math.sin(radius) ** 2, rtol=2e-3)
    np.testing.assert_allclose(lighting.direction, [0.0, 0.0, 1.0], atol=1e-12)


def test_the_sun_of_clear_noon_carries_the_same_energy_at_any_resolution():
    coarse, fine = (split_sun(BUILTIN["clear-noon"](height)) for height in (64, 256))
    np.testing.assert_allclose(coarse.irradiance, fine.irradiance, rtol=0.05)
    assert luminance(fine.irradiance) > 60.0  # klux: the real sun's, as skies documents
    assert math.degrees(math.acos(float(coarse.direction @ fine.direction))) < 3.0
    assert fine.direction @ direction(0.0, math.radians(60.0)) > math.cos(math.radians(0.5))


@settings(max_examples=20, deadline=None)
@given(rotation=st.floats(-10.0, 10.0), row=st.integers(0, 15), column=st.integers(0, 31))
def test_rotate_direction_turns_as_a_turned_map_does(rotation, row, column):
    still, _ = map_directions(16, 32)
    turned, _ = map_directions(16, 32, rotation)
    np.testing.assert_allclose(rotate_direction(still[row, column], rotation), turned[row, column], atol=1e-12)
    np.testing.assert_allclose(rotate_direction(still, rotation), turned, atol=1e-12)


def test_a_quarter_turn_takes_x_to_y():
    np.testing.assert_allclose(rotate_direction([1.0, 0.0, 0.5], math.pi / 2), [0.0, 1.0, 0.5], atol=1e-15)


# ---------------------------------------------------------------------- files

def _radiance(height: int, seed: int = 0) -> np.ndarray:
    """(H, 2H, 3) float32 radiance spanning 6 decades, channels within 2x of each other."""
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.uniform(-3, 3, size=(height, 2 * height, 1))
    return (scale * rng.uniform(0.5, 1.0, size=(height, 2 * height, 3))).astype(np.float32)


def _write_exr(path, channels: dict) -> None:
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, channels) as exr:
        exr.write(str(path))


def test_an_hdr_file_round_trips_within_rgbe_precision(tmp_path):
    radiance = _radiance(8)
    write_hdr(tmp_path / "sky.hdr", radiance)
    back = read_map(tmp_path / "sky.hdr")
    assert back.dtype == np.float32 and back.shape == (8, 16, 3)
    tolerance = 0.01 * radiance.max(axis=-1, keepdims=True)  # RGBE: 8 bits under the largest channel's exponent
    assert (np.abs(back - radiance) <= tolerance).all()
    assert [p.name for p in tmp_path.iterdir()] == ["sky.hdr"]  # no temporary file left


@pytest.mark.parametrize("layout", ["RGB", "RGBA", "R G B", "R G B A"])
def test_an_exr_file_round_trips_exactly(tmp_path, layout):
    radiance = _radiance(8, seed=1)
    alpha = np.full(radiance.shape[:2], 0.5, dtype=np.float32)
    if " " in layout:
        channels = {name: np.ascontiguousarray(radiance[..., i]) for i, name in enumerate("RGB")}
        channels.update({"A": alpha} if "A" in layout else {})
    else:
        channels = {layout: np.ascontiguousarray(np.dstack([radiance, alpha][: len(layout) - 2]))}
    _write_exr(tmp_path / "sky.exr", channels)
    np.testing.assert_array_equal(read_map(tmp_path / "sky.exr"), radiance)


def test_an_exr_of_half_floats_is_read_as_float32(tmp_path):
    radiance = _radiance(4).astype(np.float16)
    _write_exr(tmp_path / "sky.EXR", {"RGB": radiance})
    back = read_map(tmp_path / "sky.EXR")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, radiance.astype(np.float32))


def test_negative_pixels_are_clamped_to_zero(tmp_path):
    radiance = _radiance(4)
    radiance[0, 0] = [-1.0, 2.0, -3.0]
    _write_exr(tmp_path / "sky.exr", {"RGB": radiance})
    np.testing.assert_array_equal(read_map(tmp_path / "sky.exr")[0, 0], [0.0, 2.0, 0.0])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_are_refused(tmp_path, bad):
    radiance = _radiance(4)
    radiance[1, 2, 1] = bad
    _write_exr(tmp_path / "sky.exr", {"RGB": radiance})
    with pytest.raises(ConfigError, match=r"sky\.exr.*NaN or infinite"):
        read_map(tmp_path / "sky.exr")


def test_a_map_with_nothing_positive_is_refused(tmp_path):
    _write_exr(tmp_path / "dark.exr", {"RGB": -np.ones((4, 8, 3), dtype=np.float32)})
    with pytest.raises(ConfigError, match=r"dark\.exr.*no positive radiance"):
        read_map(tmp_path / "dark.exr")


@pytest.mark.parametrize("shape", [(8, 8), (8, 15), (4, 16)])
def test_a_map_that_is_not_2_to_1_is_refused(tmp_path, shape):
    write_hdr(tmp_path / "square.hdr", np.ones((*shape, 3), dtype=np.float32))
    with pytest.raises(ConfigError, match=rf"square\.hdr: {shape[1]} x {shape[0]} pixels.*twice as wide as high"):
        read_map(tmp_path / "square.hdr")


def test_an_exr_without_colour_channels_is_refused(tmp_path):
    _write_exr(tmp_path / "depth.exr", {"Z": np.ones((4, 8), dtype=np.float32)})
    with pytest.raises(ConfigError, match=r"depth\.exr: no colour channels; found 'Z', valid: 'RGB'"):
        read_map(tmp_path / "depth.exr")


@pytest.mark.parametrize("name", ["sky.png", "sky.hdr.gz", "sky"])
def test_another_extension_is_refused_with_the_valid_ones(tmp_path, name):
    (tmp_path / name).write_bytes(b"x")
    with pytest.raises(ConfigError, match=rf"{name}.*valid extensions: '\.exr', '\.hdr'"):
        read_map(tmp_path / name)


@pytest.mark.parametrize("name, content", [("sky.hdr", b""), ("sky.hdr", b"#?RADIANCE\nnot an image"),
                                           ("sky.exr", b""), ("sky.exr", b"\x76\x2f\x31\x01 broken")])
def test_a_broken_file_is_refused_naming_it(tmp_path, name, content):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ConfigError, match=rf"{name}: cannot be read"):
        read_map(tmp_path / name)


@pytest.mark.parametrize("name", ["gone.hdr", "gone.exr"])
def test_a_missing_file_is_refused_naming_it(tmp_path, name):
    with pytest.raises(ConfigError, match=rf"{name}: cannot be read"):
        read_map(tmp_path / name)


@pytest.mark.parametrize("name, package", [("sky.hdr", "imagecodecs"), ("sky.exr", "OpenEXR")])
def test_a_missing_package_gives_the_install_command(tmp_path, monkeypatch, name, package):
    write_hdr(tmp_path / name, _radiance(4))  # content does not matter: the import fails first
    monkeypatch.setitem(sys.modules, package, None)
    with pytest.raises(ConfigError, match=rf"{name}.*{package!r}.*pip install 'scenegen\[hdri\]'"):
        read_map(tmp_path / name)
    if package == "imagecodecs":
        with pytest.raises(ConfigError, match=r"pip install 'scenegen\[hdri\]'"):
            write_hdr(tmp_path / "other.hdr", _radiance(4))
    # a folder of such maps fails when it is listed (at load), not at the first scene
    with pytest.raises(ConfigError, match=rf"{name}.*pip install 'scenegen\[hdri\]'"):
        EnvironmentSet.load(str(tmp_path))


@pytest.mark.parametrize("radiance", [np.ones((4, 8)), np.full((4, 8, 3), np.nan), -np.ones((4, 8, 3))])
def test_write_hdr_refuses_what_rgbe_cannot_hold(tmp_path, radiance):
    with pytest.raises(ConfigError, match="out.hdr"):
        write_hdr(tmp_path / "out.hdr", radiance)
    assert not (tmp_path / "out.hdr").exists()


@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 40), max_width=st.integers(2, 40), seed=st.integers(0, 100))
def test_fit_width_halves_until_the_map_fits_and_keeps_its_mean(height, max_width, seed):
    radiance = _radiance(height, seed)
    fitted = fit_width(radiance, max_width)
    expected = height
    while 2 * expected > max_width and expected > 1:
        expected //= 2
    assert fitted.dtype == np.float32 and fitted.shape == (expected, 2 * expected, 3)
    np.testing.assert_allclose(fitted.mean(axis=(0, 1)), radiance.mean(axis=(0, 1)), rtol=1e-5)


def test_fit_width_averages_2x2_boxes():
    radiance = _radiance(8)
    expected = radiance.astype(float).reshape(2, 4, 4, 4, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(fit_width(radiance, 5), expected, rtol=1e-6)
    assert fit_width(radiance, 16) is radiance


# ------------------------------------------------------------------ the sets

def _folder(tmp_path, meta: str | None = "sunny:\n  level: sun\n  weight: 2.5\n"):
    write_hdr(tmp_path / "sunny.hdr", _radiance(4, seed=2))
    write_hdr(tmp_path / "cloudy.hdr", _radiance(4, seed=3))
    (tmp_path / "notes.txt").write_text("not a map")
    if meta is not None:
        (tmp_path / "meta.yaml").write_text(meta)
    return tmp_path


def test_a_folder_s_maps_have_names_levels_and_weights(tmp_path):
    maps = EnvironmentSet.load(str(_folder(tmp_path)))
    assert maps.source == str(tmp_path)
    assert maps.names == ("cloudy", "sunny")
    assert (maps.level("cloudy"), maps.level("sunny")) == ("cloudy", "sun")
    assert (maps.weight("cloudy"), maps.weight("sunny")) == (1.0, 2.5)
    assert maps.levels == ("cloudy", "sun")
    np.testing.assert_array_equal(maps.radiance("sunny"), read_map(tmp_path / "sunny.hdr"))


def test_maps_may_share_a_level(tmp_path):
    maps = EnvironmentSet.load(str(_folder(tmp_path, "sunny: {level: day}\ncloudy: {level: day, weight: 0}\n")))
    assert maps.levels == ("day",)
    assert maps.weight("cloudy") == 0.0


def test_pixels_are_read_only_when_asked_for_and_kept(tmp_path):
    maps = EnvironmentSet.load(str(_folder(tmp_path, meta=None)))
    (tmp_path / "sunny.hdr").write_bytes(b"corrupted after the set was made")
    cloudy = maps.radiance("cloudy")
    assert maps.radiance("cloudy") is cloudy and not cloudy.flags.writeable
    assert maps.lighting("cloudy") is maps.lighting("cloudy")
    with pytest.raises(ConfigError, match=r"sunny\.hdr: cannot be read"):
        maps.radiance("sunny")


def test_a_too_wide_map_is_halved_until_it_fits(tmp_path):
    radiance = _radiance(8)
    write_hdr(tmp_path / "wide.hdr", radiance)
    maps = EnvironmentSet.load(str(tmp_path), max_width=4)
    assert maps.radiance("wide").shape == (2, 4, 3)
    expected = read_map(tmp_path / "wide.hdr").astype(float).reshape(2, 4, 4, 4, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(maps.radiance("wide"), expected, rtol=1e-6)


def test_an_exr_and_an_hdr_of_one_name_are_refused(tmp_path):
    write_hdr(tmp_path / "sky.hdr", _radiance(4))
    _write_exr(tmp_path / "sky.exr", {"RGB": _radiance(4)})
    with pytest.raises(ConfigError, match=r"two maps named 'sky' \(sky\.exr, sky\.hdr\)"):
        EnvironmentSet.load(str(tmp_path))


def test_a_missing_folder_is_refused_with_the_valid_sources(tmp_path):
    with pytest.raises(ConfigError, match=r"'.*nowhere' does not exist; valid: 'builtin' or a folder of '\.exr', "):
        EnvironmentSet.load(str(tmp_path / "nowhere"))


def test_a_folder_without_maps_is_refused(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing here")
    (tmp_path / "inner.hdr").mkdir()
    with pytest.raises(ConfigError, match=r"holds no map file; valid: '\.exr', '\.hdr'"):
        EnvironmentSet.load(str(tmp_path))


@pytest.mark.parametrize("meta, message", [
    ("rainy: {level: wet}\n", r"meta\.yaml: names 'rainy', not a map of .*; valid: 'cloudy', 'sunny'"),
    ("sunny: {weight: heavy}\n", r"meta\.yaml: 'sunny': weight 'heavy' is not valid; valid: a finite number >= 0"),
    ("sunny: {weight: -1}\n", r"'sunny': weight -1 is not valid"),
    ("sunny: {weight: .nan}\n", r"'sunny': weight nan is not valid"),
    ("sunny: {weight: true}\n", r"'sunny': weight True is not valid"),
    ("sunny: {level: 5}\n", r"meta\.yaml: 'sunny': 5 is not a valid factor level"),
    ("sunny: {colour: red}\n", r"'sunny' must be a mapping of 'level', 'weight'"),
    ("sunny: bright\n", r"'sunny' must be a mapping of 'level', 'weight'"),
    ("- sunny\n", r"meta\.yaml: must map map names to \{level, weight\}, got a list"),
    ("sunny: [unclosed\n", r"meta\.yaml: not valid YAML"),
])
def test_a_wrong_meta_yaml_is_refused_naming_it(tmp_path, meta, message):
    with pytest.raises(ConfigError, match=message):
        EnvironmentSet.load(str(_folder(tmp_path, meta)))


@pytest.mark.parametrize("level", ["a=b", "a,b", "a:b", " a", "a ", "", "x" * 65, "tab\t"])
def test_levels_that_are_not_factor_levels_are_refused(tmp_path, level):
    with pytest.raises(ConfigError, match=r"'sunny': .* is not a valid factor level; valid: a string of 1 to 64 "
                                          r"characters without ',', ':', '=' and no spaces at its ends"):
        EnvironmentSet.load(str(_folder(tmp_path, f"sunny: {{level: {json.dumps(level)}}}\n")))


def test_a_file_name_that_is_not_a_level_needs_one_in_meta_yaml(tmp_path):
    write_hdr(tmp_path / "noon,clear.hdr", _radiance(4))
    with pytest.raises(ConfigError, match=r"noon,clear\.hdr \(its name is its level\): 'noon,clear' is not a valid"):
        EnvironmentSet.load(str(tmp_path))
    (tmp_path / "meta.yaml").write_text("'noon,clear': {level: noon}\n")
    assert EnvironmentSet.load(str(tmp_path)).levels == ("noon",)


def test_the_builtin_set_makes_its_maps_at_the_height_asked_for():
    maps = EnvironmentSet.load("builtin", height=16)
    assert maps.names == tuple(BUILTIN) == maps.levels
    assert all(maps.weight(name) == 1.0 and maps.level(name) == name for name in maps.names)
    assert maps.radiance("studio").shape == (16, 32, 3)
    np.testing.assert_array_equal(maps.radiance("overcast"), BUILTIN["overcast"](16))
    lighting = maps.lighting("clear-noon")
    assert isinstance(lighting, MapLighting) and luminance(lighting.irradiance) > 0
    assert lighting.up_irradiance > luminance(lighting.irradiance) * math.sin(math.radians(60.0))


def test_an_unknown_map_is_refused_with_the_names():
    maps = EnvironmentSet.load("builtin", height=16)
    with pytest.raises(ConfigError, match=r"'dusk' is not in 'builtin'; valid: 'clear-morning', 'clear-noon'"):
        maps.radiance("dusk")
    with pytest.raises(ConfigError, match="'dusk'"):
        maps.level("dusk")


@pytest.mark.parametrize("height, max_width", [(1, 2048), (16.0, 2048), (16, 1), (16, True)])
def test_a_height_or_width_out_of_range_is_refused_at_once(height, max_width):
    with pytest.raises(ConfigError, match="height|max_width"):
        EnvironmentSet.load("builtin", height=height, max_width=max_width)


@pytest.mark.parametrize("source", ["", None, 3])
def test_a_source_that_is_not_a_string_is_refused(source):
    with pytest.raises(ConfigError, match="'builtin' or a folder"):
        EnvironmentSet.load(source)


def test_a_set_pickles_without_its_pixels(tmp_path):
    maps = EnvironmentSet.load(str(_folder(tmp_path)))
    maps.lighting("sunny")
    copy = pickle.loads(pickle.dumps(maps))
    assert copy._radiance == {} and copy._lighting == {}
    np.testing.assert_array_equal(copy.radiance("sunny"), maps.radiance("sunny"))
    assert copy.names == maps.names and copy.levels == maps.levels
    builtin = pickle.loads(pickle.dumps(EnvironmentSet.load("builtin", height=8)))
    assert builtin.radiance("interior").shape == (8, 16, 3)
