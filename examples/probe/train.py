"""Train the demo classifier of ``examples/probe/classifier.py`` on a scenegen dataset.

    python -m examples.probe.train DATASET --out examples/probe/classifier.npz

Every object at least ``--min-visible`` visible is cropped as the probe crops it
(``target_crop`` of its amodal box); a fixed share of the scenes is held out for
validation, and the training crops are doubled by their mirror images. The network
(one ReLU hidden layer, softmax output) is trained with Adam on cross-entropy plus L2,
deterministically for a given ``--seed``. The .npz holds the weights, the feature mean
and scale, the category list (the config's ``categories``, the order of the
probability columns) and the count of training objects per (category, context), which
``evaluate.py`` uses to tell in-context from out-of-context cells.

A single BLAS thread (``OPENBLAS_NUM_THREADS=1``) is as fast on two cores and far
faster when another process is busy: the mini-batch products are small.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from examples.probe.classifier import (
    DEFAULT_WEIGHTS,
    forward,
    hidden,
    output,
    standardize,
)
from examples.probe.classifier import features as crop_features
from examples.probe.data import Crops, load_crops
from scenegen import load_config


def split_scenes(scenes: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of the rows whose scene is held out (``fraction`` of the scenes)."""
    unique = np.unique(scenes)
    held = rng.permutation(unique)[: int(round(fraction * len(unique)))]
    return np.isin(scenes, held)


def mirrored_features(images: np.ndarray, labels: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Features of the crops and of their left-right mirror images (the category does
    not change), with their labels."""
    feats = np.concatenate([crop_features(images), crop_features(images[:, :, ::-1])])
    return feats, np.concatenate([labels, labels])


def init_params(dims: int, hidden_units: int, classes: int, rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """He-initialized weights, zero biases."""
    return {
        "w1": (rng.standard_normal((dims, hidden_units)) * np.sqrt(2.0 / dims)).astype(np.float32),
        "b1": np.zeros(hidden_units, dtype=np.float32),
        "w2": (rng.standard_normal((hidden_units, classes)) * np.sqrt(2.0 / hidden_units)).astype(np.float32),
        "b2": np.zeros(classes, dtype=np.float32),
    }


def gradients(params: Dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, l2: float) -> Dict[str, np.ndarray]:
    """Gradients of the mean cross-entropy plus ``l2 / 2 * |w|^2`` on a batch."""
    h = hidden(params, x)
    p = output(params, h)
    p[np.arange(len(y)), y] -= 1.0
    dlogits = p / len(y)
    dh = (dlogits @ params["w2"].T) * (h > 0)
    return {
        "w1": x.T @ dh + l2 * params["w1"],
        "b1": dh.sum(axis=0),
        "w2": h.T @ dlogits + l2 * params["w2"],
        "b2": dlogits.sum(axis=0),
    }


def train_network(x: np.ndarray, y: np.ndarray, classes: int, args: argparse.Namespace,
                  rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """Adam on shuffled mini-batches of standardized features ``x`` (float32) with labels ``y``."""
    params = init_params(x.shape[1], args.hidden, classes, rng)
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    beta1, beta2, step = 0.9, 0.999, 0
    for _ in range(args.epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), args.batch):
            batch = order[start:start + args.batch]
            step += 1
            for key, grad in gradients(params, x[batch], y[batch], args.l2).items():
                m, v = moments[key]
                m *= beta1
                m += (1 - beta1) * grad
                v *= beta2
                v += (1 - beta2) * grad * grad
                m_hat = m / (1 - beta1 ** step)
                v_hat = v / (1 - beta2 ** step)
                params[key] -= args.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return params


def context_counts(crops: Crops, rows: np.ndarray, classes: int) -> Tuple[List[str], np.ndarray]:
    """(contexts, (classes, len(contexts)) int): training objects per (category, context)."""
    contexts = sorted({crops.contexts[i] for i in rows})
    counts = np.zeros((classes, len(contexts)), dtype=np.int64)
    for i in rows:
        counts[crops.labels[i], contexts.index(crops.contexts[i])] += 1
    return contexts, counts


def accuracy(params: Dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy on standardized features."""
    return float(np.mean(forward(params, x).argmax(axis=1) == y)) if len(y) else float("nan")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a folder written by `scenegen generate`")
    parser.add_argument("--out", default=str(DEFAULT_WEIGHTS), help="weights file (.npz is appended if missing)")
    parser.add_argument("--min-visible", type=float, default=0.5,
                        help="crop objects at least this visible (0.5: occlusion none and partial)")
    parser.add_argument("--val-fraction", type=float, default=0.2, help="share of the scenes held out")
    parser.add_argument("--hidden", type=int, default=256, help="hidden units")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--l2", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    categories = list(load_config([]).categories)
    crops = load_crops(args.dataset, categories, args.min_visible)
    loaded = time.perf_counter()
    held = split_scenes(crops.scenes, args.val_fraction, rng)
    train_rows, val_rows = np.flatnonzero(~held), np.flatnonzero(held)
    train_x, train_y = mirrored_features(crops.images[train_rows], crops.labels[train_rows])
    norm = {"mean": train_x.mean(axis=0), "scale": train_x.std(axis=0) + 1e-3}
    train_x = standardize(norm, train_x)
    val_x, val_y = standardize(norm, crop_features(crops.images[val_rows])), crops.labels[val_rows]
    params = train_network(train_x, train_y, len(categories), args, rng)
    contexts, counts = context_counts(crops, train_rows, len(categories))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, **params, **norm, categories=np.array(categories), contexts=np.array(contexts),
             context_counts=counts)
    done = time.perf_counter()
    print(f"{len(crops.labels)} crops from {len(np.unique(crops.scenes))} scenes "
          f"({len(train_rows)} train, {len(val_rows)} validation)")
    print(f"train accuracy {accuracy(params, train_x, train_y):.3f} (with mirror images), "
          f"validation accuracy {accuracy(params, val_x, val_y):.3f}")
    print(f"time: {done - started:.1f} s ({loaded - started:.1f} s loading crops, {done - loaded:.1f} s features "
          f"and training); wrote {args.out}")


if __name__ == "__main__":
    main()
