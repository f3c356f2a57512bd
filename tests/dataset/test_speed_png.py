"""The writer's PNG encoders: scenegen's own (numpy + zlib) and fpng for the 8-bit
colour layers. Any reader gets the array back exactly, for every layer type and row
filter, and the bytes depend only on the input and which encoder ran."""

import io
import subprocess
import sys
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from scenegen.dataset import files
from scenegen.dataset.files import (
    FPNG_COMPRESS_LEVEL,
    LAYER_FOLDERS,
    LAYER_PNG_FILTERS,
    PNG_FILTERS,
    encode_layer,
    encode_png,
)

SHAPES = st.tuples(st.integers(1, 9), st.integers(1, 9))
COLOUR = SHAPES.flatmap(lambda s: st.sampled_from([3, 4]).flatmap(lambda c: arrays(np.uint8, (*s, c))))


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        array = np.asarray(image)
    return array.astype(np.uint16) if array.dtype == np.int32 else array


@settings(max_examples=60, deadline=None)
@given(
    st.one_of(
        SHAPES.flatmap(lambda s: arrays(np.uint8, s)),
        SHAPES.flatmap(lambda s: arrays(np.uint16, s)),
        SHAPES.flatmap(lambda s: arrays(np.uint8, (*s, 3))),
        SHAPES.flatmap(lambda s: arrays(np.uint8, (*s, 4))),
    ),
    st.sampled_from(sorted(PNG_FILTERS)),
    st.integers(0, 9),
)
def test_png_round_trip_is_exact(array, png_filter, level):
    data = encode_png(array, level, png_filter)
    back = decode(data)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert encode_png(array.copy(), level, png_filter) == data


def test_png_structure_and_filters():
    rng = np.random.default_rng(0)
    depth = np.cumsum(rng.integers(0, 3, (64, 80)), axis=0).astype(np.uint16)  # smooth down the rows
    sizes = {name: len(encode_png(depth, 1, name)) for name in PNG_FILTERS}
    assert sizes["up"] < sizes["none"]
    data = encode_png(depth, 1, "up")
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and data.endswith(b"IEND\xaeB`\x82")
    # every chunk's CRC is right (a strict reader checks them)
    at = 8
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        tag, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        assert int.from_bytes(data[at + 8 + length:at + 12 + length], "big") == zlib.crc32(tag + body)
        at += 12 + length
    assert set(LAYER_PNG_FILTERS) == set(LAYER_FOLDERS)


@pytest.mark.parametrize("array", [np.zeros((2, 2), np.float32), np.zeros((2, 2, 2), np.uint8),
                                   np.zeros((2, 2, 3), np.uint16), np.zeros(4, np.uint8)])
def test_png_refuses_other_arrays(array):
    with pytest.raises(ValueError, match="PNG layer"):
        encode_png(array, 1)


@settings(max_examples=40, deadline=None)
@given(COLOUR, st.sampled_from(sorted(PNG_FILTERS)))
def test_colour_layers_are_fpngs_bytes_and_exact(array, png_filter):
    fpng = pytest.importorskip("fpng")
    data = encode_layer(array, FPNG_COMPRESS_LEVEL, png_filter)
    assert data == fpng.from_ndarray(np.ascontiguousarray(array)) and b"fdEC" in data[:64]
    np.testing.assert_array_equal(decode(data), array)
    assert encode_layer(array.copy(), FPNG_COMPRESS_LEVEL, png_filter) == data


def test_fpng_takes_views_and_gives_the_same_bytes_in_another_process():
    pytest.importorskip("fpng")
    array = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    flipped = array[::-1]  # as a GL read-back is: not contiguous
    data = encode_layer(flipped, FPNG_COMPRESS_LEVEL)
    np.testing.assert_array_equal(decode(data), flipped)
    script = ("import sys, numpy as np; from scenegen.dataset.files import encode_layer; "
              "a = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)[::-1]; "
              "sys.stdout.buffer.write(encode_layer(a, 1))")
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, check=True).stdout == data


@settings(max_examples=30, deadline=None)
@given(COLOUR, st.sampled_from(sorted(PNG_FILTERS)))
def test_without_fpng_colour_layers_are_encode_pngs(array, png_filter):
    original = files.fpng
    files.fpng = None  # (hypothesis runs many examples per test: no monkeypatch fixture)
    try:
        data = encode_layer(array, FPNG_COMPRESS_LEVEL, png_filter)
    finally:
        files.fpng = original
    assert data == encode_png(array, FPNG_COMPRESS_LEVEL, png_filter)
    np.testing.assert_array_equal(decode(data), array)


def test_a_failed_fpng_encode_falls_back(monkeypatch):
    class Failing:  # fpng's binding returns empty bytes when it fails
        @staticmethod
        def from_ndarray(array):
            return b""

    monkeypatch.setattr(files, "fpng", Failing)
    array = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert encode_layer(array, FPNG_COMPRESS_LEVEL, "up") == encode_png(array, FPNG_COMPRESS_LEVEL, "up")


def assert_zlib_and_exact(array, level):
    data = encode_layer(array, level, "up")
    assert data == encode_png(array, level, "up")
    back = decode(data)
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("array", [np.arange(12, dtype=np.uint16).reshape(3, 4) * 5000,
                                   np.arange(12, dtype=np.uint8).reshape(3, 4)])
@pytest.mark.parametrize("level", [0, FPNG_COMPRESS_LEVEL, 6, 9])
def test_16_bit_and_single_channel_layers_stay_on_zlib(array, level):
    assert_zlib_and_exact(array, level)


@pytest.mark.parametrize("level", [0, 6, 9])
def test_colour_layers_at_other_levels_stay_on_zlib(level):
    assert_zlib_and_exact(np.arange(36, dtype=np.uint8).reshape(3, 4, 3), level)
