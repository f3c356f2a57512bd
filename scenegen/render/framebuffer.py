"""FlatTarget: the single-sample framebuffer scenegen's flat passes draw into."""

from __future__ import annotations

import numpy as np

from ..errors import RenderError
from .opengl import gl


class FlatTarget:
    """Single-sample framebuffer of the flat passes, ``width`` x ``height`` pixels: colour
    targets 0 (ids) and 1 (normals) of the id pass, 2 (silhouette bits) of the amodal
    pass, all RGBA8, and a 24-bit depth buffer (as pyrender's).

    Made and deleted while its GL context is current.

    Raises:
        RenderError: the driver cannot make the framebuffer.
    """

    FORMATS = ("GL_RGBA8", "GL_RGBA8", "GL_RGBA8", "GL_DEPTH_COMPONENT24")

    def __init__(self, width: int, height: int):
        GL = gl()
        self.size = (width, height)
        self.framebuffer = GL.glGenFramebuffers(1)
        self.buffers = [int(b) for b in np.atleast_1d(GL.glGenRenderbuffers(len(self.FORMATS)))]
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.framebuffer)
        for i, (buffer, name) in enumerate(zip(self.buffers, self.FORMATS)):
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, buffer)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, getattr(GL, name), width, height)
            attachment = GL.GL_DEPTH_ATTACHMENT if "DEPTH" in name else GL.GL_COLOR_ATTACHMENT0 + i
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, attachment, GL.GL_RENDERBUFFER, buffer)
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
        data = GL.glReadPixels(0, 0, width, height, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE)
        return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 4)[::-1]

    def read_depth(self) -> np.ndarray:
        """(H, W) float32 window depth in [0, 1], top row first."""
        GL = gl()
        width, height = self.size
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.framebuffer)
        data = GL.glReadPixels(0, 0, width, height, GL.GL_DEPTH_COMPONENT, GL.GL_FLOAT)
        return np.frombuffer(data, dtype=np.float32).reshape(height, width)[::-1]

    def delete(self) -> None:
        """Delete the framebuffer and its renderbuffers from the current GL context."""
        GL = gl()
        GL.glDeleteRenderbuffers(len(self.buffers), self.buffers)
        GL.glDeleteFramebuffers(1, [self.framebuffer])
