"""scenegen.render.rawgl, the bare entry points of the per-draw GL calls: they set what
PyOpenGL's calls set, convert what they are given, and errors are named by pass; and
the programs remembered per draw key are pyrender's own choice."""

import numpy as np
import pytest

from scenegen import Sampler, load_config
from scenegen.errors import RenderError
from scenegen.render import _pyrender, rawgl
from scenegen.render.context import GL_CONTEXT
from scenegen.render.graph import upload_graph
from scenegen.render.opengl import gl
from scenegen.render.raster import Renderer

pytestmark = pytest.mark.render

VERTEX = """#version 330 core
uniform mat4 m4; uniform mat3 m3; uniform mat2 m2;
uniform vec4 v4; uniform vec3 v3; uniform vec2 v2; uniform float v1;
uniform ivec3 i3; uniform uvec2 u2;
in vec3 p;
void main() {
    vec4 q = m4 * vec4(m3 * p, 1.0) + v4 + vec4(v3, v1) + vec4(m2 * v2, vec2(i3.xy) + vec2(u2));
    gl_Position = q;
}
"""
FRAGMENT = "#version 330 core\nout vec4 colour; void main() { colour = vec4(1.0); }\n"


@pytest.fixture
def program():
    from OpenGL.GL import shaders

    with GL_CONTEXT.current(32, 32):
        GL = gl()
        made = shaders.compileProgram(shaders.compileShader(VERTEX, GL.GL_VERTEX_SHADER),
                                      shaders.compileShader(FRAGMENT, GL.GL_FRAGMENT_SHADER), validate=False)
        GL.glUseProgram(made)
        yield made
        GL.glUseProgram(0)
        GL.glDeleteProgram(made)


def read_back(program, name: str, size: int, kind: str) -> np.ndarray:
    GL = gl()
    location = GL.glGetUniformLocation(program, name)
    out = np.zeros(size, dtype={"f": np.float32, "i": np.int32, "u": np.uint32}[kind])
    {"f": GL.glGetUniformfv, "i": GL.glGetUniformiv, "u": GL.glGetUniformuiv}[kind](program, location, out)
    return out


def test_matrices_and_vectors_are_set_as_pyopengl_sets_them(program):
    GL = gl()
    rng = np.random.default_rng(0)
    for _ in range(25):
        for n in (2, 3, 4):
            value = rng.normal(size=(n, n))  # float64: converted
            location = GL.glGetUniformLocation(program, f"m{n}")
            for matrix in (value, value.T, value.astype(np.float32)):  # a transposed view is not C-contiguous
                rawgl.uniform_matrix(location, matrix)
                ours = read_back(program, f"m{n}", n * n, "f")
                getattr(GL, f"glUniformMatrix{n}fv")(location, 1, GL.GL_TRUE, np.ascontiguousarray(matrix, np.float32))
                np.testing.assert_array_equal(ours, read_back(program, f"m{n}", n * n, "f"))
                # GL keeps columns: the row-major matrix went in transposed
                np.testing.assert_array_equal(ours.reshape(n, n).T, matrix.astype(np.float32))
        for name, n, kind, draw in (("v4", 4, "f", rng.normal), ("v3", 3, "f", rng.normal), ("v2", 2, "f", rng.normal),
                                    ("v1", 1, "f", rng.normal),
                                    ("i3", 3, "i", lambda size: rng.integers(-1000, 1000, size)),
                                    ("u2", 2, "u", lambda size: rng.integers(0, 1000, size))):
            value = draw(size=n)
            rawgl.uniform_vector(GL.glGetUniformLocation(program, name), value, kind)
            expected = value.astype({"f": np.float32, "i": np.int32, "u": np.uint32}[kind])
            np.testing.assert_array_equal(read_back(program, name, n, kind), expected)
    rawgl.check_errors("the test")


def test_a_gl_error_is_named_by_its_pass_once(program):
    GL = gl()
    location = GL.glGetUniformLocation(program, "v3")
    rawgl.uniform_vector(location, np.ones(4, np.float32))  # a vec4 into a vec3: GL_INVALID_OPERATION
    with pytest.raises(RenderError, match=r"error\(s\) 0x0502 in the test pass"):
        rawgl.check_errors("the test pass")
    rawgl.check_errors("the test pass")  # taken: nothing left


def test_pixels_are_read_as_pyopengl_reads_them_and_a_failed_read_is_an_error():
    with GL_CONTEXT.current(37, 29):
        GL = gl()
        target = GL_CONTEXT.target(37, 29)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target.framebuffer)
        GL.glDrawBuffers(1, [GL.GL_COLOR_ATTACHMENT0])
        GL.glClearColor(0.2, 0.4, 0.6, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        for fmt, channels in ((GL.GL_RGB, 3), (GL.GL_RGBA, 4)):  # 37 x 3 bytes: rows not a multiple of 4
            expected = np.frombuffer(GL.glReadPixels(0, 0, 37, 29, fmt, GL.GL_UNSIGNED_BYTE), np.uint8)
            got = rawgl.read_pixels(37, 29, fmt, GL.GL_UNSIGNED_BYTE, np.uint8, channels)
            assert got.shape == (29, 37, channels)
            np.testing.assert_array_equal(got.ravel(), expected)
        assert (got[..., :3] == [51, 102, 153]).all()
        # pack values left by other code (a longer row, skipped rows and pixels, 8-byte
        # rows) change nothing: the read still fills exactly its array
        for name, value in ((GL.GL_PACK_ROW_LENGTH, 64), (GL.GL_PACK_SKIP_ROWS, 5),
                            (GL.GL_PACK_SKIP_PIXELS, 7), (GL.GL_PACK_ALIGNMENT, 8)):
            GL.glPixelStorei(name, value)
        again = rawgl.read_pixels(37, 29, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE, np.uint8, 4)
        np.testing.assert_array_equal(again, got)
        assert [int(GL.glGetIntegerv(name)) for name in (GL.GL_PACK_ROW_LENGTH, GL.GL_PACK_SKIP_ROWS,
                                                          GL.GL_PACK_SKIP_PIXELS, GL.GL_PACK_ALIGNMENT)] == [0, 0, 0, 1]
        with pytest.raises(RenderError, match="reading pixels back"):
            rawgl.read_pixels(37, 29, 0x1234, GL.GL_UNSIGNED_BYTE, np.uint8, 4)  # no such format
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)


def test_remembered_programs_are_pyrenders_choice_and_made_again_once_deleted(dictionary):
    from pyrender.constants import ProgramFlags, RenderFlags

    cfg = load_config(["width=64", "height=48", "preset=realistic"])
    renderer = Renderer(dictionary)
    scenes = [Sampler(cfg).sample(i) for i in range(4)]
    draws = (  # (flags, program flags, whose cache) of the colour pass with and without shadows, and the shadow pass
        (RenderFlags.OFFSCREEN | RenderFlags.SHADOWS_DIRECTIONAL, ProgramFlags.USE_MATERIAL, "mesh"),
        (RenderFlags.OFFSCREEN, ProgramFlags.USE_MATERIAL, "mesh"),
        (RenderFlags.OFFSCREEN | RenderFlags.SHADOWS_DIRECTIONAL, ProgramFlags.NONE, None),
    )
    with GL_CONTEXT.current(64, 48) as gl_renderer:
        mesh_programs = GL_CONTEXT.programs().mesh(2, True)
        checked = 0
        for scene in scenes:
            graph = renderer.build(scene)
            upload_graph(gl_renderer, graph)
            for mesh in graph.meshes:
                primitive = mesh.primitives[0]
                for flags, program_flags, whose in draws:
                    cache = mesh_programs if whose else None
                    remembered = _pyrender.primitive_program(gl_renderer, primitive, flags, program_flags, cache)
                    _pyrender.forget_programs(gl_renderer, cache)
                    chosen = _pyrender.primitive_program(gl_renderer, primitive, flags, program_flags, cache)
                    assert remembered is chosen  # pyrender's own choice, asked again
                    checked += 1
        assert checked > 50
        remembered.delete()  # e.g. the program cache cleared
        assert _pyrender.program_id(remembered) is None
        again = _pyrender.primitive_program(gl_renderer, primitive, flags, program_flags, cache)
        assert _pyrender.program_id(again) is not None
    renderer.close()
