"""Object crops of a scenegen dataset, exactly as the probe shows them to a model."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

import numpy as np

from examples.probe.classifier import CROP_MARGIN, CROP_SIZE
from scenegen.dataset.files import read_png, read_record, record_indices
from scenegen.probe.scoring import target_crop


@dataclass
class Crops:
    """One row per object: its crop and labels."""

    images: np.ndarray  # (N, 64, 64, 3) uint8
    labels: np.ndarray  # (N,) int: index into the category list
    contexts: List[str]  # the scene's context
    scenes: np.ndarray  # (N,) int: scene index


def load_crops(root: str | Path, categories: Sequence[str], min_visible: float) -> Crops:
    """Crop every object of the dataset in ``root`` whose visible fraction is at least
    ``min_visible``, around its amodal box (the classifier's CROP_MARGIN and CROP_SIZE).

    Raises:
        ValueError: an object whose category is not in ``categories``, or no objects.
    """
    root = Path(root)
    index = {c: i for i, c in enumerate(categories)}
    images, labels, contexts, scenes = [], [], [], []
    for scene in record_indices(root):
        record = read_record(root, scene)
        rgb = None
        for obj in record["objects"]:
            if obj["visible_fraction"] < min_visible:
                continue
            if obj["category"] not in index:
                raise ValueError(f"{root}: scene {scene} has category {obj['category']!r}, "
                                 f"not one of {list(categories)}")
            if rgb is None:
                rgb = read_png(root / record["files"]["rgb"])
            images.append(target_crop(rgb, obj["amodal_bbox"], CROP_MARGIN, CROP_SIZE))
            labels.append(index[obj["category"]])
            contexts.append(obj["factors"]["context"])
            scenes.append(scene)
    if not images:
        raise ValueError(f"{root}: no objects with visible_fraction >= {min_visible} (is it a scenegen dataset?)")
    return Crops(np.stack(images), np.array(labels), contexts, np.array(scenes))
