"""Renderer: Scene -> Frame with pyrender, headless. The only module touching OpenGL.

The GL platform is chosen here and nowhere else: ``PYOPENGL_PLATFORM=egl`` (Mesa's
llvmpipe on a CPU machine, the NVIDIA driver on a GPU one) unless the caller already set
the variable. pyrender is imported lazily, after that choice, so importing scenegen never
needs OpenGL.

One :class:`Renderer` per process is meant to be reused across scenes: the GL context,
the meshes and textures are made once and stay in it. Meshes are pooled by *geometry*
(entry, style, part or whole object, texture scale): a scene takes the pool's meshes it
needs and gives each its material (colour, metallic, roughness, texture) for that
scene, so the GL context holds one copy of each shape however many colours and
materials the dictionary allows. Lights are pooled too (their shadow maps stay
allocated). All Renderers of a process share one GL context, released at exit.

Each object is drawn as its variant's parts. A texture other than ``plain`` is a
repeating base-colour texture (see :mod:`scenegen.render.textures`) on box-projected UVs in the
canonical frame, so its pattern scales with the object; floors and walls take their
context's textures with UVs in metres.

Passes per scene:

- **colour** (RGB): pyrender's lit forward pass (4x multisampled), one node per object,
  drawn with scenegen's copy of pyrender's mesh shaders (``scenegen/render/shaders/mesh.*``).
  Lights whose ``shadows`` is set cast shadows: one shadow map per light
  (:data:`SHADOW_MAP_SIZE` texels a side), drawn from the objects only and framed on
  them, so objects shade each other, the floor and the walls (floor and walls cast
  none), sampled with the GPU's depth comparison (4 bilinear lookups, a 3x3-texel
  percentage-closer filter) where pyrender's own shader makes 36 separate fetches
  (measured on llvmpipe: shadows make the colour pass 1.5-1.65 times as long, where
  pyrender's shader made it 2.7-2.8 times as long).
- **ids, normals and depth**: one flat, single-sample pass over every part (scenegen's
  own shaders ``ids.*``, two colour targets): instance id in red and green and the
  part's 1-based index in blue of the first, the interpolated vertex normal (the one
  the colour pass shades with: the exact surface normal on scenegen's primitives, see
  :mod:`scenegen.world.shapes`) in the camera frame, facing the camera, 8 bits a channel, in
  the second; and depth. One fragment writes all three, so they always describe the
  same surface.
- **amodal**: one flat pass without depth test over the objects another object might
  hide (``silhouette.frag``): each writes its own bit and the framebuffer ORs them
  (:data:`SILHOUETTE_BITS` objects a pass), giving each such object's full silhouette.
  An object nothing can hide has its visible mask as amodal mask.

:meth:`Renderer.begin` draws all passes and returns while the rasterizer (llvmpipe's
threads) works; :meth:`PendingFrame.read` then reads the layers back, and
:meth:`PendingFrame.frame` decodes them. :meth:`Renderer.render` does the three in turn.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..errors import RenderError, choices
from ..scene.frame import Frame
from ..scene.geometry import OPENCV_TO_OPENGL, box_corners, project
from ..scene.scene import Scene
from ..timing import StepClock
from ..world.dictionary import ObjectDictionary, Texture
from ..world.shapes import primitive
from .textures import srgb_encode, texture_image, uv_coordinates, uv_scale

GL_PLATFORM_VARIABLE = "PYOPENGL_PLATFORM"
DEFAULT_GL_PLATFORM = "egl"
_INSTALL_HINT = (
    "scenegen renders headless through EGL: install Mesa's EGL and GL drivers "
    "(Debian/Ubuntu: apt-get install libegl1 libgl1-mesa-dri) or an NVIDIA driver, "
    "or set PYOPENGL_PLATFORM=osmesa with libosmesa6 installed"
)


def choose_gl_platform() -> str:
    """Select the PyOpenGL platform before pyrender/OpenGL is imported; returns it."""
    return os.environ.setdefault(GL_PLATFORM_VARIABLE, DEFAULT_GL_PLATFORM)


def _import_pyrender():
    platform = choose_gl_platform()
    try:
        import pyrender  # noqa: PLC0415  (deliberately lazy: platform must be set first)
    except Exception as exc:  # ImportError, OSError from ctypes, GL platform errors
        raise RenderError(f"cannot load OpenGL ({GL_PLATFORM_VARIABLE}={platform}): {exc}. {_INSTALL_HINT}") from exc
    return pyrender


CONTEXT_THICKNESS = 0.05  # metres, of the floor slab and the walls


def context_boxes(scene: Scene) -> List[Tuple[Tuple[float, float, float], np.ndarray, bool]]:
    """The floor and wall boxes of ``scene``'s context as (extents (metres), (4, 4) world
    pose of the box centre, is_wall): the floor slab has its top at z = 0; walled
    contexts add the two walls behind the objects as seen from the camera (so walls
    never stand between the camera and the objects)."""
    context = scene.context
    size, thickness = context.floor_size, CONTEXT_THICKNESS
    floor_pose = np.eye(4)
    floor_pose[2, 3] = -thickness / 2
    boxes = [((size, size, thickness), floor_pose, False)]
    if context.walls:
        eye = scene.camera.position
        half, height = size / 2, context.wall_height
        for axis in (0, 1):
            side = -1.0 if eye[axis] > 0 else 1.0
            extents = [size, size, height]
            extents[axis] = thickness
            pose = np.eye(4)
            pose[axis, 3] = side * (half + thickness / 2)
            pose[2, 3] = height / 2
            boxes.append((tuple(extents), pose, True))
    return boxes


MAX_INSTANCES = 0xFFFF  # ids in the red and green channels of the id pass
MAX_PARTS = 0xFF  # part indices in its blue channel
SHADER_DIR = Path(__file__).with_name("shaders")  # scenegen's shaders (colour and flat passes)
SHADOW_MAP_SIZE = 1024  # texels a side of each light's shadow map
SILHOUETTE_BITS = 32  # objects per amodal pass: one bit each of an RGBA8 pixel


def _id_color(instance_id: int, part_index: int = 0) -> Tuple[int, int, int]:
    """Flat colour of the id pass: instance id (up to 65535) in red and green, part
    index (up to 255) in blue."""
    return (instance_id & 0xFF, (instance_id >> 8) & 0xFF, part_index)


def _decode_ids(color: np.ndarray) -> np.ndarray:
    return color[..., 0].astype(np.uint16) | (color[..., 1].astype(np.uint16) << 8)


def _gl():
    """PyOpenGL's GL module (imported after the platform is chosen)."""
    from OpenGL import GL  # noqa: PLC0415 (lazy, like pyrender)

    return GL


_OFFSCREEN = None  # the process's one pyrender OffscreenRenderer
_MAX_SIDE = 0  # GL_MAX_RENDERBUFFER_SIZE of its context
_FLAT_TARGET = None  # the flat passes' framebuffer (_FlatTarget) of the current size
_FLAT_PROGRAMS = None  # ShaderProgramCache of scenegen/render/shaders (see _programs)
_FLAT_PROGRAM_OF_LAYOUT: Dict[tuple, object] = {}  # (vertex buffer flags, fragment shader) -> program


def _offscreen_renderer(pyrender, width: int, height: int):
    """The process's GL context, created on first use and sized to ``width`` x ``height``.

    One context serves every Renderer: deleting a pyrender EGL context terminates the
    EGL display that all contexts of the process share, so contexts are never deleted
    while the process may still render.
    """
    global _OFFSCREEN, _MAX_SIDE
    if _OFFSCREEN is None:
        try:
            offscreen = pyrender.OffscreenRenderer(width, height)
        except Exception as exc:
            raise RenderError(
                f"cannot create an OpenGL context ({GL_PLATFORM_VARIABLE}="
                f"{os.environ.get(GL_PLATFORM_VARIABLE)}): {exc}. {_INSTALL_HINT}"
            ) from exc
        GL = _gl()
        _OFFSCREEN, _MAX_SIDE = offscreen, int(GL.glGetIntegerv(GL.GL_MAX_RENDERBUFFER_SIZE))
        atexit.register(release_gl_context)
    # renderbuffers are made at render time, so the limit is checked before them
    if max(width, height) > _MAX_SIDE:
        raise RenderError(
            f"image size {width}x{height} exceeds this GL driver's limit of {_MAX_SIDE} "
            f"pixels a side; lower width/height"
        )
    _OFFSCREEN.viewport_width, _OFFSCREEN.viewport_height = width, height
    return _OFFSCREEN


def release_gl_context() -> None:
    """Delete the process's GL context (runs at exit; no Renderer may render after it)."""
    global _OFFSCREEN, _FLAT_TARGET, _FLAT_PROGRAMS, _PENDING
    if _OFFSCREEN is not None:
        _OFFSCREEN._platform.make_current()
        _PENDING = None
        if _FLAT_TARGET is not None:  # while their context is current
            _FLAT_TARGET.delete()
            _FLAT_TARGET = None
        if _FLAT_PROGRAMS is not None:
            _FLAT_PROGRAMS.clear()
            _FLAT_PROGRAMS = None
        _FLAT_PROGRAM_OF_LAYOUT.clear()
        _OFFSCREEN.delete()
        _OFFSCREEN = None


class _FlatTarget:
    """Single-sample framebuffer of the flat passes: colour targets 0 (ids) and 1
    (normals) of the id pass, 2 (silhouette bits) of the amodal pass, all RGBA8, and a
    24-bit depth buffer (as pyrender's)."""

    FORMATS = ("GL_RGBA8", "GL_RGBA8", "GL_RGBA8", "GL_DEPTH_COMPONENT24")

    def __init__(self, width: int, height: int):
        GL = _gl()
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
        GL = _gl()
        width, height = self.size
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.framebuffer)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0 + attachment)
        data = GL.glReadPixels(0, 0, width, height, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE)
        return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 4)[::-1]

    def read_depth(self) -> np.ndarray:
        """(H, W) float32 window depth in [0, 1], top row first."""
        GL = _gl()
        width, height = self.size
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.framebuffer)
        data = GL.glReadPixels(0, 0, width, height, GL.GL_DEPTH_COMPONENT, GL.GL_FLOAT)
        return np.frombuffer(data, dtype=np.float32).reshape(height, width)[::-1]

    def delete(self) -> None:
        GL = _gl()
        GL.glDeleteRenderbuffers(len(self.buffers), self.buffers)
        GL.glDeleteFramebuffers(1, [self.framebuffer])


def _flat_target(width: int, height: int) -> _FlatTarget:
    global _FLAT_TARGET
    if _FLAT_TARGET is not None and _FLAT_TARGET.size != (width, height):
        _FLAT_TARGET.delete()
        _FLAT_TARGET = None
    if _FLAT_TARGET is None:
        _FLAT_TARGET = _FlatTarget(width, height)
    return _FLAT_TARGET


def _programs():
    """The process's cache of scenegen's shader programs (``scenegen/render/shaders``)."""
    global _FLAT_PROGRAMS
    if _FLAT_PROGRAMS is None:
        from pyrender.shader_program import ShaderProgramCache  # noqa: PLC0415 (lazy)

        _FLAT_PROGRAMS = ShaderProgramCache(shader_dir=str(SHADER_DIR))
    return _FLAT_PROGRAMS


def _linear_depth(window: np.ndarray, znear: float, zfar: float) -> np.ndarray:
    """(H, W) float32 depth along the optical axis (metres; 0 where nothing was drawn)
    from window depth, with pyrender's arithmetic (so depth is what pyrender returns)."""
    window = np.asarray(window, dtype=np.float32)
    ndc = 2.0 * window - 1.0
    depth = (2.0 * znear * zfar) / (zfar + znear - ndc * (zfar - znear))
    depth[window == 1.0] = 0.0
    return depth


_NODE_CLASS = None


def _node(pyrender, matrix: np.ndarray, **contents):
    """A pyrender Node with this (4, 4) pose, without decomposing it: pyrender's Node
    computes a quaternion, scale and translation whenever its matrix is set, which
    rendering never reads (it reads the matrix); here they are derived on request."""
    global _NODE_CLASS
    if _NODE_CLASS is None:
        class MatrixNode(pyrender.Node):
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

            def _part(name):  # noqa: N805 (builds the properties below)
                def get(self):
                    self._decompose()
                    return getattr(self, "_" + name)

                def put(self, value):
                    self._decompose()
                    getattr(pyrender.Node, name).fset(self, value)

                return property(get, put)

            rotation, scale, translation = _part("rotation"), _part("scale"), _part("translation")
            del _part

        _NODE_CLASS = MatrixNode
    return _NODE_CLASS(matrix=matrix, **contents)


class _OrderedNodes(dict):
    """An insertion-ordered set of pyrender nodes (the operations pyrender.Scene uses)."""

    def add(self, node) -> None:
        self[node] = None

    def remove(self, node) -> None:
        del self[node]


@dataclass
class Graph:
    """What one scene draws: its pyrender scene (colour pass) and the primitives and
    poses of the flat passes.

    Attributes:
        scene: the pyrender.Scene of the colour pass: floor and walls, one node per
            object, the lights and the camera.
        objects: per object of the Scene, ``(primitive, (4, 4) float32 pose, part
            index)`` of each part.
        context: ``(primitive, pose)`` of the floor and walls.
        casters: ``(primitive, pose)`` of what casts shadows (one per object).
        lights: ``(pyrender node, casts shadows)`` of each light.
        width, height, znear, zfar: the camera's image size (pixels) and clip planes.
    """

    scene: object
    objects: List[List[tuple]]
    context: List[tuple]
    casters: List[tuple]
    lights: List[tuple]
    width: int
    height: int
    znear: float
    zfar: float
    meshes: List[object] = field(default_factory=list)  # every pyrender.Mesh drawn

    @property
    def shadows(self) -> bool:
        """Whether some light casts shadows (and there is something to cast them)."""
        return bool(self.casters) and any(casts for _, casts in self.lights)


class Renderer:
    """Renders Scenes of one object dictionary.

    Args:
        dictionary: the object dictionary the scenes refer to (meshes, textures).
        normals: whether :meth:`render` returns ``Frame.normals``.

    Use as a context manager, or call :meth:`close`, to free its meshes and textures.
    """

    def __init__(self, dictionary: ObjectDictionary, normals: bool = True):
        self.dictionary = dictionary
        self.normals = normals
        self._pyrender = _import_pyrender()
        # geometry key -> (positions, normals, uv, indices, (2, 3) bounds)
        self._geometry: Dict[tuple, tuple] = {}
        # (geometry key, texture scale or None) -> pool of pyrender.Mesh of that geometry
        self._pools: Dict[tuple, list] = {}
        # (rgb, metallic, roughness, texture) -> pyrender material
        self._materials: Dict[tuple, object] = {}
        self._textures: Dict[str, object] = {}  # texture name -> pyrender.Texture
        self._lights: list = []  # pool of pyrender.DirectionalLight

    # -- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Free this renderer's meshes, textures and shadow maps (in the GL context too).
        The process's GL context stays (see :func:`release_gl_context`)."""
        if _OFFSCREEN is not None:
            gl = _OFFSCREEN._renderer
            _OFFSCREEN._platform.make_current()
            for pool in self._pools.values():
                for mesh in pool:
                    for primitive in mesh.primitives:
                        primitive.delete()
                    gl._meshes.discard(mesh)
            for texture in self._textures.values():
                texture.delete()
                gl._mesh_textures.discard(texture)
            for light in self._lights:
                if light.shadow_texture is not None:
                    light.shadow_texture.delete()
                    gl._shadow_textures.discard(light.shadow_texture)
        self._geometry.clear()
        self._pools.clear()
        self._materials.clear()
        self._textures.clear()
        self._lights.clear()

    # -- meshes, materials, textures --------------------------------------------------

    def _texture(self, name: str) -> Texture:
        try:
            return self.dictionary.textures[name]
        except KeyError:
            raise RenderError(
                f"unknown texture {name!r}; valid: {choices(self.dictionary.textures)}"
            ) from None

    def _gl_texture(self, name: str):
        """The pyrender Texture of texture ``name`` (one tile, repeating sampler)."""
        found = self._textures.get(name)
        if found is None:
            pr = self._pyrender
            # the shader decodes base-colour textures from sRGB: encode the linear modulation
            image = srgb_encode(texture_image(self._texture(name)))
            sampler = pr.Sampler(wrapS=pr.GLTF.REPEAT, wrapT=pr.GLTF.REPEAT)
            found = self._textures[name] = pr.Texture(
                name=name, sampler=sampler, source=image, source_channels="RGB"
            )
        return found

    def _uv_scale(self, texture: str) -> Optional[float]:
        """Texture coordinates per mesh unit of ``texture``; None for ``plain``."""
        found = self._texture(texture)
        return None if found.pattern == "plain" else uv_scale(found)

    def _material(self, rgb, metallic: float, roughness: float, texture: str):
        key = (tuple(rgb), float(metallic), float(roughness), texture)
        material = self._materials.get(key)
        if material is None:
            kwargs = {}
            if self._texture(texture).pattern != "plain":
                kwargs["baseColorTexture"] = self._gl_texture(texture)
            material = self._materials[key] = self._pyrender.MetallicRoughnessMaterial(
                baseColorFactor=[*rgb, 1.0], metallicFactor=metallic, roughnessFactor=roughness, **kwargs
            )
        return material

    def _geometry_of(self, key: tuple) -> tuple:
        """(positions (V, 3), normals (V, 3), uv (V, 2) in mesh units, indices (F, 3),
        bounds (2, 3)) of geometry ``key``: ``("box", extents)``, ``(entry, style, part
        index)`` or ``(entry, style, None)`` (all parts as one mesh)."""
        found = self._geometry.get(key)
        if found is None:
            if key[0] == "box":
                x, y, z = key[1]
                mesh = primitive("box", {"x": x, "y": y, "z": z})
            else:
                entry, style, index = key
                variant = self.dictionary[entry].variant(style)
                mesh = variant.mesh() if index is None else next(p for p in variant.parts if p.index == index).mesh
            textured = uv_coordinates(mesh)
            positions = np.asarray(textured.vertices, dtype=np.float32)
            found = self._geometry[key] = (
                positions,
                np.asarray(textured.vertex_normals, dtype=np.float32),
                np.asarray(textured.visual.uv, dtype=np.float32),
                np.asarray(textured.faces, dtype=np.uint32),
                np.array([positions.min(axis=0), positions.max(axis=0)], dtype=float),
            )
        return found

    def _new_mesh(self, geometry_key: tuple, scale: Optional[float]):
        pr = self._pyrender
        positions, normals, uv, indices, _ = self._geometry_of(geometry_key)
        texcoord = None if scale is None else (uv * scale).astype(np.float32)
        primitive = pr.Primitive(positions=positions, normals=normals, texcoord_0=texcoord, indices=indices)
        return pr.Mesh(primitives=[primitive], name="/".join(str(k) for k in geometry_key))

    def _light(self, index: int, shadow_map: bool):
        """Light ``index`` of the pool; with a shadow map texture when ``shadow_map``."""
        pr = self._pyrender
        while len(self._lights) <= index:
            self._lights.append(pr.DirectionalLight())
        light = self._lights[index]
        if shadow_map and light.shadow_texture is None:
            GL = _gl()
            # outside the map (clamped to its border, depth 1): lit
            sampler = pr.Sampler(magFilter=GL.GL_LINEAR, minFilter=GL.GL_LINEAR,
                                 wrapS=GL.GL_CLAMP_TO_BORDER, wrapT=GL.GL_CLAMP_TO_BORDER)
            light.shadow_texture = pr.Texture(
                width=SHADOW_MAP_SIZE, height=SHADOW_MAP_SIZE, source_channels="D",
                data_format=GL.GL_FLOAT, sampler=sampler,
            )
        return light

    # -- scene graph ------------------------------------------------------------------

    def build(self, scene: Scene) -> Graph:
        """The :class:`Graph` of ``scene``. Its meshes come from this renderer's pools
        and carry this scene's materials until the next ``build``: render a Graph
        before building another.

        Raises:
            RenderError: an unknown texture, or too many objects or parts.
        """
        pr = self._pyrender
        context = scene.context
        if len(scene.objects) > MAX_INSTANCES:
            raise RenderError(f"{len(scene.objects)} objects exceed the id pass's {MAX_INSTANCES}")
        taken: Dict[tuple, int] = {}
        meshes = []

        def take(geometry_key, scale, material=None):
            key = (geometry_key, scale)
            index = taken.get(key, 0)
            taken[key] = index + 1
            pool = self._pools.setdefault(key, [])
            if index == len(pool):
                pool.append(self._new_mesh(geometry_key, scale))
            mesh = pool[index]
            if material is not None:
                mesh.primitives[0].material = material
            meshes.append(mesh)
            return mesh

        pr_scene = pr.Scene(bg_color=[*context.background, 1.0], ambient_light=[context.ambient] * 3)
        # pyrender keeps mesh nodes in a set and draws them in its iteration order
        # (stable-sorted by distance): a set of nodes hashed by address iterates
        # differently from run to run, and so would the winner of depth ties between
        # coplanar faces. Insertion order fixes it.
        pr_scene._mesh_nodes = _OrderedNodes()
        context_draws = []
        for extents, pose, is_wall in context_boxes(scene):
            colour, texture = (
                (context.wall_color, context.wall_texture) if is_wall else (context.floor_color, context.floor_texture)
            )
            material = self._material(colour, 0.0, 0.9, texture)
            mesh = take(("box", tuple(extents)), self._uv_scale(texture), material)
            pr_scene.add_node(_node(pr, pose, mesh=mesh))
            context_draws.append((mesh.primitives[0], pose.astype(np.float32)))

        objects, casters, corners = [], [], []
        for obj in scene.objects:
            variant = self.dictionary[obj.entry].variant(obj.style)
            if len(variant.parts) > MAX_PARTS:
                raise RenderError(
                    f"objects.{obj.entry} style {variant.style!r} has {len(variant.parts)} parts; "
                    f"the part image holds at most {MAX_PARTS}"
                )
            pose = obj.world_from_object() @ np.diag([obj.scale, obj.scale, obj.scale, 1.0])
            pose32 = pose.astype(np.float32)
            material = self._material(obj.rgb, obj.metallic, obj.roughness, obj.texture)
            scale = self._uv_scale(obj.texture)
            if len(variant.parts) == 1:  # the colour pass draws the part itself
                part = variant.parts[0]
                colour_key = (obj.entry, variant.style, part.index)
                colour_mesh = take(colour_key, scale, material)
                parts = [(colour_mesh.primitives[0], pose32, part.index)]
            else:  # the colour pass draws all parts as one mesh, the flat passes each part
                parts = [
                    (take((obj.entry, variant.style, part.index), None).primitives[0], pose32, part.index)
                    for part in variant.parts
                ]
                colour_key = (obj.entry, variant.style, None)
                colour_mesh = take(colour_key, scale, material)
            pr_scene.add_node(_node(pr, pose, mesh=colour_mesh))
            objects.append(parts)
            casters.append((colour_mesh.primitives[0], pose))
            low, high = self._geometry_of(colour_key)[4]
            box = np.array([[x, y, z, 1.0] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
            corners.append(box @ pose.T)

        lights = []
        # with shadows in the scene every light needs a map: pyrender's shader reads one
        # per directional light (empty for a light that casts none)
        maps = any(light.shadows for light in scene.lights)
        for index, light in enumerate(scene.lights):
            pose = np.eye(4)
            # a directional light shines along its node's -z axis
            z = np.asarray(light.direction, dtype=float)
            x = np.cross([0.0, 0.0, 1.0], z) if abs(z[2]) < 0.999 else np.array([1.0, 0.0, 0.0])
            x /= np.linalg.norm(x)
            pose[:3, 0], pose[:3, 1], pose[:3, 2] = x, np.cross(z, x), z
            pr_light = self._light(index, maps)
            pr_light.color, pr_light.intensity = list(light.color), light.intensity
            node = _node(pr, pose, light=pr_light)
            pr_scene.add_node(node)
            lights.append((node, bool(light.shadows)))
        cam = scene.camera
        # pyrender's window coordinates put pixel centres at +0.5; OpenCV's at integers
        camera = pr.IntrinsicsCamera(
            fx=cam.fx, fy=cam.fy, cx=cam.cx + 0.5, cy=cam.cy + 0.5, znear=cam.znear, zfar=cam.zfar
        )
        pr_scene.add_node(_node(pr, cam.pose @ OPENCV_TO_OPENGL, camera=camera))
        if corners:
            # pyrender frames each directional shadow map on the scene's bounds: the
            # casters' bounds (not the floor's), so the map's texels are spent on them
            points = np.vstack(corners)[:, :3]
            pr_scene._bounds = np.array([points.min(axis=0), points.max(axis=0)])
        return Graph(scene=pr_scene, objects=objects, context=context_draws, casters=casters, lights=lights,
                     width=cam.width, height=cam.height, znear=cam.znear, zfar=cam.zfar, meshes=meshes)

    # -- GL resources -----------------------------------------------------------------

    def _upload(self, gl, graph: Graph) -> None:
        """Put ``graph``'s meshes, textures and shadow maps in the GL context (those not
        there yet), and tell pyrender's renderer they are there (so a plain pyrender
        render of the same meshes neither loads them twice nor keeps stale ones)."""
        for mesh in graph.meshes:
            for primitive in mesh.primitives:
                if not primitive._in_context():
                    primitive._add_to_context()
                for texture in primitive.material.textures:
                    if not texture._in_context():
                        texture._add_to_context()
                    gl._mesh_textures.add(texture)
            gl._meshes.add(mesh)
        for node, _ in graph.lights:
            texture = node.light.shadow_texture
            if texture is not None and graph.shadows:
                if not texture._in_context():
                    texture._add_to_context()
                    # mesh.frag samples it as a sampler2DShadow: compare in the sampler
                    GL = _gl()
                    GL.glBindTexture(GL.GL_TEXTURE_2D, texture._texid)
                    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_COMPARE_MODE, GL.GL_COMPARE_REF_TO_TEXTURE)
                    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_COMPARE_FUNC, GL.GL_LEQUAL)
                    GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
                gl._shadow_textures.add(texture)

    @staticmethod
    def _flat_program(primitive, fragment_shader: str):
        """The flat passes' program for ``primitive``'s vertex layout (pyrender's
        attribute locations: positions 0, then normals, texture coordinates, ..., and
        the instance matrix last)."""
        key = (primitive.buf_flags, fragment_shader)
        program = _FLAT_PROGRAM_OF_LAYOUT.get(key)
        if program is not None:
            return program
        from pyrender.constants import BufFlags  # noqa: PLC0415

        defines, location = {}, 1
        for flag, name in ((BufFlags.NORMAL, "NORMAL_LOC"), (BufFlags.TANGENT, "TANGENT_LOC"),
                           (BufFlags.TEXCOORD_0, "TEXCOORD_0_LOC"), (BufFlags.TEXCOORD_1, "TEXCOORD_1_LOC"),
                           (BufFlags.COLOR_0, "COLOR_0_LOC"), (BufFlags.JOINTS_0, "JOINTS_0_LOC"),
                           (BufFlags.WEIGHTS_0, "WEIGHTS_0_LOC")):
            if primitive.buf_flags & flag:
                defines[name] = location
                location += 1
        defines["INST_M_LOC"] = location
        program = _programs().get_program(vertex_shader="ids.vert", fragment_shader=fragment_shader, defines=defines)
        if not program._in_context():
            program._add_to_context()
            program.locations = {}
        _FLAT_PROGRAM_OF_LAYOUT[key] = program
        return program

    # -- passes -----------------------------------------------------------------------

    def _colour_pass(self, gl, graph: Graph, flags: int):
        """pyrender's shadow-map passes (lights that cast shadows) and forward pass;
        returns its (colour (H, W, 3) uint8, depth (H, W) float32 metres)."""
        pr = self._pyrender
        gl.viewport_width, gl.viewport_height = graph.width, graph.height
        flags |= pr.RenderFlags.OFFSCREEN
        if graph.shadows:
            flags |= pr.RenderFlags.SHADOWS_DIRECTIONAL
            for node, casts in graph.lights:
                self._shadow_map(gl, graph, node, flags, casts)
        # pyrender's forward pass with scenegen's copy of its mesh shaders
        saved, gl._program_cache = gl._program_cache, _programs()
        try:
            return gl._forward_pass(graph.scene, flags)
        finally:
            gl._program_cache = saved

    def _shadow_map(self, gl, graph: Graph, node, flags: int, casts: bool) -> None:
        """Render the shadow map of light ``node`` from the casters (pyrender's shadow
        pass, on scenegen's casters and map size); a light that casts no shadows gets
        an empty map."""
        from pyrender.constants import ProgramFlags, RenderFlags  # noqa: PLC0415

        GL = _gl()
        texture = node.light.shadow_texture
        gl._configure_shadow_framebuffer()
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, gl._shadow_fb)
        texture._bind()
        texture._bind_as_depth_attachment()
        GL.glActiveTexture(GL.GL_TEXTURE0)
        texture._bind()
        GL.glDrawBuffer(GL.GL_NONE)
        GL.glReadBuffer(GL.GL_NONE)
        GL.glViewport(0, 0, texture.width, texture.height)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDepthFunc(GL.GL_LESS)
        GL.glDepthRange(0.0, 1.0)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glDisable(GL.GL_BLEND)
        GL.glClear(GL.GL_DEPTH_BUFFER_BIT)
        if casts:
            V, P = gl._get_light_cam_matrices(graph.scene, node, flags)
            program = None
            for primitive, pose in graph.casters:
                program = gl._get_primitive_program(primitive, flags, ProgramFlags.NONE)
                program._bind()
                program.set_uniform("V", V)
                program.set_uniform("P", P)
                gl._bind_and_draw_primitive(primitive=primitive, pose=pose, program=program,
                                            flags=RenderFlags.DEPTH_ONLY)
                gl._reset_active_textures()
            if program is not None:
                program._unbind()
        GL.glFlush()

    @staticmethod
    def _draw_flat(draws, fragment_shader: str, V: np.ndarray, P: np.ndarray) -> None:
        """Draw ``(primitive, (4, 4) float32 pose, (4,) float32 colour)`` with the flat
        program of ``fragment_shader``."""
        GL = _gl()
        current = None
        for primitive, pose, colour in draws:
            program = Renderer._flat_program(primitive, fragment_shader)
            if program is not current:
                program._bind()
                current = program
                locations = program.locations
                if not locations:
                    for name in ("V", "P", "M", "color"):
                        locations[name] = GL.glGetUniformLocation(program._program_id, name)
                GL.glUniformMatrix4fv(locations["V"], 1, GL.GL_TRUE, V)
                GL.glUniformMatrix4fv(locations["P"], 1, GL.GL_TRUE, P)
            GL.glUniformMatrix4fv(locations["M"], 1, GL.GL_TRUE, pose)
            if fragment_shader == "ids.frag":
                GL.glUniform3fv(locations["color"], 1, colour[:3])
            else:
                GL.glUniform4fv(locations["color"], 1, colour)
            primitive._bind()
            instances = 1 if primitive.poses is None else len(primitive.poses)
            GL.glDrawElementsInstanced(primitive.mode, primitive.indices.size, GL.GL_UNSIGNED_INT,
                                       ctypes.c_void_p(0), instances)
        if current is not None:
            GL.glBindVertexArray(0)
            current._unbind()

    @staticmethod
    def _begin_flat(target: _FlatTarget, attachments, depth_test: bool) -> None:
        GL = _gl()
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, target.framebuffer)
        GL.glDrawBuffers(len(attachments), [GL.GL_COLOR_ATTACHMENT0 + a for a in attachments])
        GL.glViewport(0, 0, *target.size)
        GL.glDisable(GL.GL_BLEND)
        GL.glEnable(GL.GL_CULL_FACE)
        GL.glCullFace(GL.GL_BACK)
        GL.glPolygonMode(GL.GL_FRONT_AND_BACK, GL.GL_FILL)
        GL.glDepthRange(0.0, 1.0)
        GL.glClearColor(0.0, 0.0, 0.0, 0.0)
        GL.glDepthMask(GL.GL_TRUE)
        if depth_test:
            GL.glEnable(GL.GL_DEPTH_TEST)
            GL.glDepthFunc(GL.GL_LESS)
            GL.glClearDepth(1.0)
            GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        else:
            GL.glDisable(GL.GL_DEPTH_TEST)
            GL.glDepthMask(GL.GL_FALSE)
            GL.glClear(GL.GL_COLOR_BUFFER_BIT)

    def _draw_id_pass(self, target: _FlatTarget, graph: Graph, V, P) -> None:
        """Draw the id + normals pass (targets 0 and 1, and depth) of ``graph``."""
        self._begin_flat(target, (0, 1), depth_test=True)
        black = np.zeros(4, dtype=np.float32)
        draws = [(primitive, pose, black) for primitive, pose in graph.context]
        for i, parts in enumerate(graph.objects):
            for primitive, pose, index in parts:
                colour = np.array([*_id_color(i + 1, index), 255], dtype=np.float32) / 255.0
                draws.append((primitive, pose, colour))
        self._draw_flat(draws, "ids.frag", V, P)

    def _draw_amodal_pass(self, target: _FlatTarget, graph: Graph, objects: List[int], V, P) -> None:
        """Draw the silhouettes of ``objects`` (at most SILHOUETTE_BITS indices into the
        scene's objects; bit k for ``objects[k]``) into target 2."""
        GL = _gl()
        self._begin_flat(target, (2,), depth_test=False)
        GL.glEnable(GL.GL_COLOR_LOGIC_OP)
        GL.glLogicOp(GL.GL_OR)
        try:
            draws = []
            for bit, i in enumerate(objects):
                colour = np.zeros(4, dtype=np.float32)
                colour[bit // 8] = (1 << (bit % 8)) / 255.0
                draws.extend((primitive, pose, colour) for primitive, pose, _ in graph.objects[i])
            self._draw_flat(draws, "silhouette.frag", V, P)
        finally:
            GL.glDisable(GL.GL_COLOR_LOGIC_OP)
            GL.glDepthMask(GL.GL_TRUE)

    def _may_be_occluded(self, scene: Scene) -> np.ndarray:
        """(N,) bool: whether another object's image box overlaps this object's.

        An object whose projected 3D box overlaps no other object's cannot be hidden by
        one (the floor lies below every object and walls stand behind them), so its
        amodal mask equals its visible mask and needs no pass of its own.
        """
        cam = scene.camera
        corners = [np.zeros((0, 3))]
        for obj in scene.objects:
            extents = np.asarray(self.dictionary[obj.entry].variant(obj.style).extents) * obj.scale
            corners.append(box_corners(obj.position, obj.yaw, extents))
        uv = project(np.concatenate(corners), cam.K, cam.pose).reshape(-1, 8, 2)  # all boxes at once
        boxes = np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1)
        x0, y0, x1, y1 = (boxes[:, k] for k in range(4))
        overlap = (x0[:, None] <= x1[None, :] + 1) & (x0[None, :] <= x1[:, None] + 1)
        overlap &= (y0[:, None] <= y1[None, :] + 1) & (y0[None, :] <= y1[:, None] + 1)
        np.fill_diagonal(overlap, False)
        return overlap.any(axis=1)

    @contextmanager
    def _current(self, width: int, height: int):
        """The process's GL context, current and sized, for the block."""
        offscreen = _offscreen_renderer(self._pyrender, width, height)
        offscreen._platform.make_current()
        try:
            yield offscreen._renderer
        finally:
            offscreen._platform.make_uncurrent()

    # -- rendering --------------------------------------------------------------------

    def render_colour(self, graph: Graph) -> Tuple[np.ndarray, np.ndarray]:
        """(rgb (H, W, 3) uint8, depth (H, W) float32 metres) of a built Graph: the
        colour pass alone (shadow maps and pyrender's forward pass, with pyrender's
        multisampled depth). For benchmarks: what drawing the image costs."""
        with self._current(graph.width, graph.height) as gl:
            self._upload(gl, graph)
            return self._colour_pass(gl, graph, 0)

    def render(self, scene: Scene, timings: Optional[Dict[str, float]] = None) -> Frame:
        """Render every layer of ``scene`` (:meth:`begin`, then its ``finish``).

        Args:
            scene: the scene to render.
            timings: when given, seconds spent per step are added to it under
                ``"build"``, ``"rgb pass"`` (drawing the colour pass and its shadow
                maps), ``"flat passes"`` (drawing the id, normals and amodal passes),
                ``"readback"`` (waiting for the rasterizer and reading every layer) and
                ``"decode"`` (ids, depth, normals, amodal masks) (for benchmarks).

        Raises:
            RenderError: no GL context could be made, the size exceeds the driver's, or
                the scene names an unknown texture or too many objects or parts.
        """
        return self.begin(scene, timings).finish()

    def begin(self, scene: Scene, timings: Optional[Dict[str, float]] = None) -> "PendingFrame":
        """Draw every pass of ``scene`` and return before the pixels are read: on a
        CPU driver (llvmpipe) the rasterizer threads work while the caller does other
        CPU work (no GL); :meth:`PendingFrame.read` (or ``finish``) then reads the
        layers back. One frame of a process may be drawn and not yet read.
        ``timings``: as :meth:`render`'s.

        (One frame, not two: llvmpipe resolves the multisampled colour image
        synchronously, and holds few passes in its queue, so drawing the next scene
        before reading this one would wait for the rasterizer anyway: measured slower.)

        Raises:
            RenderError: as :meth:`render`; or another frame is drawn and not read yet.
        """
        global _PENDING
        if _PENDING is not None:
            raise RenderError("another frame is drawn and not read yet: read it first")
        cam = scene.camera
        clock = StepClock(timings)
        offscreen = _offscreen_renderer(self._pyrender, cam.width, cam.height)
        gl = offscreen._renderer
        offscreen._platform.make_current()
        try:
            graph = self.build(scene)
            self._upload(gl, graph)
            clock.lap("build")

            # pyrender's forward pass without its read-back (read resolves and reads it)
            gl._read_main_framebuffer = _no_read
            try:
                self._colour_pass(gl, graph, 0)
            finally:
                del gl._read_main_framebuffer
            clock.lap("rgb pass")

            target = _flat_target(cam.width, cam.height)
            V, P = (np.asarray(m, dtype=np.float32) for m in gl._get_camera_matrices(graph.scene))
            self._draw_id_pass(target, graph, V, P)
            may_be_occluded = self._may_be_occluded(scene)
            hidden = [i for i in range(len(scene.objects)) if may_be_occluded[i]]
            if hidden:
                self._draw_amodal_pass(target, graph, hidden[:SILHOUETTE_BITS], V, P)
            _gl().glFlush()
            clock.lap("flat passes")
        except BaseException:
            offscreen._platform.make_uncurrent()
            raise
        _PENDING = PendingFrame(self, scene, graph, offscreen, target, hidden, (V, P), clock)
        return _PENDING


def _no_read(scene, flags):
    return None


_PENDING = None  # the process's PendingFrame drawn and not yet read, if any


class PendingFrame:
    """A scene whose passes are drawn (:meth:`Renderer.begin`) and not yet read."""

    def __init__(self, renderer: Renderer, scene: Scene, graph: Graph, offscreen, target: _FlatTarget,
                 hidden: List[int], camera_matrices, clock: StepClock):
        self.renderer, self.scene, self.graph = renderer, scene, graph
        self._offscreen, self._target, self._hidden = offscreen, target, hidden
        self._camera_matrices, self._clock = camera_matrices, clock

    def finish(self) -> Frame:
        """Wait for the rasterizer, read every layer and return the Frame."""
        self.read()
        return self.frame()

    def read(self) -> "PendingFrame":
        """Wait for the rasterizer and read every layer back (the GL part of
        :meth:`finish`); :meth:`frame` decodes them, and needs no GL."""
        global _PENDING
        if _PENDING is not self:
            raise RenderError("this frame was already read")
        GL = _gl()
        self._clock.last = time.perf_counter()  # time between begin and read is the caller's
        graph, target, hidden = self.graph, self._target, self._hidden
        try:
            self._rgb = _read_colour(self._offscreen._renderer, graph.width, graph.height)
            self._ids, self._normals, self._depth = target.read(0), target.read(1), target.read_depth()
            silhouettes = []
            for start in range(0, len(hidden), SILHOUETTE_BITS):
                group = hidden[start:start + SILHOUETTE_BITS]
                if start:  # more objects than one pass holds: draw the next group now
                    self.renderer._draw_amodal_pass(target, graph, group, *self._camera_matrices)
                silhouettes.append(target.read(2).copy())
            self._silhouettes = silhouettes
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        finally:
            self._offscreen._platform.make_uncurrent()
            _PENDING = None
        self._clock.lap("readback")
        return self

    def normals(self) -> np.ndarray:
        """``Frame.normals`` of the frame (after :meth:`frame`; no GL: any thread)."""
        return _decode_normals(self._normals, self._linear)

    def frame(self, normals: bool = True) -> Frame:
        """The Frame of the layers :meth:`read` read (decoding: ids, depth, normals,
        amodal masks); without ``normals`` (as a renderer made with ``normals=False``
        gives it), for callers that take them later from :meth:`normals`."""
        self._clock.last = time.perf_counter()
        scene, hidden = self.scene, self._hidden
        height, width = self._depth.shape
        instances = _decode_ids(self._ids)
        depth = _linear_depth(self._depth, scene.camera.znear, scene.camera.zfar)
        amodal = np.zeros((len(scene.objects), height, width), dtype=bool)
        for start, bits in zip(range(0, len(hidden), SILHOUETTE_BITS), self._silhouettes):
            bits = bits.view("<u4")[..., 0]
            for k, i in enumerate(hidden[start:start + SILHOUETTE_BITS]):
                amodal[i] = (bits >> np.uint32(k)) & np.uint32(1)
        for i in sorted(set(range(len(scene.objects))) - set(hidden)):
            amodal[i] = instances == i + 1  # nothing can hide it: its visible mask
        category_of_instance = np.array(
            [0] + [self.renderer.dictionary[o.entry].category_id for o in scene.objects], dtype=np.uint8
        )
        self._linear = depth
        normals = self.normals() if normals and self.renderer.normals else None
        frame = Frame(
            rgb=self._rgb,
            depth=depth,
            instances=instances,
            semantic=category_of_instance[instances],
            parts=np.ascontiguousarray(self._ids[..., 2]),
            amodal=amodal,
            normals=normals,
        )
        self._clock.lap("decode")
        return frame


def _read_colour(gl, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8 of pyrender's main framebuffer: its multisampled colour resolved
    and read as pyrender reads it (without pyrender's depth read-back)."""
    GL = _gl()
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, gl._main_fb_ms)
    GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, gl._main_fb)
    GL.glBlitFramebuffer(0, 0, width, height, 0, 0, width, height, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, gl._main_fb)
    data = GL.glReadPixels(0, 0, width, height, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
    return np.ascontiguousarray(np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)[::-1])


# 8-bit normal colour -> OpenCV-axis component (c / 127.5 - 1; y and z flipped from OpenGL)
_NORMAL_LUTS = [
    np.ascontiguousarray((np.arange(256, dtype=np.float32) / np.float32(127.5) - np.float32(1.0)) * sign)
    for sign in (np.float32(1.0), np.float32(-1.0), np.float32(-1.0))
]


def _decode_normals(colour: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32 unit camera-frame (OpenCV) normals, 0 where depth is 0, from
    the normal colours (n + 1) / 2 (OpenGL axes; 8 bits a channel: within 0.5 degree)."""
    x, y, z = (np.take(_NORMAL_LUTS[k], colour[..., k]) for k in range(3))
    length = np.sqrt(x * x + y * y + z * z)
    np.maximum(length, np.float32(1e-6), out=length)
    scale = np.divide(np.float32(1.0), length, dtype=np.float32)
    scale[depth <= 0] = 0.0
    normals = np.empty(depth.shape + (3,), dtype=np.float32)
    for k, component in enumerate((x, y, z)):
        np.multiply(component, scale, out=normals[..., k])
    return normals
