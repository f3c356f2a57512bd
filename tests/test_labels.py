"""Labels on a hand-built frame, where every value is known exactly."""

import math
from dataclasses import replace

import numpy as np
import pytest

from scenegen.labels import mask_box, object_labels
from scenegen.render import Frame
from scenegen.sampler import Sampler


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
                  instances=instances, semantic=np.zeros((h, w), np.uint8), amodal=amodal)
    labels = object_labels(scene, frame, dictionary, cfg.factors)
    assert [l["instance_id"] for l in labels] == list(range(1, n + 1))
    for i, label in enumerate(labels):
        visible = int((instances == i + 1).sum())
        assert label["visible_pixels"] == visible and label["amodal_pixels"] == 20
        assert label["visible_fraction"] == visible / 20
        expected = "none" if visible / 20 >= 0.95 else "partial" if visible / 20 >= 0.5 else "heavy"
        assert label["occlusion"] == label["factors"]["occlusion"] == expected
        assert label["category_id"] == dictionary[scene.objects[i].entry].category_id
        assert label["factors"]["context"] == scene.context.name
        np.testing.assert_allclose(label["world_from_object"], scene.objects[i].world_from_object())
    assert labels[-1]["visible_fraction"] == 1.0 and labels[-1]["bbox"] == [2 * (n - 1), n - 1, 5, 4]


def test_pose_bin_follows_the_camera(cfg, dictionary):
    """Turn a chair so the camera sees it from each of the 8 sides."""
    scene = Sampler(cfg, dictionary).sample(0)
    chair = replace(scene.objects[0], entry="chair", category="chair", position=(0.0, 0.0, 0.0))
    eye = scene.camera.position
    camera_azimuth = math.atan2(eye[1], eye[0])
    h, w = 4, 4
    frame = Frame(rgb=np.zeros((h, w, 3), np.uint8), depth=np.zeros((h, w), np.float32),
                  instances=np.zeros((h, w), np.uint16), semantic=np.zeros((h, w), np.uint8),
                  amodal=np.zeros((1, h, w), bool))
    seen = []
    for k in range(8):
        # the camera sits at relative azimuth k * 45 degrees when the chair's yaw is this
        turned = replace(chair, yaw=camera_azimuth - math.radians(45 * k))
        label = object_labels(replace(scene, objects=(turned,)), frame, dictionary, cfg.factors)[0]
        seen.append(label["pose_bin"])
        assert label["azimuth"] % 360 == pytest.approx(45 * k % 360, abs=1e-6)
    assert seen == ["front", "front-left", "left", "back-left", "back", "back-right", "right", "front-right"]

