"""Bare entry points of the GL calls made once per draw: uniform values and draws.

PyOpenGL converts every argument of a call that takes an array (a numpy array to a
pointer, through its format handlers) and asks ``glGetError`` after every call: about
10 us a ``glUniformMatrix4fv`` here, where the driver's own work is under 1 us. The
passes of a scene make about 120 such calls. The functions here call the driver's
entry points of the same names through ctypes with a bare pointer: the same arguments
reach the driver, so the images are the same. Errors are asked for once a pass
(:func:`check_errors`), as PyOpenGL's next call would find them anyway.

The arrays passed must be C-contiguous of the type the call reads (float32, int32 or
uint32); the callers make them so.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ..errors import RenderError
from .opengl import gl

_INT, _SIZE, _UINT, _BOOL, _POINTER = ctypes.c_int, ctypes.c_int, ctypes.c_uint, ctypes.c_ubyte, ctypes.c_void_p
_TYPES = {"f": np.dtype(np.float32), "i": np.dtype(np.int32), "u": np.dtype(np.uint32)}
_MATRIX_NAMES = {(n, n): f"glUniformMatrix{n}fv" for n in (2, 3, 4)}
_VECTOR_NAMES = {(n, kind): f"glUniform{n}{suffix}v" for n in (1, 2, 3, 4)
                 for kind, suffix in (("f", "f"), ("i", "i"), ("u", "ui"))}
_UNSIGNED_INT = 0x1405  # GL_UNSIGNED_INT
# the pack values of a 2D read, as PyOpenGL's glReadPixels sets them: rows packed tight
# from the rectangle's first pixel (read_pixels' array holds exactly that many bytes)
_TIGHT_PACKING = ((0x0D02, 0), (0x0D03, 0), (0x0D04, 0), (0x0D05, 1))  # ROW_LENGTH, SKIP_ROWS, SKIP_PIXELS, ALIGNMENT
_entry_points: dict[str, object] = {}  # name -> the ctypes function (see _entry_point)


def _entry_point(name: str, *argtypes):
    """The driver's function ``name`` (no result) as a ctypes function of ``argtypes``,
    made on first use and kept in ``_entry_points`` (callers look there first); PyOpenGL's
    own function where the platform does not give its address."""
    from OpenGL import platform

    address = platform.PLATFORM.getExtensionProcedure(name.encode("ascii"))
    found = _entry_points[name] = ctypes.CFUNCTYPE(None, *argtypes)(address) if address else getattr(gl(), name)
    return found


def _pointer(array: np.ndarray, kind: str) -> tuple[np.ndarray, int]:
    """(``array`` as a C-contiguous array of ``kind``'s type, the address of its data):
    the array itself where it is one already (the caller keeps it alive over the call)."""
    dtype = _TYPES[kind]
    if array.dtype != dtype or not array.flags.c_contiguous:
        array = np.ascontiguousarray(array, dtype=dtype)
    return array, array.__array_interface__["data"][0]


def uniform_matrix(location: int, matrix: np.ndarray) -> None:
    """Set the (n, n) ``matrix`` (n of 2, 3, 4; as float32) at uniform ``location`` of
    the bound program, transposed (row-major numpy to GL's columns), as
    ``glUniformMatrix{n}fv(location, 1, GL_TRUE, matrix)``."""
    matrix, address = _pointer(matrix, "f")
    name = _MATRIX_NAMES[matrix.shape]
    function = _entry_points.get(name) or _entry_point(name, _INT, _SIZE, _BOOL, _POINTER)
    function(location, 1, 1, address)


def uniform_vector(location: int, vector: np.ndarray, kind: str = "f") -> None:
    """Set the (n,) ``vector`` (n of 1..4; as ``kind``: ``"f"`` float32, ``"i"`` int32,
    ``"u"`` uint32) at uniform ``location`` of the bound program, as
    ``glUniform{n}{f,i,ui}v(location, 1, vector)``."""
    vector, address = _pointer(vector, kind)
    name = _VECTOR_NAMES[vector.shape[0], kind]
    function = _entry_points.get(name) or _entry_point(name, _INT, _SIZE, _POINTER)
    function(location, 1, address)


def draw_elements(mode: int, count: int, instances: int) -> None:
    """``glDrawElementsInstanced(mode, count, GL_UNSIGNED_INT, 0, instances)``: the bound
    vertex array's ``count`` indices (uint32, from the start of its index buffer)."""
    name = "glDrawElementsInstanced"
    function = _entry_points.get(name) or _entry_point(name, _UINT, _SIZE, _UINT, _POINTER, _SIZE)
    function(mode, count, _UNSIGNED_INT, None, instances)


def read_pixels(width: int, height: int, format: int, type: int, dtype, channels: int) -> np.ndarray:
    """(height, width, channels) (or (height, width) for one channel) new array of
    ``dtype`` read from the bound read framebuffer, as ``glReadPixels(0, 0, width,
    height, format, type)`` gives them: bottom row first, rows packed tight (row length
    and skips 0, alignment 1, set before each read as PyOpenGL's ``glReadPixels`` sets
    them, so that no pack value set elsewhere makes the driver write past the array).
    PyOpenGL's own call also allocates a zeroed array each time (a 320x240 RGBA read,
    alone: 31 us against 13 here).

    Raises:
        RenderError: the driver reported an error (then the array would hold no pixels).
    """
    shape = (height, width, channels) if channels > 1 else (height, width)
    pixels = np.empty(shape, dtype=dtype)
    store = _entry_points.get("glPixelStorei") or _entry_point("glPixelStorei", _UINT, _INT)
    for name, value in _TIGHT_PACKING:
        store(name, value)
    read = _entry_points.get("glReadPixels") or _entry_point(
        "glReadPixels", _INT, _INT, _SIZE, _SIZE, _UINT, _UINT, _POINTER)
    read(0, 0, width, height, format, type, pixels.ctypes.data)
    check_errors("reading pixels back")
    return pixels


def check_errors(what: str) -> None:
    """Raise RenderError naming ``what`` (a pass) and the GL errors the driver holds,
    if any (all are taken, so the next call starts clean)."""
    GL = gl()
    errors = []
    while (error := GL.glGetError()) != GL.GL_NO_ERROR:
        errors.append(f"0x{int(error):04x}")
        if len(errors) > 16:  # a lost context repeats its error for ever
            break
    if errors:
        raise RenderError(f"OpenGL reported error(s) {', '.join(errors)} in {what}")
