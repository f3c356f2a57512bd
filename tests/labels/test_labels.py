"""Labels on a hand-built frame, where every value is known exactly."""

import math
from dataclasses import replace

import numpy as np
import pytest

from scenegen.labels.masks import mask_to_rle
from scenegen.labels.objects import mask_box, object_labels
from scenegen.scene.frame import Frame
from scenegen.world.sampler import Sampler


def test_mask_box():
    mask = np.zeros((6, 8), bool)
    assert mask_box(mask) == [0, 0, 0, 0]
    mask[2:5, 3] = True
    mask[4, 6] = True
    assert mask_box(mask) == [3, 2, 4, 3]


def test_labels_of_a_constructed_frame(cfg, dictionary):
    scene = Sampler(cfg, dictionary).sample(1)
    n, h, w = len(scene.objects), 20, 30
    instances = np.zeros((h, w), np.uint16)
    amodal = np.zeros((n, h, w), bool)
    for i in range(n):
        amodal[i, i : i + 4, 2 * i : 2 * i + 5] = True  # 4 x 5 = 20 pixels each
        instances[amodal[i]] = i + 1  # later objects cover earlier ones
    frame = Frame(rgb=np.zeros((h, w, 3), np.uint8), depth=np.ones((h, w), np.float32),
                  instances=instances, semantic=np.zeros((h, w), np.uint8),
                  parts=(instances > 0).astype(np.uint8), amodal=amodal)
    labels = object_labels(scene, frame, dictionary, cfg.factors)
    assert [label["instance_id"] for label in labels] == list(range(1, n + 1))
    for i, label in enumerate(labels):
        visible = int((instances == i + 1).sum())
        assert label["visible_pixels"] == visible and label["amodal_pixels"] == 20
        assert label["visible_fraction"] == visible / 20
        expected = "none" if visible / 20 >= 0.95 else "partial" if visible / 20 >= 0.5 else "heavy"
        assert label["occlusion"] == label["factors"]["occlusion"] == expected
        assert label["category_id"] == dictionary[scene.objects[i].entry].category_id
        assert label["factors"]["context"] == scene.context.name
        np.testing.assert_allclose(label["world_from_object"], scene.objects[i].world_from_object())
        obj = scene.objects[i]
        for key in ("style", "texture", "relation", "anchor", "slot", "in_context"):
            assert label[key] == getattr(obj, key), key
        assert label["factors"]["texture"] == obj.texture
        # every visible pixel is part 1 here
        assert label["parts"][0]["pixels"] == visible and label["parts"][0]["bbox"] == label["bbox"]
        assert sum(p["pixels"] for p in label["parts"]) == visible
    assert labels[-1]["visible_fraction"] == 1.0 and labels[-1]["bbox"] == [2 * (n - 1), n - 1, 5, 4]
    for i, label in enumerate(labels):
        assert label["amodal_bbox"] == [2 * i, i, 5, 4]
        expected = [{"instance_id": j + 1, "pixels": int((amodal[i] & (instances == j + 1)).sum())}
                    for j in range(n) if j != i and (amodal[i] & (instances == j + 1)).any()]
        assert label["occluders"] == expected
        assert sum(o["pixels"] for o in label["occluders"]) == label["amodal_pixels"] - label["visible_pixels"]
        assert len(label["keypoints"]) == 9 and all(k[2] in (0, 1, 2) for k in label["keypoints"])
        assert len(label["cam_R_m2c"]) == 9 and len(label["cam_t_m2c"]) == 3
        assert np.asarray(label["box3d_world"]).shape == (8, 3) == np.asarray(label["box3d_camera"]).shape


def test_pose_bin_follows_the_camera(cfg, dictionary):
    """Turn a chair so the camera sees it from each of the 8 sides."""
    scene = Sampler(cfg, dictionary).sample(0)
    chair = replace(scene.objects[0], entry="chair", category="chair", style=dictionary["chair"].styles[0],
                    position=(0.0, 0.0, 0.0))
    eye = scene.camera.position
    camera_azimuth = math.atan2(eye[1], eye[0])
    h, w = 4, 4
    frame = Frame(rgb=np.zeros((h, w, 3), np.uint8), depth=np.zeros((h, w), np.float32),
                  instances=np.zeros((h, w), np.uint16), semantic=np.zeros((h, w), np.uint8),
                  parts=np.zeros((h, w), np.uint8), amodal=np.zeros((1, h, w), bool))
    seen = []
    for k in range(8):
        # the camera sits at relative azimuth k * 45 degrees when the chair's yaw is this
        turned = replace(chair, yaw=camera_azimuth - math.radians(45 * k))
        label = object_labels(replace(scene, objects=(turned,)), frame, dictionary, cfg.factors)[0]
        seen.append(label["pose_bin"])
        assert label["azimuth"] % 360 == pytest.approx(45 * k % 360, abs=1e-6)
    assert seen == ["front", "front-left", "left", "back-left", "back", "back-right", "right", "front-right"]



def test_part_labels_of_a_constructed_part_image(cfg, dictionary):
    """A table whose top covers rows 0-3 and legs 2 and 4 show below it; leg 3 and 5 are
    hidden; a second object overlaps the part image's top-left, which must not count."""
    scene = Sampler(cfg, dictionary).sample(0)
    style = dictionary["table"].styles[0]
    variant = dictionary["table"].variant(style)
    top = next(p for p in variant.parts if p.label == "top")
    legs = [p for p in variant.parts if p is not top]
    assert len(legs) >= 2
    table = replace(scene.objects[0], entry="table", category="table", style=style)
    other = replace(scene.objects[0], entry="ball", category="ball", style="")
    h, w = 10, 12
    instances = np.zeros((h, w), np.uint16)
    parts = np.zeros((h, w), np.uint8)
    instances[0:4, 2:10], parts[0:4, 2:10] = 1, top.index  # 32 pixels
    instances[4:9, 2:3], parts[4:9, 2:3] = 1, legs[0].index  # 5 pixels
    instances[4:7, 9:10], parts[4:7, 9:10] = 1, legs[1].index  # 3 pixels
    instances[0:2, 0:4], parts[0:2, 0:4] = 2, 1  # the ball, in front of the table's corner
    amodal = np.stack([instances == 1, instances == 2])
    frame = Frame(rgb=np.zeros((h, w, 3), np.uint8), depth=np.ones((h, w), np.float32), instances=instances,
                  semantic=np.zeros((h, w), np.uint8), parts=parts, amodal=amodal)
    table_label, ball_label = object_labels(replace(scene, objects=(table, other)), frame, dictionary, cfg.factors)
    by_id = {p["part_id"]: p for p in table_label["parts"]}
    assert [p["part_id"] for p in table_label["parts"]] == [p.index for p in variant.parts]
    assert [(p["name"], p["label"]) for p in table_label["parts"]] == [(p.name, p.label) for p in variant.parts]
    assert by_id[top.index]["pixels"] == 32 - 4 and by_id[top.index]["bbox"] == [2, 0, 8, 4]
    assert by_id[legs[0].index]["pixels"] == 5 and by_id[legs[0].index]["bbox"] == [2, 4, 1, 5]
    assert by_id[legs[1].index]["pixels"] == 3 and by_id[legs[1].index]["bbox"] == [9, 4, 1, 3]
    for hidden in legs[2:]:
        assert by_id[hidden.index]["pixels"] == 0 and by_id[hidden.index]["bbox"] == [0, 0, 0, 0]
    assert sum(p["pixels"] for p in table_label["parts"]) == table_label["visible_pixels"] == 36
    assert ball_label["parts"] == [{"part_id": 1, "name": "body", "label": "body", "pixels": 8, "bbox": [0, 0, 4, 2]}]


@pytest.mark.parametrize("seed", range(24))
def test_labels_read_in_each_amodal_box_equal_those_of_the_whole_image(cfg, dictionary, seed):
    """Masks, boxes, pixel counts, parts and occluders of random frames, against the
    same values worked out on the whole image. Every third frame has visible pixels of
    an object outside its amodal mask's box (a rasterizer may differ there): they are
    read too."""
    rng = np.random.default_rng(seed)
    scene = Sampler(cfg, dictionary).sample(seed)
    n = len(scene.objects)
    h, w = (int(v) for v in rng.integers(6, 40, 2))
    instances = np.zeros((h, w), np.uint16)
    parts = np.zeros((h, w), np.uint8)
    amodal = np.zeros((n, h, w), bool)
    for i, obj in enumerate(scene.objects):
        top, left = int(rng.integers(0, h)), int(rng.integers(0, w))
        rows, cols = int(rng.integers(1, h - top + 1)), int(rng.integers(1, w - left + 1))
        amodal[i, top:top + rows, left:left + cols] = rng.random((rows, cols)) < rng.choice([0.6, 1.0])
        seen = amodal[i] & (rng.random((h, w)) < 0.8)  # later objects cover earlier ones
        instances[seen] = i + 1
        indices = [part.index for part in dictionary[obj.entry].outline(obj.style).parts]
        parts[seen] = rng.choice(indices, size=int(seen.sum()))
    if seed % 3 == 0:  # pixels of the first object where its amodal mask has none
        stray = ~amodal[0] & (rng.random((h, w)) < 0.05)
        instances[stray], parts[stray] = 1, dictionary[scene.objects[0].entry].outline(scene.objects[0].style).parts[0].index
    frame = Frame(rgb=np.zeros((h, w, 3), np.uint8), depth=np.ones((h, w), np.float32), instances=instances,
                  semantic=np.zeros((h, w), np.uint8), parts=parts, amodal=amodal)
    labels = object_labels(scene, frame, dictionary, cfg.factors)
    for i, label in enumerate(labels):
        mask = instances == i + 1
        assert label["segmentation"] == mask_to_rle(mask)
        assert label["amodal_segmentation"] == mask_to_rle(amodal[i])
        assert label["bbox"] == mask_box(mask) and label["amodal_bbox"] == mask_box(amodal[i])
        assert label["visible_pixels"] == int(mask.sum()) and label["amodal_pixels"] == int(amodal[i].sum())
        assert label["occluders"] == [{"instance_id": j, "pixels": int((amodal[i] & (instances == j)).sum())}
                                      for j in range(1, n + 1) if j != i + 1 and (amodal[i] & (instances == j)).any()]
        for part in label["parts"]:
            selected = mask & (parts == part["part_id"])
            assert part["pixels"] == int(selected.sum()) and part["bbox"] == mask_box(selected)
