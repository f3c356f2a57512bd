"""What the model sees and how its answers are scored, for one target object per image.

Classification: the model sees :func:`target_crop` of the image (a square around the
target's amodal box, widened by a margin so that some context shows) and names a
category. Detection: the model sees the whole image and returns boxes; the target counts
as found when the greedy, class-aware IoU matching of :func:`match_detections` (COCO's
rule: detections in descending score order, each to the unmatched ground-truth box it
overlaps most) pairs it with a detection of its category.

Boxes are in pixels. Labels store ``[x, y, w, h]`` (:mod:`scenegen.labels.objects`); detections
are ``[x0, y0, x1, y1]`` with ``x1 = x + w`` (exclusive corner), so a label box ``b``
is the detection box ``[b0, b1, b0 + b2, b1 + b3]``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image


def target_crop(image: np.ndarray, box_xywh: Sequence[float], margin: float = 0.5, size: int = 64) -> np.ndarray:
    """The square crop around a box, resized to ``size`` x ``size``.

    The square is centred on the box; its side is the box's longer side times
    ``1 + 2 * margin`` (at least 1 pixel). It is shifted to stay inside the image where
    it fits, and parts outside the image are black.

    Args:
        image: (H, W, 3) uint8 RGB.
        box_xywh: [x, y, w, h] pixels (an object's ``amodal_bbox`` or ``bbox``).
        margin: context on each side, as a fraction of the box's longer side.
        size: output side, pixels.

    Returns:
        (size, size, 3) uint8.
    """
    height, width = image.shape[:2]
    x, y, w, h = (float(v) for v in box_xywh)
    side = max(1, int(round(max(w, h) * (1.0 + 2.0 * margin))))
    x0 = int(round(x + w / 2 - side / 2))
    y0 = int(round(y + h / 2 - side / 2))
    x0 = min(max(x0, 0), max(width - side, 0)) if side <= width else x0
    y0 = min(max(y0, 0), max(height - side, 0)) if side <= height else y0
    square = np.zeros((side, side, 3), dtype=np.uint8)
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + side, width), min(y0 + side, height)
    if sx1 > sx0 and sy1 > sy0:
        square[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1, :3]
    if side == size:
        return square
    return np.asarray(Image.fromarray(square).resize((size, size), Image.Resampling.BILINEAR))


def xywh_to_xyxy(box: Sequence[float]) -> np.ndarray:
    """[x, y, w, h] -> [x0, y0, x1, y1] (float)."""
    x, y, w, h = (float(v) for v in box)
    return np.array([x, y, x + w, y + h])


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` (n, 4) with every box in ``b``
    (m, 4), both ``[x0, y0, x1, y1]``: (n, m) float in [0, 1] (0 for empty boxes)."""
    a = np.asarray(a, dtype=float).reshape(-1, 4)
    b = np.asarray(b, dtype=float).reshape(-1, 4)
    lo = np.maximum(a[:, None, :2], b[None, :, :2])
    hi = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(hi - lo, 0.0, None), axis=2)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0.0, None), axis=1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0.0, None), axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_detections(gt_boxes: np.ndarray, gt_classes: Sequence, boxes: np.ndarray, classes: Sequence,
                     scores: Sequence[float], iou_threshold: float = 0.5) -> np.ndarray:
    """Greedy class-aware matching (COCO's rule).

    Detections are taken in descending score order (ties: input order); each is matched
    to the unmatched ground-truth box of its class with which its IoU is largest, if
    that IoU is at least ``iou_threshold``.

    Args:
        gt_boxes: (g, 4) ground-truth boxes [x0, y0, x1, y1]; gt_classes: g labels.
        boxes: (d, 4) detections; classes: d labels; scores: d floats.

    Returns:
        (g,) int: the index of the detection matched to each ground-truth box, -1 for none.
    """
    gt_boxes = np.asarray(gt_boxes, dtype=float).reshape(-1, 4)
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    matched = np.full(len(gt_boxes), -1, dtype=np.int64)
    if not len(gt_boxes) or not len(boxes):
        return matched
    iou = box_iou(boxes, gt_boxes)
    same = np.array([[c == g for g in gt_classes] for c in classes], dtype=bool)
    for d in np.argsort(-np.asarray(scores, dtype=float), kind="stable"):
        candidates = np.where(same[d] & (matched < 0) & (iou[d] >= iou_threshold), iou[d], -1.0)
        best = int(np.argmax(candidates))
        if candidates[best] >= 0:
            matched[best] = d
    return matched
