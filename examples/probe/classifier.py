"""A small numpy image classifier for the ``scenegen probe`` demo.

The model sees a 64 x 64 RGB crop around one object (``scenegen.probe.scoring.
target_crop``: the object's amodal box widened by half its longer side on each side, so
the floor, walls or sky around it show) and returns a probability per category.

Features (:func:`features`) are deliberately simple: a 16 x 16 thumbnail of the crop,
histograms of gradient orientations on an 8 x 8 grid of cells (shape), and a coarse
colour histogram (which says a lot about the background). A one-hidden-layer ReLU
network on the standardized features (trained by ``train.py``) turns them into class
probabilities. Trained on a dataset where categories mostly appear in one context, the
network leans on the background, which is what the probe is meant to find.

The probe calls ``predict(images)``; the weights are read on first use from
``classifier.npz`` next to this file, or from the path in ``SCENEGEN_PROBE_WEIGHTS``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

CROP_SIZE = 64
"""Side of the crops the model takes, pixels (``target_crop``'s default)."""

CROP_MARGIN = 0.5
"""Context around the object's box in the crops, a fraction of its longer side
(``target_crop``'s default)."""

THUMBNAIL = 16
"""Side of the downsampled crop in the features."""

CELL = 8
"""Side of a gradient-histogram cell, pixels (CROP_SIZE / CELL cells per side)."""

ORIENTATIONS = 8
"""Unsigned gradient orientation bins over [0, pi)."""

COLOUR_BINS = 4
"""Bins per RGB channel of the joint colour histogram (COLOUR_BINS ** 3 features)."""

WEIGHTS_ENV = "SCENEGEN_PROBE_WEIGHTS"
DEFAULT_WEIGHTS = Path(__file__).with_name("classifier.npz")
TRAIN_COMMAND = "python -m examples.probe.train DATASET --out examples/probe/classifier.npz"

CATEGORIES: Optional[List[str]] = None
"""The model's categories, in the order of its probability columns (set on loading)."""

_model: Optional[Dict[str, np.ndarray]] = None


def _thumbnail(x: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) float -> (N, THUMBNAIL**2 * 3): block means."""
    n, side = x.shape[0], x.shape[1]
    block = side // THUMBNAIL
    blocks = x.reshape(n, THUMBNAIL, block, THUMBNAIL, block, 3).mean(axis=(2, 4))
    return blocks.reshape(n, THUMBNAIL * THUMBNAIL * 3)


def _gradient_histograms(x: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) float -> (N, (S / CELL)**2 * ORIENTATIONS): per cell, the gradient
    magnitude of the grey image summed per orientation bin, each image L2-normalized."""
    grey = x.mean(axis=3)
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, :, 1:-1] = grey[:, :, 2:] - grey[:, :, :-2]
    gy[:, 1:-1, :] = grey[:, 2:, :] - grey[:, :-2, :]
    magnitude = np.hypot(gx, gy)
    angle = np.mod(np.arctan2(gy, gx), np.pi)
    bins = np.minimum((angle / np.pi * ORIENTATIONS).astype(np.int64), ORIENTATIONS - 1)
    n, side = grey.shape[0], grey.shape[1]
    cells = side // CELL
    histograms = np.stack(
        [np.where(bins == b, magnitude, 0.0).reshape(n, cells, CELL, cells, CELL).sum(axis=(2, 4))
         for b in range(ORIENTATIONS)],
        axis=3,
    ).reshape(n, cells * cells * ORIENTATIONS)
    return histograms / (np.linalg.norm(histograms, axis=1, keepdims=True) + 1e-6)


def _colour_histogram(x: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) float in [0, 1] -> (N, COLOUR_BINS**3): fraction of pixels per
    joint RGB bin."""
    n = x.shape[0]
    q = np.minimum((x * COLOUR_BINS).astype(np.int64), COLOUR_BINS - 1)
    index = (q[..., 0] * COLOUR_BINS + q[..., 1]) * COLOUR_BINS + q[..., 2]
    pixels = x.shape[1] * x.shape[2]
    index = index.reshape(n, pixels) + np.arange(n)[:, None] * COLOUR_BINS ** 3
    counts = np.bincount(index.ravel(), minlength=n * COLOUR_BINS ** 3).reshape(n, COLOUR_BINS ** 3)
    return counts.astype(np.float32) / pixels


def features(images: np.ndarray) -> np.ndarray:
    """Feature vectors of crops.

    Args:
        images: (N, CROP_SIZE, CROP_SIZE, 3) uint8 RGB.

    Returns:
        (N, D) float32, not standardized (the model stores the mean and scale).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1:] != (CROP_SIZE, CROP_SIZE, 3):
        raise ValueError(f"expected (N, {CROP_SIZE}, {CROP_SIZE}, 3) images, got {images.shape}")
    x = images.astype(np.float32) / 255.0
    return np.concatenate([_thumbnail(x), _gradient_histograms(x), _colour_histogram(x)], axis=1)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def hidden(params: Dict[str, np.ndarray], standardized: np.ndarray) -> np.ndarray:
    """Hidden-layer activations (ReLU) of standardized features."""
    return np.maximum(standardized @ params["w1"] + params["b1"], 0.0)


def output(params: Dict[str, np.ndarray], activations: np.ndarray) -> np.ndarray:
    """Class probabilities (N, C) of hidden-layer activations."""
    return softmax(activations @ params["w2"] + params["b2"])


def forward(params: Dict[str, np.ndarray], standardized: np.ndarray) -> np.ndarray:
    """Class probabilities (N, C) of standardized features."""
    return output(params, hidden(params, standardized))


def standardize(params: Dict[str, np.ndarray], feats: np.ndarray) -> np.ndarray:
    """Features scaled by the training set's mean and standard deviation."""
    return (feats - params["mean"]) / params["scale"]


def weights_path() -> Path:
    """Where the weights are read from: $SCENEGEN_PROBE_WEIGHTS, else classifier.npz
    next to this file."""
    return Path(os.environ.get(WEIGHTS_ENV) or DEFAULT_WEIGHTS)


def read_model(path: Path) -> Dict[str, np.ndarray]:
    """The arrays of a weights file written by ``train.py``.

    Raises:
        FileNotFoundError: no such file, with the command that writes one.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no classifier weights at {path}; train them first with `{TRAIN_COMMAND}` "
            f"(or point {WEIGHTS_ENV} at a .npz written by it)"
        )
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def load() -> Dict[str, np.ndarray]:
    """The model at :func:`weights_path`, read once; sets :data:`CATEGORIES`."""
    global _model, CATEGORIES
    if _model is None:
        _model = read_model(weights_path())
        CATEGORIES = [str(c) for c in _model["categories"]]
    return _model


def probabilities(model: Dict[str, np.ndarray], images: np.ndarray) -> np.ndarray:
    """(N, C) float64 class probabilities of (N, 64, 64, 3) uint8 crops."""
    return forward(model, standardize(model, features(images))).astype(np.float64)


def predict(images: np.ndarray) -> np.ndarray:
    """Class probabilities of crops (the probe's model interface).

    Args:
        images: (N, 64, 64, 3) uint8 RGB crops (``target_crop(image, amodal_bbox)``).

    Returns:
        (N, C) float probabilities, columns in the order of :data:`CATEGORIES` (the
        config's ``categories``).
    """
    return probabilities(load(), images)


# What the probe reads off the model (scenegen.probe.model): it crops as the network was
# trained, whatever probe.crop_size and probe.crop_margin default to.
predict.input_size = CROP_SIZE
predict.crop_margin = CROP_MARGIN
predict.scores = "probabilities"
