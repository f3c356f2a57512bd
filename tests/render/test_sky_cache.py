"""A sky's harmonics and mip chain kept in the cache folder
(scenegen.render.environment.sky_lighting): bit for bit what cosine_convolved and
mip_chain give, for any map (a user's too: the key is the sky's bytes); a spoilt file is
worked out again; a changed pixel, dtype or size is another key."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kept_files import SPOILS
from kept_files import spoil as spoil_file

from scenegen.cache import kind_dir
from scenegen.render import environment as env
from scenegen.render.environment import cosine_convolved, mip_chain, mip_shapes, sky_lighting


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of this test's own."""
    monkeypatch.setenv("SCENEGEN_CACHE", str(tmp_path))
    return kind_dir(env.SKY_CACHE)


def sky(height: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).gamma(1.5, 0.4, (height, 2 * height, 3)).astype(np.float32)


def assert_exact(found, radiance) -> None:
    coefficients, levels = found
    expected = mip_chain(radiance)
    assert coefficients.dtype == np.float32 and coefficients.tobytes() == cosine_convolved(radiance).tobytes()
    assert len(levels) == len(expected)
    for level, want in zip(levels, expected):
        assert level.dtype == want.dtype == np.float32 and level.shape == want.shape
        assert level.tobytes() == want.tobytes()


def _never(*args, **kwargs):
    raise AssertionError("worked out, not read from the cache folder")


def test_kept_sky_is_the_computed_one_and_is_read_back(cache, monkeypatch):
    radiance = sky(32)
    assert_exact(sky_lighting(radiance), radiance)
    assert len(list(cache.iterdir())) == 1
    monkeypatch.setattr(env, "cosine_convolved", _never)
    monkeypatch.setattr(env, "mip_chain", _never)
    assert_exact(sky_lighting(radiance), radiance)  # read, not worked out
    assert len(list(cache.iterdir())) == 1


@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 24), width_extra=st.integers(-1, 3), seed=st.integers(0, 2**16))
def test_any_map_shape_comes_back_exact(tmp_path_factory, height, width_extra, seed):
    """Odd and tiny sizes too: the kept levels are mip_chain's, whatever the shape."""
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCENEGEN_CACHE", str(folder))
        width = max(1, 2 * height + width_extra)
        radiance = np.random.default_rng(seed).uniform(0.0, 3.0, (height, width, 3)).astype(np.float32)
        assert [level.shape for level in mip_chain(radiance)] == mip_shapes(height, width)
        assert_exact(sky_lighting(radiance), radiance)  # made and kept
        assert_exact(sky_lighting(radiance), radiance)  # read back


@pytest.mark.parametrize("spoil", SPOILS)
def test_a_spoilt_file_is_worked_out_again_the_same(cache, spoil):
    radiance = sky(16)
    sky_lighting(radiance)
    (kept_file,) = cache.iterdir()
    data = kept_file.read_bytes()

    def other_size():  # the right names, another sky's arrays (a size smaller)
        coefficients, levels = sky_lighting(sky(8))
        return {"coefficients": coefficients, **{f"level{i}": level for i, level in enumerate(levels) if i},
                **{f"level{i}": np.zeros((1, 1, 3), np.float32) for i in range(len(levels), len(mip_shapes(16, 32)))}}

    spoil_file(kept_file, spoil, other_size)
    assert_exact(sky_lighting(radiance), radiance)
    assert kept_file.read_bytes() == data  # and kept again, whole


def test_another_pixel_dtype_or_size_is_another_key(cache):
    radiance = sky(16)
    changed = radiance.copy()
    changed[3, 5, 1] = np.nextafter(changed[3, 5, 1], np.float32(10))
    for variant in (radiance, changed, radiance.astype(np.float64), sky(8)):
        assert_exact(sky_lighting(variant), variant)
    assert len(list(cache.iterdir())) == 4
