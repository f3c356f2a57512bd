"""Sampler properties over many scenes, checked against the real mesh geometry
(independently of the sampler's footprint rectangles)."""

import json
import multiprocessing

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from physical import assert_physical, world_vertices

from scenegen import load_config
from scenegen.config.load import config_from_dict, config_to_dict
from scenegen.errors import PlacementError
from scenegen.scene.geometry import project
from scenegen.scene.scene import Scene
from scenegen.world.sampler import Sampler, stage_rngs

SEEDS = (0, 7, 2**31 + 5)


@pytest.fixture(scope="module")
def samplers(cfg, dictionary):
    base = config_to_dict(cfg)
    return {seed: Sampler(config_from_dict({**base, "seed": seed}), dictionary) for seed in SEEDS}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(SEEDS), index=st.integers(0, 10**7))
def test_layout_is_physical(samplers, dictionary, cfg, seed, index):
    assert_physical(samplers[seed].sample(index), dictionary, cfg)


def test_layout_is_physical_over_thousands_of_scenes(samplers, dictionary, cfg):
    sampler = samplers[SEEDS[1]]
    relations = set()
    for index in range(2000):
        scene = sampler.sample(index)
        assert_physical(scene, dictionary, cfg)
        relations.update(o.relation for o in scene.objects)
    assert relations == {"ground", "on", "left-of", "right-of", "in-front-of", "behind", "near", "camera-front", "camera-behind"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.sampled_from(SEEDS), index=st.integers(0, 10**7))
def test_scene_json_round_trip_and_every_object_in_frame(samplers, dictionary, seed, index):
    scene = samplers[seed].sample(index)
    assert Scene.from_json(scene.to_json()) == scene
    assert Scene.from_dict(json.loads(json.dumps(scene.to_dict()))) == scene
    cam = scene.camera
    for obj in scene.objects:
        pixels = project(world_vertices(obj, dictionary), cam.K, cam.pose)
        assert np.all(pixels >= -0.5) and np.all(pixels[:, 0] <= cam.width - 0.5)
        assert np.all(pixels[:, 1] <= cam.height - 0.5)


def test_same_index_same_scene_in_any_order(samplers):
    sampler = samplers[SEEDS[0]]
    forward = [sampler.sample(i) for i in range(6)]
    backward = [sampler.sample(i) for i in reversed(range(6))][::-1]
    assert forward == backward
    assert len({s.to_json() for s in forward}) == 6


def _sample_json(index: int) -> str:
    return Sampler(load_config()).sample(index).to_json()


def test_same_scene_in_another_process(samplers):
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        remote = pool.map(_sample_json, [0, 3, 11])
    assert remote == [samplers[0].sample(i).to_json() for i in (0, 3, 11)]


def test_stages_draw_from_independent_streams(cfg, dictionary):
    base = config_to_dict(cfg)
    more_lights = Sampler(config_from_dict({**base, "lights": {**base["lights"], "count": [4, 4]}}), dictionary)
    plain = Sampler(cfg, dictionary)
    for index in range(5):
        a, b = plain.sample(index), more_lights.sample(index)
        assert len(b.lights) == 4
        assert a.objects == b.objects and a.camera == b.camera and a.context == b.context


def test_stage_streams_differ_per_index_and_stage():
    first = {k: g.random() for k, g in stage_rngs(0, 0).items()}
    again = {k: g.random() for k, g in stage_rngs(0, 0).items()}
    other = {k: g.random() for k, g in stage_rngs(0, 1).items()}
    assert first == again
    assert len(set(first.values())) == len(first)
    assert all(first[k] != other[k] for k in first)


def test_seed_changes_scenes(samplers):
    assert samplers[SEEDS[0]].sample(0) != samplers[SEEDS[1]].sample(0)


def test_unsatisfiable_placement_fails_with_a_clear_error(dictionary):
    cfg = load_config(
        ["placement.objects=[5,5]", "placement.area=0.05", "placement.attempts_per_object=1", "placement.attempts_per_scene=2"]
    )
    with pytest.raises(PlacementError, match=r"within 2 attempts .*'layout did not fit': 2\}.*placement.area"):
        Sampler(cfg, dictionary).sample(0)


def test_context_weights_are_respected(samplers):
    sampler = samplers[SEEDS[0]]
    scenes = [sampler.sample(i) for i in range(300)]
    outdoor = [o.category for s in scenes if s.context.name == "outdoor" for o in s.objects]
    assert outdoor and "lamp" not in outdoor and "book" not in outdoor  # weight 0 outdoors
    assert {s.context.name for s in scenes} == {"studio", "room", "outdoor"}
    assert any(o.support >= 0 for s in scenes for o in s.objects), "stacking never happens"


def test_crowded_scenes_place_and_stay_physical(dictionary):
    """12-object scenes (deep crate stacks, rows on tables) place within the bounded
    retries and obey the same physical rules."""
    cfg = load_config(["placement.objects=[10,12]", "placement.area=1.6"])
    sampler = Sampler(cfg, dictionary)
    stacked = 0
    for index in range(150):
        scene = sampler.sample(index)
        assert_physical(scene, dictionary, cfg)
        stacked = max(stacked, max(_stack_height(scene, i) for i in range(len(scene.objects))))
    assert stacked >= 3, "crate stacks of three should occur in 150 crowded scenes"


def _stack_height(scene, index: int) -> int:
    """Objects from the ground up to ``index`` (1: on the ground)."""
    height = 1
    while scene.objects[index].support >= 0:
        index, height = scene.objects[index].support, height + 1
    return height


def test_the_plain_config_holds_the_configs_values():
    """World.plain_cfg, what the sampler reads per scene, gives the config's values as
    plain objects (the same values, lists as lists); a config without the schema is read
    as it is."""
    from dataclasses import asdict, is_dataclass

    from omegaconf import OmegaConf

    from scenegen.world.compile import PlainConfig, World

    def as_container(value):
        if is_dataclass(value):
            return asdict(value)
        return {k: as_container(v) for k, v in value.items()} if isinstance(value, dict) else value

    cfg = load_config(["preset=realistic", "seed=9"])
    plain = World.of(cfg).plain_cfg
    assert isinstance(plain, PlainConfig) and plain.seed == 9 and plain.grammar.near == cfg.grammar.near
    for key in ("camera", "lights", "lighting", "placement", "render", "surfaces", "background", "contexts", "colors",
                "materials"):
        assert as_container(getattr(plain, key)) == OmegaConf.to_container(cfg[key]), key
    assert not OmegaConf.is_config(plain.camera.effects["phone"].noise) and plain.camera is plain.camera
    with pytest.raises(AttributeError):
        _ = plain.no_such_key
    untyped = OmegaConf.create(OmegaConf.to_container(cfg))
    assert World(untyped, World.of(cfg).dictionary, World.of(cfg).grammar).plain_cfg is untyped
