"""scenegen's own PNG encoder (numpy + zlib): any reader gets the array back exactly,
for every layer type and row filter, and the bytes depend only on the input."""

import io
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from scenegen.formats.files import LAYER_FOLDERS, LAYER_PNG_FILTERS, PNG_FILTERS, encode_png

SHAPES = st.tuples(st.integers(1, 9), st.integers(1, 9))


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
