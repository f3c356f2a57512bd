"""Screen-space ambient occlusion for scenes lit by an environment map.

The id pass's depth (drawn first, :mod:`scenegen.render.flat`) is read by a full-screen
pass (``occlusion.frag``) at half the image's resolution: for each 2x2 block of pixels
(the surface at its first pixel), 12 points of a hemisphere of :data:`RADIUS` metres
above the surface (the normal taken from the depth), turned by a 2x2 ordered pattern of
blocks, are tested against the full-resolution depth; the share found inside a nearby
surface darkens the ambient light (the environment's diffuse and reflected light, not
the key light, whose shadow map does that) by ``Environment.occlusion`` at most.
``mesh.frag`` averages the 2x2 texels around each fragment, among those at its depth,
which removes the pattern and upsamples without blurring across depth edges. Half
resolution: the pass costs a quarter (6.2-7.0 → 2.2 ms a 320x240 frame on llvmpipe) and
the image moves by 0.2 of a level on average, at depth edges (a 4x4 pattern cost as much
again at 512 px and looked the same). Labels never see it.
"""

from __future__ import annotations

import numpy as np

from . import _pyrender
from .framebuffer import FlatTarget
from .opengl import gl
from .programs import ShaderPrograms
from .uniforms import set_uniform

RADIUS = 0.3  # metres: the hemisphere searched for occluders


def draw_occlusion(programs: ShaderPrograms, target: FlatTarget, projection: np.ndarray, strength: float) -> int:
    """Draw the ambient-occlusion pass of the id pass in ``target`` (its depth texture),
    one texel per 2x2 pixels (``target.occlusion_size``), with the id pass's (4, 4)
    ``projection``, a fully occluded point losing ``strength`` of the ambient light;
    returns the GL name of its texture."""
    GL = gl()
    width, height = target.occlusion_size
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target.occlusion_framebuffer)
    GL.glDrawBuffers(1, [GL.GL_COLOR_ATTACHMENT0])
    GL.glViewport(0, 0, width, height)
    GL.glDisable(GL.GL_DEPTH_TEST)
    GL.glDepthMask(GL.GL_FALSE)
    GL.glDisable(GL.GL_BLEND)
    GL.glActiveTexture(GL.GL_TEXTURE0)
    GL.glBindTexture(GL.GL_TEXTURE_2D, target.depth_texture)
    program = programs.screen("occlusion.frag")
    _pyrender.bind(program)
    projection = np.asarray(projection, dtype=np.float64)
    set_uniform(program, "scene_depth", 0)
    set_uniform(program, "P", projection.astype(np.float32))
    set_uniform(program, "inverse_P", np.linalg.inv(projection).astype(np.float32))
    set_uniform(program, "ao_radius", RADIUS)
    set_uniform(program, "ao_strength", float(strength))
    programs.draw_screen()
    _pyrender.unbind_program(program)
    GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
    GL.glDepthMask(GL.GL_TRUE)
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
    return target.occlusion_texture
