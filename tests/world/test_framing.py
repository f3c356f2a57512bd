"""camera.framing: the target's projected box is at least as large as asked, the drawn
direction is kept, and with framing off the camera is the one fitted to all objects."""

import math

import numpy as np
import pytest

from scenegen import load_config
from scenegen.dataset.shards import data_config
from scenegen.errors import ConfigError
from scenegen.scene.factors import elevation_bin, pose_bin, relative_azimuth, relative_elevation
from scenegen.scene.geometry import direction, intrinsics_from_fov, look_at_opencv
from scenegen.world.sampler import Sampler, stage_rngs

SIZE = ["width=96", "height=72"]
INDICES = range(30)


def target_box(scene, dictionary, index=None) -> np.ndarray:
    """(u0, v0, u1, v1): the projected box of the object's mesh vertices (the target's,
    else the first object's), clipped to the image."""
    obj = scene.objects[max(scene.target, 0) if index is None else index]
    vertices = np.asarray(dictionary[obj.entry].variant(obj.style).mesh().vertices, dtype=float)
    c, s = math.cos(obj.yaw), math.sin(obj.yaw)
    world = vertices * obj.scale @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T + obj.position
    camera = scene.camera
    camera_from_world = np.linalg.inv(camera.pose)
    cam = world @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]
    assert (cam[:, 2] > camera.znear).all()
    uv = (cam @ camera.K.T)[:, :2] / cam[:, 2:3]
    lo = np.maximum(uv.min(axis=0), -0.5)
    hi = np.minimum(uv.max(axis=0), [camera.width - 0.5, camera.height - 0.5])
    return np.array([*lo, *hi])


@pytest.fixture(scope="module")
def off():
    return Sampler(load_config(SIZE))


def check_direction_kept(scene, reference, cfg) -> None:
    """The drawn azimuth and elevation (and their bins) are those of the unframed scene,
    and the camera sees the framed object's centre from that direction."""
    camera, ref = scene.camera, reference.camera
    assert camera.azimuth == ref.azimuth and camera.elevation == ref.elevation
    assert pose_bin(camera.azimuth, 1) == pose_bin(ref.azimuth, 1)
    assert elevation_bin(camera.elevation, cfg.factors) == elevation_bin(ref.elevation, cfg.factors)
    eye = camera.pose[:3, 3]
    seen = (eye - np.asarray(camera.target)) / np.linalg.norm(eye - np.asarray(camera.target))
    np.testing.assert_allclose(seen, direction(camera.azimuth, camera.elevation), atol=1e-9)


def test_target_fraction_is_reached_and_the_direction_kept(off):
    cfg = load_config(SIZE + ["camera.framing.target_fraction=0.12"])
    sampler = Sampler(cfg)
    for index in INDICES:
        scene, reference = sampler.sample(index), off.sample(index)
        box = target_box(scene, sampler.dictionary)
        assert (box[2] - box[0]) * (box[3] - box[1]) >= 0.12 * 96 * 72, index
        check_direction_kept(scene, reference, cfg)
        # the target is seen from the drawn elevation (within the mesh's off-centre)
        obj = scene.objects[0]
        height = sampler.dictionary[obj.entry].variant(obj.style).extents[2] * obj.scale
        seen = relative_elevation(np.asarray(obj.position) + [0, 0, height / 2], scene.camera.pose[:3, 3])
        assert abs(seen - scene.camera.elevation) < math.radians(5), index


def test_min_pixels_is_reached(off):
    sampler = Sampler(load_config(SIZE + ["camera.framing.min_pixels=40"]))
    fov = [math.radians(v) for v in sampler.cfg.camera.fov]
    for index in INDICES:
        scene = sampler.sample(index)
        box = target_box(scene, sampler.dictionary)
        assert min(box[2] - box[0], box[3] - box[1]) >= 40, index
        fov_y = 2 * math.atan(scene.camera.height / 2 / scene.camera.fy)
        assert fov[0] - 1e-9 <= fov_y <= fov[1] + 1e-9


def test_a_large_fraction_narrows_the_field_of_view_within_its_range():
    sampler = Sampler(load_config(SIZE + ["camera.framing.target_fraction=0.9", "camera.fov=[20,60]"]))
    unframed = Sampler(load_config(SIZE + ["camera.fov=[20,60]"]))
    narrowed = 0
    for index in range(8):
        scene = sampler.sample(index)
        narrowed += scene.camera.fx > unframed.sample(index).camera.fx
        box = target_box(scene, sampler.dictionary)
        assert (box[2] - box[0]) * (box[3] - box[1]) >= 0.9 * 96 * 72, index
        fov_y = 2 * math.atan(scene.camera.height / 2 / scene.camera.fy)
        assert math.radians(20) - 1e-9 <= fov_y <= math.radians(60) + 1e-9
    assert narrowed  # the near plane stopped the camera at least once


def test_all_objects_as_large_as_the_layout_allows():
    sampler = Sampler(load_config(SIZE + ["camera.framing.min_pixels=20", "camera.framing.objects=all"]))
    for index in range(15):
        scene = sampler.sample(index)
        boxes = np.array([target_box(scene, sampler.dictionary, i) for i in range(len(scene.objects))])
        sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        at_border = (boxes[:, :2] <= 0.5).any() or (boxes[:, 2] >= 95).any() or (boxes[:, 3] >= 71).any()
        assert (sides >= 20).all() or at_border, index  # else the camera would have come nearer


@pytest.mark.parametrize("wanted", [{"category": "chair", "pose": "back-left"},
                                    {"occlusion": "partial"}, {"occlusion": "none", "category": "mug"}])
def test_directive_scenes_frame_their_target(wanted):
    cfg = load_config(SIZE + ["camera.framing.target_fraction=0.1"])
    sampler, unframed = Sampler(cfg), Sampler(load_config(SIZE))
    for index in range(3):
        scene = sampler.sample(index, wanted)
        assert scene.target >= 0
        box = target_box(scene, sampler.dictionary)
        assert (box[2] - box[0]) * (box[3] - box[1]) >= 0.1 * 96 * 72
        assert scene.camera.azimuth == unframed.sample(index, wanted).camera.azimuth
        if "pose" in wanted:
            obj = scene.objects[scene.target]
            assert pose_bin(relative_azimuth(obj.position, obj.yaw, scene.camera.pose[:3, 3]), 1) == wanted["pose"]


def test_off_is_the_camera_fitted_to_all_objects(off):
    """With framing off (the default, or both bounds 0 whatever `objects`) the camera is
    the one fitted to every object's box, as before framing existed, and the dataset's
    recorded config does not mention framing."""
    zero = Sampler(load_config(SIZE + ["camera.framing.target_fraction=0", "camera.framing.objects=all"]))
    for index in range(6):
        scene = off.sample(index)
        assert scene.to_json() == zero.sample(index).to_json()
        camera = scene.camera
        # the fit as computed before framing: the view drawn from a fresh camera stream
        view = off._sample_view(stage_rngs(0, index)["camera"])
        assert camera.azimuth == view.azimuth and camera.elevation == view.elevation
        fx = intrinsics_from_fov(view.fov_y, 96, 72)[0]
        assert camera.fx == fx
        eye = np.asarray(camera.target) + camera.distance * direction(view.azimuth, view.elevation)
        np.testing.assert_array_equal(camera.pose, look_at_opencv(eye, camera.target))
    assert "framing" not in data_config(off.cfg)["camera"]
    assert data_config(load_config(SIZE + ["camera.framing.min_pixels=4"]))["camera"]["framing"]["min_pixels"] == 4


@pytest.mark.parametrize("override, key", [
    ("camera.framing.target_fraction=1.5", "camera.framing.target_fraction"),
    ("camera.framing.target_fraction=-0.1", "camera.framing.target_fraction"),
    ("camera.framing.min_pixels=-1", "camera.framing.min_pixels"),
    ("camera.framing.min_pixels=72", "camera.framing.min_pixels"),
    ("camera.framing.objects=some", "camera.framing.objects"),
])
def test_bad_values_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(SIZE + [override])
