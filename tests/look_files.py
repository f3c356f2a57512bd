"""Mesh files that carry their own look, written for tests: a box with a two-colour
base-colour texture (glTF and OBJ+MTL), with red vertex colours (glTF and PLY), with a
glTF metallic-roughness texture, and a plain PLY; and a dictionary naming them."""

import copy
from pathlib import Path

import numpy as np
import trimesh
from omegaconf import OmegaConf
from PIL import Image

from scenegen import load_config
from scenegen.config.schema import ObjectEntryConfig
from scenegen.world.dictionary import ObjectDictionary

RED, GREEN = [255, 0, 0], [0, 255, 0]


def box_uv():
    """(unit box, (8, 2) texture coordinates with u across y: left/right halves)."""
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    v = np.asarray(box.vertices)
    return box, np.column_stack([v[:, 1] + 0.5, v[:, 2] + 0.5])


def write_look_files(folder: Path) -> Path:
    """Write two.glb, two.obj (+ .mtl, texture), red.glb, red.ply, rough.glb (base factor
    200 grey, metallic-roughness texture: occlusion 17 in R, roughness 200 in G, metallic
    50 in B) and plain.ply into ``folder``; returns it."""
    box, uv = box_uv()
    two = np.zeros((8, 64, 3), np.uint8)
    two[:, :32], two[:, 32:] = RED, GREEN
    textured = trimesh.Trimesh(box.vertices, box.faces, process=False)
    textured.visual = trimesh.visual.TextureVisuals(
        uv=uv, material=trimesh.visual.material.PBRMaterial(baseColorTexture=Image.fromarray(two)))
    textured.export(folder / "two.glb")
    obj = trimesh.Trimesh(box.vertices, box.faces, process=False)
    obj.visual = trimesh.visual.TextureVisuals(
        uv=uv, material=trimesh.visual.material.SimpleMaterial(image=Image.fromarray(two)))
    obj.export(folder / "two.obj")
    red = box.copy()
    red.visual = trimesh.visual.ColorVisuals(red, vertex_colors=np.tile([255, 0, 0, 255], (8, 1)).astype(np.uint8))
    red.export(folder / "red.glb")
    red.export(folder / "red.ply")
    mr = np.zeros((4, 4, 3), np.uint8)
    mr[..., 0], mr[..., 1], mr[..., 2] = 17, 200, 50  # glTF: roughness in G, metallic in B
    rough = trimesh.Trimesh(box.vertices, box.faces, process=False)
    rough.visual = trimesh.visual.TextureVisuals(uv=uv, material=trimesh.visual.material.PBRMaterial(
        baseColorFactor=[200, 200, 200, 255], metallicRoughnessTexture=Image.fromarray(mr)))
    rough.export(folder / "rough.glb")
    plain = trimesh.creation.box((1.0, 1.0, 1.0))
    plain.export(folder / "plain.ply")
    return folder


def look_dictionary(folder: Path, **entries) -> ObjectDictionary:
    """The built-in dictionary plus entries ``name=(mesh file in folder, extra entry keys)``
    (category ball, colour blue, material matte)."""
    cfg = copy.deepcopy(load_config())
    OmegaConf.set_readonly(cfg, False)
    for name, (mesh, extra) in entries.items():
        cfg.objects[name] = ObjectEntryConfig(category="ball", mesh=str(folder / mesh), colors=["blue"],
                                              materials=["matte"], **extra)
    return ObjectDictionary(cfg)
