"""Sampler properties over many scenes, checked against the real mesh geometry
(independently of the sampler's footprint rectangles)."""

import json
import math
import multiprocessing

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull

from scenegen.config import config_from_dict, config_to_dict, load_config
from scenegen.errors import PlacementError
from scenegen.geometry import project
from scenegen.sampler import Sampler, stage_rngs
from scenegen.scene import Scene

SEEDS = (0, 7, 2**31 + 5)
TOL = 1e-7


@pytest.fixture(scope="module")
def samplers(cfg, dictionary):
    base = config_to_dict(cfg)
    return {seed: Sampler(config_from_dict({**base, "seed": seed}), dictionary) for seed in SEEDS}


def world_vertices(obj, dictionary) -> np.ndarray:
    vertices = dictionary[obj.entry].variant(obj.style).mesh().vertices * obj.scale
    pose = obj.world_from_object()
    return vertices @ pose[:3, :3].T + pose[:3, 3]


def hull_polygon(points_xy: np.ndarray) -> np.ndarray:
    return points_xy[ConvexHull(points_xy).vertices]


def convex_polygons_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Positive-area overlap of two convex polygons (separating axis theorem)."""
    for poly in (a, b):
        edges = np.roll(poly, -1, axis=0) - poly
        for nx, ny in np.column_stack([-edges[:, 1], edges[:, 0]]):
            axis = np.array([nx, ny]) / math.hypot(nx, ny)
            pa, pb = a @ axis, b @ axis
            if pa.max() <= pb.min() + TOL or pb.max() <= pa.min() + TOL:
                return False
    return True


def point_in_convex_polygon(point, poly) -> bool:
    edges = np.roll(poly, -1, axis=0) - poly
    rel = point - poly
    cross = edges[:, 0] * rel[:, 1] - edges[:, 1] * rel[:, 0]
    return bool(np.all(cross >= -TOL) or np.all(cross <= TOL))


def assert_physical(scene, dictionary, cfg):
    """Every object rests on the ground or on its support within 1 mm (the vertices of
    its base inside the outline of the support's top face), inside the floor,
    and no two objects' meshes overlap (convex hulls of their vertices in xy, where their
    heights overlap)."""
    lo, hi = cfg.placement.objects
    assert lo <= len(scene.objects) <= hi
    verts = [world_vertices(o, dictionary) for o in scene.objects]
    hulls = [hull_polygon(v[:, :2]) for v in verts]
    zs = [(v[:, 2].min(), v[:, 2].max()) for v in verts]
    floor_half = scene.context.floor_size / 2
    for i, obj in enumerate(scene.objects):
        assert np.abs(verts[i][:, :2]).max() <= floor_half
        if obj.support == -1:
            assert abs(zs[i][0]) < 1e-3, "ground object must touch z = 0"
            if obj.relation == "ground":
                assert np.all(np.abs(np.asarray(obj.position[:2])) <= cfg.placement.area + TOL)
        else:
            assert 0 <= obj.support < i
            assert dictionary[scene.objects[obj.support].entry].support
            assert abs(zs[i][0] - zs[obj.support][1]) < 1e-3, "must rest on its support's top"
            support = verts[obj.support]
            top = hull_polygon(support[support[:, 2] >= zs[obj.support][1] - 1e-6][:, :2])
            base = verts[i][verts[i][:, 2] <= zs[i][0] + 1e-6][:, :2]
            assert all(point_in_convex_polygon(p, top) for p in base), "must stand inside its support's top face"
        if obj.relation != "ground":
            assert 0 <= obj.anchor < i
        for j in range(i):
            z_overlap = min(zs[i][1], zs[j][1]) - max(zs[i][0], zs[j][0])
            if z_overlap > TOL:
                assert not convex_polygons_overlap(hulls[i], hulls[j]), f"objects {j} and {i} interpenetrate"


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
