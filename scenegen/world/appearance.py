"""A mesh file's own appearance: what a dictionary entry with ``appearance: file`` wears.

:func:`read_appearance` reads what trimesh loaded with a mesh file (glTF/GLB PBR
metallic-roughness material and its textures, an OBJ's MTL material and diffuse texture,
vertex colours of glTF, PLY, OFF) into a :class:`FileAppearance`, renderer-neutral and
in the file's conventions: glTF's, where the metallic-roughness texture holds roughness in
G and metallic in B (the renderer converts it once, when it makes its material). Per-vertex
data (texture coordinates, colours) follow the mesh's vertices; :func:`split_creases_keeping`
splits a mesh along its creases for shading (as :func:`scenegen.world.shapes.split_creases`)
and carries that data along, so it stays aligned with the entry's canonical mesh.

An entry's ``appearance`` key: ``file`` (the file's look; an error for a file that has
none), ``dictionary`` (the entry's colours, materials, textures) or unset (``file`` when
the file carries an appearance, else ``dictionary``). Objects with the file's look record
the level :data:`FILE_LEVEL` for the colour, material and texture factors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..lazy import trimesh
from .shapes import CREASE_ANGLE_DEG

APPEARANCES = ("file", "dictionary")
FILE_LEVEL = "file"  # colour, material and texture level of an object wearing its file's look
APPEARANCE_FACTORS = ("color", "material", "texture")  # the factors FILE_LEVEL is a level of


@dataclass(frozen=True, eq=False)
class FileAppearance:
    """A mesh file's look (glTF metallic-roughness conventions).

    Attributes:
        base_color: (4,) float linear RGBA factor in [0, 1].
        metallic, roughness: factors in [0, 1].
        emissive: (3,) float linear emissive factor.
        base_color_texture: (H, W, 3 or 4) uint8, sRGB, or None.
        metallic_roughness_texture: (H, W, 3) uint8, roughness in G and metallic in B
            (glTF), or None.
        normal_texture, occlusion_texture (occlusion in R), emissive_texture: (H, W, 3)
            uint8 or None.
        uv: (V, 2) float32 texture coordinates per vertex, or None.
        colors: (V, 4) float32 linear RGBA per vertex in [0, 1], or None.
        double_sided: whether back faces are drawn lit.
    """

    base_color: tuple = (1.0, 1.0, 1.0, 1.0)
    metallic: float = 0.0
    roughness: float = 1.0
    emissive: tuple = (0.0, 0.0, 0.0)
    base_color_texture: np.ndarray | None = None
    metallic_roughness_texture: np.ndarray | None = None
    normal_texture: np.ndarray | None = None
    occlusion_texture: np.ndarray | None = None
    emissive_texture: np.ndarray | None = None
    uv: np.ndarray | None = None
    colors: np.ndarray | None = None
    double_sided: bool = False

    @property
    def textured(self) -> bool:
        """Whether some texture is drawn (and so texture coordinates are needed)."""
        return self.uv is not None and any(
            t is not None for t in (self.base_color_texture, self.metallic_roughness_texture,
                                    self.normal_texture, self.occlusion_texture, self.emissive_texture))

    def with_vertices(self, source: np.ndarray) -> "FileAppearance":
        """A copy whose per-vertex data are those of vertices ``source`` (new V,) int."""
        return FileAppearance(**{
            **{name: getattr(self, name) for name in self.__dataclass_fields__},
            "uv": None if self.uv is None else self.uv[source],
            "colors": None if self.colors is None else self.colors[source],
        })


def _image(image, channels: int) -> np.ndarray | None:
    """A PIL image (or None) as a (H, W, ``channels``) uint8 array."""
    if image is None:
        return None
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    array = np.asarray(image.convert(mode), dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


def _factor(value, size: int, default: float) -> tuple:
    """A colour factor (trimesh stores uint8 or float) as ``size`` floats in [0, 1]."""
    if value is None:
        return (default,) * size
    array = np.asarray(value).ravel()[:size]
    scaled = array / 255.0 if array.dtype.kind in "ui" else array.astype(float)
    values = [float(v) for v in scaled] + [1.0] * (size - len(scaled))
    return tuple(values)


def _vertex_colors(colors) -> np.ndarray:
    array = np.asarray(colors)
    if array.shape[1] == 3:
        array = np.column_stack([array, np.full(len(array), 255 if array.dtype.kind in "ui" else 1.0)])
    scaled = array / 255.0 if array.dtype.kind in "ui" else array
    return np.ascontiguousarray(scaled, dtype=np.float32)


def read_appearance(mesh: trimesh.Trimesh) -> FileAppearance | None:
    """The appearance a loaded mesh file carries, or None when it carries none (no
    material, texture or vertex colours).

    A textured file's material: a glTF ``PBRMaterial`` as it is; an OBJ's
    ``SimpleMaterial`` (MTL) through trimesh's ``to_pbr`` (diffuse colour and texture
    as the base colour). Face colours become vertex colours (trimesh's average).
    """
    visual = mesh.visual
    if isinstance(visual, trimesh.visual.TextureVisuals):
        material = visual.material
        if material is None:
            return None
        # glTF's default metallic factor is 1; an MTL material has none and is a dielectric
        default_metallic = 1.0 if isinstance(material, trimesh.visual.material.PBRMaterial) else 0.0
        if not isinstance(material, trimesh.visual.material.PBRMaterial):
            material = material.to_pbr()
        uv = None if visual.uv is None or len(visual.uv) != len(mesh.vertices) else np.asarray(
            visual.uv, dtype=np.float32)
        colors = visual.vertex_attributes.get("color") if hasattr(visual, "vertex_attributes") else None
        return FileAppearance(
            base_color=_factor(material.baseColorFactor, 4, 1.0),
            metallic=float(default_metallic if material.metallicFactor is None else material.metallicFactor),
            roughness=float(1.0 if material.roughnessFactor is None else material.roughnessFactor),
            emissive=_factor(material.emissiveFactor, 3, 0.0),
            base_color_texture=_image(material.baseColorTexture, 4),
            metallic_roughness_texture=_image(material.metallicRoughnessTexture, 3),
            normal_texture=_image(material.normalTexture, 3),
            occlusion_texture=_image(material.occlusionTexture, 3),
            emissive_texture=_image(material.emissiveTexture, 3),
            uv=uv,
            colors=None if colors is None or len(colors) != len(mesh.vertices) else _vertex_colors(colors),
            double_sided=bool(material.doubleSided),
        )
    if isinstance(visual, trimesh.visual.ColorVisuals) and visual.kind in ("vertex", "face"):
        return FileAppearance(colors=_vertex_colors(visual.vertex_colors))
    return None


def resolve_appearance(mode, appearance: FileAppearance | None, key: str) -> FileAppearance | None:
    """The appearance an entry wears: ``appearance`` (the file's) for ``mode`` ``file``
    or unset, None for ``dictionary`` (or an unset mode and a file without one).

    Raises:
        ConfigError: ``mode`` is not one of :data:`APPEARANCES`, or ``file`` for a file
            without an appearance (naming ``key``).
    """
    if mode is not None and str(mode) not in APPEARANCES:
        raise ConfigError(f"{key}.appearance must be one of {list(APPEARANCES)}, got {mode!r}")
    if mode == "dictionary":
        return None
    if mode == "file" and appearance is None:
        raise ConfigError(f"{key}.appearance is 'file' but its mesh file carries no appearance (no material, "
                          f"texture or vertex colours); use appearance: dictionary")
    return appearance


def split_creases_keeping(mesh: trimesh.Trimesh, appearance: FileAppearance) -> tuple[trimesh.Trimesh, FileAppearance]:
    """``mesh`` split along its creases for shading, as
    :func:`scenegen.world.shapes.split_creases` (same normals), with ``appearance``'s
    per-vertex data carried to the new vertices: a vertex is also split where the
    file's vertices differ (texture seams, colour borders).

    Returns:
        (the split mesh with its ``vertex_normals``, ``appearance`` aligned with it).
    """
    merged = mesh.copy()
    merged.merge_vertices(merge_tex=True, merge_norm=True)  # keeps the faces and their corners in order
    split = trimesh.graph.smooth_shade(merged, angle=math.radians(CREASE_ANGLE_DEG))
    components = split.metadata.get("original_components")
    order = np.concatenate([np.asarray(c).ravel() for c in components]) if components else np.arange(len(mesh.faces))
    shaded = trimesh.Trimesh(vertices=split.vertices, faces=split.faces, process=False)
    normals = np.asarray(shaded.vertex_normals)
    pairs = np.column_stack([np.asarray(split.faces).ravel(), np.asarray(mesh.faces)[order].ravel()])
    unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
    body = trimesh.Trimesh(
        vertices=np.asarray(split.vertices)[unique[:, 0]],
        faces=inverse.reshape(-1, 3),
        vertex_normals=normals[unique[:, 0]],
        process=False,
    )
    return body, appearance.with_vertices(unique[:, 1])
