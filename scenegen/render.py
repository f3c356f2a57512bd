"""Renderer: Scene -> Frame with pyrender, headless. The only module touching OpenGL.

The GL platform is chosen here and nowhere else: ``PYOPENGL_PLATFORM=egl`` (Mesa's
llvmpipe on a CPU machine, the NVIDIA driver on a GPU one) unless the caller already set
the variable. pyrender is imported lazily, after that choice, so importing scenegen never
needs OpenGL.

One :class:`Renderer` per process is meant to be reused across scenes: the GL context
and every pyrender mesh are created once (per dictionary entry and appearance) and
cached, never rebuilt per scene. All Renderers of a process share one GL context,
released at exit.

Passes per scene: one lit colour pass (RGB), one flat id pass (instance ids and depth,
aliasing-free), and one flat pass alone for each object that another object might hide
(its amodal silhouette); an object nothing can hide has its visible mask as amodal mask.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

from .dictionary import ObjectDictionary
from .errors import RenderError
from .geometry import OPENCV_TO_OPENGL, box_corners, project
from .scene import Scene

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
        amodal: (N, H, W) bool silhouette of each object with nothing in front of it.
    """

    rgb: np.ndarray
    depth: np.ndarray
    instances: np.ndarray
    semantic: np.ndarray
    amodal: np.ndarray

    def layers(self) -> Dict[str, np.ndarray]:
        """The layers as a dict of named arrays."""
        return {
            "rgb": self.rgb,
            "depth": self.depth,
            "instances": self.instances,
            "semantic": self.semantic,
            "amodal": self.amodal,
        }


def _id_color(instance_id: int) -> Tuple[int, int, int]:
    """Flat colour that encodes an instance id (up to 65535) in the id pass."""
    return (instance_id & 0xFF, (instance_id >> 8) & 0xFF, 0)


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
        _OFFSCREEN.delete()
        _OFFSCREEN = None


class Renderer:
    """Renders Scenes of one object dictionary.

    Args:
        dictionary: the object dictionary the scenes refer to.

    Use as a context manager, or call :meth:`close`, to free the GL context.
    """

    def __init__(self, dictionary: ObjectDictionary):
        self.dictionary = dictionary
        self._pyrender = _import_pyrender()
        self._object_meshes: Dict[tuple, object] = {}
        self._box_meshes: Dict[tuple, object] = {}

    # -- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Drop this renderer's mesh caches. The process's GL context stays (see
        :func:`release_gl_context`)."""
        self._object_meshes.clear()
        self._box_meshes.clear()

    # -- mesh caches ------------------------------------------------------------------

    def _material(self, rgb, metallic: float, roughness: float):
        return self._pyrender.MetallicRoughnessMaterial(
            baseColorFactor=[*rgb, 1.0], metallicFactor=metallic, roughnessFactor=roughness
        )

    def _object_mesh(self, entry_name: str, rgb, metallic: float, roughness: float):
        key = (entry_name, tuple(rgb), metallic, roughness)
        mesh = self._object_meshes.get(key)
        if mesh is None:
            material = self._material(rgb, metallic, roughness)
            primitives = []
            for part in self.dictionary[entry_name].variant().parts:
                part_mesh = self._pyrender.Mesh.from_trimesh(part.mesh.smooth_shaded, material=material, smooth=True)
                primitives.extend(part_mesh.primitives)
            mesh = self._object_meshes[key] = self._pyrender.Mesh(primitives=primitives, name=entry_name)
        return mesh

    def _box_mesh(self, extents, rgb):
        key = (tuple(extents), tuple(rgb))
        mesh = self._box_meshes.get(key)
        if mesh is None:
            import trimesh  # noqa: PLC0415

            box = trimesh.creation.box(extents=extents)
            mesh = self._box_meshes[key] = self._pyrender.Mesh.from_trimesh(
                box, material=self._material(rgb, 0.0, 0.9), smooth=False
            )
        return mesh

    # -- scene graph ------------------------------------------------------------------

    def _context_nodes(self, pr_scene, scene: Scene) -> list:
        """Floor and, for walled contexts, the two walls behind the objects as seen from
        the camera (so walls never stand between the camera and the objects)."""
        context = scene.context
        size, thickness = context.floor_size, 0.05
        nodes = []
        floor_pose = np.eye(4)
        floor_pose[2, 3] = -thickness / 2
        floor = self._box_mesh((size, size, thickness), context.floor_color)
        nodes.append(pr_scene.add(floor, pose=floor_pose))
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
                nodes.append(pr_scene.add(self._box_mesh(tuple(extents), context.wall_color), pose=pose))
        return nodes

    def _build(self, scene: Scene):
        pr = self._pyrender
        context = scene.context
        pr_scene = pr.Scene(bg_color=[*context.background, 1.0], ambient_light=[context.ambient] * 3)
        context_nodes = self._context_nodes(pr_scene, scene)
        object_nodes = []
        for obj in scene.objects:
            mesh = self._object_mesh(obj.entry, obj.rgb, obj.metallic, obj.roughness)
            pose = obj.world_from_object() @ np.diag([obj.scale, obj.scale, obj.scale, 1.0])
            object_nodes.append(pr_scene.add(mesh, pose=pose))
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

    def render(self, scene: Scene) -> Frame:
        """Render every layer of ``scene``.

        Raises:
            RenderError: no GL context could be made, or the size exceeds the driver's.
        """
        cam = scene.camera
        renderer = _offscreen_renderer(self._pyrender, cam.width, cam.height)
        flags = self._pyrender.RenderFlags
        pr_scene, object_nodes, context_nodes = self._build(scene)

        rgb, _ = renderer.render(pr_scene, flags=flags.NONE)

        id_map = {node: _id_color(i + 1) for i, node in enumerate(object_nodes)}
        id_map.update({node: (0, 0, 0) for node in context_nodes})
        id_color, depth = renderer.render(pr_scene, flags=flags.SEG, seg_node_map=id_map)
        instances = _decode_ids(id_color)

        amodal = np.zeros((len(object_nodes), cam.height, cam.width), dtype=bool)
        may_be_occluded = self._may_be_occluded(scene)
        for i, node in enumerate(object_nodes):
            if may_be_occluded[i]:
                solo, _ = renderer.render(pr_scene, flags=flags.SEG, seg_node_map={node: (255, 255, 255)})
                amodal[i] = solo[..., 0] > 0
            else:
                amodal[i] = instances == i + 1

        category_of_instance = np.array(
            [0] + [self.dictionary[o.entry].category_id for o in scene.objects], dtype=np.uint8
        )
        return Frame(
            rgb=np.ascontiguousarray(rgb),
            depth=np.ascontiguousarray(depth, dtype=np.float32),
            instances=instances,
            semantic=category_of_instance[instances],
            amodal=amodal,
        )
