"""COCO export and RLE helpers, checked with pycocotools itself (COCO + COCOeval)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from scenegen.dataset.files import read_record
from scenegen.dataset.formats.coco import build_coco
from scenegen.fileio import dumps_json, read_json, sha256_file
from scenegen.labels.masks import mask_to_rle, rle_to_mask, window_to_rle

# pycocotools' own decode (annToMask, COCOeval) warns under NumPy 2; not our code
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

CATEGORIES = ["chair", "table", "mug", "lamp", "never_used"]


# ------------------------------------------------------------------------ RLE
@settings(max_examples=200, deadline=None)
@given(hnp.arrays(bool, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40)))
def test_rle_round_trip(mask):
    rle = mask_to_rle(mask)
    assert rle["size"] == list(mask.shape)
    assert isinstance(rle["counts"], str)
    json.dumps(rle)
    back = rle_to_mask(rle)
    assert back.dtype == bool and back.shape == mask.shape
    np.testing.assert_array_equal(back, mask)
    assert int(mask_utils.area({**rle, "counts": rle["counts"].encode()})) == int(mask.sum())
    # views that are not C- or F-contiguous encode the same
    assert mask_to_rle(mask.T)["counts"] == mask_to_rle(np.ascontiguousarray(mask.T))["counts"]


@st.composite
def _windows(draw):
    """(window mask, x, y, (H, W)): a window anywhere in an image, as tall or as wide as
    it at times, empty at times, its pixels on with a drawn share (solid to speckled)."""
    height, width = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    rows, cols = draw(st.integers(0, height)), draw(st.integers(0, width))
    y, x = draw(st.integers(0, height - rows)), draw(st.integers(0, width - cols))
    share = draw(st.sampled_from([0.0, 0.3, 0.9, 1.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    window = np.random.default_rng(seed).random((rows, cols)) < share
    return window, x, y, (height, width)


@settings(max_examples=400, deadline=None)
@given(_windows())
def test_the_rle_of_a_window_is_the_rle_of_its_whole_mask(case):
    window, x, y, size = case
    whole = np.zeros(size, dtype=bool)
    whole[y:y + window.shape[0], x:x + window.shape[1]] = window
    assert window_to_rle(window, x, y, size) == mask_to_rle(whole)


def test_the_rle_of_a_window_runs_on_across_columns_and_ends_with_the_last_run():
    """A run that goes on from the bottom of a column to the top of the next is one run,
    and a mask whose last pixel is on ends with that run (no empty run after it)."""
    window = np.ones((3, 2), bool)
    assert window_to_rle(window, 1, 0, (3, 3)) == mask_to_rle(np.array([[0, 1, 1]] * 3, bool))
    assert mask_utils.frPyObjects({"size": [3, 3], "counts": [3, 6]}, 3, 3)["counts"].decode() == \
        window_to_rle(window, 1, 0, (3, 3))["counts"]


def test_rle_orientation_bytes_and_uncompressed_counts():
    mask = np.zeros((5, 7), bool)
    mask[1:3, 2:6] = True  # rows 1-2 (y), columns 2-5 (x)
    rle = mask_to_rle(mask)
    assert list(mask_utils.toBbox({**rle, "counts": rle["counts"].encode()})) == [2, 1, 4, 2]
    np.testing.assert_array_equal(rle_to_mask({**rle, "counts": rle["counts"].encode()}), mask)
    # uncompressed RLE: run lengths over the column-major pixels, starting with zeros
    flat = mask.flatten(order="F")
    edges = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    runs = np.diff(np.concatenate([[0], edges, [flat.size]])).tolist()
    if flat[0]:
        runs = [0] + runs
    np.testing.assert_array_equal(rle_to_mask({"size": [5, 7], "counts": runs}), mask)
    with pytest.raises(ValueError, match="2-D"):
        mask_to_rle(np.zeros((2, 2, 2), bool))


# ------------------------------------------------------------ synthetic records
def synthetic_record(index: int, rng: np.random.Generator, height=48, width=64) -> dict:
    """A scene record whose masks come from an instance image painted in object order
    (later objects hide earlier ones). Object 2 is always fully hidden by object 3."""
    instances = np.zeros((height, width), np.int32)
    amodal, masks = {}, {}
    yy, xx = np.mgrid[0:height, 0:width]
    n = int(rng.integers(3, 8))
    for k in range(1, n + 1):
        if k == 2:  # small box inside object 3's box, painted before it
            m = (yy >= 10) & (yy < 14) & (xx >= 10) & (xx < 14)
        elif k == 3:
            m = (yy >= 8) & (yy < 20) & (xx >= 8) & (xx < 20)
        elif rng.random() < 0.5:  # rectangle
            y0, x0 = rng.integers(0, height - 2), rng.integers(0, width - 2)
            h, w = rng.integers(2, 20), rng.integers(2, 20)
            m = (yy >= y0) & (yy < y0 + h) & (xx >= x0) & (xx < x0 + w)
        else:  # elliptic blob
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            ry, rx = rng.uniform(2, 12), rng.uniform(2, 12)
            m = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
        instances[m] = k
        amodal[k], masks[k] = int(m.sum()), m

    objects = []
    for k in range(1, n + 1):
        visible = instances == k
        pixels = int(visible.sum())
        if pixels:
            ys, xs = np.nonzero(visible)
            bbox = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                    int(ys.max() - ys.min() + 1)]
        else:
            bbox = [0, 0, 0, 0]
        # 5 keypoints: the amodal box's corners and centre; flag 2 where the instance
        # image shows this object, 1 where another hides it, 0 outside the image
        ys, xs = np.nonzero(masks[k])
        points = [(xs.min(), ys.min()), (xs.max(), ys.min()), (xs.max(), ys.max()), (xs.min(), ys.max()),
                  ((xs.min() + xs.max()) // 2, (ys.min() + ys.max()) // 2)]
        keypoints = [[float(x), float(y), 2 if instances[y, x] == k else 1] for x, y in points]
        if k == 4:
            keypoints[0] = [-3.0, 5.0, 0]  # outside the image
        category_id = int(rng.integers(1, 5))  # never "never_used"
        objects.append(
            {
                "instance_id": k,
                "category": CATEGORIES[category_id - 1],
                "category_id": category_id,
                "bbox": bbox,
                "visible_pixels": pixels,
                "amodal_pixels": amodal[k],
                "visible_fraction": round(pixels / amodal[k], 4) if amodal[k] else 0.0,
                "segmentation": mask_to_rle(visible),
                "factors": {"category": CATEGORIES[category_id - 1], "pose": "front",
                            "context": "room"},
                "ignored_extra_key": [1, 2, 3],
                "keypoints": keypoints,
                "amodal_bbox": [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)],
            }
        )
    return {
        "schema_version": 1,
        "index": index,
        "seed": 0,
        "width": width,
        "height": height,
        "context": "room",
        "files": {"rgb": f"images/{index:06d}.png", "depth": f"depth/{index:06d}.png",
                  "instances": f"instances/{index:06d}.png",
                  "semantic": f"semantic/{index:06d}.png"},
        "objects": objects,
    }


@pytest.fixture(scope="module")
def records():
    rng = np.random.default_rng(1234)
    return [synthetic_record(i, rng) for i in range(12)]


def test_synthetic_boxes_agree_with_pycocotools(records):
    for record in records:
        for o in record["objects"]:
            if o["visible_pixels"]:
                rle = {**o["segmentation"], "counts": o["segmentation"]["counts"].encode()}
                assert list(mask_utils.toBbox(rle)) == o["bbox"]
                assert int(mask_utils.area(rle)) == o["visible_pixels"]


# ----------------------------------------------------------------------- COCO
def coco_file(path) -> COCO:
    """pycocotools' COCO of a file, without its prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(str(path))


def load(tmp_path, dataset) -> COCO:
    path = tmp_path / "instances.json"
    path.write_text(dumps_json(dataset))
    return coco_file(path)


KEYPOINT_NAMES = ("top_left", "top_right", "bottom_right", "bottom_left", "centre")
SKELETON = ((1, 2), (2, 3), (3, 4), (4, 1))


def self_eval_ap(coco: COCO, iou_type: str) -> float:
    """AP of the ground truth scored against itself (every detection score 1.0)."""
    detections = []
    for ann in coco.dataset["annotations"]:
        det = {"image_id": ann["image_id"], "category_id": ann["category_id"], "score": 1.0}
        if iou_type == "bbox":
            det["bbox"] = list(ann["bbox"])
        elif iou_type == "segm":
            det["segmentation"] = copy.deepcopy(ann["segmentation"])
        else:
            det["keypoints"] = list(ann["keypoints"])
        detections.append(det)
    with contextlib.redirect_stdout(io.StringIO()):
        results = coco.loadRes(detections)
        evaluator = COCOeval(coco, results, iou_type)
        if iou_type == "keypoints":  # COCO's default sigmas are the 17 person keypoints
            evaluator.params.kpt_oks_sigmas = np.full(len(coco.dataset["categories"][0]["keypoints"]), 0.05)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[0])


@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints"])
def test_ground_truth_scores_perfect_ap_against_itself(tmp_path, records, iou_type):
    coco = load(tmp_path, build_coco(records, CATEGORIES, keypoint_names=KEYPOINT_NAMES, skeleton=SKELETON))
    assert self_eval_ap(coco, iou_type) == pytest.approx(1.0)


def test_keypoints_in_coco_layout(records):
    dataset = build_coco(records, CATEGORIES, keypoint_names=KEYPOINT_NAMES, skeleton=SKELETON)
    assert all(c["keypoints"] == list(KEYPOINT_NAMES) and c["skeleton"] == [list(e) for e in SKELETON]
               for c in dataset["categories"])
    visible = [o for r in sorted(records, key=lambda r: r["index"]) for o in r["objects"] if o["visible_pixels"]]
    outside = 0
    for ann, o in zip(dataset["annotations"], visible):
        flat = ann["keypoints"]
        assert len(flat) == 3 * len(KEYPOINT_NAMES)
        for (x, y, v), (u, w, flag) in zip(zip(flat[::3], flat[1::3], flat[2::3]), o["keypoints"]):
            assert v == flag and (x, y) == ((u, w) if flag else (0.0, 0.0))
            outside += flag == 0
        assert ann["num_keypoints"] == sum(f > 0 for _, _, f in o["keypoints"])
        assert ann["amodal_bbox"] == o["amodal_bbox"]
    assert outside > 0
    with pytest.raises(ValueError, match="has 5 keypoints; the layout has 9"):
        build_coco(records, CATEGORIES, keypoint_names=[f"k{i}" for i in range(9)])


def test_structure_ids_and_hidden_objects(tmp_path, records):
    dataset = build_coco(records, CATEGORIES, info={"description": "test set", "version": "9"})
    coco = load(tmp_path, dataset)

    assert set(dataset) == {"info", "licenses", "images", "annotations", "categories"}
    assert dataset["info"]["description"] == "test set" and dataset["info"]["version"] == "9"
    assert not {"date_created", "year"} & set(dataset["info"])
    assert dataset["licenses"] and all(img["license"] == 1 for img in dataset["images"])
    assert dataset["categories"] == [
        {"id": i + 1, "name": name, "supercategory": "object"} for i, name in enumerate(CATEGORIES)
    ]

    image_ids = [img["id"] for img in dataset["images"]]
    assert image_ids == [r["index"] + 1 for r in records]
    assert [img["file_name"] for img in dataset["images"]] == [r["files"]["rgb"] for r in records]
    ann_ids = [a["id"] for a in dataset["annotations"]]
    assert ann_ids == list(range(1, len(ann_ids) + 1))

    visible = [(r["index"] + 1, o) for r in records for o in r["objects"] if o["visible_pixels"]]
    hidden = [o for r in records for o in r["objects"] if not o["visible_pixels"]]
    assert len(hidden) >= len(records)  # object 2 of every scene
    assert len(coco.getAnnIds()) == len(visible) == len(dataset["annotations"])
    assert len(coco.getImgIds()) == len(records)
    for ann, (image_id, o) in zip(dataset["annotations"], visible):
        assert ann["image_id"] == image_id
        assert ann["instance_id"] == o["instance_id"]
        assert ann["category_id"] == CATEGORIES.index(o["category"]) + 1
        assert ann["area"] == o["visible_pixels"] > 0
        assert ann["iscrowd"] == 0
        assert ann["bbox"] == [float(v) for v in o["bbox"]]
        assert ann["visible_fraction"] == o["visible_fraction"]
        assert ann["factors"] == o["factors"]
        assert "ignored_extra_key" not in ann
        np.testing.assert_array_equal(coco.annToMask(ann).astype(bool),
                                      rle_to_mask(o["segmentation"]))


def test_build_is_deterministic_and_order_independent(records):
    first = dumps_json(build_coco(records, CATEGORIES))
    assert dumps_json(build_coco(records, CATEGORIES)) == first
    shuffled = [records[i] for i in np.random.default_rng(0).permutation(len(records))]
    assert dumps_json(build_coco(iter(shuffled), CATEGORIES)) == first


def test_bad_records_are_refused(records):
    with pytest.raises(ValueError, match="index 0"):
        build_coco([records[0], records[0]], CATEGORIES)
    sofa = copy.deepcopy(records[0])
    next(o for o in sofa["objects"] if o["visible_pixels"])["category"] = "sofa"
    with pytest.raises(ValueError, match="unknown category 'sofa'; valid: 'chair', 'lamp'"):
        build_coco([sofa], CATEGORIES)
    with pytest.raises(ValueError, match="category_id"):
        build_coco(records, list(reversed(CATEGORIES)))
    broken = copy.deepcopy(records[0])
    visible = next(o for o in broken["objects"] if o["visible_pixels"])
    visible["segmentation"]["size"] = [1, 1]
    with pytest.raises(ValueError, match="mask size"):
        build_coco([broken], CATEGORIES)


def test_empty_dataset():
    dataset = build_coco([], CATEGORIES)
    assert dataset["images"] == [] and dataset["annotations"] == []
    assert len(dataset["categories"]) == len(CATEGORIES)


# ------------------------------------------------------------- held-out split files
def test_split_files_hold_each_split_with_the_whole_datasets_ids(every_format_split):
    root = Path(every_format_split)
    splits, files = read_json(root / "splits.json"), read_json(root / "manifest.json")["files"]
    whole = coco_file(root / "coco.json")
    assert sorted(whole.getImgIds()) == [i + 1 for i in sorted(splits["train"] + splits["test"])]  # still all
    assert splits["train"] and splits["test"]
    for name in ("train", "test"):
        path = root / f"coco_{name}.json"
        assert files[path.name] == sha256_file(path)
        part = coco_file(path)
        assert sorted(part.getImgIds()) == [i + 1 for i in splits[name]], name
        assert part.loadImgs(part.getImgIds()) == whole.loadImgs(part.getImgIds())
        assert part.loadAnns(part.getAnnIds()) == whole.loadAnns(whole.getAnnIds(imgIds=part.getImgIds()))
        for key in ("info", "licenses", "categories"):
            assert part.dataset[key] == whole.dataset[key], key
        for i in splits[name]:  # every object with visible pixels, nothing else
            anns = part.loadAnns(part.getAnnIds(imgIds=[i + 1]))
            objects = [o for o in read_record(root, i)["objects"] if o["visible_pixels"]]
            assert [a["instance_id"] for a in anns] == [o["instance_id"] for o in objects]
            assert [a["bbox"] for a in anns] == [[float(v) for v in o["bbox"]] for o in objects]


def test_no_split_no_split_files(every_format):
    assert sorted(p.name for p in Path(every_format).glob("coco*.json")) == ["coco.json"]
