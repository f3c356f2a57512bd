"""The model under test: loading it from ``package.module:function`` and reading its
answers.

A model is any callable taking a batch of RGB images, (N, H, W, 3) uint8, and returning

- for ``task=classification``: N category names, N category ids (indices into
  ``cfg.categories``), or an (N, C) array of class scores in ``cfg.categories`` order
  (probabilities, or logits which are turned into probabilities with a softmax);
- for ``task=detection``: N detections, each a mapping ``{"boxes": (K, 4) [x0, y0, x1,
  y1] pixels, "classes": K names or ids, "scores": K floats}`` or a tuple ``(boxes,
  classes, scores)``.

A callable that accepts a keyword argument ``truth`` also receives, per image, the
target's labels (a dict as in :mod:`scenegen.labels`, with ``"scene"``: its scene
index). That is for oracles and stubs whose failures are known, which is how the probe
itself is tested.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence

import numpy as np

from ..errors import ConfigError, ScenegenError, choices

TASKS = ("classification", "detection")


def load_model(spec: str) -> Callable:
    """The callable named by ``package.module:attribute`` (dots after the colon reach
    into the attribute) or ``path/to/file.py:attribute``. The working directory is put
    on ``sys.path`` first, as ``python -m`` does.

    Raises:
        ConfigError: a malformed spec, a module that cannot be imported (its error is
            quoted), a missing attribute or one that is not callable.
    """
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ConfigError(f"model must be 'package.module:function' (or 'file.py:function'), got {spec!r}")
    module_name, attribute = spec.split(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        if module_name.endswith(".py"):
            module = _module_from_file(Path(module_name))
        else:
            module = importlib.import_module(module_name)
    except ConfigError:
        raise
    except Exception as exc:  # the user's import error, quoted
        raise ConfigError(f"model module {module_name!r} cannot be imported: {type(exc).__name__}: {exc}") from exc
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            public = sorted(n for n in dir(target) if not n.startswith("_") and callable(getattr(target, n)))
            raise ConfigError(f"model {spec!r}: {module_name} has no attribute {part!r}; callables there: {choices(public)}")
        target = getattr(target, part)
    if not callable(target):
        raise ConfigError(f"model {spec!r} is a {type(target).__name__}, not a callable")
    return target


def _module_from_file(path: Path):
    if not path.is_file():
        raise ConfigError(f"model file {str(path)!r} not found")
    spec = importlib.util.spec_from_file_location(f"scenegen_model_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wants_truth(model: Callable) -> bool:
    """Whether ``model`` accepts a keyword argument ``truth``."""
    try:
        parameters = inspect.signature(model).parameters
    except (TypeError, ValueError):
        return False
    return "truth" in parameters or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


@dataclass(frozen=True)
class Detections:
    """One image's detections: boxes (K, 4) [x0, y0, x1, y1] pixels, classes (K,)
    category names, scores (K,) floats."""

    boxes: np.ndarray
    classes: List[str]
    scores: np.ndarray


class ModelOutputError(ScenegenError):
    """The model returned something the probe cannot read."""


def read_classes(output: Any, n: int, categories: Sequence[str]) -> tuple[List[str], Optional[np.ndarray]]:
    """(predicted names (n,), class probabilities (n, C) or None) from a classifier's
    output.

    Raises:
        ModelOutputError: wrong length, unknown names, ids out of range, wrong shape.
    """
    if isinstance(output, np.ndarray) and output.ndim == 2:
        if output.shape != (n, len(categories)):
            raise ModelOutputError(
                f"the model returned scores of shape {output.shape}; expected ({n}, {len(categories)}): one column "
                f"per category in the order {choices(categories)}"
            )
        scores = output.astype(float)
        if np.any(scores < 0) or not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3):
            shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
            scores = shifted / shifted.sum(axis=1, keepdims=True)
        return [categories[i] for i in scores.argmax(axis=1)], scores
    values = list(output) if not isinstance(output, (str, bytes)) else None
    if values is None or len(values) != n:
        got = f"{len(values)} values" if values is not None else repr(output)[:60]
        raise ModelOutputError(f"the model returned {got} for {n} images; expected {n} category names or ids")
    return [_category_name(v, categories) for v in values], None


def _category_name(value: Any, categories: Sequence[str]) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        value = value.decode()
    if isinstance(value, (str, np.str_)):
        if value not in categories:
            raise ModelOutputError(f"the model predicted category {str(value)!r}; valid: {choices(categories)}")
        return str(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not 0 <= int(value) < len(categories):
            raise ModelOutputError(
                f"the model predicted category id {int(value)}; valid ids: 0..{len(categories) - 1} "
                f"(cfg.categories order: {choices(categories)})"
            )
        return categories[int(value)]
    raise ModelOutputError(f"the model predicted {value!r}; expected a category name or id ({choices(categories)})")


def read_detections(output: Any, n: int, categories: Sequence[str]) -> List[Detections]:
    """One :class:`Detections` per image from a detector's output.

    Raises:
        ModelOutputError: wrong length, missing keys, mismatched sizes, bad boxes.
    """
    items = list(output) if not isinstance(output, (str, bytes, dict)) else None
    if items is None or len(items) != n:
        raise ModelOutputError(f"the detector returned {type(output).__name__}; expected a list of {n} detections "
                               f"({{'boxes', 'classes', 'scores'}} or (boxes, classes, scores))")
    found = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            missing = [k for k in ("boxes", "classes", "scores") if k not in item]
            if missing:
                raise ModelOutputError(f"detections of image {i} lack {missing}; expected keys boxes, classes, scores")
            boxes, classes, scores = item["boxes"], item["classes"], item["scores"]
        elif isinstance(item, (tuple, list)) and len(item) == 3:
            boxes, classes, scores = item
        else:
            raise ModelOutputError(f"detections of image {i} are {type(item).__name__}; expected a dict or a "
                                   f"(boxes, classes, scores) tuple")
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4) if len(boxes) else np.zeros((0, 4))
        scores = np.asarray(scores, dtype=float).reshape(-1)
        names = [_category_name(c, categories) for c in classes]
        if not len(boxes) == len(names) == len(scores):
            raise ModelOutputError(f"detections of image {i}: {len(boxes)} boxes, {len(names)} classes, "
                                   f"{len(scores)} scores; they must have the same length")
        if np.any(~np.isfinite(boxes)) or np.any(boxes[:, 2:] < boxes[:, :2]):
            raise ModelOutputError(f"detections of image {i}: boxes must be finite [x0, y0, x1, y1] with x1 >= x0, y1 >= y0")
        found.append(Detections(boxes, names, scores))
    return found
