"""FlatTarget: the single-sample framebuffer scenegen's flat passes draw into."""

from __future__ import annotations

import numpy as np

from ..errors import RenderError
from .opengl import gl
from .rawgl import read_pixels


class FlatTarget:
    """Single-sample framebuffer of the flat passes, ``width`` x ``height`` pixels: colour
    targets 0 (ids) and 1 (normals) of the id pass, 2 (silhouette bits) of the amodal
    pass, all RGBA8 renderbuffers, and a 24-bit depth texture (as pyrender's depth
    buffer; a texture so that the ambient-occlusion pass can read the id pass's depth:
    :attr:`depth_texture`); and the ambient-occlusion pass's own framebuffer
    (:attr:`occlusion_framebuffer`) and RG16F texture (:attr:`occlusion_texture`, at half
    the resolution: :attr:`occlusion_size`; per 2x2 pixels the share of light not
    occluded and the view-space depth, metres).

    Made and deleted while its GL context is current.

    Raises:
        RenderError: the driver cannot make the framebuffer.
    """

    FORMATS = ("GL_RGBA8", "GL_RGBA8", "GL_RGBA8")  # the colour targets

    def __init__(self, width: int, height: int):
        GL = gl()
        self.size = (width, height)
        self.framebuffer = GL.glGenFramebuffers(1)
        self.buffers = [int(b) for b in np.atleast_1d(GL.glGenRenderbuffers(len(self.FORMATS)))]
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.framebuffer)
        for i, (buffer, name) in enumerate(zip(self.buffers, self.FORMATS)):
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, buffer)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, getattr(GL, name), width, height)
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0 + i, GL.GL_RENDERBUFFER, buffer)
        self.depth_texture = _texture(GL.GL_DEPTH_COMPONENT24, GL.GL_DEPTH_COMPONENT, width, height)
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, GL.GL_TEXTURE_2D, self.depth_texture, 0)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        self.occlusion_framebuffer = GL.glGenFramebuffers(1)
        self.occlusion_size = ((width + 1) // 2, (height + 1) // 2)  # texels a side: one per 2x2 pixels
        self.occlusion_texture = _texture(GL.GL_RG16F, GL.GL_RG, *self.occlusion_size)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.occlusion_framebuffer)
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D,
                                  self.occlusion_texture, 0)
        if status == GL.GL_FRAMEBUFFER_COMPLETE:
            status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            self.delete()
            raise RenderError(f"the GL driver cannot make scenegen's {width}x{height} framebuffer (status {status})")

    def read(self, attachment: int) -> np.ndarray:
        """(H, W, 4) uint8 of colour target ``attachment``, top row first."""
        GL = gl()
        width, height = self.size
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.framebuffer)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0 + attachment)
        return read_pixels(width, height, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, np.uint8, 4)[::-1]

    def read_depth(self) -> np.ndarray:
        """(H, W) float32 window depth in [0, 1], top row first."""
        GL = gl()
        width, height = self.size
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.framebuffer)
        return read_pixels(width, height, GL.GL_DEPTH_COMPONENT, GL.GL_FLOAT, np.float32, 1)[::-1]

    def delete(self) -> None:
        """Delete the framebuffer, its renderbuffers and depth texture from the current GL
        context."""
        GL = gl()
        GL.glDeleteRenderbuffers(len(self.buffers), self.buffers)
        GL.glDeleteTextures([self.depth_texture, self.occlusion_texture])
        GL.glDeleteFramebuffers(2, [self.framebuffer, self.occlusion_framebuffer])


def _texture(internal_format: int, data_format: int, width: int, height: int) -> int:
    """GL name of a new ``width`` x ``height`` texture of ``internal_format``, sampled
    texel by texel (nearest, clamped)."""
    GL = gl()
    texture = int(GL.glGenTextures(1))
    GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
    GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal_format, width, height, 0, data_format, GL.GL_FLOAT, None)
    for parameter in (GL.GL_TEXTURE_MIN_FILTER, GL.GL_TEXTURE_MAG_FILTER):
        GL.glTexParameteri(GL.GL_TEXTURE_2D, parameter, GL.GL_NEAREST)
    for parameter in (GL.GL_TEXTURE_WRAP_S, GL.GL_TEXTURE_WRAP_T):
        GL.glTexParameteri(GL.GL_TEXTURE_2D, parameter, GL.GL_CLAMP_TO_EDGE)
    GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
    return texture
