import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scenegen.errors import DepthOverflowError
from scenegen.formats.files import depth_to_uint16, encode_png, read_depth, read_png


@given(arrays(np.float32, (7, 9), elements=st.floats(0, 30, width=32)), st.sampled_from([0.5, 1.0]))
def test_depth_round_trip_within_half_a_step(tmp_path_factory, depth, scale):
    path = tmp_path_factory.mktemp("d") / "d.png"
    path.write_bytes(encode_png(depth_to_uint16(depth, scale), 1))
    back = read_depth(path, scale)
    assert back.dtype == np.float32
    assert np.abs(back - depth).max() <= 0.5e-3 * scale + 1e-5
    np.testing.assert_array_equal(back == 0, np.rint(depth * 1000 / scale) == 0)


def test_depth_overflow_is_refused_never_clipped():
    depth = np.array([[1.0, 70.0]], np.float32)
    with pytest.raises(DepthOverflowError, match="depth_scale"):
        depth_to_uint16(depth, 1.0)
    assert depth_to_uint16(depth, 2.0).max() == 35000


@given(arrays(np.uint16, (5, 6)))
def test_uint16_png_round_trip_is_exact(tmp_path_factory, ids):
    path = tmp_path_factory.mktemp("i") / "i.png"
    path.write_bytes(encode_png(ids, 1))
    back = read_png(path)
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, ids)


def test_png_bytes_are_deterministic():
    rgb = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    assert encode_png(rgb, 1) == encode_png(rgb.copy(), 1)
