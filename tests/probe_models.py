"""Stub models with known failure regions, for the probe's tests. Each reads the
target's true labels (the ``truth`` keyword, see scenegen.probe.model) and answers
right except where its failure region says."""

from __future__ import annotations

import numpy as np

CATEGORIES = ("table", "chair", "lamp", "ball", "can", "crate", "cone", "bottle", "mug", "book")


def _wrong(category: str) -> str:
    return "table" if category != "table" else "chair"


def chair_outdoor(images, truth):
    """Classifier failing exactly when a chair is outdoors."""
    return [_wrong(t["category"]) if (t["factors"]["category"], t["factors"]["context"]) == ("chair", "outdoor")
            else t["category"] for t in truth]


def heavy_occlusion(images, truth):
    """Classifier failing exactly under heavy occlusion (measured)."""
    return [_wrong(t["category"]) if t["factors"]["occlusion"] == "heavy" else t["category"] for t in truth]


def visible_share(images, truth):
    """(N, C) probabilities: the true class gets the target's visible fraction, the
    rest is spread evenly, so hiding more of the target lowers its score."""
    scores = np.zeros((len(truth), len(CATEGORIES)))
    for row, t in zip(scores, truth):
        p = float(t["visible_fraction"])
        row[:] = (1.0 - p) / (len(CATEGORIES) - 1)
        row[CATEGORIES.index(t["category"])] = p
    return scores


def detector_misses_mugs_in_rooms(images, truth):
    """Detector returning the target's true box, except for mugs in rooms, where it
    returns a box shifted by its own width (IoU 0)."""
    found = []
    for t in truth:
        x, y, w, h = t["bbox"]
        shift = w if (t["factors"]["category"], t["factors"]["context"]) == ("mug", "room") else 0
        found.append({"boxes": [[x + shift, y, x + shift + w, y + h]], "classes": [t["category"]], "scores": [0.9]})
    return found
