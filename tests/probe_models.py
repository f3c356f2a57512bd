"""Stub models with known failure regions, for the probe's tests. Each reads the
target's true labels (the ``truth`` keyword, see scenegen.probe.model) and answers
right except where its failure region says."""

from __future__ import annotations

import threading

import numpy as np

from scenegen import load_config

CATEGORIES = tuple(load_config().categories)  # the built-in dictionary's, in id order


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


# -- faulty models: each answers right for the first batch of 4 scenes (scene indices from
# probe.first_index, 1000000) and misbehaves from FIRST_BAD on, so a run with
# probe.batch=4 scores one batch and stops on the second.

FIRST_BAD = 1_000_004
RELEASE = threading.Event()  # set by a test to free the model `hangs`


def _one_hot(truth, bad_value: float) -> np.ndarray:
    """(N, C) probabilities, 1 on the true class; the rows of scenes >= FIRST_BAD + 1 are `bad_value`."""
    scores = np.zeros((len(truth), len(CATEGORIES)))
    for row, t in zip(scores, truth):
        row[CATEGORIES.index(t["category"])] = 1.0
        if t["scene"] == FIRST_BAD + 1:
            row[:] = bad_value
    return scores


def nan_scores(images, truth):
    """(N, C) scores, NaN for the second scene of the second batch."""
    return _one_hot(truth, np.nan)


def inf_scores(images, truth):
    """(N, C) scores, +inf for the second scene of the second batch."""
    return _one_hot(truth, np.inf)


def none_name(images, truth):
    """Category names, None for the second scene of the second batch."""
    return [None if t["scene"] == FIRST_BAD + 1 else t["category"] for t in truth]


def nan_id(images, truth):
    """Category ids, NaN for the second scene of the second batch."""
    return [float("nan") if t["scene"] == FIRST_BAD + 1 else CATEGORIES.index(t["category"]) for t in truth]


def returns_none(images, truth):
    """Names for the first batch, then None for a whole batch."""
    return None if truth[0]["scene"] >= FIRST_BAD else [t["category"] for t in truth]


def raises(images, truth):
    """Names for the first batch, then a RuntimeError."""
    if truth[0]["scene"] >= FIRST_BAD:
        raise RuntimeError("CUDA out of memory")
    return [t["category"] for t in truth]


def hangs(images, truth):
    """Names for the first batch, then waits (up to 5 s, or until RELEASE is set)."""
    if truth[0]["scene"] >= FIRST_BAD:
        RELEASE.wait(5.0)
    return [t["category"] for t in truth]


def _detections(truth, bad: dict) -> list:
    """The true box of every target; the second scene of the second batch gets `bad`
    (keys replaced in its detections, or None for the whole image)."""
    found = []
    for t in truth:
        x, y, w, h = t["bbox"]
        item = {"boxes": [[x, y, x + w, y + h]], "classes": [t["category"]], "scores": [0.9]}
        if t["scene"] == FIRST_BAD + 1:
            item = None if bad is None else {**item, **bad}
        found.append(item)
    return found


def detector_nan_box(images, truth):
    return _detections(truth, {"boxes": [[np.nan, 0.0, 4.0, 4.0]]})


def detector_nan_score(images, truth):
    return _detections(truth, {"scores": [np.nan]})


def detector_inf_score(images, truth):
    return _detections(truth, {"scores": [np.inf]})


def detector_none_image(images, truth):
    return _detections(truth, None)


def detector_returns_none(images, truth):
    return None if truth[0]["scene"] >= FIRST_BAD else _detections(truth, {})
