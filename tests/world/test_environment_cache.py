"""The built-in environment maps and their key lights kept in the cache folder
(scenegen.world.environments): what comes back is bit for bit what is worked out; a
torn, garbage or foreign file is worked out again; another height is another key;
another process reads the kept files; a folder's maps are not kept."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from child_process import in_process_output, python_output
from kept_files import SPOILS
from kept_files import spoil as spoil_file

from scenegen.cache import kind_dir
from scenegen.resources import cache_dir
from scenegen.world import environments as envs
from scenegen.world.environments import EnvironmentSet, MapLighting, split_sun, write_hdr
from scenegen.world.skies import BUILTIN

HEIGHT = 256  # EnvironmentSet.load's default
SMALL = 16


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test's own."""
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path))
    return kind_dir(envs.ENVIRONMENT_CACHE)


def _never(*args, **kwargs):
    raise AssertionError("worked out, not read from the cache folder")


def _unmakeable(monkeypatch) -> None:
    """From now on no built-in map can be made nor split: only the kept files answer."""
    for name in BUILTIN:
        monkeypatch.setitem(BUILTIN, name, _never)
    monkeypatch.setattr(envs, "split_sun", _never)


def computed(name: str, height: int) -> tuple[np.ndarray, MapLighting]:
    radiance = np.ascontiguousarray(BUILTIN[name](height), dtype=np.float32)
    radiance.setflags(write=False)
    return radiance, split_sun(radiance)


def assert_same_array(x: np.ndarray, y: np.ndarray) -> None:
    assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
    assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y) and x.tobytes() == y.tobytes()
    assert x.flags.writeable == y.flags.writeable


def assert_same_lighting(a: MapLighting, b: MapLighting) -> None:
    for field in ("direction", "irradiance", "sky"):
        assert_same_array(getattr(a, field), getattr(b, field))
    assert type(a.up_irradiance) is type(b.up_irradiance) is float and a.up_irradiance == b.up_irradiance


@pytest.mark.parametrize("name", tuple(BUILTIN))
def test_a_kept_map_and_its_light_are_the_computed_ones_bit_for_bit(cache, monkeypatch, name):
    radiance, lighting = computed(name, HEIGHT)
    maps = EnvironmentSet.load("builtin")
    assert_same_lighting(maps.lighting(name), lighting)
    assert_same_array(maps.radiance(name), radiance)
    assert maps.lighting(name) is maps.lighting(name) and maps.radiance(name) is maps.radiance(name)  # kept
    assert len(list(cache.iterdir())) == 2  # the map and its light
    _unmakeable(monkeypatch)
    fresh = EnvironmentSet.load("builtin")
    assert_same_lighting(fresh.lighting(name), lighting)  # without making nor reading the map
    assert fresh._radiance == {}
    assert_same_array(fresh.radiance(name), radiance)


@pytest.mark.parametrize("which", ["radiance", "lighting"])
@pytest.mark.parametrize("spoil", SPOILS)
def test_a_spoilt_file_is_worked_out_again_the_same(cache, which, spoil):
    radiance, lighting = computed("clear-noon", SMALL)
    EnvironmentSet.load("builtin", height=SMALL).lighting("clear-noon")
    assert len(list(cache.iterdir())) == 2
    kept_file = cache / f"{envs.content_key(f'environment-{which}', 'clear-noon', SMALL)[:40]}.bin"
    data = kept_file.read_bytes()

    def other_height():  # the right names, another height's arrays
        other = EnvironmentSet.load("builtin", height=8)
        if which == "radiance":
            return {"radiance": np.asarray(other.radiance("clear-noon"))}
        light = other.lighting("clear-noon")
        return {"direction": light.direction, "irradiance": light.irradiance, "sky": light.sky,
                "up_irradiance": np.float64(light.up_irradiance)}

    spoil_file(kept_file, spoil, other_height)
    again = EnvironmentSet.load("builtin", height=SMALL)
    assert_same_lighting(again.lighting("clear-noon"), lighting)
    assert_same_array(again.radiance("clear-noon"), radiance)
    assert kept_file.read_bytes() == data  # and kept again, whole


def test_another_height_is_another_key(cache):
    EnvironmentSet.load("builtin", height=8).lighting("studio")
    EnvironmentSet.load("builtin", height=SMALL).lighting("studio")
    assert len(list(cache.iterdir())) == 4


MAPS_DIGEST = ("import hashlib\nfrom scenegen.world import environments as envs\n"
               f"maps = envs.EnvironmentSet.load('builtin', height={SMALL})\ndigest = hashlib.sha256()\n"
               "for name in maps.names:\n    light = maps.lighting(name)\n"
               "    for array in (maps.radiance(name), light.direction, light.irradiance, light.sky):\n"
               "        digest.update(repr((array.dtype.str, array.shape)).encode() + array.tobytes())\n"
               "    digest.update(repr(light.up_irradiance).encode())\nprint(digest.hexdigest())\n")


def test_the_maps_come_from_the_cache_folder_in_another_process(cache):
    made = in_process_output(MAPS_DIGEST)
    unmakeable = ("from scenegen.world import environments as envs, skies\n"
                  "def never(*args, **kwargs):\n    raise AssertionError('worked out again')\n"
                  "envs.split_sun = never\nfor name in skies.BUILTIN:\n    skies.BUILTIN[name] = never\n")
    assert python_output(unmakeable + MAPS_DIGEST, cache_dir()) == made


def test_a_pickled_builtin_set_reads_the_kept_files(cache, monkeypatch):
    maps = EnvironmentSet.load("builtin", height=SMALL)
    light = maps.lighting("interior")
    copy = pickle.loads(pickle.dumps(maps))
    _unmakeable(monkeypatch)
    assert_same_lighting(copy.lighting("interior"), light)
    assert_same_array(copy.radiance("interior"), maps.radiance("interior"))


def test_a_folder_s_maps_are_not_kept(cache, tmp_path):
    folder = tmp_path / "maps"
    folder.mkdir()
    write_hdr(folder / "noon.hdr", np.random.default_rng(1).uniform(0.1, 5.0, (4, 8, 3)))
    maps = EnvironmentSet.load(str(folder))
    maps.lighting("noon")
    maps.radiance("noon")
    assert not cache.exists()
