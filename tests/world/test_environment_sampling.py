"""The sampler's environment maps and camera effects: drawn per scene from their own
streams, recorded in the Scene, honouring directives and contexts; the key light
recorded as the scene's light; factors and config checks."""

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from scenegen import load_config
from scenegen.errors import ConfigError
from scenegen.scene.factors import BUILTIN_ENVIRONMENTS
from scenegen.scene.scene import CameraEffects, Environment, Scene
from scenegen.world.camera_effects import NEUTRAL_KELVIN, white_balance_gains
from scenegen.world.compile import World
from scenegen.world.environments import EnvironmentSet, rotate_direction, write_hdr
from scenegen.world.sampler import Sampler
from scenegen.world.skies import BUILTIN


@pytest.fixture(scope="module")
def realistic():
    return load_config(["preset=realistic"])


@pytest.fixture(scope="module")
def realistic_scenes(realistic):
    sampler = Sampler(realistic)
    return [sampler.sample(i) for i in range(40)]


def test_builtin_maps_are_the_builtin_environment_levels():
    assert tuple(BUILTIN) == BUILTIN_ENVIRONMENTS


def test_the_flat_default_records_neither_and_writes_no_new_keys(cfg):
    scene = Sampler(cfg).sample(3)
    assert scene.environment is None and scene.effects is None
    data = scene.to_dict()
    assert "environment" not in data and "effects" not in data
    assert Scene.from_dict(data) == scene


def test_realistic_scenes_round_trip_through_json(realistic_scenes):
    for scene in realistic_scenes[:10]:
        assert Scene.from_json(scene.to_json()) == scene
        data = json.loads(scene.to_json())
        assert data["environment"]["source"] == "builtin" and isinstance(data["effects"]["jpeg_quality"], int)


def test_contexts_draw_their_environments_and_the_profiles_their_weights(realistic, realistic_scenes):
    allowed = {k: set(v) for k, v in realistic.lighting.contexts.items()}
    seen = set()
    for scene in realistic_scenes:
        env = scene.environment
        assert env.level in allowed[scene.context.name], (scene.context.name, env.level)
        assert 0 <= env.rotation < 2 * math.pi and 1.5 <= env.intensity <= 5.0
        assert scene.effects.name in realistic.camera.effects
        seen.add(env.level)
    assert {"studio", "interior"} <= seen and len(seen) >= 4


def test_the_key_light_is_the_maps_turned_and_scaled(realistic, realistic_scenes):
    maps = EnvironmentSet.load("builtin")
    for scene in realistic_scenes[:12]:
        env = scene.environment
        lighting = maps.lighting(env.name)
        expected = np.asarray(lighting.irradiance) * env.intensity / lighting.up_irradiance
        if expected.max() <= 0.02 * env.intensity:  # overcast: no light stands out
            assert scene.lights == ()
            continue
        (light,) = scene.lights
        assert np.allclose(np.array(light.color) * light.intensity, expected, rtol=1e-9)
        assert np.allclose(light.direction, rotate_direction(np.asarray(lighting.direction), env.rotation))
        assert light.shadows


def test_an_overcast_sky_has_no_key_light_and_a_clear_one_its_sun(realistic):
    sampler = Sampler(realistic)
    overcast = sampler.sample(0, {"environment": "overcast", "context": "outdoor"})
    noon = sampler.sample(0, {"environment": "clear-noon", "context": "outdoor"})
    assert overcast.lights == () and len(noon.lights) == 1 and noon.lights[0].direction[2] > 0.8


def test_an_extra_stage_moves_nothing_else(cfg, realistic):
    """The environment and effects draw from streams of their own: the layout, the
    camera and the objects' looks are those of the flat config's scene."""
    flat, real = Sampler(cfg), Sampler(realistic)
    for i in range(6):
        a, b = flat.sample(i), real.sample(i)
        bare = tuple(replace(o, surface="") for o in b.objects)
        context = replace(b.context, floor_surface="", wall_surface="")
        assert a.objects == bare and a.camera == b.camera and a.context == context


def test_directives_choose_the_environment_and_the_effects(realistic):
    sampler = Sampler(realistic)
    for i in range(8):
        scene = sampler.sample(i, {"environment": "overcast", "effects": "portrait", "context": "studio"})
        assert scene.environment.level == "overcast" and scene.effects.name == "portrait"
        assert scene.context.name == "studio" and scene.effects.aperture > 0
        assert scene.effects.focus_distance == scene.camera.distance


def test_bad_environment_settings_name_the_problem(realistic):
    with pytest.raises(ConfigError, match="did you mean 'overcast'"):
        load_config(["lighting.environment=overcat"])
    with pytest.raises(ConfigError, match="lighting.environment=random"):
        load_config(["factors.tracked=[category,environment]"])
    with pytest.raises(ConfigError, match="camera.effects"):
        load_config(["design_factors=[category,effects]"])
    with pytest.raises(ConfigError, match="valid: 'clean'"):
        Sampler(realistic).sample(0, {"effects": "fisheye"})
    with pytest.raises(ConfigError, match="environment 'moon' is unknown"):
        Sampler(realistic).sample(0, {"environment": "moon"})
    with pytest.raises(ConfigError, match="no such folder|does not exist|not a folder"):
        load_config(["lighting.environment=random", "lighting.environments=/nonexistent/maps"])


def test_a_folder_of_maps_gives_the_levels_of_its_meta_yaml(tmp_path):
    pytest.importorskip("imagecodecs")
    for name, value in (("noon", 2.0), ("dusk", 0.5), ("lab", 1.0)):
        write_hdr(tmp_path / f"{name}.hdr", np.full((8, 16, 3), value, np.float32))
    (tmp_path / "meta.yaml").write_text("noon: {level: outdoor}\ndusk: {level: outdoor, weight: 3}\n")
    cfg = load_config(["lighting.environment=random", f"lighting.environments={tmp_path}",
                       "factors.tracked=[category,environment]"])
    world = World.of(cfg)
    assert world.factor_levels[0]["environment"] == ["outdoor", "lab"]
    scenes = [Sampler(world).sample(i) for i in range(30)]
    assert {s.environment.name for s in scenes} <= {"noon", "dusk", "lab"}
    assert {s.environment.level for s in scenes} == {"outdoor", "lab"}
    assert all(s.environment.source == str(tmp_path) for s in scenes)


def test_white_balance_is_neutral_at_6500_kelvin_and_warm_below():
    assert white_balance_gains(NEUTRAL_KELVIN) == (1.0, 1.0, 1.0)
    red, green, blue = white_balance_gains(3200)
    assert red > 1.2 and blue < 0.8 and green == 1.0
    red, _, blue = white_balance_gains(10000)
    assert red < 1.0 < blue


def test_records_of_the_new_parts_are_frozen_data():
    env = Environment(source="builtin", name="studio", level="studio", rotation=1.0, intensity=2.0)
    effects = CameraEffects(name="clean")
    assert hash(env) and hash(effects) and effects.white_balance == (1.0, 1.0, 1.0)


def test_the_flat_look_records_the_same_data_config_as_before(cfg, realistic):
    """A dataset's recorded config leaves the new sections out while they are off, so
    datasets made before them keep their bytes and resume; the realistic look records
    them."""
    from scenegen.dataset.shards import data_config

    flat = data_config(cfg)
    assert "lighting" not in flat and "effects" not in flat["camera"]
    real = data_config(realistic)
    assert real["lighting"]["environment"] == "random" and set(real["camera"]["effects"]) == set(
        realistic.camera.effects)


def test_plain_objects_of_a_class_wear_a_set_of_it_and_floors_theirs(realistic, realistic_scenes):
    from scenegen.world.texture_sets import BUILTIN

    classes, mapping = realistic.surfaces.classes, realistic.surfaces.context_textures
    worn = set()
    for scene in realistic_scenes:
        assert scene.surfaces == "builtin"
        for obj in scene.objects:
            wanted = classes.get(obj.entry, classes.get(obj.category))
            if obj.texture != "plain" or wanted is None:
                assert obj.surface == ""
            else:
                assert BUILTIN[obj.surface].material_class == wanted and BUILTIN[obj.surface].surface == "object"
                worn.add(obj.surface)
        assert scene.context.floor_surface == mapping.get(scene.context.floor_texture, "")
        assert Scene.from_json(scene.to_json()) == scene
    assert len(worn) >= 5


def test_a_bad_surface_class_names_the_valid_ones():
    with pytest.raises(ConfigError, match="wood"):
        load_config(["surfaces.sets=builtin", "+surfaces.classes.chair=timber"])
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(["surfaces.sets=/nonexistent/sets"])
