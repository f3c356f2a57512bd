"""scenegen's shader programs (``scenegen/render/shaders``) in the process's GL context."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ..errors import RenderError
from . import _pyrender
from .opengl import gl

SHADER_DIR = Path(__file__).with_name("shaders")  # scenegen's shaders (colour and flat passes)
ENVIRONMENT_DEFINE = "ENVIRONMENT_LIGHT"  # mesh.frag's path lit by an environment map
LIGHT_COUNT_DEFINE = "DIRECTIONAL_LIGHT_COUNT"  # mesh.frag's number of directional lights, compiled in
# directional lights mesh.frag holds (the config allows lights.count up to 8); pyrender's
# own choice is 4 without shadows, 10 with: each program draws the number it is compiled
# for, so the array's size changes no image
MAX_DIRECTIONAL_LIGHTS = 8

# pyrender's vertex attribute locations: positions at 0, then each attribute the buffer
# holds, in this order; the instance matrix after them
_ATTRIBUTES = ("NORMAL", "TANGENT", "TEXCOORD_0", "TEXCOORD_1", "COLOR_0", "JOINTS_0", "WEIGHTS_0")


class ShaderPrograms:
    """The programs of ``scenegen/render/shaders``: ``mesh.*`` (the colour pass, a copy of
    pyrender's mesh shaders with the number of directional lights compiled in, drawn by
    :func:`scenegen.render.forward.forward_pass` from :meth:`mesh`'s program cache),
    ``ids.vert`` with ``ids.frag`` or ``silhouette.frag`` (the flat passes, one program
    per vertex layout: :meth:`flat`), and the full-screen passes, ``screen.vert`` with
    ``sky.frag`` (the environment behind the scene) or ``occlusion.frag`` (ambient
    occlusion): :meth:`screen`.

    Made while the GL context is current; :meth:`clear` deletes the programs (while it
    is current again).
    """

    def __init__(self):
        from pyrender.shader_program import ShaderProgramCache

        self.cache = ShaderProgramCache(shader_dir=str(SHADER_DIR))  # the flat and full-screen programs
        self._mesh: dict[tuple[int, bool], object] = {}  # (lights, environment) -> program cache
        self._flat: dict[tuple, object] = {}  # (vertex buffer flags, fragment shader) -> program
        self._empty_vertex_array = 0

    def mesh(self, lights: int, environment: bool):
        """The program cache (a pyrender ``ShaderProgramCache``) of the colour pass's
        ``mesh.*`` programs for ``lights`` directional lights (0 to
        :data:`MAX_DIRECTIONAL_LIGHTS`), lit by an environment map too when
        ``environment``.

        Raises:
            RenderError: more lights than the programs hold.
        """
        if lights > MAX_DIRECTIONAL_LIGHTS:
            raise RenderError(f"{lights} lights exceed the colour pass's {MAX_DIRECTIONAL_LIGHTS}")
        key = (lights, bool(environment))
        programs = self._mesh.get(key)
        if programs is None:
            from pyrender.shader_program import ShaderProgramCache

            defines = {"MAX_DIRECTIONAL_LIGHTS": MAX_DIRECTIONAL_LIGHTS, LIGHT_COUNT_DEFINE: lights}
            if environment:
                defines[ENVIRONMENT_DEFINE] = 1
            programs = self._mesh[key] = _defining_cache(ShaderProgramCache)(defines, shader_dir=str(SHADER_DIR))
        return programs

    def flat(self, primitive, fragment_shader: str):
        """The flat passes' program (in the context) for ``primitive``'s vertex layout
        and ``fragment_shader`` (``"ids.frag"`` or ``"silhouette.frag"``)."""
        key = (primitive.buf_flags, fragment_shader)
        program = self._flat.get(key)
        if program is not None:
            return program
        from pyrender.constants import BufFlags

        defines, location = {}, 1
        for name in _ATTRIBUTES:
            if primitive.buf_flags & getattr(BufFlags, name):
                defines[f"{name}_LOC"] = location
                location += 1
        defines["INST_M_LOC"] = location
        program = self.cache.get_program(vertex_shader="ids.vert", fragment_shader=fragment_shader, defines=defines)
        _pyrender.upload(program)
        self._flat[key] = program
        return program

    def screen(self, fragment_shader: str):
        """The program (in the context) of a full-screen pass: ``screen.vert`` with
        ``fragment_shader`` (``"sky.frag"`` or ``"occlusion.frag"``); draw it with
        :meth:`draw_screen`."""
        program = self.cache.get_program(vertex_shader="screen.vert", fragment_shader=fragment_shader)
        _pyrender.upload(program)
        return program

    def draw_screen(self) -> None:
        """Draw the full-screen triangle with the bound program."""
        GL = gl()
        GL.glBindVertexArray(self.empty_vertex_array())
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)
        GL.glBindVertexArray(0)

    def draw_behind(self, width: int, height: int, floor_rows: int = 0) -> None:
        """Draw the full-screen triangle with the bound program over a ``width`` x
        ``height`` viewport where the bound framebuffer's depth is still the far plane
        (behind every surface; each multisample tested), writing no depth.

        ``floor_rows`` bottom rows (:func:`scenegen.render.graph.floor_rows`: rows the
        floor covers wholly, where the depth test would fail everywhere) are left out
        by a scissor: the same image, without their depth tests (llvmpipe tests each
        multisample of the triangle's every pixel)."""
        GL = gl()
        GL.glViewport(0, 0, width, height)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LEQUAL)
        GL.glDepthMask(GL.GL_FALSE)
        GL.glDisable(GL.GL_CULL_FACE)
        if floor_rows > 0:
            GL.glEnable(GL.GL_SCISSOR_TEST)
            GL.glScissor(0, floor_rows, width, height - floor_rows)
        self.draw_screen()
        if floor_rows > 0:
            GL.glDisable(GL.GL_SCISSOR_TEST)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDepthFunc(GL.GL_LESS)

    def empty_vertex_array(self) -> int:
        """A vertex array with no buffers (the full-screen passes make their vertices
        themselves; a core profile draws only with a vertex array bound)."""
        if not self._empty_vertex_array:
            self._empty_vertex_array = int(gl().glGenVertexArrays(1))
        return self._empty_vertex_array

    def clear(self) -> None:
        """Delete every program (and the empty vertex array) from the current GL context."""
        self.cache.clear()
        for programs in self._mesh.values():
            programs.clear()
        self._mesh.clear()
        self._flat.clear()
        if self._empty_vertex_array:
            gl().glDeleteVertexArrays(1, [self._empty_vertex_array])
            self._empty_vertex_array = 0


@cache
def _defining_cache(base: type) -> type:
    """A subclass of pyrender's ``ShaderProgramCache`` class ``base`` that adds fixed
    defines (over pyrender's) to the programs of ``mesh.frag`` it makes (cached apart from the others, as
    pyrender keys programs by their defines)."""

    class DefiningCache(base):
        def __init__(self, defines: dict, **kwargs):
            super().__init__(**kwargs)
            self.extra_defines = dict(defines)

        def get_program(self, vertex_shader, fragment_shader, geometry_shader=None, defines=None):
            if fragment_shader == "mesh.frag":
                defines = {**(defines or {}), **self.extra_defines}
            return super().get_program(vertex_shader, fragment_shader, geometry_shader, defines)

    return DefiningCache
