"""Decoding the raster passes' pixels: the same values as the definitions they shorten."""

import numpy as np
import pytest

from scenegen import runs
from scenegen.render.decode import decode_ids, decode_normals, id_color, linear_depth


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


def normals_by_definition(colour: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """The normal colours decoded pixel by pixel, each float32 step in the order
    decode_normals takes it: c / 127.5 - 1 (y and z negated), divided by the length
    (at least 1e-6), 0 where the depth is not positive."""
    x, y, z = ((colour[..., k].astype(np.float32) / np.float32(127.5) - np.float32(1.0)) * np.float32(sign)
               for k, sign in enumerate((1.0, -1.0, -1.0)))
    length = np.maximum(np.sqrt(x * x + y * y + z * z), np.float32(1e-6))
    scale = np.float32(1.0) / length
    scale[~(depth > 0) & ~np.isnan(depth)] = 0.0
    return np.stack([x * scale, y * scale, z * scale], axis=-1)


@pytest.mark.parametrize("most_runs", [1.0, runs.MOST_RUNS])
def test_normals_are_decoded_as_defined_for_every_colour(monkeypatch, most_runs):
    """Every 24-bit colour, a plane of blue at a time, in runs of one pixel and of many
    (decode_normals decodes each run of equal pixels once: always, with ``MOST_RUNS``
    1, else only where runs are few), with and without depth."""
    monkeypatch.setattr(runs, "MOST_RUNS", most_runs)
    depth = np.ones((256, 256), dtype=np.float32)
    depth[::3, ::5] = 0.0
    depth[7] = np.nan  # no comparison holds: not "no surface"
    depth[9, :100] = -1.0
    for blue in range(256):
        colour = np.zeros((256, 256, 4), dtype=np.uint8)
        colour[..., 0] = np.arange(256)[None, :]
        colour[..., 1] = np.arange(256)[:, None]
        colour[..., 2] = blue
        colour[..., 3] = 255
        colour[:, 128:] = colour[:, 128:129]  # runs of 128 pixels
        normals = decode_normals(colour, depth)
        expected = normals_by_definition(colour, depth)
        assert normals.dtype == np.float32 and normals.shape == (256, 256, 3)
        assert normals.tobytes() == expected.tobytes(), blue


@pytest.mark.parametrize("most_runs", [1.0, runs.MOST_RUNS])
def test_normals_encoded_on_the_way_are_the_encoding_of_each_decoded_normal(monkeypatch, most_runs):
    """decode_normals(..., then=f) is f of every pixel's decoded normal, f applied once
    per run: the normals PNG's pixels (the dataset's encoding) and a 1-column encoding."""
    from scenegen.dataset.files import _normal_pixels_to_uint8, normals_to_uint8

    monkeypatch.setattr(runs, "MOST_RUNS", most_runs)
    rng = np.random.default_rng(3)
    colour = rng.integers(0, 256, size=(48, 64, 4), dtype=np.uint8)
    colour[:, 8:] = colour[:, 8:9]  # runs of 56 pixels
    colour[10:20] = colour[10:11, :1]  # and of whole rows
    depth = np.full((48, 64), 2.0, dtype=np.float32)
    depth[30:40, 5:50] = 0.0
    depth[40:, 30:] = np.nan
    depth[44, :9] = -1.0
    evaluated = []

    def norm_of(normals):
        evaluated.append(len(normals))
        return np.linalg.norm(normals.astype(np.float64), axis=1, keepdims=True)

    decoded = decode_normals(colour, depth)
    encoded = decode_normals(colour, depth, _normal_pixels_to_uint8)
    assert encoded.dtype == np.uint8 and encoded.shape == (48, 64, 3)
    assert np.array_equal(encoded, normals_to_uint8(decoded))
    lengths = decode_normals(colour, depth, norm_of)
    assert lengths.shape == (48, 64, 1)
    assert np.array_equal(lengths[..., 0], np.linalg.norm(decoded.astype(np.float64), axis=-1))
    if most_runs == 1.0:
        assert evaluated[0] < 48 * 64 / 4  # once per run, not per pixel
