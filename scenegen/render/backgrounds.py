"""Background photographs in the colour pass (``photo.frag``): drawn where the depth is
still the far plane, after the surfaces, so each multisample is covered by a surface
or by the photograph; the label passes never draw it.

The photograph covers the image: scaled (bilinear, mip-mapped) so that its shorter side
relative to the image's fills it, and centred (:func:`cover`).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from ..scene.scene import Background
from ..world.backgrounds import BackgroundSet
from . import _pyrender
from .backend import scene_asset
from .opengl import gl
from .uniforms import set_uniform

PHOTO_UNIT = 0  # texture unit of the photograph while its pass draws
KEPT_PHOTOS = 16  # textures kept in the GL context; older ones are deleted


def cover(photo_size: tuple[int, int], image_size: tuple[int, int]) -> tuple[float, float]:
    """(u, v) shares of a (width, height) photograph's width and height that an image of
    (width, height) shows when the photograph covers it, centred: the larger of the two
    scales fits, so one share is 1 and the other at most 1."""
    (pw, ph), (iw, ih) = photo_size, image_size
    scale = max(iw / pw, ih / ph)  # photograph pixels -> image pixels
    return iw / (pw * scale), ih / (ph * scale)


class BackgroundPool:
    """The photographs of the Scenes a renderer draws: a set per folder, and the GL
    textures of the :data:`KEPT_PHOTOS` photographs drawn last."""

    def __init__(self):
        self.sets: dict[str, BackgroundSet] = {}
        self.textures: OrderedDict[tuple[str, str], tuple[int, tuple[int, int]]] = OrderedDict()

    def texture(self, background: Background) -> tuple[int, tuple[int, int]]:
        """(GL name, (width, height)) of ``background``'s photograph, uploaded on first
        use (the GL context current).

        Raises:
            RenderError: the folder or the photograph cannot be read (the reason).
        """
        key = (background.source, background.name)
        found = self.textures.get(key)
        if found is not None:
            self.textures.move_to_end(key)
            return found
        pixels = self.pixels(background)
        found = self.textures[key] = (_upload(pixels), (pixels.shape[1], pixels.shape[0]))
        while len(self.textures) > KEPT_PHOTOS:
            _, (texture, _) = self.textures.popitem(last=False)
            gl().glDeleteTextures([texture])
        return found

    def pixels(self, background: Background) -> np.ndarray:
        """(H, W, 3) uint8 pixels of ``background``'s photograph, its folder listed on
        first use.

        Raises:
            RenderError: the folder or the photograph cannot be read (the reason).
        """
        with scene_asset("background photo", background.name, background.source):
            if background.source not in self.sets:
                self.sets[background.source] = BackgroundSet.load(background.source)
            return self.sets[background.source].photo(background.name)

    def close(self, in_context: bool = True) -> None:
        """Forget every photograph, deleting its texture when ``in_context``."""
        if in_context and self.textures:
            gl().glDeleteTextures([texture for texture, _ in self.textures.values()])
        self.textures.clear()


def _upload(pixels: np.ndarray) -> int:
    """GL name of a new mip-mapped RGB8 texture of (H, W, 3) uint8 ``pixels``, top row
    first, as ``photo.frag`` reads it (t = 0 at the top)."""
    GL = gl()
    texture = int(GL.glGenTextures(1))
    GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
    GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
    height, width = pixels.shape[:2]
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGB8, width, height, 0, GL.GL_RGB, GL.GL_UNSIGNED_BYTE,
                    np.ascontiguousarray(pixels))
    GL.glGenerateMipmap(GL.GL_TEXTURE_2D)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR_MIPMAP_LINEAR)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
    for parameter in (GL.GL_TEXTURE_WRAP_S, GL.GL_TEXTURE_WRAP_T):
        GL.glTexParameteri(GL.GL_TEXTURE_2D, parameter, GL.GL_CLAMP_TO_EDGE)
    GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
    return texture


def draw_photo(programs, texture: int, photo_size: tuple[int, int], width: int, height: int,
               floor_rows: int = 0) -> None:
    """Draw the photograph ``texture`` of ``photo_size`` (width, height) where the bound
    framebuffer's depth is still the far plane, covering a ``width`` x ``height`` image
    but for its bottom ``floor_rows`` rows (covered by the floor: see
    :meth:`~scenegen.render.programs.ShaderPrograms.draw_behind`)."""
    GL = gl()
    program = programs.screen("photo.frag")
    _pyrender.bind(program)
    GL.glActiveTexture(GL.GL_TEXTURE0 + PHOTO_UNIT)
    GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
    set_uniform(program, "photo", PHOTO_UNIT)
    set_uniform(program, "cover", np.array(cover(photo_size, (width, height)), dtype=np.float32))
    set_uniform(program, "image_size", np.array([width, height], dtype=np.float32))
    programs.draw_behind(width, height, floor_rows)
    GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
    _pyrender.unbind_program(program)
