"""COCO "instances" export (masks as the COCO RLE of :mod:`scenegen.labels.masks`).

The exported dict carries no dates or timestamps, so the same records always give the
same bytes through :func:`scenegen.fileio.dumps_json`.

With a held-out split (:mod:`scenegen.design.splits`), :func:`write_coco_splits` writes one file
per split, ``coco_train.json`` and ``coco_test.json``: the split's images and their
annotations, with the ids of the whole dataset's ``coco.json`` (image id = scene index
+ 1), so either file joins with it; ``info``, ``licenses`` and ``categories`` are the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, List, Mapping, Sequence

from ...errors import choices
from ...fileio import write_json
from ..layout import COCO_SPLIT

DEFAULT_INFO = {
    "description": "scenegen synthetic scenes",
    "version": "1.0",
    "contributor": "scenegen",
    "url": "",
}
LICENSES = [{"id": 1, "name": "CC0-1.0", "url": ""}]
# label keys copied into each annotation when present (FiftyOne keeps them as attributes)
EXTRA_KEYS = ("amodal_bbox", "box3d_camera", "cam_R_m2c", "cam_t_m2c", "occluders")


def build_coco(
    records: Iterable[Mapping[str, Any]],
    categories: Sequence[str],
    info: Mapping[str, Any] | None = None,
    keypoint_names: Sequence[str] = (),
    skeleton: Sequence[Sequence[int]] = (),
) -> dict:
    """Build a COCO "instances" dict from per-scene label records.

    Args:
        records: scene records (``scenes/NNNNNN.json`` content); sorted by ``index``
            here, so the input order does not matter. Image id = index + 1.
        categories: every configured category name, in id order (id = position + 1).
        info: merged over :data:`DEFAULT_INFO` (description, version, ...).
        keypoint_names, skeleton: the keypoint layout of every category (names in the
            order of each label's ``keypoints``; skeleton: 1-based index pairs). With
            names, annotations carry COCO ``keypoints`` [x, y, v] * K and
            ``num_keypoints`` (v: 0 outside the image, 1 hidden, 2 visible; x = y = 0
            where v = 0, as COCO requires).

    Returns:
        ``{"info", "licenses", "images", "annotations", "categories"}``. Objects with
        no visible pixels are not annotated. Each annotation holds the COCO keys
        (``id`` sequential from 1 in image/object order, ``image_id``, ``category_id``,
        ``bbox`` [x, y, w, h] float pixels of the visible part, ``area`` = visible
        pixels, ``iscrowd`` 0, ``segmentation`` compressed RLE of the visible mask)
        plus ``instance_id``, ``visible_fraction``, ``factors`` and, when the labels
        have them, ``amodal_bbox``, ``box3d_camera`` (8 corners, metres),
        ``cam_R_m2c`` / ``cam_t_m2c`` (object-to-camera pose, mm) and ``occluders``:
        extra keys that FiftyOne keeps as attributes.

    Raises:
        ValueError: duplicate scene index, unknown category, a ``category_id`` that
            disagrees with ``categories``, or a mask whose size is not the image's.
    """
    category_ids = {name: i + 1 for i, name in enumerate(categories)}
    if len(category_ids) != len(categories):
        raise ValueError(f"duplicate category names in {list(categories)}")

    images, annotations = [], []
    seen: set[int] = set()
    for record in sorted(records, key=lambda r: int(r["index"])):
        index = int(record["index"])
        if index in seen:
            raise ValueError(f"two scene records have index {index}")
        seen.add(index)
        height, width = int(record["height"]), int(record["width"])
        images.append(
            {
                "id": image_id(index),
                "file_name": record["files"]["rgb"],
                "width": width,
                "height": height,
                "license": 1,
            }
        )
        for obj in record["objects"]:
            if int(obj["visible_pixels"]) == 0:
                continue
            name = obj["category"]
            if name not in category_ids:
                raise ValueError(
                    f"scene {index}: unknown category {name!r}; valid: {choices(category_ids)}"
                )
            category_id = category_ids[name]
            if "category_id" in obj and int(obj["category_id"]) != category_id:
                raise ValueError(
                    f"scene {index}: object {obj.get('instance_id')} has category_id "
                    f"{obj['category_id']} but {name!r} is category {category_id}"
                )
            segm = obj["segmentation"]
            if [int(v) for v in segm["size"]] != [height, width]:
                raise ValueError(
                    f"scene {index}: mask size {list(segm['size'])} is not "
                    f"the image size [{height}, {width}]"
                )
            counts = segm["counts"]
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id(index),
                    "category_id": category_id,
                    "bbox": [float(v) for v in obj["bbox"]],
                    "area": int(obj["visible_pixels"]),
                    "iscrowd": 0,
                    "segmentation": {
                        "size": [height, width],
                        "counts": counts.decode("ascii") if isinstance(counts, bytes) else counts,
                    },
                    "instance_id": int(obj["instance_id"]),
                    "visible_fraction": float(obj["visible_fraction"]),
                    "factors": dict(obj["factors"]),
                    **{key: obj[key] for key in EXTRA_KEYS if key in obj},
                    **(_coco_keypoints(obj["keypoints"], len(keypoint_names)) if keypoint_names else {}),
                }
            )

    return {
        "info": {**DEFAULT_INFO, **(info or {})},
        "licenses": [dict(entry) for entry in LICENSES],
        "images": images,
        "annotations": annotations,
        "categories": [
            {
                "id": i,
                "name": name,
                "supercategory": "object",
                **({"keypoints": list(keypoint_names), "skeleton": [list(map(int, e)) for e in skeleton]} if keypoint_names else {}),
            }
            for name, i in category_ids.items()
        ],
    }


def _coco_keypoints(keypoints: Sequence[Sequence[float]], expected: int) -> dict:
    """``{"keypoints": [x, y, v, ...], "num_keypoints"}`` from a label's [u, v, flag]
    rows; points with flag 0 are written as 0, 0, 0."""
    if len(keypoints) != expected:
        raise ValueError(f"an object has {len(keypoints)} keypoints; the layout has {expected}")
    flat, labelled = [], 0
    for u, v, flag in keypoints:
        flag = int(flag)
        flat += [float(u), float(v), flag] if flag else [0.0, 0.0, 0]
        labelled += flag > 0
    return {"keypoints": flat, "num_keypoints": labelled}


def image_id(index: int) -> int:
    """The COCO image id of scene ``index`` (ids start at 1)."""
    return int(index) + 1


def coco_subset(coco: Mapping[str, Any], indices: Iterable[int]) -> dict:
    """The part of a :func:`build_coco` dict that shows scenes ``indices``: their images
    and those images' annotations, ids unchanged, in the order of ``coco``; ``info``,
    ``licenses`` and ``categories`` as in ``coco``."""
    wanted = {image_id(i) for i in indices}
    return {
        **coco,
        "images": [image for image in coco["images"] if image["id"] in wanted],
        "annotations": [ann for ann in coco["annotations"] if ann["image_id"] in wanted],
    }


def write_coco_splits(root: str | Path, coco: Mapping[str, Any], splits: Mapping[str, Sequence[int]]) -> List[Path]:
    """Write ``root/coco_<split>.json`` for every split of ``splits`` (split name ->
    scene indices, as in ``splits.json``): the :func:`coco_subset` of ``coco`` (the
    whole dataset's dict). Returns the paths written, in the order of ``splits``."""
    written = []
    for split, indices in splits.items():
        path = Path(root) / COCO_SPLIT.format(split=split)
        write_json(path, coco_subset(coco, indices))
        written.append(path)
    return written
