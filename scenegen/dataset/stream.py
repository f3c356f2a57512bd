"""Streaming: freshly generated samples for training on the fly, without writing files.

:class:`SceneStream` iterates over scenes ``start, start + 1, ...`` of a config (endless
when ``stop`` is None), sampling, rendering and labelling each one as it goes. Scene
``i`` depends only on (config, seed, i), so a streamed sample holds exactly what
``scenegen generate`` writes for scene ``i`` (before PNG encoding)::

    stream = SceneStream(load_config(["width=64", "height=48"]), stop=8)
    for sample in stream:
        sample["images"]["rgb"]        # (H, W, 3) uint8

Each sample is a dict:

- ``index``: the scene index (int);
- ``scene``: the :class:`scenegen.scene.scene.Scene`;
- ``images``: the frame's layers (see :class:`scenegen.render.raster.Frame`): ``rgb``
  (H, W, 3) uint8, ``depth`` (H, W) float32 metres (0 = no surface), ``instances``
  (H, W) uint16, ``semantic`` (H, W) uint8, ``parts`` (H, W) uint8, ``amodal``
  (N, H, W) bool, ``normals`` (H, W, 3) float32; or the subset named by ``layers``;
- ``labels``: one label dict per object (:func:`scenegen.labels.objects.object_labels`), equal
  to the ``objects`` of the scene's record;
- ``camera``: ``K`` (3, 3) float64 pixels and ``world_from_camera`` (4, 4) float64
  (OpenCV axes, metres);
- ``record``: the scene's JSON record as ``generate`` writes it (plain Python), with
  ``files`` empty.

A scene that cannot be placed within the sampler's bounds (which ``generate`` skips and
lists in its manifest) is left out of the stream with a :class:`SkippedSceneWarning`.

**Splitting.** The stream's indices are divided among distributed ranks and, within a
rank, among data-loader workers, with no overlap and no gap: with ``R = world_size``
ranks and ``W`` loader workers, index ``start + k`` goes to rank ``k % R`` and, within
it, to worker ``(k // R) % W`` (shard ``worker * R + rank`` of ``R * W``). A rank's
share therefore does not depend on its number of loader workers, and a single-rank
loader with ``batch_size=1`` yields the scenes in index order. The loader worker comes
from ``torch.utils.data.get_worker_info()`` when torch is loaded in the process (a
PyTorch loader worker always has it); otherwise the process is one worker.

**PyTorch without depending on it.** ``DataLoader`` treats a dataset as iterable only
if it is an instance of ``torch.utils.data.IterableDataset``. ``SceneStream`` itself
does not import torch (``import scenegen`` must stay free of it, and deciding the base
class by whether torch happens to be importable would make ``import scenegen`` pay
torch's import time). :meth:`SceneStream.as_torch` returns the same stream as an
instance of a subclass of both ``SceneStream`` and torch's ``IterableDataset``, created
on first use; it pickles (for ``spawn`` loader workers) by rebuilding itself through
:meth:`as_torch` in the receiving process. Samples hold Scenes and variable-length
label lists, which torch's default collation cannot batch: pass :func:`collate` as
``collate_fn`` (or ``batch_size=None``).

**Processes and OpenGL.** Nothing is rendered, and no GL context made, until a worker
iterates: the :class:`scenegen.dataset.worker.SceneWorker` (sampler, renderer) is created
inside iteration and closed when the iteration ends or is abandoned. A process forked
from one that already holds a GL context cannot render (Mesa's llvmpipe hangs);
iterating in such a process raises :class:`scenegen.errors.RenderError` instead. Give
the ``DataLoader`` ``multiprocessing_context="spawn"`` (or ``"forkserver"``) when the
main process renders too.
"""

from __future__ import annotations

import itertools
import numbers
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Dict, Iterable, Iterator, List, Optional, Tuple, Union

import numpy as np

from ..design.plan import covering_plan
from ..errors import ConfigError, PlacementError, RenderError, choices, positive_int
from ..render.context import GL_CONTEXT
from ..scene.frame import Frame
from ..world.compile import World
from ..world.directives import Directive, check_directive
from .files import scene_record
from .worker import SceneWorker

LAYERS: Tuple[str, ...] = tuple(f.name for f in fields(Frame))  # valid ``layers`` names
STREAM_STRATEGIES = ("random", "covering")  # cfg.strategy values a stream can follow

DirectiveArg = Union[None, Mapping, Directive, Sequence]

# -- argument checks ------------------------------------------------------------------


def _non_negative(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def _check_layers(layers) -> Optional[Tuple[str, ...]]:
    """``layers`` as a tuple of distinct valid names (None: every layer of the frame)."""
    if layers is None:
        return None
    if isinstance(layers, str):
        layers = (layers,)
    try:
        names = tuple(dict.fromkeys(layers))
    except TypeError:
        raise ConfigError(f"layers must be a list of layer names, got {layers!r}; valid: {choices(LAYERS)}") from None
    unknown = [name for name in names if name not in LAYERS]
    if unknown:
        raise ConfigError(f"layers has unknown layer {unknown[0]!r}; valid: {choices(LAYERS)}")
    return names


def _plain_directive(directive) -> Optional[Dict[str, str]]:
    """A directive as a plain dict (picklable), its factor names checked; None or empty:
    the config's directive."""
    if isinstance(directive, Directive):
        directive = dict(directive.items())
    if directive is None:
        return None
    if not isinstance(directive, Mapping):
        raise ConfigError(f"a directive must be a mapping of factor -> level, got {directive!r}")
    Directive.from_mapping(directive)  # unknown factor names
    return {str(key): str(value) for key, value in directive.items()} or None


def _resolve_directives(cfg, directive: DirectiveArg):
    """The directive(s) scenes follow: None (the config's), one plain dict (every scene),
    or a list (scene ``i`` follows item ``i``). With ``cfg.strategy == "covering"`` and
    no ``directive``, the covering plan ``generate`` follows.

    Raises:
        ConfigError: an unknown strategy for streaming, a malformed or infeasible
            directive.
    """
    if cfg.strategy not in STREAM_STRATEGIES:
        raise ConfigError(
            f"strategy is {cfg.strategy!r}, which a stream cannot follow (it tops up an existing "
            f"dataset); valid: {choices(STREAM_STRATEGIES)}"
        )
    if directive is None:
        if cfg.strategy != "covering":
            return None
        return [dict(row) for row in covering_plan(World.of(cfg))]
    if isinstance(directive, (Mapping, Directive)):
        plan = [_plain_directive(directive)]
        single = True
    elif isinstance(directive, Sequence) and not isinstance(directive, (str, bytes)):
        plan = [_plain_directive(item) for item in directive]
        single = False
    else:
        raise ConfigError(
            f"directive must be a mapping of factor -> level, or a list of them (one per scene "
            f"index), got {directive!r}"
        )
    distinct = {tuple(sorted(d.items())) for d in plan if d is not None}
    if distinct:
        grammar = World.of(cfg).grammar
        for item in sorted(distinct):
            check_directive(Directive.from_mapping(dict(item)), grammar, cfg)
    return plan[0] if single else plan


def _directive_at(directives, index: int) -> Optional[dict]:
    if isinstance(directives, list):
        if index >= len(directives):
            raise ConfigError(f"scene index {index} is beyond the {len(directives)} directives of the plan")
        return directives[index]
    return directives


# -- forked processes and OpenGL ------------------------------------------------------

_INHERITED_GL_CONTEXT = False


def _after_fork_in_child() -> None:
    global _INHERITED_GL_CONTEXT
    if GL_CONTEXT.started:
        _INHERITED_GL_CONTEXT = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _refuse_inherited_gl() -> None:
    if _INHERITED_GL_CONTEXT:
        raise RenderError(
            "this process was forked from one that holds a GL context, and cannot render "
            "(Mesa's llvmpipe would hang); start loader workers with "
            "DataLoader(..., multiprocessing_context='spawn') or 'forkserver', or render "
            "nothing in the main process before they start"
        )


# -- data-loader workers --------------------------------------------------------------


def loader_worker() -> Tuple[int, int]:
    """``(worker id, number of workers)`` of the PyTorch data-loader worker this process
    is, from ``torch.utils.data.get_worker_info()``; ``(0, 1)`` outside a loader worker
    or when torch is not loaded (a loader worker always has torch loaded, so torch is
    never imported here)."""
    if "torch" not in sys.modules:
        return 0, 1
    try:
        from torch.utils.data import get_worker_info  # noqa: PLC0415 (torch is optional)
    except ImportError:
        return 0, 1
    info = get_worker_info()
    if info is None:
        return 0, 1
    return int(info.id), int(info.num_workers)


# -- samples --------------------------------------------------------------------------


def make_sample(worker: SceneWorker, index: int, directive: Optional[dict] = None,
                layers: Optional[Sequence[str]] = None) -> dict:
    """Sample, render and label scene ``index`` with ``worker``; the sample dict
    described in :mod:`scenegen.dataset.stream` (``layers``: the image layers to keep, None:
    all)."""
    scene, frame, labels = worker.make(index, directive)
    if layers is None:
        images = frame.layers()
    else:
        images = {name: getattr(frame, name) for name in layers}
    record = scene_record(scene, labels, {}, float(worker.cfg.output.depth_scale))
    return {
        "index": index,
        "scene": scene,
        "images": images,
        "labels": labels,
        "camera": {
            "K": np.array(scene.camera.K, dtype=np.float64),
            "world_from_camera": np.array(scene.camera.pose, dtype=np.float64),
        },
        "record": record,
    }


def _samples(cfg, indices: Iterable[int], directives, layers: Optional[Tuple[str, ...]]) -> Iterator[dict]:
    """The samples of ``indices``, from one SceneWorker made at the first sample and
    closed when the iteration ends or is abandoned. A scene that cannot be placed is
    left out with a warning, as ``generate`` skips it."""
    _refuse_inherited_gl()
    worker = SceneWorker(cfg)
    try:
        for index in indices:
            index = _non_negative(index, "scene index")
            try:
                sample = make_sample(worker, index, _directive_at(directives, index), layers)
            except PlacementError as error:
                warnings.warn(f"scenegen stream: scene {index} skipped: {error}", SkippedSceneWarning, stacklevel=2)
                continue
            yield sample
    finally:
        worker.close()


class SkippedSceneWarning(UserWarning):
    """A streamed scene could not be placed within the sampler's bounds and was left out."""


def iter_scenes(cfg, indices: Iterable[int], directive: DirectiveArg = None,
                layers: Optional[Sequence[str]] = None) -> Iterator[dict]:
    """Samples of the scenes ``indices`` (any iterable of ints >= 0, in its order), in
    this process, with no splitting.

    Args:
        cfg: config from :func:`scenegen.config.load.load_config`.
        directive: None (``cfg.directive``; with ``strategy=covering`` the covering plan),
            a mapping factor -> level for every scene, or a sequence of them where scene
            ``i`` follows item ``i`` (None items: ``cfg.directive``).
        layers: image layers to keep (see :data:`LAYERS`); None: all.

    Raises:
        ConfigError: an unknown layer, a bad directive, a negative index (when reached).
    """
    layers = _check_layers(layers)
    directives = _resolve_directives(cfg, directive)
    return _samples(cfg, indices, directives, layers)


# -- the stream -----------------------------------------------------------------------


class SceneStream:
    """An iterable over freshly generated samples of scenes ``start, start + 1, ...``,
    split across distributed ranks and data-loader workers (see :mod:`scenegen.dataset.stream`).

    Args:
        cfg: config from :func:`scenegen.config.load.load_config` (``width``, ``height``,
            ``seed``, ...; ``n`` and ``out`` are not used).
        start: first scene index (>= 0).
        stop: one past the last index; None: endless (with a directive plan, the plan's
            length).
        directive: None (``cfg.directive``; with ``strategy=covering`` the covering plan
            ``generate`` follows, computed here once), a mapping factor -> level for
            every scene, or a sequence of them where scene ``i`` follows item ``i``.
        layers: image layers of each sample (names in :data:`LAYERS`); None: all.
        rank, world_size: this process's distributed rank among ``world_size``.

    Raises:
        ConfigError: an argument out of range (naming it and the valid values), an
            unknown layer, a bad directive, ``strategy=fill``.

    Iterating yields sample dicts; iterate again for the same samples. Creating and
    pickling the stream renders nothing. ``len()`` is this rank's number of samples
    (all its loader workers together); an endless stream has none.
    """

    def __init__(self, cfg, start: int = 0, stop: Optional[int] = None, directive: DirectiveArg = None,
                 layers: Optional[Sequence[str]] = None, rank: int = 0, world_size: int = 1):
        self.cfg = cfg
        self.start = _non_negative(start, "start")
        self.world_size = positive_int(world_size, "world_size", "number of distributed ranks")
        if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or not 0 <= rank < self.world_size:
            raise ConfigError(f"rank must be an integer in 0..{self.world_size - 1} (world_size={self.world_size}), got {rank!r}")
        self.rank = int(rank)
        self.layers = _check_layers(layers)
        self.directive = _resolve_directives(cfg, directive)
        if stop is None and isinstance(self.directive, list):
            stop = len(self.directive)
        if stop is not None:
            if isinstance(stop, bool) or not isinstance(stop, numbers.Integral) or stop < self.start:
                raise ConfigError(f"stop must be None (endless) or an integer >= start ({self.start}), got {stop!r}")
            if isinstance(self.directive, list) and stop > len(self.directive):
                raise ConfigError(
                    f"stop is {stop}, beyond the plan's {len(self.directive)} directives; valid: "
                    f"{self.start}..{len(self.directive)} or None"
                )
            stop = int(stop)
        self.stop: Optional[int] = stop

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(start={self.start}, stop={self.stop}, layers={self.layers}, "
                f"rank={self.rank}, world_size={self.world_size})")

    def indices(self, worker: Optional[int] = None, num_workers: Optional[int] = None) -> Iterable[int]:
        """The scene indices of loader worker ``worker`` of ``num_workers`` on this rank,
        in order: a ``range``, or an endless ``itertools.count`` when ``stop`` is None.
        Both None: this process's worker (:func:`loader_worker`).

        Raises:
            ConfigError: only one of the two given, or ``worker`` outside
                0..num_workers-1.
        """
        if worker is None and num_workers is None:
            worker, num_workers = loader_worker()
        elif worker is None or num_workers is None:
            raise ConfigError("indices() takes both worker and num_workers, or neither")
        num_workers = positive_int(num_workers, "num_workers", "data-loader workers")
        if isinstance(worker, bool) or not isinstance(worker, numbers.Integral) or not 0 <= worker < num_workers:
            raise ConfigError(f"worker must be an integer in 0..{num_workers - 1} (num_workers={num_workers}), got {worker!r}")
        step = self.world_size * num_workers
        first = self.start + int(worker) * self.world_size + self.rank
        if self.stop is None:
            return itertools.count(first, step)
        return range(first, self.stop, step)

    def __iter__(self) -> Iterator[dict]:
        return _samples(self.cfg, self.indices(), self.directive, self.layers)

    def __len__(self) -> int:
        if self.stop is None:
            raise TypeError("an endless SceneStream (stop=None) has no length")
        return len(range(self.start + self.rank, self.stop, self.world_size))

    def __bool__(self) -> bool:
        return True

    # -- PyTorch --------------------------------------------------------------------

    def as_torch(self) -> "SceneStream":
        """This stream as a ``torch.utils.data.IterableDataset`` (and still a
        SceneStream), for ``torch.utils.data.DataLoader``; imports torch.

        Raises:
            ImportError: torch is not installed (scenegen does not depend on it).
        """
        cls = _torch_stream_class()
        stream = cls.__new__(cls)
        stream.__dict__.update(self.__dict__)
        return stream

    def _state(self) -> dict:
        return {key: getattr(self, key) for key in ("cfg", "start", "stop", "directive", "layers", "rank", "world_size")}

    def __reduce__(self):
        return _restore, (self._state(), isinstance(self, _torch_classes()))

    def __reduce_ex__(self, protocol):  # wins over any __reduce_ex__ of torch's classes
        return self.__reduce__()


_TORCH_CLASSES: Dict[type, type] = {}  # torch's IterableDataset -> its SceneStream subclass


def _torch_classes() -> Tuple[type, ...]:
    return tuple(_TORCH_CLASSES.values())


def _torch_stream_class() -> type:
    try:
        from torch.utils.data import IterableDataset  # noqa: PLC0415 (torch is optional)
    except ImportError as exc:
        raise ImportError(
            "SceneStream.as_torch() needs PyTorch, which scenegen does not depend on: pip install torch"
        ) from exc
    cls = _TORCH_CLASSES.get(IterableDataset)
    if cls is None:

        class TorchSceneStream(SceneStream, IterableDataset):
            """A :class:`SceneStream` that is a ``torch.utils.data.IterableDataset``."""

        TorchSceneStream.__qualname__ = "TorchSceneStream"
        cls = _TORCH_CLASSES[IterableDataset] = TorchSceneStream
    return cls


def _restore(state: dict, as_torch: bool) -> SceneStream:
    """Unpickle a stream without recomputing its directive plan."""
    stream = SceneStream.__new__(SceneStream)
    stream.__dict__.update(state)
    return stream.as_torch() if as_torch else stream


# -- batching -------------------------------------------------------------------------


def collate(samples: Sequence[dict]) -> dict:
    """Batch samples (a ``collate_fn`` for ``torch.utils.data.DataLoader``; no torch
    needed): ``index`` (B,) int64; ``images``: each layer stacked to (B, ...), except
    ``amodal`` (a list: its object count varies); ``camera``: ``K`` (B, 3, 3) and
    ``world_from_camera`` (B, 4, 4); ``scene``, ``labels``, ``record``: lists.

    Raises:
        ValueError: no samples.
    """
    if not samples:
        raise ValueError("collate needs at least one sample")
    names = list(samples[0]["images"])
    images: Dict[str, Union[np.ndarray, List[np.ndarray]]] = {}
    for name in names:
        arrays = [sample["images"][name] for sample in samples]
        images[name] = arrays if name == "amodal" else np.stack(arrays)
    return {
        "index": np.array([sample["index"] for sample in samples], dtype=np.int64),
        "images": images,
        "camera": {key: np.stack([sample["camera"][key] for sample in samples]) for key in ("K", "world_from_camera")},
        "scene": [sample["scene"] for sample in samples],
        "labels": [sample["labels"] for sample in samples],
        "record": [sample["record"] for sample in samples],
    }
