"""RenderBackend: the interface every renderer implements, a Scene in, a Frame out.

A backend turns a :class:`~scenegen.scene.scene.Scene` (pure data) into a
:class:`~scenegen.scene.frame.Frame` of named layers, and never draws random numbers:
rendering one Scene twice gives the same layers. The raster backend
(:class:`scenegen.render.raster.Renderer`, pyrender on OpenGL) is the first; a
path-traced one follows. :func:`scenegen.render.engines.make_renderer` makes one by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self

from ..errors import RenderError
from ..scene.frame import Frame
from ..scene.scene import Scene

# every layer a Frame can hold (see Frame), in its order
FRAME_LAYERS = ("rgb", "depth", "instances", "semantic", "parts", "amodal", "normals")


@contextmanager
def scene_asset(what: str, name: str, source: str) -> Iterator[None]:
    """Around reading ``what`` (an environment map, a texture set, a photograph) ``name``
    of ``source`` that a Scene names: a failure (ConfigError, OSError, a broken file)
    becomes a RenderError naming all three and the reason."""
    try:
        yield
    except Exception as exc:
        raise RenderError(f"{what} {name!r} of {source!r}: {exc}") from exc


class RenderBackend(ABC):
    """A renderer of the Scenes of one object dictionary; a context manager that
    :meth:`close`\\ s on exit.

    Attributes:
        name: the engine's name, as ``make_renderer`` takes it (e.g. ``"raster"``).
    """

    name: str = ""

    @property
    @abstractmethod
    def layers(self) -> tuple[str, ...]:
        """The names of the Frame layers :meth:`render` fills (of :data:`FRAME_LAYERS`)."""

    @property
    @abstractmethod
    def version(self) -> str:
        """What made the pixels, to record beside a dataset: the engine and the version
        of the library it draws with (e.g. ``"raster (pyrender-maintained 1.0.1)"``)."""

    @abstractmethod
    def render(self, scene: Scene, timings: dict[str, float] | None = None) -> Frame:
        """Every layer of :attr:`layers` of ``scene``.

        Args:
            scene: the scene; its objects, styles and textures name the backend's
                dictionary.
            timings: when given, seconds spent per step are added to it under the
                backend's step names (for benchmarks).

        Raises:
            RenderError: the scene cannot be rendered (no graphics device, a size or a
                count beyond the backend's limits, a name the dictionary lacks).
        """

    @abstractmethod
    def close(self) -> None:
        """Free what the backend holds for its scenes; it may not render after."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
