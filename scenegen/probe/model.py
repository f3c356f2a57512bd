"""The model under test: loading it from ``package.module:function`` and reading its
answers.

A model is any callable taking a batch of RGB images, (N, H, W, 3) uint8, and returning

- for ``task=classification``: N category names, N category ids (indices into
  ``cfg.categories``, in that order, not sorted), or an (N, C) array of class scores in
  ``cfg.categories`` order: probabilities (each row is divided by its sum, so a subset
  of a larger model's classes works) or logits (which get a softmax), as
  ``probe.scores`` says; ``auto`` takes a batch whose scores all lie in [0, 1] for
  probabilities and any other for logits (:func:`class_probabilities`);
- for ``task=detection``: N detections, each a mapping ``{"boxes": (K, 4) [x0, y0, x1,
  y1] pixels, "classes": K names or ids, "scores": K floats}`` or a tuple ``(boxes,
  classes, scores)``.

A callable that accepts a keyword argument ``truth`` also receives, per image, the
target's labels (a dict as in :mod:`scenegen.labels.objects`, with ``"scene"``: its scene
index). That is for oracles and stubs whose failures are known, which is how the probe
itself is tested.

A model may declare how it wants to be called with attributes (on the callable, or on
the object of a bound method): ``input_size`` (pixels of the square crop, e.g. 224 for
an ImageNet network), ``crop_margin`` (context around the target's box) and ``scores``
(``"probabilities"`` or ``"logits"``). They are used where ``probe.crop_size``,
``probe.crop_margin`` and ``probe.scores`` are left at null / ``auto``
(:func:`model_settings`).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, List, Mapping, Optional, Sequence

import numpy as np

from ..config.schema import PROBE_SCORES
from ..errors import EXIT_INPUT, ConfigError, ScenegenError, choices

TASKS = ("classification", "detection")
DEFAULT_CROP_SIZE = 64  # pixels, when neither probe.crop_size nor the model's input_size says
DEFAULT_CROP_MARGIN = 0.5  # of the box's longer side, when neither probe.crop_margin nor the model says
MAX_CROP_MARGIN = 10.0
MAX_SHOWN = 80  # characters of a model's answer quoted in a message


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


def model_name(model: Callable) -> str:
    """``module:qualified.name`` of a callable, as reports and messages name it."""
    name = getattr(model, "__qualname__", type(model).__name__)
    return f"{getattr(model, '__module__', '?')}:{name}"


@dataclass(frozen=True)
class ModelSettings:
    """How a classifier is called and read.

    Attributes:
        crop_size: side of the square crop it sees, pixels.
        crop_margin: context added on each side of the target's box, as a fraction of
            its longer side.
        scores: how an (N, C) score array is read: ``"auto"``, ``"probabilities"`` or
            ``"logits"``.
    """

    crop_size: int
    crop_margin: float
    scores: str

    def to_dict(self) -> dict:
        return {"crop_size": self.crop_size, "crop_margin": self.crop_margin, "scores": self.scores}


def model_settings(probe, model: Callable) -> ModelSettings:
    """``probe.crop_size``, ``probe.crop_margin`` and ``probe.scores``; where they are
    null (``auto`` for scores), the model's attribute ``input_size``, ``crop_margin`` or
    ``scores`` (see the module docstring), else :data:`DEFAULT_CROP_SIZE`,
    :data:`DEFAULT_CROP_MARGIN` and ``"auto"``.

    Raises:
        ConfigError: a model attribute of the wrong type or out of range.
    """
    size = probe.crop_size if probe.crop_size is not None else _declared(model, "input_size", DEFAULT_CROP_SIZE)
    margin = probe.crop_margin if probe.crop_margin is not None else _declared(model, "crop_margin", DEFAULT_CROP_MARGIN)
    scores = probe.scores if probe.scores != "auto" else _declared(model, "scores", "auto")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ConfigError(f"the model's input_size is {size!r}; expected a positive integer (pixels of the square "
                          f"crop it takes, e.g. 224)")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0.0 <= margin <= MAX_CROP_MARGIN:
        raise ConfigError(f"the model's crop_margin is {margin!r}; expected a number in [0, {MAX_CROP_MARGIN}] "
                          f"(context on each side, as a fraction of the box's longer side)")
    if scores not in PROBE_SCORES:
        raise ConfigError(f"the model's scores attribute is {scores!r}; valid: {choices(PROBE_SCORES)}")
    return ModelSettings(int(size), float(margin), str(scores))


def input_text(shown: Mapping) -> str:
    """A report's ``input`` as text: ``224 x 224 crops (margin 0.5 of the target's
    box), scores read as auto``."""
    if shown.get("kind") == "crop":
        text = f"{shown['crop_size']} x {shown['crop_size']} crops (margin {shown['crop_margin']:g} of the target's box)"
    else:
        text = f"whole {shown.get('width')} x {shown.get('height')} images"
    return text + (f", scores read as {shown['scores']}" if "scores" in shown else "")


def _declared(model: Callable, name: str, default: Any) -> Any:
    """The model's attribute ``name``, or that of the object a bound method belongs to,
    else ``default``."""
    for holder in (model, getattr(model, "__self__", None)):
        if holder is not None and hasattr(holder, name):
            return getattr(holder, name)
    return default


@dataclass(frozen=True)
class Detections:
    """One image's detections: boxes (K, 4) [x0, y0, x1, y1] pixels, classes (K,)
    category names, scores (K,) floats."""

    boxes: np.ndarray
    classes: List[str]
    scores: np.ndarray


class ModelOutputError(ScenegenError):
    """The model returned something the probe cannot read.

    Attributes:
        images: the positions in the batch of the images whose answers are wrong;
            empty when the whole answer is.
    """

    exit_status = EXIT_INPUT  # the model must change

    def __init__(self, message: str, images: Sequence[int] = ()):
        super().__init__(message)
        self.images = tuple(int(i) for i in images)


@contextmanager
def _on_image(i: int) -> Iterator[None]:
    """Attribute a ModelOutputError raised inside to image ``i`` of the batch."""
    try:
        yield
    except ModelOutputError as exc:
        exc.images = exc.images or (i,)
        raise


def _short(value: Any) -> str:
    """``value``'s repr, cut to :data:`MAX_SHOWN` characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def read_classes(output: Any, n: int, categories: Sequence[str],
                 scores: str = "auto") -> tuple[List[str], Optional[np.ndarray]]:
    """(predicted names (n,), class probabilities (n, C) or None) from a classifier's
    output; ``scores`` says how a score array is read (:func:`class_probabilities`).

    Raises:
        ModelOutputError: not a sequence, wrong length, unknown names, ids out of
            range, scores of the wrong shape or not finite.
    """
    output = _as_array(output)
    if isinstance(output, np.ndarray) and output.ndim != 1:
        if output.shape != (n, len(categories)):
            raise ModelOutputError(
                f"the model returned scores of shape {output.shape}; expected ({n}, {len(categories)}): one column "
                f"per category, in cfg.categories order: {_in_order(categories)}"
            )
        probabilities = class_probabilities(output, scores)
        return [categories[i] for i in probabilities.argmax(axis=1)], probabilities
    values = _as_list(output)
    if values is None:
        raise ModelOutputError(f"the model returned {type(output).__name__} {repr(output)[:60]} for {n} images; "
                               f"expected {n} category names or ids (a list or 1-d array), or an "
                               f"({n}, {len(categories)}) array of scores")
    if len(values) != n:
        raise ModelOutputError(f"the model returned {len(values)} values for {n} images; expected {n} category "
                               f"names or ids")
    names = []
    for i, value in enumerate(values):
        with _on_image(i):
            names.append(_category_name(value, categories))
    return names, None


def _as_array(output: Any) -> Any:
    """An array-like that is not a numpy array (a CPU torch tensor, a JAX array: anything
    with ``__array__``) as a numpy array; anything else unchanged."""
    if isinstance(output, (np.ndarray, np.generic, list, tuple, str, bytes)) or not hasattr(output, "__array__"):
        return output
    try:
        return np.asarray(output)
    except Exception as exc:  # a GPU tensor: torch refuses to copy it implicitly
        raise ModelOutputError(f"the model returned a {type(output).__name__} that cannot be read as a numpy array "
                               f"({exc}); return a numpy array or a CPU tensor (e.g. `.cpu()`)") from exc


def _as_list(output: Any) -> Optional[list]:
    """``output``'s items, or None for a string or something that cannot be iterated (a
    bare number)."""
    if isinstance(output, (str, bytes)):
        return None
    try:
        return list(output)
    except TypeError:
        return None


def class_probabilities(scores: np.ndarray, kind: str = "auto") -> np.ndarray:
    """(N, C) class probabilities from a classifier's (N, C) scores.

    Args:
        scores: finite numbers, one row per image.
        kind: ``"probabilities"``: each row is divided by its sum (a row summing to 0
            becomes uniform), so softmax outputs pass unchanged and the columns of a
            larger model's classes, or independent sigmoid outputs, are rescaled;
            ``"logits"``: a softmax; ``"auto"``: probabilities when every score of the
            batch lies in [0, 1], logits otherwise. The predicted class (the largest
            score) is the same either way; only the score of the true class differs.

    Raises:
        ModelOutputError: non-finite scores (naming their rows), or negative ones read
            as probabilities.
    """
    scores = np.asarray(scores, dtype=float)
    finite = np.isfinite(scores)
    if not finite.all():
        rows = np.flatnonzero(~finite.all(axis=1))
        found = ", ".join(f"{scores[r][~finite[r]][0]} in row {r}" for r in rows[:3])
        found += ", ..." if len(rows) > 3 else ""
        raise ModelOutputError(f"the model returned scores that are not finite ({found}); expected finite "
                               f"probabilities or logits", images=rows)
    if kind == "auto":
        kind = "probabilities" if scores.min() >= 0.0 and scores.max() <= 1.0 else "logits"
    if kind == "logits":
        shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    if scores.min() < 0.0:
        raise ModelOutputError(f"probe.scores is 'probabilities' but the model returned a negative score "
                               f"({scores.min():.4g}); for logits set probe.scores=logits (or auto)")
    totals = scores.sum(axis=1, keepdims=True)
    uniform = np.full_like(scores, 1.0 / scores.shape[1])
    return np.divide(scores, totals, out=uniform, where=totals > 0)


def _in_order(categories: Sequence[str]) -> str:
    """``0 'table', 1 'chair', ...``: ids and names in ``cfg.categories`` order (the
    order the probe reads ids and score columns in; :func:`choices` sorts)."""
    return ", ".join(f"{i} {name!r}" for i, name in enumerate(categories))


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
                f"the model predicted category id {int(value)}; valid ids: 0..{len(categories) - 1}, indices into "
                f"cfg.categories: {_in_order(categories)}"
            )
        return categories[int(value)]
    raise ModelOutputError(f"the model predicted {_short(value)}; expected a category name or an id "
                           f"({_in_order(categories)})")


def read_detections(output: Any, n: int, categories: Sequence[str]) -> List[Detections]:
    """One :class:`Detections` per image from a detector's output.

    Raises:
        ModelOutputError: not a list of ``n``, or an image's detections unreadable
            (:func:`_detections`; the error's ``images`` says which).
    """
    items = None if isinstance(output, dict) else _as_list(output)
    if items is None or len(items) != n:
        returned = type(output).__name__ if items is None else f"{len(items)} detections"
        raise ModelOutputError(f"the detector returned {returned}; expected a list of {n} detections "
                               f"({{'boxes', 'classes', 'scores'}} or (boxes, classes, scores))")
    found = []
    for i, item in enumerate(items):
        with _on_image(i):
            found.append(_detections(item, i, categories))
    return found


def _detections(item: Any, i: int, categories: Sequence[str]) -> Detections:
    """Image ``i``'s detections from a dict or a (boxes, classes, scores) tuple.

    Raises:
        ModelOutputError: missing keys, values that are not numbers or not finite,
            mismatched sizes, boxes with x1 < x0 or y1 < y0, unknown classes.
    """
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
    boxes = _finite_numbers(boxes, f"detections of image {i}: boxes", "(K, 4) [x0, y0, x1, y1] pixels")
    if boxes.size % 4:
        raise ModelOutputError(f"detections of image {i}: boxes of shape {boxes.shape}; expected (K, 4) "
                               f"[x0, y0, x1, y1] pixels")
    boxes = boxes.reshape(-1, 4)
    scores = _finite_numbers(scores, f"detections of image {i}: scores", "K floats").reshape(-1)
    labels = _as_list(_as_array(classes))
    if labels is None:
        raise ModelOutputError(f"detections of image {i}: classes are {_short(classes)}; expected K category "
                               f"names or ids")
    names = [_category_name(c, categories) for c in labels]
    if not len(boxes) == len(names) == len(scores):
        raise ModelOutputError(f"detections of image {i}: {len(boxes)} boxes, {len(names)} classes, "
                               f"{len(scores)} scores; they must have the same length")
    if np.any(boxes[:, 2:] < boxes[:, :2]):
        raise ModelOutputError(f"detections of image {i}: boxes must be [x0, y0, x1, y1] with x1 >= x0, y1 >= y0, "
                               f"got {_short(boxes.tolist())}")
    return Detections(boxes, names, scores)


def _finite_numbers(value: Any, what: str, expected: str) -> np.ndarray:
    """``value`` as a float array.

    Raises:
        ModelOutputError: None, not numbers, or not finite (NaN, infinite).
    """
    if value is None:  # np.asarray would read it as NaN
        raise ModelOutputError(f"{what} are None; expected {expected}")
    try:
        array = np.asarray(_as_array(value), dtype=float)
    except (TypeError, ValueError) as exc:
        raise ModelOutputError(f"{what} are {_short(value)}; expected {expected}") from exc
    if not np.all(np.isfinite(array)):
        raise ModelOutputError(f"{what} are not finite: {_short(array.tolist())}; expected finite {expected}")
    return array
