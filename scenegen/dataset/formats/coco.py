"""COCO "instances" export (masks as the COCO RLE of :mod:`scenegen.labels.masks`).

The exported dict carries no dates or timestamps, so the same records always give the
same bytes through :func:`scenegen.fileio.dumps_json`. :func:`build_coco` makes the whole
dict; ``scenegen generate`` writes the same bytes scene by scene instead: each scene's
image and annotations as text (:func:`coco_scene_texts`, made with the scene), put
together in scene order by :class:`CocoWriter`.

With a held-out split (:mod:`scenegen.design.splits`), :func:`write_coco_splits` writes one file
per split, ``coco_train.json`` and ``coco_test.json``: the split's images and their
annotations, with the ids of the whole dataset's ``coco.json`` (image id = scene index
+ 1), so either file joins with it; ``info``, ``licenses`` and ``categories`` are the same.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence

from ...errors import choices
from ...fileio import JsonList, nested_json, write_json
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
    category_ids = coco_category_ids(categories)
    images, annotations = [], []
    seen: set[int] = set()
    for record in sorted(records, key=lambda r: int(r["index"])):
        index = int(record["index"])
        if index in seen:
            raise ValueError(f"two scene records have index {index}")
        seen.add(index)
        image, scene_annotations = coco_scene(record, category_ids, len(keypoint_names))
        images.append(image)
        for annotation in scene_annotations:
            annotations.append({**annotation, "id": len(annotations) + 1})

    return {
        **coco_header(categories, info, keypoint_names, skeleton),
        "images": images,
        "annotations": annotations,
    }


def coco_category_ids(categories: Sequence[str]) -> Dict[str, int]:
    """Category name -> COCO id (position + 1).

    Raises:
        ValueError: duplicate names.
    """
    category_ids = {name: i + 1 for i, name in enumerate(categories)}
    if len(category_ids) != len(categories):
        raise ValueError(f"duplicate category names in {list(categories)}")
    return category_ids


def coco_header(
    categories: Sequence[str],
    info: Mapping[str, Any] | None = None,
    keypoint_names: Sequence[str] = (),
    skeleton: Sequence[Sequence[int]] = (),
) -> dict:
    """The parts of a :func:`build_coco` dict that do not depend on the scenes:
    ``{"info", "licenses", "categories"}``."""
    return {
        "info": {**DEFAULT_INFO, **(info or {})},
        "licenses": [dict(entry) for entry in LICENSES],
        "categories": [
            {
                "id": i,
                "name": name,
                "supercategory": "object",
                **({"keypoints": list(keypoint_names), "skeleton": [list(map(int, e)) for e in skeleton]} if keypoint_names else {}),
            }
            for name, i in coco_category_ids(categories).items()
        ],
    }


def coco_scene(record: Mapping[str, Any], category_ids: Mapping[str, int], keypoints: int = 0) -> tuple[dict, list]:
    """The COCO image of one scene record and its annotations, in object order, without
    their ``id`` (sequential over the whole dataset: :func:`build_coco` numbers them).
    ``category_ids``: :func:`coco_category_ids`; ``keypoints``: the number of keypoint
    names (0: no COCO keypoints).

    Raises:
        ValueError: an unknown category, a ``category_id`` that disagrees, or a mask
            whose size is not the image's.
    """
    index = int(record["index"])
    height, width = int(record["height"]), int(record["width"])
    image = {
        "id": image_id(index),
        "file_name": record["files"]["rgb"],
        "width": width,
        "height": height,
        "license": 1,
    }
    annotations = []
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
                **(_coco_keypoints(obj["keypoints"], keypoints) if keypoints else {}),
            }
        )
    return image, annotations


# the value of "id" in an annotation's text before it is numbered (see coco_scene_texts)
_ID_PLACEHOLDER = 0


def coco_scene_texts(record: Mapping[str, Any], category_ids: Mapping[str, int], keypoints: int = 0) -> dict:
    """:func:`coco_scene` of one record as the text :func:`build_coco`'s file gives it:
    ``{"image": text, "annotations": [[head, tail], ...]}``, where annotation ``k``
    numbered ``id`` reads ``head + str(id) + tail`` (its ``id`` is its place in the
    whole dataset). :class:`CocoWriter` puts them together."""
    image, annotations = coco_scene(record, category_ids, keypoints)
    marker = '\n   "id": '  # the key "id" of an annotation, 2 deep: the only line so indented
    parts = []
    for annotation in annotations:
        head, found, tail = nested_json({**annotation, "id": _ID_PLACEHOLDER}, 2).partition(
            f"{marker}{_ID_PLACEHOLDER}")
        if not found or marker in tail:
            raise ValueError(f"scene {record['index']}: an annotation's text has no single id")
        parts.append([head + marker, tail])
    return {"image": nested_json(image, 2), "annotations": parts}


class CocoWriter:
    """A COCO file as :func:`build_coco` and :func:`scenegen.fileio.dumps_json` give it,
    written scene by scene (in scene order) from :func:`coco_scene_texts`, so that no
    more than one scene's annotations are held at once: ``write`` takes text (the file's
    handle, e.g. a :class:`scenegen.fileio.HashingWriter`); ``header`` is
    :func:`coco_header`. The images, which the file holds after the annotations, wait
    in an anonymous temporary file. :meth:`close` ends the file."""

    def __init__(self, write, header: Mapping[str, Any]):
        self.write, self.header = write, header
        self.write('{\n "annotations": ')
        self.annotations = JsonList(self.write, 1)
        self._images = tempfile.TemporaryFile()
        self.images = JsonList(lambda text: self._images.write(text.encode("utf-8")), 1)

    def add(self, texts: Mapping[str, Any], first_id: int) -> None:
        """One scene's :func:`coco_scene_texts`, its annotations numbered from ``first_id``."""
        for number, (head, tail) in enumerate(texts["annotations"], start=first_id):
            self.annotations.add(f"{head}{number}{tail}")
        self.images.add(texts["image"])

    def close(self) -> None:
        self.annotations.close()
        self.write(',\n "categories": ' + nested_json(self.header["categories"], 1) + ',\n "images": ')
        self.images.close()
        self._images.seek(0)
        while block := self._images.read(1 << 20):
            self.write(block)
        self._images.close()
        self.write(',\n "info": ' + nested_json(self.header["info"], 1) + ',\n "licenses": '
                   + nested_json(self.header["licenses"], 1) + "\n}\n")

    def discard(self) -> None:
        """Drop the images waiting (on an error; :meth:`close` does it otherwise)."""
        self._images.close()


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
