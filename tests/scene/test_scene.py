import math

import numpy as np
import pytest

from scenegen.scene.scene import ObjectInstance, Scene


def make_object(**kw):
    base = dict(entry="mug", category="mug", position=(1.0, 2.0, 0.5), yaw=math.pi / 2, scale=0.2,
                color="red", rgb=(0.8, 0.1, 0.1), material="matte", metallic=0.0, roughness=0.9)
    return ObjectInstance(**{**base, **kw})


def test_world_from_object_rotates_about_z_and_translates():
    pose = make_object().world_from_object()
    np.testing.assert_allclose(pose @ [1, 0, 0, 1], [1, 3, 0.5, 1], atol=1e-12)  # front (+x) now faces +y
    np.testing.assert_allclose(pose[:3, :3] @ pose[:3, :3].T, np.eye(3), atol=1e-12)


def test_scene_round_trip_and_immutability(cfg, dictionary):
    from scenegen.world.sampler import Sampler

    scene = Sampler(cfg, dictionary).sample(4)
    again = Scene.from_json(scene.to_json())
    assert again == scene and hash(again) == hash(scene)
    np.testing.assert_array_equal(again.camera.K, scene.camera.K)
    with pytest.raises(AttributeError):
        scene.index = 3


def test_from_dict_rejects_unknown_keys(cfg, dictionary):
    from scenegen.world.sampler import Sampler

    data = Sampler(cfg, dictionary).sample(0).to_dict()
    data["objects"][0]["colour"] = "red"
    with pytest.raises(TypeError, match="colour"):
        Scene.from_dict(data)
