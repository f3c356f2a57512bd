"""scenegen's shader programs (``scenegen/render/shaders``) in the process's GL context."""

from __future__ import annotations

from pathlib import Path

from . import _pyrender

SHADER_DIR = Path(__file__).with_name("shaders")  # scenegen's shaders (colour and flat passes)

# pyrender's vertex attribute locations: positions at 0, then each attribute the buffer
# holds, in this order; the instance matrix after them
_ATTRIBUTES = ("NORMAL", "TANGENT", "TEXCOORD_0", "TEXCOORD_1", "COLOR_0", "JOINTS_0", "WEIGHTS_0")


class ShaderPrograms:
    """The programs of ``scenegen/render/shaders``: ``mesh.*`` (the colour pass, a copy of
    pyrender's mesh shaders, drawn by pyrender's forward pass from :attr:`cache`), and
    ``ids.vert`` with ``ids.frag`` or ``silhouette.frag`` (the flat passes, one program
    per vertex layout: :meth:`flat`).

    Made while the GL context is current; :meth:`clear` deletes the programs (while it
    is current again).
    """

    def __init__(self):
        from pyrender.shader_program import ShaderProgramCache

        self.cache = ShaderProgramCache(shader_dir=str(SHADER_DIR))
        self._flat: dict[tuple, object] = {}  # (vertex buffer flags, fragment shader) -> program

    def flat(self, primitive, fragment_shader: str):
        """The flat passes' program (in the context) for ``primitive``'s vertex layout
        and ``fragment_shader`` (``"ids.frag"`` or ``"silhouette.frag"``); its
        ``locations`` dict caches uniform locations."""
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
        if _pyrender.upload(program):
            program.locations = {}
        self._flat[key] = program
        return program

    def clear(self) -> None:
        """Delete every program from the current GL context."""
        self.cache.clear()
        self._flat.clear()
