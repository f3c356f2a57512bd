"""The GL platform and the lazy imports of pyrender and PyOpenGL.

The platform is chosen here and nowhere else: ``PYOPENGL_PLATFORM=egl`` (Mesa's
llvmpipe on a CPU machine, the NVIDIA driver on a GPU one) unless the caller already set
the variable. PyOpenGL reads it when it is first imported, so pyrender and OpenGL are
imported lazily, after that choice, and importing scenegen never needs OpenGL.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
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
        _defer_package("trimesh")
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


class _DeferredPackage(types.ModuleType):
    """A package whose ``__init__`` runs at the first read of a name it has not bound
    yet (see :func:`_defer_package`): then it is the package itself, loaded."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        state = self.__dict__["_deferred"]
        with state["lock"]:
            if not state["started"]:
                state["started"] = True  # reads during the load find what is bound so far
                try:
                    self.__spec__.loader.exec_module(self)
                except BaseException:
                    state["started"] = False  # the next read raises the package's error again
                    raise
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None


def _defer_package(name: str) -> None:
    """Bind package ``name`` in ``sys.modules`` without running its ``__init__`` yet, when
    nothing imported it before. pyrender's modules import trimesh (for
    ``Mesh.from_trimesh`` and ``trimesh.transformations``, a module of its own), and
    trimesh's ``__init__`` imports SciPy and networkx: about 0.45 s of every start,
    though the renderer draws arrays from the cache folder (``scenegen.render.meshes``)
    and no trimesh object where every shape was drawn before. ``import name.submodule``
    loads that module alone; reading any other name of the package loads it whole."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    module = _DeferredPackage(name)
    module.__spec__, module.__loader__, module.__file__ = spec, spec.loader, spec.origin
    module.__path__, module.__package__ = list(spec.submodule_search_locations), name
    module.__dict__["_deferred"] = {"lock": threading.RLock(), "started": False}
    sys.modules[name] = module


def gl():
    """PyOpenGL's GL module (call only after :func:`import_pyrender`)."""
    from OpenGL import GL

    return GL
