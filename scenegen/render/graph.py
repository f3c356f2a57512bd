"""Graph: what one scene draws (pyrender scene, primitives and poses), built from a Scene
and a MeshPool, and put in the GL context by :func:`upload_graph`.

Each object is drawn as its variant's parts: the colour pass draws an object of several
parts as one mesh, the flat passes draw each part (for the part image).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import RenderError
from ..scene.geometry import OPENCV_TO_OPENGL
from ..scene.scene import Camera, Scene
from . import _pyrender
from .decode import MAX_INSTANCES, MAX_PARTS
from .environment import EnvironmentDraw, EnvironmentPool
from .meshes import MeshPool, shadow_map_size
from .opengl import gl

CONTEXT_THICKNESS = 0.05  # metres, of the floor slab and the walls
CONTEXT_ROUGHNESS = 0.9  # of floors and walls (not metallic)


def context_boxes(scene: Scene) -> list[tuple[tuple[float, float, float], np.ndarray, bool]]:
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


def floor_rows(cam: Camera, floor_size: float) -> int:
    """How many rows at the bottom of ``cam``'s image the top face of the square floor of
    side ``floor_size`` (metres, centred on the origin, top at z = 0) covers at every
    point, in front of the camera and well inside its depth range: ``k`` means GL window
    rows 0..k-1 (the image's last k rows), 0 when the floor covers no whole band there.
    Where it covers, no sample of those rows keeps the far plane's depth, so a pass drawn
    only behind every surface can leave them out (``ShaderPrograms.draw_behind``).

    Conservative: the floor's top face, seen from a camera above it and within the
    depth range, covers a convex part of the image (the rays through a convex piece of a
    plane form a convex cone), so a rectangle is covered when its corners are. The
    rectangle tested is the band grown by one pixel on every side, which absorbs the
    rasterizer's rounding; its corners are cast as rays on the plane z = 0."""
    half = floor_size / 2
    pose = cam.pose
    centre, rotation = pose[:3, 3], pose[:3, :3]
    if centre[2] <= 0:
        return 0
    rows = np.arange(-1.0, cam.height + 2.0)  # window y of the band's top edge, a pixel apart
    x = np.array([-1.0, cam.width + 1.0])  # window x of the band's sides
    # OpenCV pixel coordinates (centres at integers) of the window points, then rays
    # whose camera z is 1 (so a hit's distance along the ray is its depth)
    u = np.repeat(x - 0.5, len(rows))
    v = np.tile(cam.height - rows - 0.5, len(x))
    rays = np.stack([(u - cam.cx) / cam.fx, (v - cam.cy) / cam.fy, np.ones_like(u)], axis=1) @ rotation.T
    down = rays[:, 2] < 0  # rays that meet the plane in front of the camera
    depth = centre[2] / np.where(down, -rays[:, 2], 1.0)
    hits = centre + depth[:, None] * rays
    covered = down & (np.abs(hits[:, 0]) < half) & (np.abs(hits[:, 1]) < half) \
        & (depth > 2.0 * cam.znear) & (depth < 0.5 * cam.zfar)
    covered = covered.reshape(len(x), len(rows)).all(axis=0)
    if not covered[0]:  # the band's bottom edge (window y = -1) is not on the floor
        return 0
    top = len(rows) if covered.all() else int(np.argmin(covered))  # first edge off the floor
    return int(min(max(rows[top - 1] - 1.0, 0.0), cam.height))


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
        meshes: every pyrender.Mesh drawn.
        camera: the Scene's camera.
        environment: what the colour pass draws of the scene's environment map (None:
            no environment; the context's ambient light and background colour).
        photo: (GL texture, (width, height)) of the photograph behind the scene, or None.
        floor_size: side of the context's square floor, metres (:func:`floor_rows`).
    """

    scene: object
    objects: list[list[tuple]]
    context: list[tuple]
    casters: list[tuple]
    lights: list[tuple]
    width: int
    height: int
    znear: float
    zfar: float
    meshes: list[object] = field(default_factory=list)
    camera: Camera | None = None
    environment: EnvironmentDraw | None = None
    photo: tuple | None = None
    floor_size: float = 0.0

    @property
    def shadows(self) -> bool:
        """Whether some light casts shadows (and there is something to cast them)."""
        return bool(self.casters) and any(casts for _, casts in self.lights)


def _light_pose(direction) -> np.ndarray:
    """(4, 4) pose of a directional light shining along ``direction`` (its node's -z axis)."""
    pose = np.eye(4)
    z = np.asarray(direction, dtype=float)
    x = np.cross([0.0, 0.0, 1.0], z) if abs(z[2]) < 0.999 else np.array([1.0, 0.0, 0.0])
    x /= np.linalg.norm(x)
    pose[:3, 0], pose[:3, 1], pose[:3, 2] = x, np.cross(z, x), z
    return pose


def build_graph(scene: Scene, pool: MeshPool, environments: EnvironmentPool | None = None) -> Graph:
    """The :class:`Graph` of ``scene`` (no GL). Its meshes come from ``pool`` and carry
    this scene's materials until the next build: render a Graph before building another.
    A scene with an environment takes its map from ``environments``.

    Raises:
        RenderError: an unknown texture, too many objects or parts, or an environment
            map that cannot be had (or no ``environments`` to take it from).
    """
    pr, dictionary = pool.pyrender, pool.dictionary
    context = scene.context
    if len(scene.objects) > MAX_INSTANCES:
        raise RenderError(f"{len(scene.objects)} objects exceed the id pass's {MAX_INSTANCES}")
    taken: dict[tuple, int] = {}
    meshes = []

    def take(geometry_key, scale, material=None):
        index = taken.get((geometry_key, scale), 0)
        taken[(geometry_key, scale)] = index + 1
        mesh = pool.mesh(geometry_key, scale, index)
        if material is not None:
            mesh.primitives[0].material = material
        meshes.append(mesh)
        return mesh

    environment = None
    if scene.environment is not None:
        if environments is None:
            raise RenderError("the scene has an environment map and the renderer has no EnvironmentPool")
        environment = EnvironmentDraw.of(scene.environment, environments)
    # under an environment map the sky lights the scene in place of the ambient light
    ambient = 0.0 if environment is not None else context.ambient
    pr_scene = pr.Scene(bg_color=[*context.background, 1.0], ambient_light=[ambient] * 3)
    _pyrender.keep_insertion_order(pr_scene)
    context_draws = []
    for extents, pose, is_wall in context_boxes(scene):
        colour, texture, surface = (
            (context.wall_color, context.wall_texture, context.wall_surface) if is_wall
            else (context.floor_color, context.floor_texture, context.floor_surface)
        )
        if surface:  # a texture set in place of the procedural texture; UVs in metres
            material = pool.surface_material(colour, 0.0, CONTEXT_ROUGHNESS, scene.surfaces, surface)
            scale = pool.surfaces.uv_scale(scene.surfaces, surface, 1.0)
        else:
            material, scale = pool.material(colour, 0.0, CONTEXT_ROUGHNESS, texture), pool.uv_scale(texture)
        mesh = take(("box", tuple(extents)), scale, material)
        pr_scene.add_node(_pyrender.matrix_node(pr, pose, mesh=mesh))
        context_draws.append((mesh.primitives[0], pose.astype(np.float32)))

    objects, casters, corners = [], [], []
    for obj in scene.objects:
        variant = dictionary[obj.entry].outline(obj.style)
        if len(variant.parts) > MAX_PARTS:
            raise RenderError(
                f"objects.{obj.entry} style {variant.style!r} has {len(variant.parts)} parts; "
                f"the part image holds at most {MAX_PARTS}"
            )
        pose = obj.world_from_object() @ np.diag([obj.scale, obj.scale, obj.scale, 1.0])
        pose32 = pose.astype(np.float32)
        colour_meshes = []
        for indices, look in look_groups(variant):
            if dictionary[obj.entry].file_appearance is not None:  # the mesh file's own look
                material, scale = pool.file_material(obj.entry), pool.file_uv_scale(obj.entry)
            else:
                material, scale = _material(pool, obj, look, scene.surfaces)
            # the whole variant, one part, or the parts that share a look of their own
            key = indices[0] if len(indices) == 1 else None if len(indices) == len(variant.parts) else indices
            colour_meshes.append(take((obj.entry, variant.style, key), scale, material))
        if len(variant.parts) == 1:  # the colour pass draws the part itself
            parts = [(colour_meshes[0].primitives[0], pose32, variant.parts[0].index)]
        else:  # the flat passes draw each part
            parts = [
                (take((obj.entry, variant.style, part.index), None).primitives[0], pose32, part.index)
                for part in variant.parts
            ]
        for colour_mesh in colour_meshes:
            pr_scene.add_node(_pyrender.matrix_node(pr, pose, mesh=colour_mesh))
            casters.append((colour_mesh.primitives[0], pose))
        objects.append(parts)
        # the union of the parts' bounds: those of the whole mesh, bit for bit (min and max
        # of the same float32 positions), without making it where no pass draws it
        bounds = np.array([pool.geometry_of((obj.entry, variant.style, part.index))[4] for part in variant.parts])
        low, high = bounds[:, 0].min(axis=0), bounds[:, 1].max(axis=0)
        box = np.array([[x, y, z, 1.0] for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])])
        corners.append(box @ pose.T)

    lights = []
    # with shadows in the scene every light needs a map: pyrender's shader reads one
    # per directional light (empty for a light that casts none)
    maps = any(light.shadows for light in scene.lights)
    map_size = shadow_map_size(scene.camera.width, scene.camera.height) if maps else None
    for index, light in enumerate(scene.lights):
        pr_light = pool.light(index, map_size)
        pr_light.color, pr_light.intensity = list(light.color), light.intensity
        node = _pyrender.matrix_node(pr, _light_pose(light.direction), light=pr_light)
        pr_scene.add_node(node)
        lights.append((node, bool(light.shadows)))
    cam = scene.camera
    # pyrender's window coordinates put pixel centres at +0.5; OpenCV's at integers
    camera = pr.IntrinsicsCamera(
        fx=cam.fx, fy=cam.fy, cx=cam.cx + 0.5, cy=cam.cy + 0.5, znear=cam.znear, zfar=cam.zfar
    )
    pr_scene.add_node(_pyrender.matrix_node(pr, cam.pose @ OPENCV_TO_OPENGL, camera=camera))
    if corners:
        # pyrender frames each directional shadow map on the scene's bounds: the
        # casters' bounds (not the floor's), so the map's texels are spent on them
        points = np.vstack(corners)[:, :3]
        _pyrender.set_bounds(pr_scene, np.array([points.min(axis=0), points.max(axis=0)]))
    return Graph(scene=pr_scene, objects=objects, context=context_draws, casters=casters, lights=lights,
                 width=cam.width, height=cam.height, znear=cam.znear, zfar=cam.zfar, meshes=meshes,
                 camera=cam, environment=environment, floor_size=float(context.floor_size))


def look_groups(variant) -> list[tuple[tuple[int, ...], object]]:
    """The parts of ``variant`` grouped by look, in part order: ((part indices), the
    PartLook they share, or None for the object's own look), the object's group first."""
    groups: dict = {}
    for part in variant.parts:
        groups.setdefault(part.look, []).append(part.index)
    ordered = sorted(groups.items(), key=lambda item: (item[0] is not None, item[1][0]))
    return [(tuple(indices), look) for look, indices in ordered]


def _material(pool, obj, look, surfaces: str = "") -> tuple:
    """(pyrender material, texture-coordinate scale or None) of object ``obj`` for parts
    wearing ``look`` (a PartLook; None: the object's own colour, material and texture,
    and its texture set of ``surfaces`` when it wears one)."""
    if look is None and obj.surface:
        return (pool.surface_material(obj.rgb, obj.metallic, obj.roughness, surfaces, obj.surface),
                pool.surfaces.uv_scale(surfaces, obj.surface, obj.scale))
    if look is None:
        return pool.material(obj.rgb, obj.metallic, obj.roughness, obj.texture), pool.uv_scale(obj.texture)
    rgb = obj.rgb if look.rgb is None else look.rgb
    metallic, roughness = (obj.metallic, obj.roughness) if look.finish is None else look.finish
    texture = obj.texture if look.rgb is None else None  # a colour of its own is untextured
    return pool.material(rgb, metallic, roughness, texture), None if texture is None else pool.uv_scale(texture)


def upload_graph(renderer, graph: Graph) -> None:
    """Put ``graph``'s meshes, textures and shadow maps in the current GL context (those
    not there yet), and tell pyrender's ``renderer`` they are there."""
    textures, shadow_maps = [], []
    for mesh in graph.meshes:
        for part in mesh.primitives:
            _pyrender.upload(part)
            for texture in part.material.textures:
                _pyrender.upload(texture)
                textures.append(texture)
    for node, _ in graph.lights:
        texture = node.light.shadow_texture
        if texture is not None and graph.shadows:
            if _pyrender.upload(texture):
                # mesh.frag samples it as a sampler2DShadow: compare in the sampler
                GL = gl()
                GL.glBindTexture(GL.GL_TEXTURE_2D, _pyrender.texture_id(texture))
                GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_COMPARE_MODE, GL.GL_COMPARE_REF_TO_TEXTURE)
                GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_COMPARE_FUNC, GL.GL_LEQUAL)
                GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
            shadow_maps.append(texture)
    _pyrender.track(renderer, meshes=graph.meshes, textures=textures, shadow_textures=shadow_maps)
