"""Every use of a private member of pyrender, each behind a small named function.

The raster backend drives pyrender below its public API: it draws the forward pass
itself (:mod:`scenegen.render.forward`) into pyrender's framebuffers with programs of
pyrender's program caches, in pyrender's draw order and shadow cameras, tells pyrender's renderer which GL objects scenegen put in the context, and
skips work pyrender's Node and Scene do that rendering never reads. No other module of
scenegen touches a name of pyrender that starts with an underscore: they call these.

:data:`PRIVATE_MEMBERS` lists each member used here, by the pyrender class that defines
it. ``pyproject.toml`` pins ``pyrender-maintained`` exactly, and
``tests/render/test_render_internals.py`` checks that every listed member exists on the
installed pyrender (with the parameters called here) and that this module uses no other,
so an upgrade of pyrender fails there, in one place.

pyrender is never imported here: its objects come in as arguments (the GL platform is
chosen before pyrender is imported, see :mod:`scenegen.render.opengl`).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from functools import cache

import numpy as np

from .opengl import gl

# pyrender class -> {private member: leading parameter names of the method called, or
# None for a data attribute}
PRIVATE_MEMBERS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "pyrender.offscreen.OffscreenRenderer": {
        "_platform": None,
        "_renderer": None,
    },
    "pyrender.renderer.Renderer": {
        "_program_cache": None,
        "_get_camera_matrices": ("scene",),
        "_main_fb": None,
        "_main_fb_ms": None,
        "_meshes": None,
        "_mesh_textures": None,
        "_shadow_textures": None,
        "_configure_shadow_framebuffer": (),
        "_shadow_fb": None,
        "_get_light_cam_matrices": ("scene", "light_node", "flags"),
        "_get_primitive_program": ("primitive", "flags", "program_flags"),
        "_forward_pass": ("scene", "flags"),
        "_bind_lighting": ("scene", "program", "node", "flags"),
        "_read_main_framebuffer": ("scene", "flags"),
        "_bind_and_draw_primitive": ("primitive", "pose", "program", "flags"),
        "_reset_active_textures": (),
        "_configure_main_framebuffer": (),
        "_sorted_mesh_nodes": ("scene",),
    },
    "pyrender.node.Node": {
        "_matrix": None,
        "_rotation": None,
        "_scale": None,
        "_translation": None,
        "_m_from_tqs": ("t", "q", "s"),
        "_q_from_m": ("m",),
        "_s_from_m": ("m",),
        "_t_from_m": ("m",),
    },
    "pyrender.scene.Scene": {
        "_mesh_nodes": None,
        "_bounds": None,
    },
    "pyrender.primitive.Primitive": {
        "_in_context": (),
        "_add_to_context": (),
        "_bind": (),
        "_vaid": None,
    },
    "pyrender.texture.Texture": {
        "_in_context": (),
        "_add_to_context": (),
        "_bind": (),
        "_bind_as_depth_attachment": (),
        "_texid": None,
    },
    "pyrender.shader_program.ShaderProgram": {
        "_in_context": (),
        "_add_to_context": (),
        "_bind": (),
        "_unbind": (),
        "_program_id": None,
    },
}


# -- the offscreen renderer: its GL context and the renderer inside ----------------------


def make_current(offscreen) -> None:
    """Make ``offscreen``'s GL context current in this thread (``OffscreenRenderer._platform``:
    pyrender makes it current only inside its own ``render``)."""
    offscreen._platform.make_current()


def make_uncurrent(offscreen) -> None:
    """Release ``offscreen``'s GL context from this thread (``OffscreenRenderer._platform``)."""
    offscreen._platform.make_uncurrent()


def delete_offscreen(offscreen) -> None:
    """Delete ``offscreen``'s GL objects and its context, as ``OffscreenRenderer.delete``
    does but for its closing ``gc.collect()``: at exit, where this runs, a full
    collection of the heap costs about 50 ms and collects nothing GL needs."""
    offscreen._platform.make_current()
    offscreen._renderer.delete()
    offscreen._platform.delete_context()
    offscreen._renderer = offscreen._platform = None


def inner_renderer(offscreen):
    """The ``pyrender.Renderer`` of ``offscreen`` (``OffscreenRenderer._renderer``): scenegen
    calls its passes one by one instead of ``OffscreenRenderer.render``."""
    return offscreen._renderer


# -- pyrender.Renderer's passes ----------------------------------------------------------


def camera_matrices(renderer, scene) -> tuple[np.ndarray, np.ndarray]:
    """(V, P), the (4, 4) view and projection matrices pyrender draws ``scene``'s camera
    with at the renderer's viewport size (``Renderer._get_camera_matrices``)."""
    return renderer._get_camera_matrices(scene)


def bind_main_framebuffer(renderer) -> None:
    """Make pyrender's main framebuffers (sized to the renderer's viewport) and bind the
    multisampled one for drawing, as its forward pass does
    (``Renderer._configure_main_framebuffer``, ``Renderer._main_fb_ms``)."""
    GL = gl()
    renderer._configure_main_framebuffer()
    GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, renderer._main_fb_ms)


def sorted_mesh_nodes(renderer, scene) -> list:
    """``scene``'s mesh nodes in the order pyrender's forward pass draws them: opaque
    ones, then transparent ones, each farthest from the camera first (a stable sort;
    ``Renderer._sorted_mesh_nodes``)."""
    return renderer._sorted_mesh_nodes(scene)


def main_framebuffers(renderer) -> tuple[int, int]:
    """(multisampled, single-sample) ids of pyrender's main framebuffers, where the forward
    pass draws and where it resolves to (``Renderer._main_fb_ms``, ``Renderer._main_fb``)."""
    return renderer._main_fb_ms, renderer._main_fb


def shadow_framebuffer(renderer) -> int:
    """Id of pyrender's shadow-map framebuffer, made on first use
    (``Renderer._configure_shadow_framebuffer``, ``Renderer._shadow_fb``)."""
    renderer._configure_shadow_framebuffer()
    return renderer._shadow_fb


def light_matrices(renderer, scene, light_node, flags) -> tuple[np.ndarray, np.ndarray]:
    """(V, P) of the shadow camera pyrender frames on ``scene``'s bounds for light
    ``light_node`` (``Renderer._get_light_cam_matrices``)."""
    return renderer._get_light_cam_matrices(scene, light_node, flags)


def primitive_program(renderer, primitive, flags, program_flags, programs=None):
    """The ``ShaderProgram`` pyrender draws ``primitive`` with under ``flags``
    (``Renderer._get_primitive_program``), from ``programs`` (a ``ShaderProgramCache``;
    None: pyrender's own).

    pyrender works the program's defines out again at every call (and asks GL for its
    texture units): here the program is remembered in the cache it comes from, by all
    that pyrender's choice reads (the flags, the primitive's buffers and mode, its
    material's textures and kind), while it is in the context."""
    known = _remembered_programs(renderer, programs)
    material = primitive.material
    key = (flags, program_flags, primitive.buf_flags, primitive.mode, material.tex_flags, type(material))
    program = known.get(key)
    if program is None or not program._in_context():
        with _programs_of(renderer, programs):
            program = known[key] = renderer._get_primitive_program(primitive, flags, program_flags)
    return program


def _remembered_programs(renderer, programs) -> dict:
    """The programs :func:`primitive_program` remembers in ``programs`` (None:
    pyrender's own cache), by draw key."""
    cache = renderer._program_cache if programs is None else programs
    return cache.__dict__.setdefault("scenegen_programs", {})


def forget_programs(renderer, programs=None) -> None:
    """Forget the programs :func:`primitive_program` remembers in ``programs`` (None:
    pyrender's own cache): the next calls ask pyrender again."""
    _remembered_programs(renderer, programs).clear()


@contextmanager
def _programs_of(renderer, programs):
    """``programs`` (a ``ShaderProgramCache``; None: pyrender's own) in place of
    ``Renderer._program_cache`` meanwhile."""
    saved = renderer._program_cache
    if programs is not None:
        renderer._program_cache = programs
    try:
        yield
    finally:
        renderer._program_cache = saved


# -- pyrender's own passes: the reference scenegen.render.forward is checked against -----


def pyrender_forward_pass(renderer, scene, flags, programs, light_nodes, bind_extra=None, light_matrices=None) -> None:
    """The colour pass as pyrender draws it (``Renderer._forward_pass``, per primitive:
    ``Renderer._bind_lighting``, ``Renderer._bind_and_draw_primitive``), with the
    programs of ``programs`` (swapped in for ``Renderer._program_cache``), without its
    read-back (``Renderer._read_main_framebuffer``), the lights iterated in the order of
    ``light_nodes`` (pyrender's own is a set's) and ``bind_extra(program)`` after each
    lighting. The signature of :func:`scenegen.render.forward.forward_pass`, which draws
    the same image (``tests/render/test_forward.py``); pyrender works out the shadow
    cameras itself (``light_matrices`` is not read), and the shadow matrix it sets for
    light i (``directional_lights[i].light_matrix``, read by pyrender's mesh.frag) is set
    where scenegen's mesh.vert reads it (``light_matrices[i]``)."""
    scene_class, scene.__class__ = scene.__class__, _ordered_lights(scene.__class__)
    scene.ordered_light_nodes = list(light_nodes)
    renderer._read_main_framebuffer = _no_read
    bind_lighting = renderer._bind_lighting

    def bind_lighting_and_extra(scene, program, node, flags):
        bind_lighting(scene, _LightMatricesMoved(program), node, flags)
        if bind_extra is not None:
            bind_extra(program)

    renderer._bind_lighting = bind_lighting_and_extra
    try:
        with _programs_of(renderer, programs):
            renderer._forward_pass(scene, flags)
    finally:
        scene.__class__ = scene_class
        del renderer._read_main_framebuffer
        del renderer._bind_lighting


_PYRENDER_LIGHT_MATRIX = re.compile(r"directional_lights\[(\d+)\]\.light_matrix")


class _LightMatricesMoved:
    """A pyrender ShaderProgram as ``Renderer._bind_lighting`` sets its uniforms, but for
    each directional light's shadow matrix, set as ``light_matrices[i]`` (scenegen's
    mesh.vert works the shadow-map coordinates out per vertex)."""

    def __init__(self, program):
        self.wrapped = program

    def set_uniform(self, name, value, unsigned=False):
        moved = _PYRENDER_LIGHT_MATRIX.fullmatch(name)
        if moved is not None:
            name = f"light_matrices[{moved[1]}]"
        self.wrapped.set_uniform(name, value, unsigned)

    def __getattr__(self, name):
        return getattr(self.wrapped, name)


def _no_read(scene, flags):
    return None


@cache
def _ordered_lights(scene_class):
    """A subclass of pyrender's Scene class ``scene_class`` whose ``light_nodes`` is the
    list ``ordered_light_nodes``."""

    class OrderedLights(scene_class):
        light_nodes = property(lambda self: self.ordered_light_nodes)

    return OrderedLights


def pyrender_shadow_pass(renderer, scene, light_node, flags, casters, matrices=None) -> None:
    """The casters' depth as pyrender draws it: per caster its program bound, the light's
    camera set (``Renderer._get_light_cam_matrices``, worked out here: ``matrices`` is not
    read) and ``Renderer._bind_and_draw_primitive`` with ``DEPTH_ONLY``; the reference of
    :func:`scenegen.render.forward.shadow_pass`."""
    from pyrender.constants import ProgramFlags, RenderFlags

    V, P = renderer._get_light_cam_matrices(scene, light_node, flags)
    program = None
    for primitive, pose in casters:
        program = renderer._get_primitive_program(primitive, flags, ProgramFlags.NONE)
        program._bind()
        program.set_uniform("V", V)
        program.set_uniform("P", P)
        renderer._bind_and_draw_primitive(primitive=primitive, pose=pose, program=program,
                                          flags=RenderFlags.DEPTH_ONLY)
        renderer._reset_active_textures()
    if program is not None:
        program._unbind()


# -- pyrender's bookkeeping of GL objects -------------------------------------------------


def track(renderer, meshes=(), textures=(), shadow_textures=()) -> None:
    """Tell pyrender's renderer that these meshes, textures and shadow maps are in its GL
    context (``Renderer._meshes``, ``_mesh_textures``, ``_shadow_textures``), so a plain
    pyrender render of the same objects neither loads them twice nor keeps stale ones."""
    renderer._meshes.update(meshes)
    renderer._mesh_textures.update(textures)
    renderer._shadow_textures.update(shadow_textures)


def untrack(renderer, meshes=(), textures=(), shadow_textures=()) -> None:
    """Undo :func:`track` for GL objects scenegen deleted."""
    renderer._meshes.difference_update(meshes)
    renderer._mesh_textures.difference_update(textures)
    renderer._shadow_textures.difference_update(shadow_textures)


# -- GL objects: primitives, textures, shader programs ----------------------------------


def upload(resource) -> bool:
    """Put a ``Primitive``, ``Texture`` or ``ShaderProgram`` in the current GL context
    unless it is there (``_in_context``, ``_add_to_context``: pyrender does it inside its
    own render only); True when it was put there now."""
    if resource._in_context():
        return False
    resource._add_to_context()
    return True


def bind(resource) -> None:
    """Bind a ``Primitive`` (its vertex array), ``Texture`` or ``ShaderProgram`` (``_bind``)."""
    resource._bind()


def unbind_program(program) -> None:
    """Unbind ``program`` (``ShaderProgram._unbind``)."""
    program._unbind()


def program_id(program) -> int:
    """The GL name of ``program`` (``ShaderProgram._program_id``), for uniform locations."""
    return program._program_id


def texture_id(texture) -> int:
    """The GL name of ``texture`` (``Texture._texid``), to set sampler parameters
    pyrender has no argument for."""
    return texture._texid


def vertex_array(primitive) -> int:
    """The GL name of ``primitive``'s vertex array (``Primitive._vaid``); 0 or None before
    it is uploaded."""
    return primitive._vaid


def attach_depth_texture(texture) -> None:
    """Bind ``texture`` and attach it as the depth target of the bound framebuffer
    (``Texture._bind``, ``Texture._bind_as_depth_attachment``)."""
    texture._bind()
    texture._bind_as_depth_attachment()


# -- pyrender.Scene and pyrender.Node ----------------------------------------------------


class _OrderedNodes(dict):
    """An insertion-ordered set of pyrender nodes (the operations pyrender.Scene uses)."""

    def add(self, node) -> None:
        self[node] = None

    def remove(self, node) -> None:
        del self[node]


def keep_insertion_order(scene) -> None:
    """Make an empty ``pyrender.Scene`` keep its mesh nodes in insertion order
    (``Scene._mesh_nodes``).

    pyrender keeps mesh nodes in a set and draws them in its iteration order
    (stable-sorted by distance): a set of nodes hashed by address iterates differently
    from run to run, and so would the winner of depth ties between coplanar faces.
    """
    scene._mesh_nodes = _OrderedNodes()


def set_bounds(scene, bounds: np.ndarray) -> None:
    """Set the (2, 3) world box (min, max corners, metres) pyrender frames directional
    shadow maps on (``Scene._bounds``, a cache pyrender otherwise fills with every node's
    bounds); reset by pyrender when a node is added or removed."""
    scene._bounds = bounds


def matrix_node(pyrender, matrix: np.ndarray, **contents):
    """A ``pyrender.Node`` with this (4, 4) pose, without decomposing it: pyrender's Node
    computes a quaternion, scale and translation whenever its matrix is set, which
    rendering never reads (it reads the matrix); here they are derived on request."""
    return _matrix_node_class(pyrender.Node)(matrix=matrix, **contents)


@cache
def _matrix_node_class(node):
    """The subclass of pyrender's ``Node`` class ``node`` that keeps its matrix as set
    (``Node._matrix``) and decomposes it (``Node._q_from_m``, ``_s_from_m``, ``_t_from_m``
    into ``Node._rotation``, ``_scale``, ``_translation``) when one of them is read."""

    def decomposed(name):
        public = getattr(node, name)

        def get(self):
            self._decompose()
            return public.fget(self)

        def put(self, value):
            self._decompose()
            public.fset(self, value)

        return property(get, put)

    class MatrixNode(node):
        @property
        def matrix(self):
            if self._matrix is None:
                self._matrix = self._m_from_tqs(self._translation, self._rotation, self._scale)
            return self._matrix.copy()

        @matrix.setter
        def matrix(self, value):
            value = np.array(value, dtype=float)
            if value.shape != (4, 4):
                raise ValueError("Matrix must be a 4x4 numpy ndarray")
            self._matrix = value
            self._rotation = self._scale = self._translation = None

        def _decompose(self):
            if self._rotation is None and self._matrix is not None:
                m = self._matrix
                self._rotation, self._scale = self._q_from_m(m), self._s_from_m(m)
                self._translation = self._t_from_m(m).copy()

        rotation, scale, translation = decomposed("rotation"), decomposed("scale"), decomposed("translation")

    return MatrixNode
