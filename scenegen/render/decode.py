"""Decoding the raster passes' pixels into Frame layers (numpy only, no GL: any thread).

The id pass writes each pixel's instance id in red and green and its part index in blue
(:func:`id_color`), and the interpolated normal as an 8-bit colour; the amodal pass
writes one bit per object of a group (a little-endian uint32 over RGBA8).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..runs import byte_columns, on_runs

MAX_INSTANCES = 0xFFFF  # ids in the red and green channels of the id pass
MAX_PARTS = 0xFF  # part indices in its blue channel


def id_color(instance_id: int, part_index: int = 0) -> tuple[int, int, int]:
    """Flat colour of the id pass: instance id (up to 65535) in red and green, part
    index (up to 255) in blue."""
    return (instance_id & 0xFF, (instance_id >> 8) & 0xFF, part_index)


def decode_ids(color: np.ndarray) -> np.ndarray:
    """(H, W) uint16 instance ids of the id pass's (H, W, 4) uint8 colours."""
    return np.ascontiguousarray(color.view("<u2")[..., 0])  # red | green << 8, little-endian


def linear_depth(window: np.ndarray, znear: float, zfar: float) -> np.ndarray:
    """(H, W) float32 depth along the optical axis (metres; 0 where nothing was drawn)
    from window depth, with pyrender's arithmetic (so depth is what pyrender returns)."""
    window = np.asarray(window, dtype=np.float32)
    # (2 znear zfar) / (zfar + znear - (2 window - 1) (zfar - znear)), each step in float32
    # as pyrender's expression takes it, in one array
    depth = np.multiply(window, 2.0)
    depth -= 1.0
    depth *= zfar - znear
    np.subtract(zfar + znear, depth, out=depth)
    np.divide(2.0 * znear * zfar, depth, out=depth)
    depth[window == 1.0] = 0.0
    return depth


# 8-bit normal colour -> OpenCV-axis component (c / 127.5 - 1; y and z flipped from OpenGL)
_NORMAL_LUTS = [
    np.ascontiguousarray((np.arange(256, dtype=np.float32) / np.float32(127.5) - np.float32(1.0)) * sign)
    for sign in (np.float32(1.0), np.float32(-1.0), np.float32(-1.0))
]


def decode_normals(colour: np.ndarray, depth: np.ndarray,
                   then: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """(H, W, 3) float32 unit camera-frame (OpenCV) normals, 0 where depth is 0, from
    the normal colours (n + 1) / 2 (OpenGL axes; 8 bits a channel: within 0.5 degree).
    Each run of equal pixels is decoded once (:func:`scenegen.runs.on_runs`).

    ``then``: a function of (K, 3) float32 normals to (K, C) values, each row from its
    normal alone (an encoding of the normals layer): given, the result is ``then`` of
    every pixel's normal, (H, W, C), evaluated once per run too (measured: the normals
    PNG's pixels this way take 0.29 ms a flat 320x240 frame, decoding and then
    encoding them 0.59)."""
    height, width = depth.shape
    pixels = np.ascontiguousarray(colour).reshape(height * width, -1)
    empty = (np.asarray(depth) <= 0).reshape(-1)
    function = _decode_normal_pixels if then is None else (lambda rows, gaps: then(_decode_normal_pixels(rows, gaps)))
    values = on_runs(function, [*byte_columns(pixels), empty], pixels, empty)
    return values.reshape(height, width, -1)


def _decode_normal_pixels(pixels: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """(K, 3) float32 normals of (K, C >= 3) uint8 normal colours, 0 where ``empty``."""
    x, y, z = (np.take(_NORMAL_LUTS[k], pixels[:, k]) for k in range(3))
    length = np.sqrt(x * x + y * y + z * z)
    np.maximum(length, np.float32(1e-6), out=length)
    scale = np.divide(np.float32(1.0), length, dtype=np.float32)
    scale[empty] = 0.0
    normals = np.empty((len(pixels), 3), dtype=np.float32)
    for k, component in enumerate((x, y, z)):
        np.multiply(component, scale, out=normals[:, k])
    return normals


def decode_amodal(instances: np.ndarray, count: int, groups: Sequence[list[int]],
                  silhouettes: Sequence[np.ndarray]) -> np.ndarray:
    """(count, H, W) bool amodal masks of a scene's ``count`` objects.

    Args:
        instances: (H, W) uint16 instance ids (:func:`decode_ids`).
        count: the scene's number of objects.
        groups: the object indices drawn by each amodal pass (bit k for ``group[k]``).
        silhouettes: (H, W, 4) uint8 image of each pass, one per group.

    An object in no group has nothing in front of it: its visible mask is its amodal one.
    """
    height, width = instances.shape
    amodal = np.zeros((count, height, width), dtype=bool)
    drawn = set()
    for group, bits in zip(groups, silhouettes):
        bits = bits.view("<u4")[..., 0]
        for k, i in enumerate(group):
            amodal[i] = (bits >> np.uint32(k)) & np.uint32(1)
        drawn.update(group)
    for i in sorted(set(range(count)) - drawn):
        amodal[i] = instances == i + 1
    return amodal
