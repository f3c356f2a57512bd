"""Pyrender materials of a mesh file's own look (:class:`scenegen.world.appearance.FileAppearance`).

glTF keeps roughness in the G channel and metallic in B of its metallic-roughness
texture; scenegen's shader (pyrender's) reads roughness from R and metallic from G.
:func:`pyrender_metallic_roughness` swizzles the file's texture once, when the material
is made (the :class:`scenegen.render.meshes.MeshPool` keeps it for the process).
"""

from __future__ import annotations

import numpy as np

from ..world.appearance import FileAppearance


def pyrender_metallic_roughness(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 metallic-roughness texture in glTF's channels (roughness G,
    metallic B) -> the shader's (roughness R, metallic G, B zero)."""
    out = np.zeros(image.shape[:2] + (3,), dtype=np.uint8)
    out[..., 0], out[..., 1] = image[..., 1], image[..., 2]
    return out


def file_material(pyrender, appearance: FileAppearance, name: str) -> tuple[object, list]:
    """(the pyrender MetallicRoughnessMaterial of ``appearance``, its pyrender Textures).

    Base-colour and emissive textures stay sRGB (the shader decodes them); the
    metallic-roughness texture is swizzled (:func:`pyrender_metallic_roughness`); the
    occlusion texture is read from R, the normal texture as tangent-space RGB.
    """
    pr = pyrender
    sampler = pr.Sampler(wrapS=pr.GLTF.REPEAT, wrapT=pr.GLTF.REPEAT)
    textures = {}

    def texture(key: str, image: np.ndarray | None):
        if image is None or appearance.uv is None:
            return None
        channels = "RGBA" if image.shape[2] == 4 else "RGB"
        found = textures[key] = pr.Texture(name=f"{name}:{key}", sampler=sampler,
                                           source=np.ascontiguousarray(image), source_channels=channels)
        return found

    mr = appearance.metallic_roughness_texture
    material = pr.MetallicRoughnessMaterial(
        name=name,
        baseColorFactor=list(appearance.base_color),
        metallicFactor=appearance.metallic,
        roughnessFactor=appearance.roughness,
        emissiveFactor=list(appearance.emissive),
        baseColorTexture=texture("base_color", appearance.base_color_texture),
        metallicRoughnessTexture=texture("metallic_roughness", None if mr is None else pyrender_metallic_roughness(mr)),
        normalTexture=texture("normal", appearance.normal_texture),
        occlusionTexture=texture("occlusion", appearance.occlusion_texture),
        emissiveTexture=texture("emissive", appearance.emissive_texture),
        doubleSided=appearance.double_sided,
    )
    return material, list(textures.values())
