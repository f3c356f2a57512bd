"""Built-in texture sets kept in the cache folder (scenegen.world.texture_sets._made):
what comes back is bit for bit what is made; a torn, garbage or foreign file is made
again; another size is another key; another process reads the kept file."""

from __future__ import annotations

import numpy as np
import pytest
from child_process import in_process_output, python_output
from kept_files import SPOILS
from kept_files import spoil as spoil_file

from scenegen.cache import kind_dir
from scenegen.resources import cache_dir
from scenegen.world import texture_sets as ts

FIELDS = ("name", "material_class", "tile_size", "absolute", "surface")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test's own, and no set kept in this process."""
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path))
    ts.clear_cache()
    yield kind_dir(ts.TEXTURE_SET_CACHE)
    ts.clear_cache()


def _never(*args):
    raise AssertionError(f"made, not read from the cache folder: {args}")


def assert_same(a: ts.TextureSet, b: ts.TextureSet) -> None:
    for field in FIELDS:
        assert getattr(a, field) == getattr(b, field) and type(getattr(a, field)) is type(getattr(b, field)), field
    for field in ts.MAPS:
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y) and x.tobytes() == y.tobytes()
        assert not x.flags.writeable and not y.flags.writeable


@pytest.mark.parametrize("name", ts.BUILTIN_NAMES)
def test_a_kept_set_is_the_made_one_bit_for_bit(cache, monkeypatch, name):
    made = ts._make(name, ts.DEFAULT_SIZE)
    first = ts.builtin_set(name)
    assert_same(first, made)
    assert ts.builtin_set(name) is first  # kept in the process too
    assert len(list(cache.iterdir())) == 1
    ts.clear_cache()
    monkeypatch.setattr(ts, "_make", _never)  # only the kept file can give it now
    kept = ts.builtin_set(name)
    assert kept is not first
    assert_same(kept, made)


@pytest.mark.parametrize("spoil", SPOILS)
def test_a_spoilt_file_is_made_again_the_same(cache, spoil):
    made = ts._make("oak", 32)
    ts.builtin_set("oak", 32)
    (kept_file,) = cache.iterdir()
    data = kept_file.read_bytes()
    # other-arrays: the right names, but the maps of another size
    spoil_file(kept_file, spoil, lambda: {f: getattr(ts._make("oak", 16), f) for f in ts.MAPS})
    ts.clear_cache()
    assert_same(ts.builtin_set("oak", 32), made)
    assert kept_file.read_bytes() == data  # and kept again, whole


def test_another_size_is_another_key(cache):
    small, large = ts.builtin_set("linen", 16), ts.builtin_set("linen", 32)
    assert small.size == 16 and large.size == 32
    assert len(list(cache.iterdir())) == 2


SETS_DIGEST = ("import hashlib\nfrom scenegen.world import texture_sets as ts\nh = hashlib.sha256()\n"
               "for name, s in ts.builtin_sets(32).items():\n"
               "    h.update(repr((name, s.material_class, s.tile_size, s.absolute, s.surface)).encode())\n"
               "    for f in ts.MAPS:\n        a = getattr(s, f)\n"
               "        h.update(repr((a.dtype.str, a.shape)).encode() + a.tobytes())\nprint(h.hexdigest())\n")


def test_builtin_sets_come_from_the_cache_folder_in_another_process(cache):
    made = in_process_output(SETS_DIGEST)
    assert len(list(cache.iterdir())) == len(ts.BUILTIN_NAMES)
    unmakeable = ("from scenegen.world import texture_sets as ts\n"
                  "def never(*args):\n    raise AssertionError('made again')\nts._make = never\n")
    assert python_output(unmakeable + SETS_DIGEST, cache_dir()) == made


def test_a_folder_that_cannot_be_written_costs_only_time(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("SCENEGEN_CACHE", str(blocked))
    ts.clear_cache()
    try:
        assert_same(ts.builtin_set("paper", 16), ts._make("paper", 16))
    finally:
        ts.clear_cache()
