"""Labels: Scene + Frame -> per-object annotations (plain dicts, JSON-ready).

Every value is measured from the rendered layers or read from the Scene; nothing is
re-sampled. Per object (instance id i + 1 for ``scene.objects[i]``):

    instance_id, category, category_id, entry
    bbox               [x, y, w, h] of the visible pixels (ints, pixels); [0, 0, 0, 0] if hidden
    visible_pixels     pixels of the object in the instance image
    amodal_pixels      pixels it would cover with nothing in front of it
    visible_fraction   visible_pixels / amodal_pixels (0 when amodal_pixels is 0)
    world_from_object  (4, 4) rigid pose (rotation about z, translation; metres)
    scale              largest extent, metres
    azimuth, elevation camera direction seen from the object, degrees
    pose_bin, elevation_bin, occlusion   factor levels (see scenegen.factors)
    factors            {category, pose, elevation, context, occlusion, color, material}
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


def object_labels(scene: Scene, frame: Frame, dictionary: ObjectDictionary, factors_cfg) -> List[dict]:
    """Annotations of every object of ``scene`` in scene order.

    Args:
        scene: the sampled scene.
        frame: its rendered layers.
        dictionary: the object dictionary (category ids, symmetry).
        factors_cfg: ``cfg.factors`` (occlusion thresholds, elevation bin edges).
    """
    count = len(scene.objects)
    visible = np.bincount(frame.instances.ravel(), minlength=count + 1)[1 : count + 1]
    amodal = frame.amodal.reshape(count, -1).sum(axis=1) if count else np.zeros(0, np.int64)
    eye = scene.camera.position
    labels = []
    for i, obj in enumerate(scene.objects):
        entry = dictionary[obj.entry]
        mask = frame.instances == i + 1
        fraction = float(visible[i] / amodal[i]) if amodal[i] else 0.0
        center = np.array(obj.position) + [0.0, 0.0, entry.variant(obj.style).extents[2] * obj.scale / 2]
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
        }
        labels.append(
            {
                "instance_id": i + 1,
                "category": obj.category,
                "category_id": entry.category_id,
                "entry": obj.entry,
                "bbox": mask_box(mask),
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
                "segmentation": mask_to_rle(mask),
            }
        )
    return labels
