"""The flat passes: ids, normals and depth; amodal silhouettes.

- **ids, normals and depth**: one flat, single-sample pass over every part (scenegen's
  own shaders ``ids.*``, two colour targets): instance id in red and green and the
  part's 1-based index in blue of the first (:func:`scenegen.render.decode.id_color`),
  the interpolated vertex normal (the one the colour pass shades with: the exact surface
  normal on scenegen's primitives, see :mod:`scenegen.world.shapes`) in the camera
  frame, facing the camera, 8 bits a channel, in the second; and depth. One fragment
  writes all three, so they always describe the same surface.
- **amodal**: one flat pass without depth test over the objects another object might
  hide (``silhouette.frag``): each writes its own bit and the framebuffer ORs them
  (:data:`SILHOUETTE_BITS` objects a pass), giving each such object's full silhouette.
  An object nothing can hide (:func:`may_be_occluded`) has its visible mask as amodal
  mask.
"""

from __future__ import annotations

import numpy as np

from ..scene.geometry import box_corners, project
from ..scene.scene import Scene
from ..world.dictionary import ObjectDictionary
from . import _pyrender
from .decode import id_color
from .framebuffer import FlatTarget
from .graph import Graph
from .opengl import gl
from .programs import ShaderPrograms
from .rawgl import check_errors, draw_elements, uniform_matrix, uniform_vector
from .uniforms import location

SILHOUETTE_BITS = 32  # objects per amodal pass: one bit each of an RGBA8 pixel


def _draw(programs: ShaderPrograms, draws, fragment_shader: str, V: np.ndarray, P: np.ndarray) -> None:
    """Draw ``(primitive, (4, 4) float32 pose, (4,) float32 colour)`` with the flat
    program of ``fragment_shader``; V and P are (4, 4) float32 view and projection."""
    GL = gl()
    current = None
    for primitive, pose, colour in draws:
        program = programs.flat(primitive, fragment_shader)
        if program is not current:
            _pyrender.bind(program)
            current = program
            uniform_matrix(location(program, "V"), V)
            uniform_matrix(location(program, "P"), P)
        uniform_matrix(location(program, "M"), pose)
        uniform_vector(location(program, "color"), colour[:3] if fragment_shader == "ids.frag" else colour)
        _pyrender.bind(primitive)
        draw_elements(primitive.mode, primitive.indices.size, 1 if primitive.poses is None else len(primitive.poses))
    if current is not None:
        GL.glBindVertexArray(0)
        _pyrender.unbind_program(current)
    check_errors(f"the {fragment_shader.removesuffix('.frag')} pass")


def _begin(target: FlatTarget, attachments, depth_test: bool) -> None:
    """Bind ``target`` drawing into colour ``attachments``, set the flat passes' GL state
    and clear (depth too with ``depth_test``)."""
    GL = gl()
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target.framebuffer)
    GL.glDrawBuffers(len(attachments), [GL.GL_COLOR_ATTACHMENT0 + a for a in attachments])
    GL.glViewport(0, 0, *target.size)
    GL.glDisable(GL.GL_BLEND)
    GL.glEnable(GL.GL_CULL_FACE)
    GL.glCullFace(GL.GL_BACK)
    GL.glPolygonMode(GL.GL_FRONT_AND_BACK, GL.GL_FILL)
    GL.glDepthRange(0.0, 1.0)
    GL.glClearColor(0.0, 0.0, 0.0, 0.0)
    GL.glDepthMask(GL.GL_TRUE)
    if depth_test:
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LESS)
        GL.glClearDepth(1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
    else:
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_FALSE)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)


def draw_id_pass(programs: ShaderPrograms, target: FlatTarget, graph: Graph, V, P) -> None:
    """Draw the id + normals pass (targets 0 and 1, and depth) of ``graph``."""
    _begin(target, (0, 1), depth_test=True)
    black = np.zeros(4, dtype=np.float32)
    draws = [(primitive, pose, black) for primitive, pose in graph.context]
    for i, parts in enumerate(graph.objects):
        for primitive, pose, index in parts:
            colour = np.array([*id_color(i + 1, index), 255], dtype=np.float32) / 255.0
            draws.append((primitive, pose, colour))
    _draw(programs, draws, "ids.frag", V, P)


def draw_amodal_pass(programs: ShaderPrograms, target: FlatTarget, graph: Graph, objects: list[int], V, P) -> None:
    """Draw the silhouettes of ``objects`` (at most SILHOUETTE_BITS indices into the
    scene's objects; bit k for ``objects[k]``) into target 2."""
    GL = gl()
    _begin(target, (2,), depth_test=False)
    GL.glEnable(GL.GL_COLOR_LOGIC_OP)
    GL.glLogicOp(GL.GL_OR)
    try:
        draws = []
        for bit, i in enumerate(objects):
            colour = np.zeros(4, dtype=np.float32)
            colour[bit // 8] = (1 << (bit % 8)) / 255.0
            draws.extend((primitive, pose, colour) for primitive, pose, _ in graph.objects[i])
        _draw(programs, draws, "silhouette.frag", V, P)
    finally:
        GL.glDisable(GL.GL_COLOR_LOGIC_OP)
        GL.glDepthMask(GL.GL_TRUE)


def may_be_occluded(scene: Scene, dictionary: ObjectDictionary) -> np.ndarray:
    """(N,) bool: whether another object's image box overlaps this object's.

    An object whose projected 3D box overlaps no other object's cannot be hidden by one
    (the floor lies below every object and walls stand behind them), so its amodal mask
    equals its visible mask and needs no pass of its own.
    """
    cam = scene.camera
    corners = [np.zeros((0, 3))]
    for obj in scene.objects:
        extents = np.asarray(dictionary[obj.entry].shape_extents(obj.style)) * obj.scale
        corners.append(box_corners(obj.position, obj.yaw, extents))
    uv = project(np.concatenate(corners), cam.K, cam.pose).reshape(-1, 8, 2)  # all boxes at once
    boxes = np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1)
    x0, y0, x1, y1 = (boxes[:, k] for k in range(4))
    overlap = (x0[:, None] <= x1[None, :] + 1) & (x0[None, :] <= x1[:, None] + 1)
    overlap &= (y0[:, None] <= y1[None, :] + 1) & (y0[None, :] <= y1[:, None] + 1)
    np.fill_diagonal(overlap, False)
    return overlap.any(axis=1)
