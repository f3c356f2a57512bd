"""scenegen.render.uniforms.set_uniform sets every uniform of scenegen's screen programs
(the sky, the ambient occlusion, the photograph) to what pyrender's
``ShaderProgram.set_uniform`` sets, with each location looked up once."""

import numpy as np
import pytest

from scenegen.render import _pyrender
from scenegen.render.context import GL_CONTEXT
from scenegen.render.opengl import gl
from scenegen.render.uniforms import location, set_uniform

pytestmark = pytest.mark.render


def active_uniforms(program_id: int) -> dict:
    """name -> GL type of each active uniform of a linked program."""
    GL = gl()
    found = {}
    for index in range(int(GL.glGetProgramiv(program_id, GL.GL_ACTIVE_UNIFORMS))):
        name, _, kind = GL.glGetActiveUniform(program_id, index)
        found[name.decode() if isinstance(name, bytes) else name] = int(kind)
    return found


def a_value(kind: int, rng):
    """A random value of GL type ``kind`` as scenegen's passes give it (a Python number,
    a float32 vector, a float32 matrix)."""
    GL = gl()
    vectors = {GL.GL_FLOAT_VEC2: 2, GL.GL_FLOAT_VEC3: 3, GL.GL_FLOAT_VEC4: 4}
    matrices = {GL.GL_FLOAT_MAT3: 3, GL.GL_FLOAT_MAT4: 4}
    if kind == GL.GL_FLOAT:
        return float(rng.normal())
    if kind in vectors:
        return rng.normal(size=vectors[kind]).astype(np.float32)
    if kind in matrices:
        return rng.normal(size=(matrices[kind],) * 2).astype(np.float32)
    return int(rng.integers(0, 15))  # an int or a sampler's texture unit


def read_back(program_id: int, name: str, value) -> np.ndarray:
    GL = gl()
    size = np.asarray(value).size
    floating = not isinstance(value, int)
    out = np.zeros(size, dtype=np.float32 if floating else np.int32)
    (GL.glGetUniformfv if floating else GL.glGetUniformiv)(program_id, GL.glGetUniformLocation(program_id, name), out)
    return out


@pytest.mark.parametrize("shader", ["sky.frag", "occlusion.frag", "photo.frag"])
def test_screen_programs_get_what_pyrender_would_set(shader):
    rng = np.random.default_rng(0)
    with GL_CONTEXT.current(16, 16):
        program = GL_CONTEXT.programs().screen(shader)
        _pyrender.bind(program)
        program_id = _pyrender.program_id(program)
        uniforms = active_uniforms(program_id)
        assert len(uniforms) >= 3, uniforms
        for name, kind in uniforms.items():
            for _ in range(5):
                value = a_value(kind, rng)
                set_uniform(program, name, value)
                ours = read_back(program_id, name, value)
                program.set_uniform(name, value)  # pyrender's own
                np.testing.assert_array_equal(ours, read_back(program_id, name, value))
        set_uniform(program, "not_in_this_program", 1.0)  # skipped, as pyrender skips it
        assert location(program, "not_in_this_program") == -1
        _pyrender.unbind_program(program)
        assert gl().glGetError() == gl().GL_NO_ERROR
