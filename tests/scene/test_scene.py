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


def _asdict_round_trip(scene: Scene) -> dict:
    """What ``to_dict`` is defined to give: the JSON round trip of ``asdict``, the parts
    added later dropped where unset."""
    import json
    from dataclasses import asdict

    from scenegen.scene.scene import _LATER

    data = json.loads(json.dumps(asdict(scene)))
    for where, key, unset in _LATER:
        for part in {"scene": [data], "context": [data["context"]], "objects": data["objects"]}[where]:
            if part[key] == unset:
                del part[key]
    return data


@pytest.mark.parametrize("overrides", [[], ["preset=realistic", "rest.chance=0.5", "background.weight=0.5"]])
def test_to_dict_is_the_json_round_trip_of_asdict(overrides):
    """Scene.to_dict gives what ``json.loads(json.dumps(asdict(scene)))`` gives, value for
    value and type for type (repr tells 1 from 1.0 and True), for scenes with and without
    the later parts (environment, effects, texture sets, rest states, photographs) and for
    numpy floats; an array, which the round trip refuses, is refused."""
    from dataclasses import replace

    from scenegen.world.compile import load_config
    from scenegen.world.sampler import Sampler

    sampler = Sampler(load_config(["width=64", "height=48", *overrides]))
    scenes = [sampler.sample(index) for index in range(6)]
    first = scenes[0].objects[0]
    scenes.append(replace(scenes[0], objects=(replace(first, yaw=np.float64(0.25), position=(np.float64(1.5), 2, 0.0)),
                                              *scenes[0].objects[1:])))
    for scene in scenes:
        assert repr(scene.to_dict()) == repr(_asdict_round_trip(scene))
    with pytest.raises(TypeError, match="not JSON serializable"):  # as the round trip refuses it
        replace(scenes[0], objects=(replace(first, position=np.zeros(3)),)).to_dict()
