"""Render scenes, show them to the model, score its answers on the target object.

Every rendered scene becomes a :class:`Trial`. Scenes are numbered from
``probe.first_index`` in the order they are asked for, and a scene depends only on its
index and directive, so a probe run with the same config is the same run. A directed
scene the sampler cannot place (:class:`~scenegen.errors.PlacementError`) becomes a
:class:`Skip` instead: nothing is rendered, its index is used up, and the search goes on.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from PIL import Image, ImageDraw

from ..dataset.worker import SceneWorker
from ..errors import PlacementError
from ..scene.frame import Frame
from ..scene.scene import Scene
from .calls import ModelCaller, ModelError
from .model import (
    ModelOutputError,
    model_name,
    model_settings,
    read_classes,
    read_detections,
    wants_truth,
)
from .scoring import box_iou, match_detections, target_crop, xywh_to_xyxy
from .stats import key_text

THUMBNAIL_SIDE = 128  # pixels, longer side of a failure thumbnail
OUTLINE = (230, 40, 40)  # the target's amodal box on thumbnails
SCENES_NAMED = 8  # scenes of a batch a model error lists


@dataclass
class Trial:
    """One rendered scene, scored on its target object.

    Attributes:
        id: position in the run (0, 1, ...), also the failure thumbnail's key.
        index: scene index (its directive and index reproduce the scene; a scene of the
            local search is that scene perturbed, see ``change``).
        phase: ``"sweep"`` (directed scenes) or ``"local"`` (local search).
        requested: the directive's levels.
        factors: the target's measured levels (``labels["factors"]``).
        truth, prediction: category names (prediction None for a detector that found
            nothing of the target's category).
        correct: the model got the target right; None when it cannot be scored (a
            detection target with no visible pixel: nothing to find), which leaves
            the trial out of every accuracy.
        score: in [0, 1], higher is better for the model: the probability it gave the
            true class (1/0 without probabilities); for detection the best IoU times
            score of a detection of the true class.
        change: for local-search trials, the perturbations applied to the start scene.
    """

    id: int
    index: int
    phase: str
    requested: Dict[str, str]
    factors: Dict[str, str]
    truth: str
    prediction: Optional[str]
    correct: Optional[bool]
    score: float
    change: str = ""
    occluders: Tuple[int, ...] = ()  # objects hiding the target (indices), most hidden pixels first
    scene: Optional[Scene] = field(default=None, repr=False)  # kept only for local-search trials

    def to_dict(self) -> dict:
        """JSON-ready, without the scene."""
        data = {k: getattr(self, k) for k in ("id", "index", "phase", "requested", "factors", "truth",
                                                "prediction", "correct", "score")}
        if self.change:
            data["change"] = self.change
        return data


@dataclass(frozen=True)
class Skip:
    """A directed scene that could not be placed: not rendered, not scored, not counted
    in the budget.

    Attributes:
        index: the scene index it would have had (used up).
        requested: the directive's levels.
        error: the sampler's message.
    """

    index: int
    requested: Dict[str, str]
    error: str

    def to_dict(self) -> dict:
        return {"index": self.index, "requested": dict(self.requested), "error": self.error}


def sample_or_skip(index: int, directive: Dict[str, str], make: Callable[[int, Dict[str, str]], tuple]):
    """``make(index, directive)``, or a :class:`Skip` when it raises a PlacementError."""
    try:
        return make(index, dict(directive))
    except PlacementError as exc:
        return Skip(index, dict(directive), str(exc))


class FailureGallery:
    """The ``size`` failures with the lowest scores (ties: the earlier trial), at most one
    per scene index (the local search renders many variants of one scene), each with a
    thumbnail: the image scaled to :data:`THUMBNAIL_SIDE` px with the target's amodal
    box outlined."""

    def __init__(self, size: int):
        self.size = int(size)
        self._kept: Dict[int, Tuple[Tuple[float, int], Trial, bytes]] = {}  # scene index -> (rank, trial, png)

    def offer(self, trial: Trial, image: Callable[[], np.ndarray], box: Sequence[int]) -> None:
        if trial.correct is not False or self.size == 0:
            return
        rank = (trial.score, trial.id)
        same = self._kept.get(trial.index)
        if same is not None and same[0] <= rank:
            return
        if same is None and len(self._kept) >= self.size:
            worst = max(self._kept, key=lambda index: self._kept[index][0])
            if self._kept[worst][0] <= rank:
                return
            del self._kept[worst]
        self._kept[trial.index] = (rank, trial, _thumbnail(image(), box))

    def failures(self) -> List[Trial]:
        """Worst first."""
        return [entry[1] for entry in sorted(self._kept.values(), key=lambda entry: entry[0])]

    def thumbnails(self) -> Dict[int, bytes]:
        return {entry[1].id: entry[2] for entry in self._kept.values()}


def _occluders(target: dict) -> Tuple[int, ...]:
    ranked = sorted(target["occluders"], key=lambda o: (-o["pixels"], o["instance_id"]))
    return tuple(o["instance_id"] - 1 for o in ranked)


def _thumbnail(image: np.ndarray, box: Sequence[int]) -> bytes:
    picture = Image.fromarray(image)
    scale = THUMBNAIL_SIDE / max(picture.size)
    picture = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                             Image.Resampling.BILINEAR)
    x, y, w, h = (float(v) * scale for v in box)
    if w > 0 and h > 0:
        ImageDraw.Draw(picture).rectangle([x, y, x + w - 1, y + h - 1], outline=OUTLINE, width=2)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=9)
    return buffer.getvalue()


class Evaluator:
    """Renders directed (or given) scenes, runs the model in batches, scores the target.

    Args:
        cfg: the composed config (``cfg.probe`` says the task, the model input and the
            timeout of a model call).
        model: the callable under test (see :mod:`scenegen.probe.model`).
        worker: a SceneWorker to reuse (default: a new one).
        name: how messages name the model (default: ``module:qualified.name``).

    A model that fails on a batch (raises, runs over ``probe.timeout``, returns what
    cannot be read) stops the evaluation with a :class:`~scenegen.probe.calls.ModelError`
    or :class:`~scenegen.probe.model.ModelOutputError` whose message names the scenes
    of the batch (or of the images at fault) and their directives.
    """

    def __init__(self, cfg, model: Callable, worker: Optional[SceneWorker] = None, name: Optional[str] = None):
        self.cfg = cfg
        self.probe = cfg.probe
        self.model = model
        self.caller = ModelCaller(model, name or model_name(model), cfg.probe.timeout)
        self.worker = worker or SceneWorker(cfg, background=False)
        self.categories = list(cfg.categories)
        self.pass_truth = wants_truth(model)
        self.settings = model_settings(cfg.probe, model)
        self.gallery = FailureGallery(cfg.probe.failures)
        self.renders = 0
        self.next_index = int(cfg.probe.first_index)

    @property
    def sampler(self):
        return self.worker.sampler

    def close(self) -> None:
        """Release the renderer and the model's thread."""
        self.caller.close()
        self.worker.close()

    def evaluate(self, directives: Sequence[Dict[str, str]], phase: str = "sweep") -> List[Union[Trial, Skip]]:
        """Render one new scene per directive (indices continue from the last call) and
        score them in one model call. Returns one outcome per directive, in order: its
        Trial, or a :class:`Skip` where the scene could not be placed."""
        outcomes, rendered = [], []
        for directive in directives:
            made = sample_or_skip(self.next_index, directive, self.worker.make)
            self.next_index += 1
            if not isinstance(made, Skip):
                rendered.append((*made, dict(directive), ""))
            outcomes.append(made)
        trials = iter(self._score(rendered, phase))
        return [made if isinstance(made, Skip) else next(trials) for made in outcomes]

    def evaluate_scenes(self, scenes: Sequence[Tuple[Scene, Dict[str, str], str]], phase: str = "local") -> List[Trial]:
        """Render and score given scenes: (scene, the directive it came from, change text)."""
        rendered = []
        for scene, requested, change in scenes:
            frame, labels = self.worker.render_scene(scene)
            rendered.append((scene, frame, labels, dict(requested), change))
        return self._score(rendered, phase)

    def _score(self, rendered, phase: str) -> List[Trial]:
        if not rendered:
            return []
        targets = [labels[scene.target] for scene, _, labels, _, _ in rendered]
        images = np.stack([self._model_input(frame, target) for (_, frame, _, _, _), target in zip(rendered, targets)])
        kwargs = {}
        if self.pass_truth:
            kwargs["truth"] = [dict(target, scene=scene.index) for (scene, *_), target in zip(rendered, targets)]
        try:
            output = self.caller(images, **kwargs)
            if self.probe.task == "detection":
                verdicts = self._score_detections(output, rendered, targets)
            else:
                verdicts = self._score_classes(output, targets)
        except (ModelError, ModelOutputError) as exc:
            # The same error, its message completed: the command line prints str(exc).
            exc.args = (f"{exc}, {_batch_text(rendered, getattr(exc, 'images', ()))}",)
            raise
        trials = []
        for (scene, frame, _, requested, change), target, (prediction, correct, score) in zip(rendered, targets, verdicts):
            trial = Trial(
                id=self.renders, index=scene.index, phase=phase, requested=requested, factors=dict(target["factors"]),
                truth=target["category"], prediction=prediction, correct=None if correct is None else bool(correct), score=float(score),
                change=change, occluders=_occluders(target), scene=scene if phase == "local" else None,
            )
            self.renders += 1
            self.gallery.offer(trial, lambda frame=frame: frame.rgb, target["amodal_bbox"])
            trials.append(trial)
        return trials

    def _model_input(self, frame: Frame, target: dict) -> np.ndarray:
        if self.probe.task == "classification" and self.probe.input == "crop":
            return target_crop(frame.rgb, target["amodal_bbox"], self.settings.crop_margin, self.settings.crop_size)
        return frame.rgb

    def _score_classes(self, output, targets) -> List[tuple]:
        names, probabilities = read_classes(output, len(targets), self.categories, self.settings.scores)
        verdicts = []
        for i, (name, target) in enumerate(zip(names, targets)):
            correct = name == target["category"]
            score = probabilities[i, self.categories.index(target["category"])] if probabilities is not None else float(correct)
            verdicts.append((name, correct, score))
        return verdicts

    def _score_detections(self, output, rendered, targets) -> List[tuple]:
        detections = read_detections(output, len(targets), self.categories)
        verdicts = []
        for (scene, _, labels, _, _), found in zip(rendered, detections):
            keep = found.scores >= self.probe.score_threshold
            visible = [lab for lab in labels if lab["visible_pixels"] > 0]
            gt_boxes = np.array([xywh_to_xyxy(lab["bbox"]) for lab in visible]).reshape(-1, 4)
            classes = [found.classes[i] for i in np.flatnonzero(keep)]
            matched = match_detections(gt_boxes, [lab["category"] for lab in visible], found.boxes[keep], classes,
                                       found.scores[keep], self.probe.iou)
            target = labels[scene.target]
            position = next((i for i, lab in enumerate(visible) if lab is target), None)
            correct = None if position is None else bool(matched[position] >= 0)
            iou = box_iou(found.boxes, xywh_to_xyxy(target["bbox"])[None])[:, 0] if target["visible_pixels"] else np.zeros(len(found.boxes))
            same = np.array([c == target["category"] for c in found.classes], dtype=bool)
            score = float(np.max(iou[same] * np.clip(found.scores[same], 0.0, 1.0))) if same.any() else 0.0
            if correct:
                prediction = target["category"]
            else:  # what the detector saw there: the class of the box overlapping the target most
                prediction = found.classes[int(np.argmax(iou))] if len(iou) and iou.max() > 0 else None
            verdicts.append((prediction, correct, score))
        return verdicts


def _batch_text(rendered: Sequence[tuple], images: Sequence[int] = ()) -> str:
    """Which scenes a model error concerns: ``on scene 1000005 (directive category=mug),
    image 1 of the batch of 4 scenes 1000004..1000007`` for ``images`` (positions in
    the batch), ``on the batch of 4 scenes 1000004..1000007: 1000004 (directive ...),
    ...`` without."""
    if len(rendered) == 1:
        return f"on scene {_scenes_text(rendered, [0])}"
    batch = f"the batch of {len(rendered)} scenes {rendered[0][0].index}..{rendered[-1][0].index}"
    if not images:
        return f"on {batch}: {_scenes_text(rendered, range(len(rendered)))}"
    scenes = "scene" if len(images) == 1 else "scenes"
    positions = "image " if len(images) == 1 else "images "
    return f"on {scenes} {_scenes_text(rendered, images)}, {positions}{', '.join(map(str, images))} of {batch}"


def _scenes_text(rendered: Sequence[tuple], positions: Sequence[int]) -> str:
    """``1000004 (directive category=chair), 1000005 (directive category=mug)``, at most
    :data:`SCENES_NAMED` of them."""
    named = [f"{rendered[i][0].index} (directive {key_text(tuple(rendered[i][3].items()))})"
             for i in list(positions)[:SCENES_NAMED]]
    more = len(positions) - SCENES_NAMED
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")
