"""The colour pass: shadow maps and the lit forward pass, and reading its image.

The forward pass (4x multisampled, :func:`scenegen.render.forward.forward_pass`: pyrender's
draws with fewer GL calls) draws one node per object with scenegen's copy of pyrender's
mesh shaders (``scenegen/render/shaders/mesh.*``). Lights whose
``shadows`` is set cast shadows: one shadow map per light
(:func:`scenegen.render.meshes.shadow_map_size` texels a side: 512 or 1024 by the image size), drawn from the objects
only and framed on them, so objects shade each other, the floor and the walls (floor and
walls cast none), sampled with the GPU's depth comparison (4 bilinear lookups, a
3x3-texel percentage-closer filter) where pyrender's own shader makes 36 separate
fetches (measured on llvmpipe: shadows make the colour pass 1.5-1.65 times as long,
where pyrender's shader made it 2.7-2.8 times as long).
"""

from __future__ import annotations

import numpy as np

from . import _pyrender
from .backgrounds import draw_photo
from .forward import forward_pass, shadow_pass
from .graph import Graph, floor_rows
from .opengl import gl
from .rawgl import read_pixels

# Depths drawn into a shadow map are pushed away from the light by this many times their
# depth slope per texel (glPolygonOffset's factor), so a lit surface does not shade
# itself ("acne") where the filter compares it with map texels around the point: they
# reach about 1 texel away under the flat look's filter, 2 under the environment look's
# wider one (mesh.frag's shadow_calc). The shader's own bias is constant per surface,
# not per texel: alone it left acne on lit faces (a crate's lid: up to 10 levels with
# 1024 texels, 38 with 512; the environment look's table tops were speckled). The
# smallest factors without acne on tests/render/test_shadows.py's lids are 1 and 2; half
# as much again is the margin (a shadow moves by about the factor in texels).
SLOPE_BIAS = {False: 1.5, True: 3.0}  # by whether the scene has an environment map


def draw_shadow_maps(renderer, graph: Graph) -> tuple[int, dict]:
    """Draw ``graph``'s shadow maps (lights that cast shadows) with pyrender's
    ``renderer`` (context current). Returns what :func:`colour_pass` takes as
    ``shadows``: pyrender's render flags and each light node's (V, P) shadow camera.

    Drawn first in a frame (:meth:`scenegen.render.raster.Renderer.begin`): the
    rasterizer threads draw the maps while this thread issues the id pass, where the
    forward pass, which samples them, would otherwise wait for them (measured on
    llvmpipe, one scene at a time alternating: 0.2-0.45 ms a flat 320x240 scene)."""
    from pyrender.constants import RenderFlags

    renderer.viewport_width, renderer.viewport_height = graph.width, graph.height
    flags = RenderFlags.OFFSCREEN
    cameras = {}  # light node -> (V, P) of its shadow camera, for both passes
    if graph.shadows:
        flags |= RenderFlags.SHADOWS_DIRECTIONAL
        for node, casts in graph.lights:
            cameras[node] = _pyrender.light_matrices(renderer, graph.scene, node, flags)
            _shadow_map(renderer, graph, node, flags, casts, cameras[node])
    return flags, cameras


def colour_pass(renderer, graph: Graph, programs, read_back: bool = True, occlusion: int = 0,
                shadows: tuple[int, dict] | None = None) -> np.ndarray | None:
    """Draw ``graph``'s shadow maps (unless ``shadows``, what :func:`draw_shadow_maps`
    returned for it, says they are drawn), the forward pass and, for a scene with a
    photograph or an environment seen behind it, its pass, with pyrender's
    ``renderer`` (context current) and ``programs`` (scenegen's
    :class:`~scenegen.render.programs.ShaderPrograms`). A scene with an environment
    reads the ambient-occlusion texture ``occlusion`` (GL name, of
    :func:`~scenegen.render.occlusion.draw_occlusion`; 0: none, no occlusion). Returns the colour (H, W, 3) uint8; with ``read_back`` False, None
    (:func:`read_colour` reads it later)."""
    flags, cameras = draw_shadow_maps(renderer, graph) if shadows is None else shadows
    renderer.viewport_width, renderer.viewport_height = graph.width, graph.height
    environment = graph.environment
    light_nodes = [node for node, _ in graph.lights]
    mesh_programs = programs.mesh(len(light_nodes), environment is not None)
    if environment is None:
        forward_pass(renderer, graph.scene, flags, mesh_programs, light_nodes, light_matrices=cameras)
    else:
        environment.bind_texture()
        environment.bind_occlusion(occlusion)
        forward_pass(renderer, graph.scene, flags, mesh_programs, light_nodes, bind_extra=environment.bind_lighting,
                     light_matrices=cameras)
    behind = graph.photo is not None or (environment is not None and environment.background)
    rows = floor_rows(graph.camera, graph.floor_size) if behind else 0
    if rows < graph.height:  # else the floor covers the whole image: nothing shows behind it
        if graph.photo is not None:
            draw_photo(programs, *graph.photo, graph.width, graph.height, rows)
        elif behind:
            environment.draw_background(programs, graph.camera, rows)
    return read_colour(renderer, graph.width, graph.height) if read_back else None


def _shadow_map(renderer, graph: Graph, node, flags: int, casts: bool, matrices) -> None:
    """Render the shadow map of light ``node`` from the casters (pyrender's shadow pass,
    on scenegen's casters and map size: :func:`scenegen.render.forward.shadow_pass`), with
    ``matrices`` (V, P) of its shadow camera; a light that casts no shadows gets an
    empty map."""
    GL = gl()
    texture = node.light.shadow_texture
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, _pyrender.shadow_framebuffer(renderer))
    _pyrender.attach_depth_texture(texture)
    GL.glActiveTexture(GL.GL_TEXTURE0)
    _pyrender.bind(texture)
    GL.glDrawBuffer(GL.GL_NONE)
    GL.glReadBuffer(GL.GL_NONE)
    GL.glViewport(0, 0, texture.width, texture.height)
    GL.glEnable(GL.GL_DEPTH_TEST)
    GL.glDepthMask(GL.GL_TRUE)
    GL.glDepthFunc(GL.GL_LESS)
    GL.glDepthRange(0.0, 1.0)
    GL.glDisable(GL.GL_CULL_FACE)
    GL.glDisable(GL.GL_BLEND)
    GL.glClear(GL.GL_DEPTH_BUFFER_BIT)
    if casts:
        GL.glEnable(GL.GL_POLYGON_OFFSET_FILL)
        GL.glPolygonOffset(SLOPE_BIAS[graph.environment is not None], 0.0)
        shadow_pass(renderer, graph.scene, node, flags, graph.casters, matrices)
        GL.glDisable(GL.GL_POLYGON_OFFSET_FILL)
    GL.glFlush()


def read_colour(renderer, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8 of pyrender's main framebuffer: its multisampled colour resolved
    and read as pyrender reads it (without pyrender's depth read-back)."""
    GL = gl()
    multisampled, resolved = _pyrender.main_framebuffers(renderer)
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, multisampled)
    GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, resolved)
    GL.glBlitFramebuffer(0, 0, width, height, 0, 0, width, height, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, resolved)
    rgb = read_pixels(width, height, GL.GL_RGB, GL.GL_UNSIGNED_BYTE, np.uint8, 3)
    return np.ascontiguousarray(rgb[::-1])
