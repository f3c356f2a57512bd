"""The GL platform and the lazy imports of pyrender and PyOpenGL.

The platform is chosen here and nowhere else: ``PYOPENGL_PLATFORM=egl`` (Mesa's
llvmpipe on a CPU machine, the NVIDIA driver on a GPU one) unless the caller already set
the variable. PyOpenGL reads it when it is first imported, so pyrender and OpenGL are
imported lazily, after that choice, and importing scenegen never needs OpenGL.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import RenderError

GL_PLATFORM_VARIABLE = "PYOPENGL_PLATFORM"
DEFAULT_GL_PLATFORM = "egl"
INSTALL_HINT = (
    "scenegen renders headless through EGL: install Mesa's EGL and GL drivers "
    "(Debian/Ubuntu: apt-get install libegl1 libgl1-mesa-dri) or an NVIDIA driver, "
    "or set PYOPENGL_PLATFORM=osmesa with libosmesa6 installed"
)


def choose_gl_platform() -> str:
    """Select the PyOpenGL platform before pyrender/OpenGL is imported; returns it."""
    return os.environ.setdefault(GL_PLATFORM_VARIABLE, DEFAULT_GL_PLATFORM)


def import_pyrender():
    """The pyrender module, imported after the platform is chosen.

    Raises:
        RenderError: OpenGL cannot be loaded (no driver, or the platform's library is
            missing), with the packages to install.
    """
    platform = choose_gl_platform()
    try:
        with _viewer_deferred():
            import pyrender
    except Exception as exc:  # ImportError, OSError from ctypes, GL platform errors
        raise RenderError(f"cannot load OpenGL ({GL_PLATFORM_VARIABLE}={platform}): {exc}. {INSTALL_HINT}") from exc
    return pyrender


class _DeferredViewer:
    """Stands for ``pyrender.Viewer`` (see :func:`_viewer_deferred`): making one makes
    the real one, importing its module then."""

    def __new__(cls, *args, **kwargs):
        from pyrender.viewer import Viewer

        return Viewer(*args, **kwargs)


@contextmanager
def _viewer_deferred() -> Iterator[None]:
    """While pyrender is first imported, its ``viewer`` module is a stand-in. pyrender's
    package imports its on-screen viewer, and with it pyglet's GL and X11 bindings,
    imageio and tkinter (about 80 ms of every start), though scenegen only renders
    offscreen. The stand-in leaves ``sys.modules`` right after, so ``import
    pyrender.viewer`` later gives the real module, and ``pyrender.Viewer(...)`` makes a
    real viewer."""
    if "pyrender" in sys.modules or "pyrender.viewer" in sys.modules:
        yield
        return
    stand_in = types.ModuleType("pyrender.viewer")
    stand_in.Viewer = _DeferredViewer
    sys.modules["pyrender.viewer"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("pyrender.viewer") is stand_in:
            del sys.modules["pyrender.viewer"]


def gl():
    """PyOpenGL's GL module (call only after :func:`import_pyrender`)."""
    from OpenGL import GL

    return GL
