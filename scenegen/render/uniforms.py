"""Uniforms of pyrender's shader programs, set as pyrender's ``ShaderProgram.set_uniform``
sets them with each location looked up once per program, and the values handed to the
driver through :mod:`scenegen.render.rawgl` (pyrender asks GL for the location by name at
every call, through PyOpenGL)."""

from __future__ import annotations

import numpy as np

from . import _pyrender
from .opengl import gl
from .rawgl import uniform_matrix, uniform_vector


def location(program, name: str) -> int:
    """The uniform location of ``name`` in ``program`` (a pyrender ShaderProgram in the
    current context), looked up once per program (kept in its ``locations`` dict)."""
    locations = program.__dict__.setdefault("locations", {})
    found = locations.get(name)
    if found is None:
        found = locations[name] = int(gl().glGetUniformLocation(_pyrender.program_id(program), name))
    return found


def set_uniform(program, name: str, value) -> None:
    """Set uniform ``name`` of the bound ``program`` as pyrender's
    ``ShaderProgram.set_uniform`` does (a 1-D array as a vector of float32, int32 or
    uint32 by its dtype; a 2-D array as a float32 matrix, transposed; a float as a
    float; an int as an int; a name the program lacks is skipped), with the location
    looked up once."""
    loc = location(program, name)
    if loc == -1:
        return
    if isinstance(value, np.ndarray):
        if value.ndim == 1:
            kind = value.dtype.kind
            uniform_vector(loc, value, kind if kind in "iu" else "f")
        else:
            uniform_matrix(loc, value)
    elif isinstance(value, float):
        gl().glUniform1f(loc, value)
    elif isinstance(value, int):
        gl().glUniform1i(loc, value)
    else:
        raise TypeError(f"uniform {name}: cannot set a {type(value).__name__}")
