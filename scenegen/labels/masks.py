"""Masks as COCO run-length encoding (pycocotools), the form labels store them in.

Masks are (H, W) boolean arrays, row = y, column = x, in pixels. An RLE is the COCO
compressed run-length encoding as a JSON-able dict ``{"size": [H, W], "counts": str}``.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np
from pycocotools import mask as mask_utils


def mask_to_rle(mask: np.ndarray) -> dict:
    """Encode an (H, W) mask (anything that casts to bool) as compressed COCO RLE.

    Returns ``{"size": [H, W], "counts": str}`` (counts decoded to ASCII, JSON-able).
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (H, W), got shape {mask.shape}")
    rle = mask_utils.encode(np.asfortranarray(mask.astype(bool, copy=False).astype(np.uint8)))
    height, width = (int(v) for v in rle["size"])
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}


def window_to_rle(window: np.ndarray, x: int, y: int, size: tuple[int, int]) -> dict:
    """:func:`mask_to_rle` of the (H, W) = ``size`` mask that is ``window`` (an (h, w) mask)
    at rows ``y``.. and columns ``x``.. and False elsewhere, the same dict, working on
    the window alone (an object's labels need no whole-image mask).

    COCO's runs go down each column in turn: a run boundary of the window at column c,
    row r is at pixel (x + c) * H + y + r of the whole mask. Each column of the window is
    read with a False row above and below it, so its runs of True open and close inside
    it; where one closes at the bottom of a column and the next opens at the top of the
    following one (a window as tall as the image), the two boundaries are the same pixel
    and the run goes on: both are dropped.
    """
    height, width = (int(v) for v in size)
    rows, cols = window.shape
    columns = np.zeros((cols, rows + 2), dtype=bool)
    columns[:, 1:-1] = window.T
    change = np.flatnonzero(columns[:, 1:] != columns[:, :-1])
    column, row = np.divmod(change, rows + 1)
    boundaries = (x + column) * height + y + row
    joined = np.flatnonzero(boundaries[1:] == boundaries[:-1])
    if joined.size:
        boundaries = np.delete(boundaries, np.concatenate([joined, joined + 1]))
    edges = np.empty(boundaries.size + 2, dtype=np.int64)
    edges[0], edges[1:-1], edges[-1] = 0, boundaries, height * width
    counts = edges[1:] - edges[:-1]
    if counts.size > 1 and counts[-1] == 0:  # the last run is of True pixels: COCO ends with it
        counts = counts[:-1]
    rle = mask_utils.frPyObjects({"size": [height, width], "counts": counts.tolist()}, height, width)
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}


def rle_to_mask(rle: Mapping[str, Any]) -> np.ndarray:
    """Decode a COCO RLE (compressed ``str``/``bytes`` counts, or uncompressed list
    counts) into an (H, W) bool mask."""
    height, width = (int(v) for v in rle["size"])
    counts = rle["counts"]
    if isinstance(counts, list):
        coded = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    else:
        if isinstance(counts, str):
            counts = counts.encode("ascii")
        coded = {"size": [height, width], "counts": counts}
    with warnings.catch_warnings():
        # pycocotools' decode trips a NumPy 2 DeprecationWarning inside its own Cython
        # code (``__array__`` without ``copy``); harmless, and not ours to fix.
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        mask = mask_utils.decode(coded)
    return mask.astype(bool).reshape(height, width)
