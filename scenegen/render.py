"""Renderer: Scene -> Frame with pyrender, headless. The only module touching OpenGL.

The GL platform is chosen here and nowhere else: ``PYOPENGL_PLATFORM=egl`` (Mesa's
llvmpipe on a CPU machine, the NVIDIA driver on a GPU one) unless the caller already set
the variable. pyrender is imported lazily, after that choice, so importing scenegen never
needs OpenGL.

One :class:`Renderer` per process is meant to be reused across scenes: the GL context
and every pyrender mesh are created once and cached, never rebuilt per scene: one mesh
per (entry, style, part, rgb, metallic, roughness, texture), one GL texture per texture
name. All Renderers of a process share one GL context, released at exit.

Each object is drawn as its variant's parts, one scene node per part. A texture other
than ``plain`` is a repeating base-colour texture (see :mod:`scenegen.textures`) on
box-projected UVs in the canonical frame, so its pattern scales with the object; floors
and walls take their context's textures with UVs in metres.

Passes per scene: one lit colour pass (RGB), one flat id pass (aliasing-free; instance
id in red and green, the part's 1-based index in blue; and depth), and one flat pass
alone for each object that another object might hide (its amodal silhouette); an object
nothing can hide has its visible mask as amodal mask.

Surface normals come from one more flat pass, drawn through pyrender's segmentation
path with scenegen's own shaders (``scenegen/shaders``): each pixel gets the surface
normal the colour pass shades with (interpolated vertex normals: exact on flat faces),
in the camera frame, facing the camera, 8 bits a channel.
"""

from __future__ import annotations

import atexit
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from .dictionary import ObjectDictionary, Texture
from .errors import RenderError, choices
from .geometry import OPENCV_TO_OPENGL, box_corners, project, transform_points
from .scene import ObjectInstance, Scene
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


@dataclass(frozen=True, eq=False)
class Frame:
    """Named image layers of one rendered scene (H, W = camera height, width).

    Attributes:
        rgb: (H, W, 3) uint8 lit colour image.
        depth: (H, W) float32 depth along the optical axis (z), metres; 0 = no surface.
        instances: (H, W) uint16 instance ids: 0 background, i + 1 for scene.objects[i].
        semantic: (H, W) uint8 category ids: 0 background.
        parts: (H, W) uint8 part index within the pixel's object (1-based, the
            ``Part.index`` of its variant); 0 background, floor and walls.
        amodal: (N, H, W) bool silhouette of each object with nothing in front of it.
        normals: (H, W, 3) float32 unit surface normals in the camera frame (OpenCV
            axes), facing the camera; 0 where there is no surface (depth 0). None
            for a Frame built without them (``Renderer(..., normals=False)``).
    """

    rgb: np.ndarray
    depth: np.ndarray
    instances: np.ndarray
    semantic: np.ndarray
    parts: np.ndarray
    amodal: np.ndarray
    normals: Optional[np.ndarray] = None

    def layers(self) -> Dict[str, np.ndarray]:
        """The layers as a dict of named arrays (``normals`` only when present)."""
        layers = {
            "rgb": self.rgb,
            "depth": self.depth,
            "instances": self.instances,
            "semantic": self.semantic,
            "parts": self.parts,
            "amodal": self.amodal,
        }
        if self.normals is not None:
            layers["normals"] = self.normals
        return layers


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
SHADER_DIR = Path(__file__).with_name("shaders")  # the normals pass's shaders
_NORMAL_PROGRAMS: Dict[int, object] = {}  # id of pyrender's GL renderer -> ShaderProgramCache


def _id_color(instance_id: int, part_index: int = 0) -> Tuple[int, int, int]:
    """Flat colour of the id pass: instance id (up to 65535) in red and green, part
    index (up to 255) in blue."""
    return (instance_id & 0xFF, (instance_id >> 8) & 0xFF, part_index)


def _decode_ids(color: np.ndarray) -> np.ndarray:
    return color[..., 0].astype(np.uint16) | (color[..., 1].astype(np.uint16) << 8)


_OFFSCREEN = None  # the process's one pyrender OffscreenRenderer
_MAX_SIDE = 0  # GL_MAX_RENDERBUFFER_SIZE of its context


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
        from OpenGL.GL import GL_MAX_RENDERBUFFER_SIZE, glGetIntegerv  # noqa: PLC0415

        _OFFSCREEN, _MAX_SIDE = offscreen, int(glGetIntegerv(GL_MAX_RENDERBUFFER_SIZE))
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
    global _OFFSCREEN
    if _OFFSCREEN is not None:
        _OFFSCREEN._platform.make_current()
        for programs in _NORMAL_PROGRAMS.values():
            programs.clear()  # while their context is current
        _NORMAL_PROGRAMS.clear()
        _OFFSCREEN.delete()
        _OFFSCREEN = None


class _OrderedNodes(dict):
    """An insertion-ordered set of pyrender nodes (the operations pyrender.Scene uses)."""

    def add(self, node) -> None:
        self[node] = None

    def remove(self, node) -> None:
        del self[node]


class _StepClock:
    """Adds the seconds since the previous lap to ``timings[step]`` (no-op without a dict)."""

    def __init__(self, timings: Optional[Dict[str, float]]):
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[step] = self.timings.get(step, 0.0) + now - self.last
            self.last = now


class Renderer:
    """Renders Scenes of one object dictionary.

    Args:
        dictionary: the object dictionary the scenes refer to (meshes, textures).
        normals: whether :meth:`render` renders ``Frame.normals`` (one more flat pass).

    Use as a context manager, or call :meth:`close`, to drop the mesh caches.
    """

    def __init__(self, dictionary: ObjectDictionary, normals: bool = True):
        self.dictionary = dictionary
        self.normals = normals
        self._pyrender = _import_pyrender()
        # (entry, style, part index) -> (positions, normals, uv, indices) of a part
        self._part_geometry: Dict[tuple, tuple] = {}
        # (entry, style, part index, rgb, metallic, roughness, texture) -> pyrender.Mesh
        self._part_meshes: Dict[tuple, object] = {}
        self._box_meshes: Dict[tuple, object] = {}
        self._object_geometry: Dict[tuple, tuple] = {}
        self._object_meshes: Dict[tuple, object] = {}
        self._textures: Dict[str, object] = {}  # texture name -> pyrender.Texture

    # -- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Drop this renderer's mesh and texture caches. The process's GL context stays
        (see :func:`release_gl_context`)."""
        self._part_geometry.clear()
        self._part_meshes.clear()
        self._box_meshes.clear()
        self._object_geometry.clear()
        self._object_meshes.clear()
        self._textures.clear()

    # -- caches -----------------------------------------------------------------------

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

    def _primitive(self, geometry: tuple, rgb, metallic: float, roughness: float, texture: str):
        """A pyrender Primitive of ``geometry`` = (positions (V, 3), normals (V, 3),
        uv (V, 2) in mesh units, indices (F, 3)) with its material."""
        pr = self._pyrender
        positions, normals, uv, indices = geometry
        kwargs = {}
        texcoord = None
        if self._texture(texture).pattern != "plain":
            kwargs["baseColorTexture"] = self._gl_texture(texture)
            texcoord = (uv * uv_scale(self._texture(texture))).astype(np.float32)
        material = pr.MetallicRoughnessMaterial(
            baseColorFactor=[*rgb, 1.0], metallicFactor=metallic, roughnessFactor=roughness, **kwargs
        )
        return pr.Primitive(
            positions=positions, normals=normals, texcoord_0=texcoord, indices=indices, material=material
        )

    @staticmethod
    def _geometry(mesh) -> tuple:
        """(positions, normals, uv, indices) of ``mesh`` with box-projected UVs."""
        textured = uv_coordinates(mesh)
        return (
            np.asarray(textured.vertices, dtype=np.float32),
            np.asarray(textured.vertex_normals, dtype=np.float32),
            np.asarray(textured.visual.uv, dtype=np.float32),
            np.asarray(textured.faces, dtype=np.uint32),
        )

    def _part_mesh(self, obj: ObjectInstance, variant, part):
        key = (obj.entry, variant.style, part.index, tuple(obj.rgb), obj.metallic, obj.roughness, obj.texture)
        mesh = self._part_meshes.get(key)
        if mesh is None:
            geometry_key = key[:3]
            geometry = self._part_geometry.get(geometry_key)
            if geometry is None:
                geometry = self._part_geometry[geometry_key] = self._geometry(part.mesh)
            primitive = self._primitive(geometry, obj.rgb, obj.metallic, obj.roughness, obj.texture)
            mesh = self._part_meshes[key] = self._pyrender.Mesh(
                primitives=[primitive], name=f"{obj.entry}/{part.name}"
            )
        return mesh

    def _object_mesh(self, obj: ObjectInstance, variant):
        """All parts of ``obj`` as one primitive: the colour pass draws an object in one
        call, the id pass draws its parts one by one (each with its part id)."""
        key = (obj.entry, variant.style, tuple(obj.rgb), obj.metallic, obj.roughness, obj.texture)
        mesh = self._object_meshes.get(key)
        if mesh is None:
            geometry = self._object_geometry.get(key[:2])
            if geometry is None:
                geometry = self._object_geometry[key[:2]] = self._geometry(variant.mesh())
            primitive = self._primitive(geometry, obj.rgb, obj.metallic, obj.roughness, obj.texture)
            mesh = self._object_meshes[key] = self._pyrender.Mesh(primitives=[primitive], name=obj.entry)
        return mesh

    def _box_mesh(self, extents, rgb, texture: str):
        """A box of ``extents`` (metres) centred at its origin; UVs in metres."""
        key = (tuple(extents), tuple(rgb), texture)
        mesh = self._box_meshes.get(key)
        if mesh is None:
            import trimesh  # noqa: PLC0415

            geometry = self._geometry(trimesh.creation.box(extents=extents))
            primitive = self._primitive(geometry, rgb, 0.0, 0.9, texture)
            mesh = self._box_meshes[key] = self._pyrender.Mesh(primitives=[primitive])
        return mesh

    # -- scene graph ------------------------------------------------------------------

    def _context_nodes(self, pr_scene, scene: Scene) -> list:
        """Floor and, for walled contexts, the two walls behind the objects as seen from
        the camera (so walls never stand between the camera and the objects)."""
        context = scene.context
        nodes = []
        for extents, pose, is_wall in context_boxes(scene):
            colour, texture = (
                (context.wall_color, context.wall_texture) if is_wall else (context.floor_color, context.floor_texture)
            )
            nodes.append(pr_scene.add(self._box_mesh(extents, colour, texture), pose=pose))
        return nodes

    def _build(self, scene: Scene):
        """The pyrender scene of ``scene``.

        Returns:
            (pyrender.Scene, object_nodes, context_nodes): ``object_nodes[i]`` is the
            list of ``(node, part index)`` of ``scene.objects[i]``, one per part.
        """
        pr = self._pyrender
        context = scene.context
        if len(scene.objects) > MAX_INSTANCES:
            raise RenderError(f"{len(scene.objects)} objects exceed the id pass's {MAX_INSTANCES}")
        pr_scene = pr.Scene(bg_color=[*context.background, 1.0], ambient_light=[context.ambient] * 3)
        # pyrender keeps mesh nodes in a set and draws them in its iteration order
        # (stable-sorted by distance, and the parts of an object tie): a set of objects
        # hashed by address iterates differently from run to run, and so would the
        # winner of every depth tie between coplanar faces. Insertion order fixes it.
        pr_scene._mesh_nodes = _OrderedNodes()
        context_nodes = self._context_nodes(pr_scene, scene)
        object_nodes = []
        for obj in scene.objects:
            variant = self.dictionary[obj.entry].variant(obj.style)
            if len(variant.parts) > MAX_PARTS:
                raise RenderError(
                    f"objects.{obj.entry} style {variant.style!r} has {len(variant.parts)} parts; "
                    f"the part image holds at most {MAX_PARTS}"
                )
            pose = obj.world_from_object() @ np.diag([obj.scale, obj.scale, obj.scale, 1.0])
            object_nodes.append(
                [(pr_scene.add(self._part_mesh(obj, variant, part), pose=pose), part.index) for part in variant.parts]
            )
            if len(variant.parts) > 1:
                pr_scene.add(self._object_mesh(obj, variant), pose=pose)
        for light in scene.lights:
            pose = np.eye(4)
            # a directional light shines along its node's -z axis
            z = np.asarray(light.direction, dtype=float)
            x = np.cross([0.0, 0.0, 1.0], z) if abs(z[2]) < 0.999 else np.array([1.0, 0.0, 0.0])
            x /= np.linalg.norm(x)
            pose[:3, 0], pose[:3, 1], pose[:3, 2] = x, np.cross(z, x), z
            pr_scene.add(pr.DirectionalLight(color=list(light.color), intensity=light.intensity), pose=pose)
        cam = scene.camera
        # pyrender's window coordinates put pixel centres at +0.5; OpenCV's at integers
        camera = pr.IntrinsicsCamera(
            fx=cam.fx, fy=cam.fy, cx=cam.cx + 0.5, cy=cam.cy + 0.5, znear=cam.znear, zfar=cam.zfar
        )
        pr_scene.add(camera, pose=cam.pose @ OPENCV_TO_OPENGL)
        return pr_scene, object_nodes, context_nodes

    def _normals_pass(self, renderer, pr_scene, object_nodes, context_nodes, depth: np.ndarray) -> np.ndarray:
        """(H, W, 3) float32 unit camera-frame (OpenCV) normals, 0 where depth is 0.

        One flat pass over the nodes of the id pass, drawn by pyrender's SEG path with
        scenegen's own shaders (``scenegen/shaders``) in place of its segmentation
        shaders: each pixel gets the interpolated surface normal, turned to face the
        camera, as colour (n + 1) / 2 (8 bits a channel: within 0.5 degree)."""
        from pyrender.shader_program import ShaderProgramCache  # noqa: PLC0415 (lazy, like pyrender)

        gl_renderer = renderer._renderer  # pyrender's own (private) renderer of this context
        # one program cache per GL renderer for the whole process (the offscreen
        # renderers live as long as it), so Renderers made again do not compile again
        programs = _NORMAL_PROGRAMS.get(id(gl_renderer))
        if programs is None:
            programs = _NORMAL_PROGRAMS[id(gl_renderer)] = ShaderProgramCache(shader_dir=str(SHADER_DIR))
        node_map = {node: (0, 0, 0) for node in context_nodes}
        node_map.update({node: (0, 0, 0) for nodes in object_nodes for node, _ in nodes})
        saved, gl_renderer._program_cache = gl_renderer._program_cache, programs
        try:
            colour, _ = renderer.render(pr_scene, flags=self._pyrender.RenderFlags.SEG, seg_node_map=node_map)
        finally:
            gl_renderer._program_cache = saved
        opengl = colour.astype(np.float32) / 127.5 - 1.0
        normals = opengl * np.array([1.0, -1.0, -1.0], dtype=np.float32)  # OpenGL -> OpenCV axes
        length = np.linalg.norm(normals, axis=-1, keepdims=True)
        surface = (depth > 0)[..., None]
        return np.where(surface, normals / np.maximum(length, 1e-6), 0.0).astype(np.float32)

    @staticmethod
    @contextmanager
    def colour_pass(object_nodes):
        """Within it, the per-part meshes of multi-part objects are hidden, so a colour
        pass draws each object once, as its merged node. The id passes need no hiding:
        they draw only the nodes of their ``seg_node_map``, the part nodes."""
        part_meshes = {node.mesh for nodes in object_nodes if len(nodes) > 1 for node, _ in nodes}
        for mesh in part_meshes:
            mesh.is_visible = False
        try:
            yield
        finally:
            for mesh in part_meshes:
                mesh.is_visible = True

    def _may_be_occluded(self, scene: Scene) -> np.ndarray:
        """(N,) bool: whether another object's image box overlaps this object's.

        An object whose projected 3D box overlaps no other object's cannot be hidden by
        one (the floor lies below every object and walls stand behind them), so its
        amodal mask equals its visible mask and needs no pass of its own.
        """
        cam = scene.camera
        boxes = []
        for obj in scene.objects:
            extents = np.asarray(self.dictionary[obj.entry].variant(obj.style).extents) * obj.scale
            uv = project(box_corners(obj.position, obj.yaw, extents), cam.K, cam.pose)
            boxes.append((*uv.min(axis=0), *uv.max(axis=0)))
        boxes = np.asarray(boxes).reshape(-1, 4)
        x0, y0, x1, y1 = (boxes[:, k] for k in range(4))
        overlap = (x0[:, None] <= x1[None, :] + 1) & (x0[None, :] <= x1[:, None] + 1)
        overlap &= (y0[:, None] <= y1[None, :] + 1) & (y0[None, :] <= y1[:, None] + 1)
        np.fill_diagonal(overlap, False)
        return overlap.any(axis=1)

    # -- rendering --------------------------------------------------------------------

    def render(self, scene: Scene, timings: Optional[Dict[str, float]] = None) -> Frame:
        """Render every layer of ``scene``.

        Args:
            scene: the scene to render.
            timings: when given, seconds spent per step are added to it under
                ``"build"``, ``"rgb pass"``, ``"id pass"``, ``"amodal passes"`` and
                ``"normals"`` (for benchmarks).

        Raises:
            RenderError: no GL context could be made, the size exceeds the driver's, or
                the scene names an unknown texture or too many objects or parts.
        """
        clock = _StepClock(timings)
        cam = scene.camera
        renderer = _offscreen_renderer(self._pyrender, cam.width, cam.height)
        flags = self._pyrender.RenderFlags
        pr_scene, object_nodes, context_nodes = self._build(scene)
        clock.lap("build")

        with self.colour_pass(object_nodes):
            rgb, _ = renderer.render(pr_scene, flags=flags.NONE)
        clock.lap("rgb pass")

        id_map = {node: (0, 0, 0) for node in context_nodes}
        for i, nodes in enumerate(object_nodes):
            id_map.update({node: _id_color(i + 1, index) for node, index in nodes})
        id_color, depth = renderer.render(pr_scene, flags=flags.SEG, seg_node_map=id_map)
        instances = _decode_ids(id_color)
        parts = np.ascontiguousarray(id_color[..., 2])
        clock.lap("id pass")

        amodal = np.zeros((len(object_nodes), cam.height, cam.width), dtype=bool)
        may_be_occluded = self._may_be_occluded(scene)
        for i, nodes in enumerate(object_nodes):
            if may_be_occluded[i]:
                solo_map = {node: (255, 255, 255) for node, _ in nodes}
                solo, _ = renderer.render(pr_scene, flags=flags.SEG, seg_node_map=solo_map)
                amodal[i] = solo[..., 0] > 0
            else:
                amodal[i] = instances == i + 1
        clock.lap("amodal passes")

        category_of_instance = np.array(
            [0] + [self.dictionary[o.entry].category_id for o in scene.objects], dtype=np.uint8
        )
        depth = np.ascontiguousarray(depth, dtype=np.float32)
        normals = None
        if self.normals:
            normals = self._normals_pass(renderer, pr_scene, object_nodes, context_nodes, depth)
        clock.lap("normals")
        return Frame(
            rgb=np.ascontiguousarray(rgb),
            depth=depth,
            instances=instances,
            semantic=category_of_instance[instances],
            parts=parts,
            amodal=amodal,
            normals=normals,
        )
