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
    world_from_object  (4, 4) rigid pose of the object frame (metres); upright: a
                       rotation about z and a translation
    scale              largest extent, metres
    azimuth, elevation camera direction seen from the centre of the object's box,
                       degrees, in the object's own frame (for an upright object the
                       same as in the world turned by its yaw)
    rest               (only where rest states are on) its rest level, measured from
                       world_from_object: which of its directions points down
                       (scenegen.world.rest.level_of, its symmetry merging levels)
    pose_bin, elevation_bin, occlusion   factor levels (see scenegen.scene.factors)
    factors            {category, pose, elevation, context, occlusion, color, material, texture}
    parts              one dict per part of its variant, in part order:
                       {part_id (1-based index, its value in the part image), name, label,
                        pixels (visible pixels of the part; 0 if hidden), bbox [x, y, w, h]}
                       the parts' pixels sum to visible_pixels
    segmentation       COCO compressed RLE of the visible mask
    amodal_segmentation  COCO compressed RLE of the amodal mask (nothing in front)
    amodal_bbox        [x, y, w, h] of the amodal mask (same convention as bbox)
    occluders          [{instance_id, pixels}] sorted by instance_id: for each other
                       object j visible inside this object's amodal mask, the number
                       of those pixels (pixels > 0); with one occluder its pixels equal
                       amodal_pixels - visible_pixels
    box3d_world        (8, 3) corners, metres, of the object's oriented 3D box (its
                       variant's extents * scale in the object frame, base centre at
                       its origin, moved by world_from_object), in the order of
                       ``geometry.box_corners`` (named by KEYPOINT_NAMES[:8])
    box3d_camera       the same corners in the camera frame (OpenCV axes, metres)
    cam_R_m2c          9 floats, row-major: rotation of the rigid transform
                       camera_from_object = inverse(world_from_camera) @ world_from_object
                       (the object frame: origin at its base centre, z up, front +x,
                       metres, NOT scaled; the BOP convention)
    cam_t_m2c          3 floats: its translation in millimetres (BOP convention), i.e.
                       x_camera_mm = R @ x_object_mm + t
    keypoints          9 x [u, v, flag]: the 8 box corners then the box centre (see
                       KEYPOINT_NAMES), projected with K (pixels, pixel centres at
                       integers). flag 0: outside the image (or behind the camera,
                       where u = v = 0); 1: inside the image but hidden; 2: inside and
                       visible. A keypoint is visible when, at its rounded pixel,
                       there is no surface (depth 0) or the rendered depth >= its
                       camera z - KEYPOINT_DEPTH_TOLERANCE (1 cm; corners lie on the
                       surface of box-like objects, so a surface within 1 cm in front
                       of one does not hide it). Any nearer surface hides it, the
                       object's own included (COCO's v = 1): the box centre of a solid
                       object is inside it, so it is hidden.
"""

from __future__ import annotations

import math
from typing import List

import numpy as np

from ..scene.factors import (
    elevation_bin,
    light_bin,
    occlusion_level,
    pose_bin,
    relative_azimuth,
    relative_elevation,
)
from ..scene.frame import Frame
from ..scene.geometry import box_corners, rigid_inverse, transform_points
from ..scene.scene import Scene
from ..world.dictionary import ObjectDictionary
from ..world.rest import level_of
from .masks import window_to_rle


def _corner_name(index: int) -> str:
    """``corner_XYZ`` of ``box_corners`` corner ``index``: per object axis, 0 = its
    minimum, 1 = its maximum."""
    local = [(1, 1), (0, 1), (0, 0), (1, 0)][index // 2]  # footprint order: ++, -+, --, +-
    return f"corner_{local[0]}{local[1]}{index % 2}"


KEYPOINT_NAMES = tuple(_corner_name(k) for k in range(8)) + ("centre",)
"""Names of the 9 keypoints: the 8 box corners in ``geometry.box_corners`` order, named
by min (0) / max (1) along the object's x, y, z axes, then the box centre."""

KEYPOINT_SKELETON = tuple(
    (a + 1, b + 1)
    for a in range(8)
    for b in range(a + 1, 8)
    if sum(x != y for x, y in zip(KEYPOINT_NAMES[a][-3:], KEYPOINT_NAMES[b][-3:])) == 1
)
"""The 12 box edges as 1-based keypoint index pairs (COCO ``skeleton`` convention)."""

KEYPOINT_DEPTH_TOLERANCE = 0.01  # metres; see ``keypoints`` in the module docstring


def mask_box(mask: np.ndarray) -> List[int]:
    """[x, y, w, h] (ints, pixels) of the True pixels of an (H, W) bool mask; zeros if none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return [0, 0, 0, 0]
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(mask[top:bottom].any(axis=0))  # the other rows hold no pixel
    return [int(cols[0]), top, int(cols[-1] - cols[0] + 1), bottom - top]


def part_labels(variant, mask: np.ndarray, parts: np.ndarray, box: List[int] | None = None,
                offset: tuple[int, int] = (0, 0)) -> List[dict]:
    """Labels of every part of ``variant`` within one object's visible ``mask``.

    Args:
        variant: the object's :class:`~scenegen.world.dictionary.Variant` (or its
            :class:`~scenegen.world.dictionary.VariantOutline`: the parts are read).
        mask: (H, W) bool visible pixels of the object.
        parts: (H, W) uint8 part image (1-based part index per pixel).
        box: ``mask_box(mask)`` if already known.
        offset: (x, y) pixels of ``mask``'s first column and row in the image (a window
            of it); the parts' boxes are in the image's pixels.
    """
    x, y, w, h = mask_box(mask) if box is None else box
    window = np.where(mask[y : y + h, x : x + w], parts[y : y + h, x : x + w], 0)
    labels = []
    for part in variant.parts:
        selected = window == part.index
        pixels = int(np.count_nonzero(selected))
        part_box = _moved(mask_box(selected), x + offset[0], y + offset[1]) if pixels else [0, 0, 0, 0]
        labels.append(
            {
                "part_id": part.index,
                "name": part.name,
                "label": part.label,
                "pixels": pixels,
                "bbox": part_box,
            }
        )
    return labels


def _moved(box: List[int], dx: int, dy: int) -> List[int]:
    """``box`` [x, y, w, h] moved by (dx, dy) pixels; an empty box ([0, 0, 0, 0]) stays
    as it is."""
    return [box[0] + dx, box[1] + dy, box[2], box[3]] if box[2] else box


def _keypoints(corners_camera: np.ndarray, K: np.ndarray, frame: Frame) -> List[list]:
    """[u, v, flag] of the 8 corners and the centre (see ``keypoints`` above)."""
    points = np.vstack([corners_camera, corners_camera.mean(axis=0)])
    z = points[:, 2]
    in_front = z > 1e-9
    uvw = points @ np.asarray(K, dtype=float).T
    uv = np.where(in_front[:, None], uvw[:, :2] / np.where(in_front, z, 1.0)[:, None], 0.0)
    height, width = frame.depth.shape
    col, row = np.rint(uv[:, 0]).astype(int), np.rint(uv[:, 1]).astype(int)
    inside = in_front & (col >= 0) & (col < width) & (row >= 0) & (row < height)
    col, row = np.where(inside, col, 0), np.where(inside, row, 0)
    depth = frame.depth[row, col]
    # only depth decides: a surface of the object itself in front of the point hides it
    visible = (depth <= 0) | (depth >= z - KEYPOINT_DEPTH_TOLERANCE)
    flags = np.where(inside, np.where(visible, 2, 1), 0)
    return [[u, v, f] for (u, v), f in zip(uv.tolist(), flags.tolist())]


def object_labels(scene: Scene, frame: Frame, dictionary: ObjectDictionary, factors_cfg) -> List[dict]:
    """Annotations of every object of ``scene`` in scene order.

    Args:
        scene: the sampled scene.
        frame: its rendered layers.
        dictionary: the object dictionary (category ids, symmetry, variants).
        factors_cfg: ``cfg.factors`` (occlusion thresholds, elevation and light bins).
    """
    count = len(scene.objects)
    # each object's labels are read in its amodal box (visible pixels are amodal ones
    # too), or in the whole image where a rasterizer left visible pixels outside it
    amodal_boxes = [mask_box(amodal) for amodal in frame.amodal]
    windows = [(slice(y, y + h), slice(x, x + w)) for x, y, w, h in amodal_boxes]
    masks = [frame.instances[window] == i + 1 for i, window in enumerate(windows)]
    visible = [int(np.count_nonzero(mask)) for mask in masks]
    if sum(visible) != np.count_nonzero(frame.instances):
        size = frame.instances.shape
        everywhere = np.bincount(frame.instances.ravel(), minlength=count + 1)[1:count + 1]
        for i in np.flatnonzero(everywhere != visible):
            windows[i] = (slice(0, size[0]), slice(0, size[1]))
            masks[i] = frame.instances == i + 1
            visible[i] = int(everywhere[i])
    camera = scene.camera
    eye = camera.position
    camera_from_world = rigid_inverse(camera.pose)
    # under an environment map, how brightly it lights an upward-facing surface
    lit = [scene.environment.intensity] if scene.environment is not None else [lamp.intensity for lamp in scene.lights]
    light = light_bin(lit, factors_cfg)
    scene_levels = {}  # written only when the scene has them (earlier records have neither)
    if scene.environment is not None:
        scene_levels["environment"] = scene.environment.level
    if scene.effects is not None:
        scene_levels["effects"] = scene.effects.name
    if scene.background is not None:
        scene_levels["background"] = scene.background.level
    if scene.engine:
        scene_levels["engine"] = scene.engine
    labels = []
    for i, obj in enumerate(scene.objects):
        entry = dictionary[obj.entry]
        variant = entry.outline(obj.style)  # its parts and extents, without its meshes
        window, mask, amodal_box = windows[i], masks[i], amodal_boxes[i]
        top, left = window[0].start, window[1].start
        ids, amodal_mask = frame.instances[window], frame.amodal[i][window]
        local_box = mask_box(mask)  # in the window
        box = _moved(local_box, left, top)
        amodal_pixels = int(np.count_nonzero(amodal_mask))
        counts = np.bincount(ids[amodal_mask], minlength=count + 1)
        occluders = [
            {"instance_id": int(j), "pixels": int(counts[j])} for j in np.flatnonzero(counts) if 0 < j != i + 1
        ]
        world_from_object = obj.world_from_object()
        if obj.tipped:  # its own box and the camera's direction in its own frame
            local_corners = box_corners((0.0, 0.0, 0.0), 0.0, np.asarray(variant.extents) * obj.scale)
            corners = transform_points(world_from_object, local_corners)
            azimuth, elevation = _direction_in_object(world_from_object, variant.extents[2] * obj.scale, eye)
        else:
            corners = box_corners(obj.position, obj.yaw, np.asarray(variant.extents) * obj.scale)
            center = np.array(obj.position) + [0.0, 0.0, variant.extents[2] * obj.scale / 2]
            azimuth = relative_azimuth(obj.position, obj.yaw, eye)
            elevation = relative_elevation(center, eye)
        corners_camera = transform_points(camera_from_world, corners)
        camera_from_object = camera_from_world @ world_from_object
        fraction = float(visible[i] / amodal_pixels) if amodal_pixels else 0.0
        levels = {
            "category": obj.category,
            "pose": pose_bin(azimuth, entry.symmetry),
            "elevation": elevation_bin(elevation, factors_cfg),
            "context": scene.context.name,
            "occlusion": occlusion_level(
                fraction, factors_cfg.occlusion_none_min, factors_cfg.occlusion_partial_min
            ),
            "light": light,
            "color": obj.color,
            "material": obj.material,
            "texture": obj.texture,
            **scene_levels,
        }
        if obj.rest:  # measured from the pose, not copied from the draw
            levels["rest"] = level_of(-world_from_object[2, :3], entry.symmetry)
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
                "visible_pixels": visible[i],
                "amodal_pixels": amodal_pixels,
                "visible_fraction": fraction,
                "world_from_object": world_from_object.tolist(),
                "scale": obj.scale,
                "azimuth": math.degrees(azimuth),
                "elevation": math.degrees(elevation),
                "pose_bin": levels["pose"],
                "elevation_bin": levels["elevation"],
                "occlusion": levels["occlusion"],
                "factors": levels,
                "parts": part_labels(variant, mask, frame.parts[window], local_box, (left, top)),
                "segmentation": window_to_rle(mask, left, top, frame.instances.shape),
                "amodal_segmentation": window_to_rle(amodal_mask, left, top, frame.instances.shape),
                "amodal_bbox": amodal_box,
                "occluders": occluders,
                "box3d_world": corners.tolist(),
                "box3d_camera": corners_camera.tolist(),
                "cam_R_m2c": camera_from_object[:3, :3].ravel().tolist(),
                "cam_t_m2c": (camera_from_object[:3, 3] * 1000.0).tolist(),
                "keypoints": _keypoints(corners_camera, camera.K, frame),
                **({"rest": levels["rest"]} if obj.rest else {}),
            }
        )
    return labels


def _direction_in_object(world_from_object: np.ndarray, height: float, eye) -> tuple:
    """(azimuth in [0, 2 pi), elevation) radians of the camera at ``eye`` (3,) seen from
    the centre of an object's box (``height`` metres tall, base centre at its origin) in
    the object's own frame: its front +x is azimuth 0, its up +z elevation pi/2."""
    centre = world_from_object[:3, :3] @ [0.0, 0.0, height / 2] + world_from_object[:3, 3]
    x, y, z = world_from_object[:3, :3].T @ (np.asarray(eye, dtype=float) - centre)
    return math.atan2(y, x) % (2 * math.pi), math.atan2(z, math.hypot(x, y))
