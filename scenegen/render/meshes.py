"""MeshPool: the pyrender meshes, materials, textures and lights of one object dictionary.

Meshes are pooled by *geometry* (entry, style, part or whole object, texture scale): a
scene takes the pool's meshes it needs and gives each its material (colour, metallic,
roughness, texture) for that scene, so the GL context holds one copy of each shape
however many colours and materials the dictionary allows. Lights are pooled too (their
shadow maps stay allocated), one pool per shadow-map size (see :func:`shadow_map_size`).

A texture other than ``plain`` is a repeating base-colour texture (see
:mod:`scenegen.render.textures`) on box-projected UVs in the canonical frame, so its
pattern scales with the object; floors and walls take their context's textures with
UVs in metres.
"""

from __future__ import annotations

import numpy as np

from ..cache import array_digest, content_key, kept_arrays
from ..errors import RenderError, choices
from ..lazy import trimesh
from ..world.dictionary import ObjectDictionary, Texture
from ..world.shapes import primitive
from . import _pyrender
from .file_materials import file_material
from .opengl import gl
from .surfaces import SurfacePool
from .textures import srgb_encode, texture_image, uv_arrays, uv_scale

# texels a side of each light's shadow map: at least SHADOW_TEXELS_PER_PIXEL per pixel of
# the image's longer side, a power of two within SHADOW_MAP_SIZES (the map is framed on
# the objects, which take less of the view than the image's side)
SHADOW_TEXELS_PER_PIXEL = 1.5
SHADOW_MAP_SIZES = (512, 1024)  # (smallest, largest)
GEOMETRY_CACHE = "geometry"  # the cache folder (scenegen.cache.kind_dir) of the meshes' drawn arrays
GEOMETRY_ARRAYS = ("positions", "normals", "uv", "indices", "bounds")


def shadow_map_size(width: int, height: int) -> int:
    """Texels a side of the shadow maps of a ``width`` x ``height`` image: the smallest
    power of two of at least :data:`SHADOW_TEXELS_PER_PIXEL` texels per pixel of its
    longer side, within :data:`SHADOW_MAP_SIZES` (512 up to 341 pixels, 1024 above).
    A map costs its texels in every scene (llvmpipe clears and stores them all), so
    small images, which cannot show a finer shadow, do not pay for one."""
    smallest, largest = SHADOW_MAP_SIZES
    needed = SHADOW_TEXELS_PER_PIXEL * max(int(width), int(height))
    size = smallest
    while size < needed and size < largest:
        size *= 2
    return size


def drawn_arrays(positions, normals, uv, faces) -> tuple:
    """The geometry tuple a pool draws: (positions (V, 3) float32, normals (V, 3) float32,
    uv (V, 2) float32, indices (F, 3) uint32, bounds (2, 3) float64 of the positions)."""
    positions = np.asarray(positions, dtype=np.float32)
    return (positions, np.asarray(normals, dtype=np.float32), np.asarray(uv, dtype=np.float32),
            np.asarray(faces, dtype=np.uint32),
            np.array([positions.min(axis=0), positions.max(axis=0)], dtype=float))


def projected_geometry(mesh) -> tuple:
    """:func:`drawn_arrays` of ``mesh`` with its box-projected UVs
    (:func:`~scenegen.render.textures.uv_arrays`), bit for bit; kept in the cache folder
    under the sha256 of the mesh's vertices, faces, vertex and face normals (all that
    the projection reads), so a process draws a shape made before without splitting its
    corners again."""
    digest = array_digest(mesh.vertices, mesh.faces, mesh.vertex_normals, mesh.face_normals)
    faces = len(mesh.faces)

    def make() -> dict[str, np.ndarray]:
        vertices, indices, normals, uv = uv_arrays(mesh)
        return dict(zip(GEOMETRY_ARRAYS, drawn_arrays(vertices, normals, uv, indices)))

    def fits(kept) -> bool:
        return _drawn_fit(kept) and kept[3].shape == (faces, 3)

    return kept_arrays(GEOMETRY_CACHE, content_key("geometry", digest), GEOMETRY_ARRAYS, make, fits)


def _drawn_fit(kept) -> bool:
    """Whether kept arrays have the types and shapes of :func:`drawn_arrays`' tuple."""
    positions, normals, uv, indices, bounds = kept
    count = len(positions)
    return (positions.dtype == normals.dtype == uv.dtype == np.float32 and positions.shape == normals.shape == (count, 3)
            and uv.shape == (count, 2) and indices.dtype == np.uint32 and indices.ndim == 2 and indices.shape[1] == 3
            and bounds.dtype == np.float64 and bounds.shape == (2, 3))


class MeshPool:
    """Pyrender objects for the scenes of ``dictionary``, made once and reused.

    Args:
        pyrender: the pyrender module (see :func:`scenegen.render.opengl.import_pyrender`).
        dictionary: the object dictionary the scenes refer to.
    """

    def __init__(self, pyrender, dictionary: ObjectDictionary):
        self.pyrender = pyrender
        self.dictionary = dictionary
        # geometry key -> (positions, normals, uv, indices, (2, 3) bounds)
        self.geometry: dict[tuple, tuple] = {}
        # (geometry key, texture scale or None) -> pool of pyrender.Mesh of that geometry
        self.pools: dict[tuple, list] = {}
        # (rgb, metallic, roughness, texture) -> pyrender material
        self.materials: dict[tuple, object] = {}
        self.textures: dict[str, object] = {}  # texture name (file:<entry>:<map> for files) -> pyrender.Texture
        self.colors: dict[tuple, np.ndarray] = {}  # geometry key -> (V, 4) vertex colours of a file's look
        self.lights: dict = {}  # shadow-map size (None: no map) -> pool of pyrender.DirectionalLight
        self.surfaces = SurfacePool(pyrender)  # texture sets (surfaces.sets)

    def close(self, renderer) -> None:
        """Delete the pool's meshes, textures and shadow maps from the GL context (when
        ``renderer``, pyrender's renderer of the current context, is given) and forget
        them."""
        if renderer is not None:
            meshes = [mesh for pool in self.pools.values() for mesh in pool]
            for mesh in meshes:
                for part in mesh.primitives:
                    part.delete()
            for texture in [*self.textures.values(), *self.surfaces.all_textures()]:
                texture.delete()
            shadow_maps = [light.shadow_texture for pool in self.lights.values() for light in pool
                           if light.shadow_texture is not None]
            for texture in shadow_maps:
                texture.delete()
            _pyrender.untrack(renderer, meshes=meshes, textures=[*self.textures.values(), *self.surfaces.all_textures()],
                              shadow_textures=shadow_maps)
        self.geometry.clear()
        self.pools.clear()
        self.materials.clear()
        self.textures.clear()
        self.colors.clear()
        self.lights.clear()
        self.surfaces.clear()

    # -- textures and materials -------------------------------------------------------

    def texture(self, name: str) -> Texture:
        """The dictionary's texture ``name``.

        Raises:
            RenderError: no such texture (with the valid names).
        """
        try:
            return self.dictionary.textures[name]
        except KeyError:
            raise RenderError(
                f"unknown texture {name!r}; valid: {choices(self.dictionary.textures)}"
            ) from None

    def _gl_texture(self, name: str):
        """The pyrender Texture of texture ``name`` (one tile, repeating sampler)."""
        found = self.textures.get(name)
        if found is None:
            pr = self.pyrender
            # the shader decodes base-colour textures from sRGB: encode the linear modulation
            image = srgb_encode(texture_image(self.texture(name)))
            sampler = pr.Sampler(wrapS=pr.GLTF.REPEAT, wrapT=pr.GLTF.REPEAT)
            found = self.textures[name] = pr.Texture(
                name=name, sampler=sampler, source=image, source_channels="RGB"
            )
        return found

    def uv_scale(self, texture: str) -> float | None:
        """Texture coordinates per mesh unit of ``texture``; None for ``plain``."""
        found = self.texture(texture)
        return None if found.pattern == "plain" else uv_scale(found)

    def material(self, rgb, metallic: float, roughness: float, texture: str | None):
        """The pyrender material of linear ``rgb`` (3 floats in [0, 1]), ``metallic``,
        ``roughness`` and ``texture`` (a dictionary texture name; None: untextured)."""
        key = (tuple(rgb), float(metallic), float(roughness), texture)
        material = self.materials.get(key)
        if material is None:
            kwargs = {}
            if texture is not None and self.texture(texture).pattern != "plain":
                kwargs["baseColorTexture"] = self._gl_texture(texture)
            material = self.materials[key] = self.pyrender.MetallicRoughnessMaterial(
                baseColorFactor=[*rgb, 1.0], metallicFactor=metallic, roughnessFactor=roughness, **kwargs
            )
        return material

    def surface_material(self, rgb, metallic: float, roughness: float, source: str, name: str):
        """The pyrender material of linear ``rgb``, ``metallic`` and ``roughness`` wearing
        texture set ``name`` of ``source`` (:mod:`scenegen.render.surfaces`)."""
        key = ("set", source, name, tuple(rgb), float(metallic), float(roughness))
        material = self.materials.get(key)
        if material is None:
            material = self.materials[key] = self.surfaces.material(source, name, rgb, metallic, roughness)
        return material

    def file_material(self, entry: str):
        """The pyrender material of entry ``entry``'s mesh-file look (made once)."""
        key = ("file", entry)
        material = self.materials.get(key)
        if material is None:
            material, textures = file_material(self.pyrender, self.dictionary[entry].file_appearance, entry)
            self.materials[key] = material
            self.textures.update((f"file:{entry}:{i}", texture) for i, texture in enumerate(textures))
        return material

    def file_uv_scale(self, entry: str) -> float | None:
        """Texture-coordinate scale of entry ``entry``'s file look: 1.0 when it draws a
        texture (the file's own coordinates), else None."""
        return 1.0 if self.dictionary[entry].file_appearance.textured else None

    # -- meshes and lights ------------------------------------------------------------

    def _kept_key(self, key: tuple) -> str | None:
        """The cache key of geometry ``key``'s drawn arrays, made of what they are made
        of (a box: its extents; an entry's shape: the dictionary's content key), or None
        where there is none (a dictionary with asset libraries; an entry wearing its
        file's look, whose colours are kept beside the arrays in this pool only)."""
        if key[0] == "box":
            return content_key("drawn", [float(x) for x in key[1]])
        if self.dictionary.content_key is None or self.dictionary[key[0]].file_appearance is not None:
            return None
        index = list(key[2]) if isinstance(key[2], tuple) else key[2]
        return content_key("drawn", self.dictionary.content_key, key[0], key[1], index)

    def geometry_of(self, key: tuple) -> tuple:
        """(positions (V, 3), normals (V, 3), uv (V, 2) in mesh units, indices (F, 3),
        bounds (2, 3)) of geometry ``key``: ``("box", extents)``, ``(entry, style, part
        index)``, ``(entry, style, (part indices))`` (those parts as one mesh) or
        ``(entry, style, None)`` (all parts as one mesh)."""
        found = self.geometry.get(key)
        kept = self._kept_key(key) if found is None else None
        if kept is not None:  # made before, by this source, of the same things
            found = self.geometry[key] = kept_arrays(GEOMETRY_CACHE, kept, GEOMETRY_ARRAYS,
                                                     lambda: dict(zip(GEOMETRY_ARRAYS, self._made(key))), _drawn_fit)
        if found is None:
            found = self.geometry[key] = self._made(key)
        return found

    def _made(self, key: tuple) -> tuple:
        """The drawn arrays of geometry ``key`` (see :meth:`geometry_of`), made from its
        mesh (a file's look: its colours go into :attr:`colors`)."""
        if key[0] == "box":
            x, y, z = key[1]
            return projected_geometry(primitive("box", {"x": x, "y": y, "z": z}))
        entry, style, index = key
        variant = self.dictionary[entry].variant(style)
        if index is None:
            mesh = variant.mesh()
        elif isinstance(index, tuple):  # keeps the parts' vertex normals (see scenegen.world.shapes)
            mesh = trimesh.util.concatenate([p.mesh for p in variant.parts if p.index in index])
        else:
            mesh = next(p for p in variant.parts if p.index == index).mesh
        look = self.dictionary[entry].file_appearance
        if look is None:
            return projected_geometry(mesh)
        # the file's own coordinates and colours
        uv = np.zeros((len(mesh.vertices), 2)) if look.uv is None else look.uv
        if look.colors is not None:
            self.colors[key] = look.colors
        return drawn_arrays(mesh.vertices, mesh.vertex_normals, uv, mesh.faces)

    def mesh(self, geometry_key: tuple, scale: float | None, index: int):
        """Mesh ``index`` of the pool of ``geometry_key`` with texture coordinates times
        ``scale`` (None: none), made when the pool holds fewer."""
        pool = self.pools.setdefault((geometry_key, scale), [])
        if index == len(pool):
            pool.append(self._new_mesh(geometry_key, scale))
        return pool[index]

    def _new_mesh(self, geometry_key: tuple, scale: float | None):
        pr = self.pyrender
        positions, normals, uv, indices, _ = self.geometry_of(geometry_key)
        texcoord = None if scale is None else (uv * scale).astype(np.float32)
        part = pr.Primitive(positions=positions, normals=normals, texcoord_0=texcoord, indices=indices,
                            color_0=self.colors.get(geometry_key))
        return pr.Mesh(primitives=[part], name="/".join(str(k) for k in geometry_key))

    def light(self, index: int, shadow_map_size: int | None):
        """Directional light ``index`` of the pool of ``shadow_map_size``: with a shadow
        map texture of that many texels a side (None: without one)."""
        pr = self.pyrender
        lights = self.lights.setdefault(shadow_map_size, [])
        while len(lights) <= index:
            lights.append(pr.DirectionalLight())
        light = lights[index]
        if shadow_map_size is not None and light.shadow_texture is None:
            GL = gl()
            # outside the map (clamped to its border, depth 1): lit
            sampler = pr.Sampler(magFilter=GL.GL_LINEAR, minFilter=GL.GL_LINEAR,
                                 wrapS=GL.GL_CLAMP_TO_BORDER, wrapT=GL.GL_CLAMP_TO_BORDER)
            light.shadow_texture = pr.Texture(
                width=shadow_map_size, height=shadow_map_size, source_channels="D",
                data_format=GL.GL_FLOAT, sampler=sampler,
            )
        return light
