"""Texture sets as pyrender materials: what an object, floor or wall that wears one
(``ObjectInstance.surface``, ``Context.floor_surface`` / ``wall_surface``) is drawn with.

A set (:class:`scenegen.world.texture_sets.TextureSet`) gives four maps; the material
keeps the factors the Scene records, so the colour and material factors stay true:

- base colour: the object's colour times the set's *detail* (grain, weave, speckle;
  mean linear luminance about 0.85), an sRGB texture the shader decodes;
- roughness: the material's roughness times the set's roughness map divided by its
  mean (clamped to 1 in the factor), so the surface's mean roughness is the material's
  where it can be; metallic: the material's factor (the map's channel is 1);
- normal map: the set's, in the OpenGL convention; ``mesh.frag`` builds the tangent
  frame from screen-space derivatives of the texture coordinates.

Texture coordinates: objects' box-projected coordinates are in canonical units (the
largest extent is 1), so a set spans ``tile_size`` metres when they are scaled by
``object scale / tile_size``, rounded to a quarter octave (:func:`uv_scale`) so that
meshes pool by a few scales; floors and walls are in metres (``1 / tile_size``).
"""

from __future__ import annotations

import math

import numpy as np

from ..world.texture_sets import TextureSet, texture_set
from .backend import scene_asset


def uv_scale(metres_per_unit: float, tile_size: float) -> float:
    """Texture coordinates per mesh unit for a set of ``tile_size`` metres on a mesh whose
    unit is ``metres_per_unit`` metres, rounded to 2^(k/4)."""
    exact = metres_per_unit / tile_size
    return float(2.0 ** (round(4.0 * math.log2(exact)) / 4.0))


def roughness_map(texture: TextureSet) -> tuple[np.ndarray, float]:
    """((S, S, 3) uint8 metallic-roughness image in the channels ``mesh.frag`` reads:
    roughness / its maximum in R, 1 in G; the ratio max / mean of the roughness that
    the material's roughness factor is multiplied by)."""
    rough = texture.roughness.astype(np.float64)
    peak, mean = max(float(rough.max()), 1.0), max(float(rough.mean()), 1.0)
    image = np.zeros(rough.shape + (3,), np.uint8)
    image[..., 0] = np.rint(rough / peak * 255.0).astype(np.uint8)
    image[..., 1] = 255
    return image, peak / mean


class SurfacePool:
    """The texture sets a renderer's scenes wear, made on first use: per (source, name)
    the set and its three pyrender textures (detail, metallic-roughness, normal)."""

    def __init__(self, pyrender):
        self.pyrender = pyrender
        self.sets: dict[tuple[str, str], TextureSet] = {}
        self.textures: dict[tuple[str, str], tuple] = {}
        self.ratios: dict[tuple[str, str], float] = {}

    def set(self, source: str, name: str) -> TextureSet:
        """Set ``name`` of ``source``.

        Raises:
            RenderError: the set cannot be had (the reason).
        """
        key = (source, name)
        found = self.sets.get(key)
        if found is None:
            with scene_asset("texture set", name, source):
                found = self.sets[key] = texture_set(source, name)
        return found

    def uv_scale(self, source: str, name: str, metres_per_unit: float) -> float:
        """Texture coordinates per mesh unit (of ``metres_per_unit`` metres) for set
        ``name`` of ``source`` (:func:`uv_scale`)."""
        return uv_scale(metres_per_unit, self.set(source, name).tile_size)

    def material(self, source: str, name: str, rgb, metallic: float, roughness: float):
        """A new pyrender material of ``rgb`` (linear), ``metallic`` and ``roughness``
        wearing set ``name`` of ``source`` (see the module docstring)."""
        key = (source, name)
        if key not in self.textures:
            found, pr = self.set(source, name), self.pyrender
            sampler = pr.Sampler(wrapS=pr.GLTF.REPEAT, wrapT=pr.GLTF.REPEAT)
            rough, self.ratios[key] = roughness_map(found)
            self.textures[key] = tuple(
                pr.Texture(name=f"set:{name}:{kind}", sampler=sampler, source=image, source_channels="RGB")
                for kind, image in (("detail", found.detail()), ("roughness", rough), ("normal", found.normal)))
        detail, rough, normal = self.textures[key]
        return self.pyrender.MetallicRoughnessMaterial(
            baseColorFactor=[*rgb, 1.0], metallicFactor=metallic,
            roughnessFactor=min(1.0, roughness * self.ratios[key]),
            baseColorTexture=detail, metallicRoughnessTexture=rough, normalTexture=normal)

    def all_textures(self) -> list:
        """Every pyrender texture made so far."""
        return [texture for textures in self.textures.values() for texture in textures]

    def clear(self) -> None:
        """Forget every set and texture (the caller deletes the textures from GL)."""
        self.sets.clear()
        self.textures.clear()
        self.ratios.clear()
