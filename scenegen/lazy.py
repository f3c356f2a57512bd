"""Heavy third-party modules, imported on first use rather than with scenegen.

``import scenegen`` and the commands that never touch a mesh (``scenegen space``,
``verify``, ``coverage``) should not pay for trimesh and SciPy (about half a second
together), nor for an encoder they do not call. A module binds a stand-in instead::

    from ..lazy import trimesh          # imports trimesh at the first trimesh.<name>

and uses it as the module itself (``trimesh.Trimesh``, ``trimesh.creation.box``,
``isinstance(x, trimesh.Trimesh)``). Every attribute is read from the real module on
each access, so a test that monkeypatches the real module is seen. Annotations stay
free under ``from __future__ import annotations``.

:func:`ConvexHull` and :class:`QhullError` stand in for ``scipy.spatial``'s: the class
must exist for an ``except`` clause before SciPy is imported, so the hull's failure is
raised again as this module's :class:`QhullError` (a ``RuntimeError``, as SciPy's).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Optional


class LazyModule:
    """A stand-in for the module ``name``, imported at the first attribute read.

    An attribute the module lacks is tried as its submodule (``name.attribute``), as
    ``from package import submodule`` would. With ``optional``, a module that cannot be
    imported makes the stand-in false (``if fpng: ...``) instead of raising.
    """

    __slots__ = ("_name", "_module", "_optional", "_missing")

    def __init__(self, name: str, optional: bool = False) -> None:
        self._name = name
        self._module: Optional[ModuleType] = None
        self._optional = optional
        self._missing = False

    def _load(self) -> ModuleType:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return module

    def __getattr__(self, attribute: str) -> Any:
        module = self._load()
        try:
            return getattr(module, attribute)
        except AttributeError:
            if attribute.startswith("__"):
                raise
            try:
                return importlib.import_module(f"{self._name}.{attribute}")
            except ModuleNotFoundError:
                raise AttributeError(f"module {self._name!r} has no attribute {attribute!r}") from None

    def __bool__(self) -> bool:
        if not self._optional:
            return True
        if self._module is None and not self._missing:
            try:
                self._load()
            except ImportError:
                self._missing = True
        return not self._missing

    def __dir__(self) -> list:
        return dir(self._load())

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str, optional: bool = False) -> LazyModule:
    """A :class:`LazyModule` for ``name`` (``optional``: false when not installed)."""
    return LazyModule(name, optional)


trimesh = lazy_module("trimesh")


class QhullError(RuntimeError):
    """Qhull could not build a hull (flat, degenerate or too few points): SciPy's
    ``QhullError`` raised again by :func:`ConvexHull`, with its message."""


def ConvexHull(points, *args, **kwargs):  # noqa: N802 (stands in for scipy.spatial.ConvexHull)
    """``scipy.spatial.ConvexHull(points, ...)``, SciPy imported on the first call.

    Raises:
        QhullError: SciPy's QhullError (this module's class, with SciPy's message).
    """
    from scipy.spatial import ConvexHull as hull  # noqa: PLC0415 (SciPy costs a quarter second to import)
    from scipy.spatial import QhullError as qhull_error  # noqa: PLC0415

    try:
        return hull(points, *args, **kwargs)
    except qhull_error as exc:
        raise QhullError(str(exc)) from exc
