"""Decoding the raster passes' pixels: the same values as the definitions they shorten."""

import numpy as np
import pytest

from scenegen.render.decode import decode_ids, id_color, linear_depth


@pytest.mark.parametrize("seed", range(5))
def test_instance_ids_are_red_plus_256_green(seed):
    rng = np.random.default_rng(seed)
    colour = rng.integers(0, 256, (int(rng.integers(1, 50)), int(rng.integers(1, 50)), 4), dtype=np.uint8)
    ids = decode_ids(colour)
    assert ids.dtype == np.uint16 and ids.flags.c_contiguous
    np.testing.assert_array_equal(ids, colour[..., 0].astype(np.uint16) | (colour[..., 1].astype(np.uint16) << 8))
    assert decode_ids(np.array([[[*id_color(0x1234, 7), 255]]], np.uint8))[0, 0] == 0x1234


@pytest.mark.parametrize(("znear", "zfar"), [(0.05, 100.0), (0.01, 20.0), (0.3, 7.5)])
def test_linear_depth_is_pyrenders_expression_bit_for_bit(znear, zfar):
    """pyrender's float32 expression, step by step, on window depths anywhere in [0, 1]
    and at the far plane (1.0: nothing drawn, depth 0)."""
    rng = np.random.default_rng(0)
    window = rng.random((64, 48), dtype=np.float32)
    window[::7, ::5] = 1.0
    ndc = 2.0 * window - 1.0
    expected = (2.0 * znear * zfar) / (zfar + znear - ndc * (zfar - znear))
    expected[window == 1.0] = 0.0
    depth = linear_depth(window, znear, zfar)
    assert depth.dtype == np.float32
    np.testing.assert_array_equal(depth.view(np.uint32), expected.view(np.uint32))
    assert (depth[::7, ::5] == 0).all()
