"""The GL platform and the lazy imports of pyrender and PyOpenGL.

The platform is chosen here and nowhere else: ``PYOPENGL_PLATFORM=egl`` (Mesa's
llvmpipe on a CPU machine, the NVIDIA driver on a GPU one) unless the caller already set
the variable. PyOpenGL reads it when it is first imported, so pyrender and OpenGL are
imported lazily, after that choice, and importing scenegen never needs OpenGL.
"""

from __future__ import annotations

import os

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
        import pyrender
    except Exception as exc:  # ImportError, OSError from ctypes, GL platform errors
        raise RenderError(f"cannot load OpenGL ({GL_PLATFORM_VARIABLE}={platform}): {exc}. {INSTALL_HINT}") from exc
    return pyrender


def gl():
    """PyOpenGL's GL module (call only after :func:`import_pyrender`)."""
    from OpenGL import GL

    return GL
