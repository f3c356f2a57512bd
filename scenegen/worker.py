"""SceneWorker: what one process needs to produce scenes (sampler, renderer, labels,
writer), built once and reused for every scene it makes."""

from __future__ import annotations

from typing import Optional

from .dictionary import ObjectDictionary
from .formats.files import write_scene
from .labels import object_labels
from .render import Frame, Renderer
from .sampler import Sampler
from .scene import Scene


class SceneWorker:
    """Everything one process needs to produce scenes: built once, reused per scene."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.dictionary = ObjectDictionary.from_config(cfg)
        self.sampler = Sampler(cfg, self.dictionary)
        self._renderer: Optional[Renderer] = None

    @property
    def renderer(self) -> Renderer:
        if self._renderer is None:
            self._renderer = Renderer(self.dictionary)
        return self._renderer

    def make(self, index: int, directive: Optional[dict] = None) -> tuple[Scene, Frame, list]:
        """Sample (with ``directive``, default ``cfg.directive``), render and label scene
        ``index``."""
        scene = self.sampler.sample(index, directive)
        frame = self.renderer.render(scene)
        labels = object_labels(scene, frame, self.dictionary, self.cfg.factors)
        return scene, frame, labels

    def write(self, index: int, directive: Optional[dict] = None) -> int:
        """Produce scene ``index`` (see :meth:`make`) and write its files into ``cfg.out``."""
        scene, frame, labels = self.make(index, directive)
        write_scene(self.cfg.out, scene, frame, labels, self.cfg.output)
        return index

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
