"""make_renderer: a render backend by engine name (``render.engine``)."""

from __future__ import annotations

from ..errors import ConfigError, choices
from ..world.dictionary import ObjectDictionary
from .backend import RenderBackend
from .pathtraced import PathTracer
from .raster import Renderer

# engine name -> backend class, each taking (dictionary, normals=..., its own options)
ENGINES = {Renderer.name: Renderer, PathTracer.name: PathTracer}
DEFAULT_ENGINE = "raster"


def make_renderer(dictionary: ObjectDictionary, engine: str = DEFAULT_ENGINE, normals: bool = True,
                  **options) -> RenderBackend:
    """A renderer of the scenes of ``dictionary`` with ``engine``.

    Args:
        dictionary: the object dictionary the scenes refer to.
        engine: the engine's name (``"raster"``: pyrender on OpenGL; ``"pathtraced"``:
            Mitsuba 3, :class:`scenegen.render.pathtraced.PathTracer`).
        normals: whether its frames carry ``Frame.normals``.
        options: the engine's own (the path tracer's ``spp``, ``max_depth``,
            ``variant``, ``denoise``).

    Raises:
        ConfigError: an unknown engine (with the valid names).
        RenderError: the engine cannot start (e.g. OpenGL cannot be loaded).
    """
    backend = ENGINES.get(engine)
    if backend is None:
        raise ConfigError(f"render.engine: unknown engine {engine!r}; valid: {choices(ENGINES)}")
    return backend(dictionary, normals=normals, **options)
