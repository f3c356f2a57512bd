"""make_renderer: a render backend by engine name (the future ``render.engine`` key)."""

from __future__ import annotations

from ..errors import ConfigError, choices
from ..world.dictionary import ObjectDictionary
from .backend import RenderBackend
from .raster import Renderer

# engine name -> backend class, each taking (dictionary, normals=...)
ENGINES = {Renderer.name: Renderer}
DEFAULT_ENGINE = "raster"


def make_renderer(dictionary: ObjectDictionary, engine: str = DEFAULT_ENGINE, normals: bool = True) -> RenderBackend:
    """A renderer of the scenes of ``dictionary`` with ``engine``.

    Args:
        dictionary: the object dictionary the scenes refer to.
        engine: the engine's name (``"raster"``: pyrender on OpenGL).
        normals: whether its frames carry ``Frame.normals``.

    Raises:
        ConfigError: an unknown engine (with the valid names).
        RenderError: the engine cannot start (e.g. OpenGL cannot be loaded).
    """
    backend = ENGINES.get(engine)
    if backend is None:
        raise ConfigError(f"render.engine: unknown engine {engine!r}; valid: {choices(ENGINES)}")
    return backend(dictionary, normals=normals)
