"""Labels: Scene + Frame -> per-object annotations (plain dicts, JSON-ready).

Every value is measured from the rendered layers or read from the Scene; nothing is
re-sampled. Per object (instance id i + 1 for ``scene.objects[i]``):

    instance_id, category, category_id, entry
    style              its shape, "slot=style,..." ("" for an entry without part rules)
    texture            texture name
    relation, anchor, slot, in_context   how the grammar placed it (see ObjectInstance)
    bbox               [x, y, w, h] of the visible pixels (ints, pixels); [0, 0, 0, 0] if hidden
    visible_pixels     pixels of the object in the instance image
    amodal_pixels      pixels it would cover with nothing in front of it
    visible_fraction   visible_pixels / amodal_pixels (0 when amodal_pixels is 0)
    world_from_object  (4, 4) rigid pose (rotation about z, translation; metres)
    scale              largest extent, metres
    azimuth, elevation camera direction seen from the object, degrees
    pose_bin, elevation_bin, occlusion   factor levels (see scenegen.factors)
    factors            {category, pose, elevation, context, occlusion, color, material, texture}
    parts              one dict per part of its variant, in part order:
                       {part_id (1-based index, its value in the part image), name, label,
                        pixels (visible pixels of the part; 0 if hidden), bbox [x, y, w, h]}
                       the parts' pixels sum to visible_pixels
    segmentation       COCO compressed RLE of the visible mask
"""

from __future__ import annotations

import math
from typing import List

import numpy as np

from .dictionary import ObjectDictionary
from .factors import elevation_bin, occlusion_level, pose_bin, relative_azimuth, relative_elevation
from .formats.coco import mask_to_rle
from .render import Frame
from .scene import Scene


def mask_box(mask: np.ndarray) -> List[int]:
    """[x, y, w, h] (ints, pixels) of the True pixels of an (H, W) bool mask; zeros if none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return [0, 0, 0, 0]
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def part_labels(variant, mask: np.ndarray, parts: np.ndarray, box: List[int] | None = None) -> List[dict]:
    """Labels of every part of ``variant`` within one object's visible ``mask``.

    Args:
        variant: the object's :class:`~scenegen.dictionary.Variant`.
        mask: (H, W) bool visible pixels of the object.
        parts: (H, W) uint8 part image (1-based part index per pixel).
        box: ``mask_box(mask)`` if already known.
    """
    x, y, w, h = mask_box(mask) if box is None else box
    window = np.where(mask[y : y + h, x : x + w], parts[y : y + h, x : x + w], 0)
    labels = []
    for part in variant.parts:
        selected = window == part.index
        part_box = mask_box(selected)
        if part_box[2]:
            part_box[0] += x
            part_box[1] += y
        labels.append(
            {
                "part_id": part.index,
                "name": part.name,
                "label": part.label,
                "pixels": int(np.count_nonzero(selected)),
                "bbox": part_box,
            }
        )
    return labels


def object_labels(scene: Scene, frame: Frame, dictionary: ObjectDictionary, factors_cfg) -> List[dict]:
    """Annotations of every object of ``scene`` in scene order.

    Args:
        scene: the sampled scene.
        frame: its rendered layers.
        dictionary: the object dictionary (category ids, symmetry, variants).
        factors_cfg: ``cfg.factors`` (occlusion thresholds, elevation bin edges).
    """
    count = len(scene.objects)
    visible = np.bincount(frame.instances.ravel(), minlength=count + 1)[1 : count + 1]
    amodal = frame.amodal.reshape(count, -1).sum(axis=1) if count else np.zeros(0, np.int64)
    eye = scene.camera.position
    labels = []
    for i, obj in enumerate(scene.objects):
        entry = dictionary[obj.entry]
        variant = entry.variant(obj.style)
        mask = frame.instances == i + 1
        box = mask_box(mask)
        fraction = float(visible[i] / amodal[i]) if amodal[i] else 0.0
        center = np.array(obj.position) + [0.0, 0.0, variant.extents[2] * obj.scale / 2]
        azimuth = relative_azimuth(obj.position, obj.yaw, eye)
        elevation = relative_elevation(center, eye)
        levels = {
            "category": obj.category,
            "pose": pose_bin(azimuth, entry.symmetry),
            "elevation": elevation_bin(elevation, factors_cfg.elevation_edges),
            "context": scene.context.name,
            "occlusion": occlusion_level(
                fraction, factors_cfg.occlusion_none_min, factors_cfg.occlusion_partial_min
            ),
            "color": obj.color,
            "material": obj.material,
            "texture": obj.texture,
        }
        labels.append(
            {
                "instance_id": i + 1,
                "category": obj.category,
                "category_id": entry.category_id,
                "entry": obj.entry,
                "style": obj.style,
                "texture": obj.texture,
                "relation": obj.relation,
                "anchor": obj.anchor,
                "slot": obj.slot,
                "in_context": bool(obj.in_context),
                "bbox": box,
                "visible_pixels": int(visible[i]),
                "amodal_pixels": int(amodal[i]),
                "visible_fraction": fraction,
                "world_from_object": obj.world_from_object().tolist(),
                "scale": obj.scale,
                "azimuth": math.degrees(azimuth),
                "elevation": math.degrees(elevation),
                "pose_bin": levels["pose"],
                "elevation_bin": levels["elevation"],
                "occlusion": levels["occlusion"],
                "factors": levels,
                "parts": part_labels(variant, mask, frame.parts, box),
                "segmentation": mask_to_rle(mask),
            }
        )
    return labels
