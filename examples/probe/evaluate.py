"""Accuracy of the demo classifier per (category, context) on a scenegen dataset.

    python -m examples.probe.evaluate DATASET [--weights examples/probe/classifier.npz]

Objects are cropped as in training. A (category, context) cell is *out of context* when
the training set held less than ``RARE_SHARE`` of that category's objects in that
context (the counts are in the weights file), *in context* otherwise. On a dataset that
shows every category in every context, the gap between the two is how much the model
relies on the context rather than on the object.
"""

from __future__ import annotations

import argparse
from typing import Dict, List, Tuple

import numpy as np

from examples.probe.classifier import probabilities, read_model, weights_path
from examples.probe.data import Crops, load_crops

RARE_SHARE = 0.1
"""A context held less than this share of a category's training objects: out of context."""


def training_shares(model: Dict[str, np.ndarray]) -> Dict[Tuple[int, str], float]:
    """(category index, context) -> share of the category's training objects in that context."""
    counts = model["context_counts"].astype(float)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    contexts = [str(c) for c in model["contexts"]]
    return {(k, ctx): float(share[k, j]) for k in range(len(counts)) for j, ctx in enumerate(contexts)}


def out_of_context(crops: Crops, shares: Dict[Tuple[int, str], float]) -> np.ndarray:
    """(N,) bool: the object's (category, context) was rare in training (contexts never
    seen in training count as rare)."""
    return np.array([shares.get((k, c), 0.0) < RARE_SHARE for k, c in zip(crops.labels, crops.contexts)])


def cell_table(crops: Crops, predicted: np.ndarray, categories: List[str],
               shares: Dict[Tuple[int, str], float]) -> str:
    """Text table per (category, context): accuracy, objects, training share, ``*`` on
    out-of-context cells; and per category its most frequent wrong answer out of context."""
    contexts = sorted(set(crops.contexts))
    context_of = np.array(crops.contexts)
    rare = out_of_context(crops, shares)
    width = 24
    lines = [f"{'category':<9}" + "".join(f"{c:>{width}}" for c in contexts) + "   most frequent error out of context"]
    for k, category in enumerate(categories):
        row = f"{category:<9}"
        for ctx in contexts:
            rows = (crops.labels == k) & (context_of == ctx)
            share = shares.get((k, ctx), 0.0)
            mark = "*" if share < RARE_SHARE else " "
            acc = f"{np.mean(predicted[rows] == k):.2f}" if rows.any() else "   -"
            row += f"{f'{acc}{mark} (n={rows.sum()}, {share:.0%})':>{width}}"
        wrong = predicted[(crops.labels == k) & rare & (predicted != k)]
        row += f"   {categories[np.bincount(wrong).argmax()]}" if len(wrong) else ""
        lines.append(row)
    return "\n".join(lines)


def summary(crops: Crops, predicted: np.ndarray, shares: Dict[Tuple[int, str], float]) -> str:
    """Accuracy over all objects, over in-context and over out-of-context ones."""
    rare = out_of_context(crops, shares)
    correct = predicted == crops.labels
    parts = [f"all {correct.mean():.3f} (n={len(correct)})"]
    for name, rows in (("in context", ~rare), ("out of context", rare)):
        parts.append(f"{name} {correct[rows].mean():.3f} (n={rows.sum()})" if rows.any() else f"{name} - (n=0)")
    return "accuracy: " + ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a folder written by `scenegen generate`")
    parser.add_argument("--weights", default=None, help=f"weights file (default {weights_path()})")
    parser.add_argument("--min-visible", type=float, default=0.5, help="crop objects at least this visible")
    args = parser.parse_args()
    model = read_model(args.weights or weights_path())
    categories = [str(c) for c in model["categories"]]
    crops = load_crops(args.dataset, categories, args.min_visible)
    predicted = probabilities(model, crops.images).argmax(axis=1)
    shares = training_shares(model)
    print(f"accuracy per (category, context), objects, share of the category's training objects in that context; "
          f"* = out of context (share < {RARE_SHARE:.0%})")
    print(cell_table(crops, predicted, categories, shares))
    print(summary(crops, predicted, shares))


if __name__ == "__main__":
    main()
