"""Rendering: a Scene in, a Frame of named image layers out.

- :mod:`~scenegen.render.backend`: the interface every engine implements
  (:class:`RenderBackend`); :mod:`~scenegen.render.engines`: :func:`make_renderer`.
- the raster engine, pyrender on headless OpenGL: :mod:`~scenegen.render.raster` (the
  :class:`Renderer`), :mod:`~scenegen.render.opengl` (GL platform, lazy imports),
  :mod:`~scenegen.render.context` (the process's GL context), :mod:`~scenegen.render.meshes`
  (pooled meshes, materials, textures, lights), :mod:`~scenegen.render.graph` (a scene's
  pyrender graph), :mod:`~scenegen.render.colour` (shadow maps and lit colour pass),
  :mod:`~scenegen.render.flat` (ids, normals, depth, amodal passes),
  :mod:`~scenegen.render.framebuffer`, :mod:`~scenegen.render.programs` (scenegen's
  shaders), :mod:`~scenegen.render.decode` (pixels to layers),
  :mod:`~scenegen.render.textures` (procedural textures) and
  :mod:`~scenegen.render._pyrender` (every use of pyrender's private members).
"""

from .backend import RenderBackend
from .engines import ENGINES, make_renderer
from .raster import Renderer

__all__ = ["ENGINES", "RenderBackend", "Renderer", "make_renderer"]
