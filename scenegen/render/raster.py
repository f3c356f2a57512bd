"""Renderer: the raster backend, Scene -> Frame with pyrender, headless.

One :class:`Renderer` per process is meant to be reused across scenes: the GL context
(:data:`scenegen.render.context.GL_CONTEXT`, shared by every Renderer of the process),
the meshes and textures (its :class:`~scenegen.render.meshes.MeshPool`) are made once
and stay in it.

Passes per scene: the colour pass (:mod:`scenegen.render.colour`: shadow maps and
pyrender's lit, multisampled forward pass), then the flat passes
(:mod:`scenegen.render.flat`: ids, normals and depth in one; amodal silhouettes).
:meth:`Renderer.begin` draws them all and returns while the rasterizer (llvmpipe's
threads) works; :meth:`PendingFrame.read` then reads the layers back, and
:meth:`PendingFrame.frame` decodes them (:mod:`scenegen.render.decode`).
:meth:`Renderer.render` does the three in turn.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import RenderError
from ..scene.frame import Frame
from ..scene.scene import Scene
from ..timing import StepClock
from ..world.dictionary import ObjectDictionary
from ._pyrender import camera_matrices
from .backend import FRAME_LAYERS, RenderBackend
from .backgrounds import BackgroundPool
from .colour import colour_pass, draw_shadow_maps, read_colour
from .context import GL_CONTEXT
from .decode import decode_amodal, decode_ids, decode_normals, linear_depth
from .effects import apply_effects
from .environment import EnvironmentPool
from .flat import SILHOUETTE_BITS, draw_amodal_pass, draw_id_pass, may_be_occluded
from .framebuffer import FlatTarget
from .graph import Graph, build_graph, upload_graph
from .meshes import MeshPool
from .occlusion import draw_occlusion
from .opengl import gl, import_pyrender

PYRENDER_DISTRIBUTION = "pyrender-maintained"  # the package pyrender is installed from


class Renderer(RenderBackend):
    """Renders Scenes of one object dictionary with pyrender (the ``raster`` engine).

    Args:
        dictionary: the object dictionary the scenes refer to (meshes, textures).
        normals: whether :meth:`render` returns ``Frame.normals``.

    Use as a context manager, or call :meth:`close`, to free its meshes and textures.

    Raises:
        RenderError: OpenGL cannot be loaded.
    """

    name = "raster"

    def __init__(self, dictionary: ObjectDictionary, normals: bool = True):
        self.dictionary = dictionary
        self.normals = normals
        self.meshes = MeshPool(import_pyrender(), dictionary)
        self.environments = EnvironmentPool()
        self.backgrounds = BackgroundPool()

    @property
    def layers(self) -> tuple[str, ...]:
        return FRAME_LAYERS if self.normals else tuple(n for n in FRAME_LAYERS if n != "normals")

    @property
    def version(self) -> str:
        from importlib import metadata  # noqa: PLC0415 (about 20 ms to import, only for this string)

        return f"{self.name} ({PYRENDER_DISTRIBUTION} {metadata.version(PYRENDER_DISTRIBUTION)})"

    def close(self) -> None:
        """Free this renderer's meshes, textures and shadow maps (in the GL context too).
        The process's GL context stays (see :func:`scenegen.render.context.release_gl_context`)."""
        with GL_CONTEXT.current_if_started() as renderer:
            self.meshes.close(renderer)
            self.environments.close(in_context=renderer is not None)
            self.backgrounds.close(in_context=renderer is not None)

    def build(self, scene: Scene) -> Graph:
        """The :class:`~scenegen.render.graph.Graph` of ``scene`` (no GL). Its meshes come
        from this renderer's pools and carry this scene's materials until the next
        ``build``: render a Graph before building another.

        Raises:
            RenderError: an unknown texture, or too many objects or parts.
        """
        return build_graph(scene, self.meshes, self.environments)

    def render_colour(self, graph: Graph) -> np.ndarray:
        """rgb (H, W, 3) uint8 of a built Graph: the colour pass alone (shadow maps,
        pyrender's forward pass, the environment behind). For benchmarks: what drawing
        the image costs."""
        with GL_CONTEXT.current(graph.width, graph.height) as renderer:
            upload_graph(renderer, graph)
            return colour_pass(renderer, graph, GL_CONTEXT.programs())

    def render(self, scene: Scene, timings: dict[str, float] | None = None, colour: bool = True) -> Frame:
        """Render every layer of ``scene`` (:meth:`begin`, then its ``finish``).

        Args:
            scene: the scene to render.
            colour: draw the colour image; False: ``Frame.rgb`` is black (the labels
                alone, for an engine that makes the image itself).
            timings: when given, seconds spent per step are added to it under
                ``"build"``, ``"rgb pass"`` (drawing the colour pass and its shadow
                maps), ``"flat passes"`` (drawing the id, normals and amodal passes),
                ``"readback"`` (waiting for the rasterizer and reading every layer) and
                ``"decode"`` (ids, depth, normals, amodal masks, and the camera effects on
                the image) (for benchmarks).

        Raises:
            RenderError: no GL context could be made, the size exceeds the driver's, or
                the scene names an unknown texture or too many objects or parts.
        """
        return self.begin(scene, timings, colour).finish()

    def begin(self, scene: Scene, timings: dict[str, float] | None = None, colour: bool = True) -> PendingFrame:
        """Draw every pass of ``scene`` and return before the pixels are read: on a
        CPU driver (llvmpipe) the rasterizer threads work while the caller does other
        CPU work (no GL); :meth:`PendingFrame.read` (or ``finish``) then reads the
        layers back. One frame of a process may be drawn and not yet read.
        ``timings``, ``colour``: as :meth:`render`'s.

        (One frame, not two: llvmpipe resolves the multisampled colour image
        synchronously, and holds few passes in its queue, so drawing the next scene
        before reading this one would wait for the rasterizer anyway: measured slower.)

        Raises:
            RenderError: as :meth:`render`; or another frame is drawn and not read yet.
        """
        if GL_CONTEXT.pending is not None:
            raise RenderError("another frame is drawn and not read yet: read it first")
        cam = scene.camera
        clock = StepClock(timings)
        renderer = GL_CONTEXT.activate(cam.width, cam.height)
        try:
            graph = self.build(scene)
            upload_graph(renderer, graph)
            if scene.background is not None and scene.background.name:
                graph.photo = self.backgrounds.texture(scene.background)
            clock.lap("build")

            programs = GL_CONTEXT.programs()
            target = GL_CONTEXT.target(cam.width, cam.height)
            renderer.viewport_width, renderer.viewport_height = cam.width, cam.height
            V, P = (np.asarray(m, dtype=np.float32) for m in camera_matrices(renderer, graph.scene))
            # the shadow maps first (drawn while the id pass is issued: the forward pass
            # samples them), the id pass before the colour pass (ambient occlusion under an
            # environment map reads its depth)
            shadows = draw_shadow_maps(renderer, graph) if colour else None
            draw_id_pass(programs, target, graph, V, P)
            if colour:
                strength = scene.environment.occlusion if scene.environment is not None else 0.0
                occlusion = draw_occlusion(programs, target, P, strength) if strength > 0 else 0
                colour_pass(renderer, graph, programs, read_back=False, occlusion=occlusion, shadows=shadows)
            clock.lap("rgb pass")

            occludable = may_be_occluded(scene, self.dictionary)
            hidden = [i for i in range(len(scene.objects)) if occludable[i]]
            groups = [hidden[start:start + SILHOUETTE_BITS] for start in range(0, len(hidden), SILHOUETTE_BITS)]
            if groups:
                draw_amodal_pass(programs, target, graph, groups[0], V, P)
            gl().glFlush()
            clock.lap("flat passes")
        except BaseException:
            GL_CONTEXT.deactivate()
            raise
        GL_CONTEXT.pending = PendingFrame(self, scene, graph, renderer, target, groups, (V, P), clock, colour)
        return GL_CONTEXT.pending


class PendingFrame:
    """A scene whose passes are drawn (:meth:`Renderer.begin`) and not yet read.

    Args:
        renderer: the Renderer that drew it.
        scene: the scene.
        graph: its Graph.
        gl_renderer: pyrender's renderer of the GL context it was drawn in.
        target: the framebuffer of its flat passes.
        groups: the object indices of each amodal pass (the first is drawn, the
            others are drawn by :meth:`read`).
        camera_matrices: (V, P) (4, 4) float32 of the flat passes.
        clock: the timings' clock.
        colour: whether the colour pass was drawn (else the Frame's rgb is black).
    """

    def __init__(self, renderer: Renderer, scene: Scene, graph: Graph, gl_renderer, target: FlatTarget,
                 groups: list[list[int]], camera_matrices, clock: StepClock, colour: bool = True):
        self.renderer, self.scene, self.graph, self.colour = renderer, scene, graph, colour
        self._gl_renderer, self._target, self._groups = gl_renderer, target, groups
        self._camera_matrices, self._clock = camera_matrices, clock

    def finish(self) -> Frame:
        """Wait for the rasterizer, read every layer and return the Frame."""
        self.read()
        return self.frame()

    def read(self) -> PendingFrame:
        """Wait for the rasterizer and read every layer back (the GL part of
        :meth:`finish`); :meth:`frame` decodes them, and needs no GL."""
        if GL_CONTEXT.pending is not self:
            raise RenderError("this frame was already read")
        GL = gl()
        self._clock.last = time.perf_counter()  # time between begin and read is the caller's
        graph, target = self.graph, self._target
        try:
            self._rgb = (read_colour(self._gl_renderer, graph.width, graph.height) if self.colour
                         else np.zeros((graph.height, graph.width, 3), dtype=np.uint8))
            self._ids, self._normals, self._depth = target.read(0), target.read(1), target.read_depth()
            silhouettes = []
            for k, group in enumerate(self._groups):
                if k:  # more objects than one pass holds: draw the next group now
                    draw_amodal_pass(GL_CONTEXT.programs(), target, graph, group, *self._camera_matrices)
                silhouettes.append(target.read(2).copy())
            self._silhouettes = silhouettes
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        finally:
            GL_CONTEXT.deactivate()
            GL_CONTEXT.pending = None
        self._clock.lap("readback")
        return self

    def normals(self, then=None) -> np.ndarray:
        """``Frame.normals`` of the frame (after :meth:`frame`; no GL: any thread); with
        ``then``, a per-pixel encoding of them (see :func:`~scenegen.render.decode.decode_normals`)."""
        return decode_normals(self._normals, self._linear, then)

    def camera_colour(self) -> np.ndarray:
        """``Frame.rgb`` with the scene's camera effects applied (after :meth:`frame`;
        numpy and Pillow, no GL: any thread), for callers of ``frame(effects=False)``."""
        scene = self.scene
        if scene.effects is None or not self.colour:
            return self._rgb
        return apply_effects(self._rgb, self._linear, scene.camera.fx, scene.effects)

    def frame(self, normals: bool = True, effects: bool = True) -> Frame:
        """The Frame of the layers :meth:`read` read (decoding: ids, depth, normals,
        amodal masks); without ``normals`` (as a renderer made with ``normals=False``
        gives it), for callers that take them later from :meth:`normals`; without
        ``effects``, its rgb as drawn, for callers that take the image with the
        scene's camera effects later from :meth:`camera_colour` (labels never see them)."""
        self._clock.last = time.perf_counter()
        scene = self.scene
        instances = decode_ids(self._ids)
        depth = linear_depth(self._depth, scene.camera.znear, scene.camera.zfar)
        amodal = decode_amodal(instances, len(scene.objects), self._groups, self._silhouettes)
        category_of_instance = np.array(
            [0] + [self.renderer.dictionary[o.entry].category_id for o in scene.objects], dtype=np.uint8
        )
        self._linear = depth
        normals = self.normals() if normals and self.renderer.normals else None
        rgb = self.camera_colour() if effects else self._rgb  # the image only: every label layer is as drawn
        frame = Frame(
            rgb=rgb,
            depth=depth,
            instances=instances,
            semantic=np.take(category_of_instance, instances),
            parts=np.ascontiguousarray(self._ids[..., 2]),
            amodal=amodal,
            normals=normals,
        )
        self._clock.lap("decode")
        return frame
