"""SceneWorker: what one process needs to produce scenes (sampler, renderer, labels,
writer), built once and reused for every scene it makes.

:meth:`SceneWorker.write` keeps the rasterizer, this thread and a writer thread busy at
once. It draws scene i (:meth:`scenegen.render.raster.Renderer.begin`); while the rasterizer
threads work on it, it decodes and labels scene i - 1, makes its JSON record and hands
its PNG encoding and file writing to the writer thread, and, when the calls go through
consecutive indices, samples scene i + 1 (a scene depends only on its index, so the
files are the same); then it reads scene i's layers back. The writer's work (decoding
the normals, PNG encoding, files) is numpy, zlib and system calls, which release the
GIL, and fpng, which holds it for under a millisecond per colour image (measured:
benchmarks/bench_png.py): Python-heavy work there would stall this thread, which
releases the GIL at every GL call. (Measured: running the writer at the lowest priority
gained nothing.) So the scene's part of the dataset's exports
(:mod:`scenegen.dataset.exports`: its COCO and metadata texts, BOP masks and models) is
made here, after its record, and the writer completes it with the encoded images and
writes it before the record.

A scene that cannot be placed (:class:`scenegen.errors.PlacementError`) gets a skip
record instead of files (:func:`scenegen.dataset.shards.write_skip`). A scene is on disk, its
record written last and atomically, once
:meth:`SceneWorker.flush` (or ``close``) returns; an error of the writer is raised by
the next ``write``, ``flush`` or ``close``.
"""

from __future__ import annotations

from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Deque, Optional

from ..errors import PlacementError
from ..fileio import dumps_json
from ..labels.objects import object_labels
from ..render.engines import make_renderer
from ..render.raster import Renderer
from ..scene.factors import engine_levels
from ..scene.frame import Frame
from ..scene.scene import Scene
from ..timing import StepClock
from ..world.compile import as_world
from ..world.sampler import Sampler
from .exports import ExportSpec, PendingPiece, PieceWriter
from .files import LayerOptions, depth_to_uint16, scene_files, scene_record, write_layers
from .shards import write_skip


class SceneWorker:
    """Everything one process needs to produce scenes: built once, reused per scene.

    Args:
        world: the :class:`scenegen.world.compile.World` of the config (a config is a
            shortcut for ``World.of(cfg)``).
        background: write files on a background thread (see the module docstring);
            False writes each scene before :meth:`write` returns.
        pending: most scenes handed to the writer and not yet on disk; :meth:`write`
            waits for the oldest beyond that (so memory stays flat).
    """

    def __init__(self, world, background: bool = True, pending: int = 2):
        self.world = world = as_world(world)
        self.cfg = world.cfg
        self.dictionary = world.dictionary
        self.sampler = Sampler(world)
        self._factors = world.factors  # read per object by the labels
        self._renderer: Optional[Renderer] = None
        self._pathtracer = None  # with render.engine(_mix) pathtraced: the PathTracer wrapping _renderer
        self._rejections: dict = {}  # scene index -> Counter of its sampler's rejections, until taken
        self.background = background
        self.max_pending = max(1, int(pending))
        self._writer: Optional[ThreadPoolExecutor] = None
        self._pending: Deque[tuple] = deque()  # (Future, its write_layers arguments)
        self._previous: Optional[tuple] = None  # (scene, read PendingFrame, timings) not yet handed over
        self._last: Optional[tuple] = None  # (index, directive) of the last write
        self._ahead: Optional[tuple] = None  # (index, directive, scene) sampled ahead
        self._exports = PieceWriter(ExportSpec.of(world))  # each scene's part of the exports
        # cfg.output's values each scene reads, as plain values (a config's attribute
        # costs tens of microseconds a read)
        self._layer_options = LayerOptions.of(self.cfg.output)

    @property
    def renderer(self) -> Renderer:
        """The raster renderer (every label layer, and the colour of raster scenes);
        with the path tracer in use, the one it wraps (one GL context per process)."""
        if self._renderer is None:
            if "pathtraced" in engine_levels(self.cfg):
                render = self.cfg.render
                self._pathtracer = make_renderer(self.dictionary, "pathtraced", spp=int(render.spp),
                                                 max_depth=int(render.max_depth), denoise=bool(render.denoise))
                self._renderer = self._pathtracer.raster
            else:
                self._renderer = Renderer(self.dictionary)
        return self._renderer

    @staticmethod
    def _raster_colour(scene: Scene) -> bool:
        """Whether the raster draws ``scene``'s colour image (else Mitsuba does, and the
        raster draws its labels alone)."""
        return scene.engine != "pathtraced"

    def _colour(self, scene: Scene, frame: Frame, timings: Optional[dict] = None) -> Frame:
        """``frame`` with its colour image path traced when ``scene.engine`` says so."""
        if self._raster_colour(scene):
            return frame
        return replace(frame, rgb=self._pathtracer.colour(scene, frame.depth, timings))

    def make(self, index: int, directive: Optional[dict] = None,
             timings: Optional[dict] = None) -> tuple[Scene, Frame, list]:
        """Sample (with ``directive``, default ``cfg.directive``), render and label scene
        ``index``. ``timings``: seconds are added per stage (see :meth:`write`)."""
        clock = StepClock(timings)
        scene = self._sample(index, directive)
        clock.lap("sample")
        frame, labels = self.render_scene(scene, timings)
        return scene, frame, labels

    def render_scene(self, scene: Scene, timings: Optional[dict] = None) -> tuple[Frame, list]:
        """Render and label a given scene (sampled here or changed afterwards)."""
        frame = self._colour(scene, self.renderer.render(scene, timings=timings, colour=self._raster_colour(scene)),
                             timings)
        clock = StepClock(timings)
        labels = object_labels(scene, frame, self.dictionary, self._factors)
        clock.lap("labels")
        return frame, labels

    def write(self, index: int, directive: Optional[dict] = None, timings: Optional[dict] = None) -> int:
        """Produce scene ``index`` (see :meth:`make`) and write its files into
        ``cfg.out``. With ``background`` (the default) the files are complete once
        :meth:`flush` returns: the scene's labels and record are made during the next
        call's rendering, its PNG encoding and files on the writer thread. Returns
        ``index``.

        ``timings``: when given, seconds are added under ``"sample"``, the renderer's
        steps (see :meth:`scenegen.render.raster.Renderer.render`), ``"labels"``,
        ``"record"`` (its JSON) and ``"wait"`` (waiting for the writer) (this thread,
        the last three while the rasterizer draws the next scene), and ``"encode"``
        and ``"write"`` (PNG encoding and files, on the writer thread).

        Raises:
            an error of an earlier scene's labels or background write, first.
        """
        self._raise_failed()
        if not self.background:
            try:
                scene, frame, labels = self.make(index, directive, timings)
            except PlacementError as error:
                write_skip(self.cfg.out, index, error)
                return index
            clock = StepClock(timings)
            record, record_bytes = self._record(scene, frame, labels)
            clock.lap("record")
            exports = self._begin_exports(record, record_bytes, frame)
            clock.lap("export")
            write_layers(self.cfg.out, scene, frame, record_bytes, self._layer_options, timings, exports=exports)
            return index
        clock = StepClock(timings)
        try:
            scene = self._take_ahead(index, directive)
            if scene is None:
                scene = self._sample(index, directive)
                clock.lap("sample")
        except PlacementError as error:  # unplaceable within the bounds: skipped, recorded
            write_skip(self.cfg.out, index, error)
            self._last = (index, directive)
            return index
        pending = self.renderer.begin(scene, timings, colour=self._raster_colour(scene))
        try:
            self._hand_over()  # the previous scene, while the rasterizer draws this one
            if self._last == (index - 1, directive):  # a run of scenes: sample the next one now
                self._sample_ahead(index + 1, directive, timings)
        finally:
            self._last = (index, directive)
            self._previous = (scene, pending.read(), timings)
        return index

    def _sample_ahead(self, index: int, directive, timings: Optional[dict]) -> None:
        """Sample scene ``index`` for the next :meth:`write` (scenes are the same in
        any order); a scene that cannot be placed is kept as its PlacementError, any
        other error is left to that call to report."""
        clock = StepClock(timings)
        try:
            self._ahead = (index, directive, self._sample(index, directive))
        except PlacementError as error:
            self._ahead = (index, directive, error)
        except Exception:
            self._ahead = None
        clock.lap("sample")

    def _sample(self, index: int, directive) -> Scene:
        """Scene ``index``, its sampler's rejections (layouts drawn again, by reason) kept
        for :meth:`take_rejections` (those of a PlacementError too)."""
        before = Counter(self.sampler.stats)
        try:
            return self.sampler.sample(index, directive)
        finally:
            self._rejections[index] = Counter(self.sampler.stats) - before

    def take_rejections(self, indices) -> Counter:
        """The rejections of the scenes ``indices`` (summed), forgotten here: each
        scene's once, however often it was sampled ahead."""
        total: Counter = Counter()
        for index in indices:
            total.update(self._rejections.pop(index, Counter()))
        return total

    def _take_ahead(self, index: int, directive) -> Optional[Scene]:
        """The scene sampled ahead for ``index`` and ``directive``, or None.

        Raises:
            PlacementError: the scene sampled ahead could not be placed.
        """
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead[0] != index or ahead[1] != directive:
            return None
        if isinstance(ahead[2], PlacementError):
            raise ahead[2]
        return ahead[2]

    def _record(self, scene: Scene, frame: Frame, labels: list, normals: Optional[bool] = None) -> tuple[dict, bytes]:
        """The scene's record (of plain JSON values) and the bytes of its file."""
        files = scene_files(scene, frame, normals)
        record = scene_record(scene, labels, files, self._layer_options.depth_scale)
        return record, dumps_json(record).encode("utf-8")

    def _begin_exports(self, record: dict, record_bytes: bytes, frame: Frame) -> PendingPiece:
        """The scene's part of the exports but for its images' bytes (its texts, BOP
        masks and models): Python work, done on this thread while the rasterizer draws
        (on the writer thread it would stall this one); the writer completes it."""
        depth = None
        if self._exports.spec.needs_depth:  # the values of the depth PNG
            depth = depth_to_uint16(frame.depth, self._layer_options.depth_scale)
        return self._exports.begin(record_bytes, frame.instances, depth, record)

    def _hand_over(self) -> None:
        """Decode and label the scene read last, make its record and hand its files to
        the writer thread."""
        if self._previous is None:
            return
        scene, pending, timings = self._previous
        self._previous = None
        # the writer thread decodes the normals and applies the camera effects (numpy
        # that leaves the GIL: beside this thread's Python, not after it)
        frame = self._colour(scene, pending.frame(normals=False, effects=False), timings)
        normals = pending.normals if self.renderer.normals else None
        colour = pending.camera_colour if self._raster_colour(scene) else None  # (the image as drawn, without effects)
        clock = StepClock(timings)
        labels = object_labels(scene, frame, self.dictionary, self._factors)
        clock.lap("labels")
        record, record_bytes = self._record(scene, frame, labels, normals is not None)
        clock.lap("record")
        exports = self._begin_exports(record, record_bytes, frame)
        clock.lap("export")
        error = None
        while len(self._pending) >= self.max_pending:
            exc = self._pending.popleft()[0].exception()  # waits for it
            error = error or exc
        clock.lap("wait")
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scenegen-writer")
        job = (self.cfg.out, scene, frame, record_bytes, self._layer_options, timings, normals, exports, colour)
        self._pending.append((self._writer.submit(write_layers, *job), job))
        if error is not None:  # an earlier scene's, raised once this one is handed over
            raise error

    def flush(self) -> None:
        """Wait until every scene handed to :meth:`write` is on disk.

        Raises:
            the first error of those writes (after waiting for all of them).
        """
        error = None
        try:
            self._hand_over()
        except Exception as exc:
            error = exc
        # writes the writer thread has not started are done here, beside it
        for future, job in list(self._pending)[1:]:
            if future.cancel():
                try:
                    write_layers(*job)
                except Exception as exc:
                    error = error or exc
        while self._pending:
            future = self._pending.popleft()[0]
            exc = None if future.cancelled() else future.exception()
            if exc is not None and error is None:
                error = exc
        if error is not None:
            raise error

    def _raise_failed(self) -> None:
        """Raise the error of the oldest finished write that failed (without waiting)."""
        while self._pending and self._pending[0][0].done():
            self._pending.popleft()[0].result()

    def close(self) -> None:
        """Finish the pending writes (raising their first error), stop the writer and
        free the renderer."""
        try:
            self.flush()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None
            if self._pathtracer is not None:
                self._pathtracer.close()  # and the raster renderer it wraps
                self._pathtracer = None
            elif self._renderer is not None:
                self._renderer.close()
            self._renderer = None

    def __enter__(self) -> "SceneWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

