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
