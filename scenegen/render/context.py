"""GLContext: the process's one GL context and what scenegen keeps in it.

One context serves every raster Renderer of a process: deleting a pyrender EGL context
terminates the EGL display that all contexts of the process share, so the context is
made on first use (:data:`GL_CONTEXT`) and deleted only at exit (or by
:func:`release_gl_context`, after which nothing of the process may render).
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import RenderError
from . import _pyrender
from .framebuffer import FlatTarget
from .opengl import GL_PLATFORM_VARIABLE, INSTALL_HINT, gl, import_pyrender
from .programs import ShaderPrograms


class GLContext:
    """The process's GL context (a pyrender ``OffscreenRenderer``), the GL objects
    scenegen keeps in it (the flat passes' framebuffer, its shader programs), and the
    frame drawn in it and not read yet.

    Attributes:
        offscreen: the ``pyrender.OffscreenRenderer``; None until the first frame and
            after :meth:`release`.
        max_side: the driver's largest renderbuffer side, pixels (0 before the start).
        pending: the frame drawn (``Renderer.begin``) and not yet read, if any: one a
            process, as the context has one set of framebuffers.
    """

    def __init__(self):
        self.offscreen = None
        self.max_side = 0
        self.pending = None
        self._target: FlatTarget | None = None
        self._programs: ShaderPrograms | None = None

    @property
    def started(self) -> bool:
        """Whether the context exists (a forked child must not use it)."""
        return self.offscreen is not None

    def _start(self, width: int, height: int) -> None:
        pyrender = import_pyrender()
        try:
            offscreen = pyrender.OffscreenRenderer(width, height)
        except Exception as exc:
            raise RenderError(
                f"cannot create an OpenGL context ({GL_PLATFORM_VARIABLE}="
                f"{os.environ.get(GL_PLATFORM_VARIABLE)}): {exc}. {INSTALL_HINT}"
            ) from exc
        GL = gl()
        self.offscreen, self.max_side = offscreen, int(GL.glGetIntegerv(GL.GL_MAX_RENDERBUFFER_SIZE))
        atexit.register(self.release)

    def activate(self, width: int, height: int):
        """Make the context current in this thread for ``width`` x ``height`` pixel
        images (starting it on first use); returns pyrender's ``Renderer`` in it. Call
        :meth:`deactivate` after.

        Raises:
            RenderError: no context can be made, or the size exceeds the driver's.
        """
        if self.offscreen is None:
            self._start(width, height)
        # renderbuffers are made at render time, so the limit is checked before them
        if max(width, height) > self.max_side:
            raise RenderError(
                f"image size {width}x{height} exceeds this GL driver's limit of {self.max_side} "
                f"pixels a side; lower width/height"
            )
        self.offscreen.viewport_width, self.offscreen.viewport_height = width, height
        _pyrender.make_current(self.offscreen)
        return _pyrender.inner_renderer(self.offscreen)

    def deactivate(self) -> None:
        """Release the context from this thread."""
        _pyrender.make_uncurrent(self.offscreen)

    @contextmanager
    def current(self, width: int, height: int) -> Iterator[object]:
        """:meth:`activate` for the block: yields pyrender's ``Renderer``."""
        renderer = self.activate(width, height)
        try:
            yield renderer
        finally:
            self.deactivate()

    @contextmanager
    def current_if_started(self) -> Iterator[object | None]:
        """pyrender's ``Renderer`` with the context current for the block, or None (and
        nothing current) when the context was never started."""
        if self.offscreen is None:
            yield None
            return
        _pyrender.make_current(self.offscreen)
        try:
            yield _pyrender.inner_renderer(self.offscreen)
        finally:
            _pyrender.make_uncurrent(self.offscreen)

    def target(self, width: int, height: int) -> FlatTarget:
        """The flat passes' framebuffer, ``width`` x ``height`` (remade when the size
        changes; the context must be current)."""
        if self._target is not None and self._target.size != (width, height):
            self._target.delete()
            self._target = None
        if self._target is None:
            self._target = FlatTarget(width, height)
        return self._target

    def programs(self) -> ShaderPrograms:
        """scenegen's shader programs (made on first use; the context must be current)."""
        if self._programs is None:
            self._programs = ShaderPrograms()
        return self._programs

    def release(self) -> None:
        """Delete the context and everything in it (runs at exit; nothing of the process
        may render after it)."""
        if self.offscreen is None:
            return
        _pyrender.make_current(self.offscreen)
        self.pending = None
        if self._target is not None:  # while their context is current
            self._target.delete()
            self._target = None
        if self._programs is not None:
            self._programs.clear()
            self._programs = None
        _pyrender.delete_offscreen(self.offscreen)
        self.offscreen = None


GL_CONTEXT = GLContext()  # the process's one GL context


def release_gl_context() -> None:
    """Delete the process's GL context (runs at exit; no Renderer may render after it)."""
    GL_CONTEXT.release()
