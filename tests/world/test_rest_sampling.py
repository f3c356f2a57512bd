"""Rest states in sampled scenes (rest.chance > 0): objects lie on their stable poses,
physically, reproducibly, as the directives ask, measured from the pose; off by default
with every scene as before."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from physical import assert_physical, world_vertices

from scenegen import load_config
from scenegen.design.hitrate import measure_hit_rates
from scenegen.design.plan import covering_plan, design_space, directive_allowed
from scenegen.design.universe import coverage_tracker
from scenegen.errors import ConfigError
from scenegen.labels.objects import object_labels
from scenegen.scene.factors import pose_bin
from scenegen.scene.scene import Scene
from scenegen.world.compile import World
from scenegen.world.rest import LEVELS, level_of
from scenegen.world.sampler import Sampler


@pytest.fixture(scope="module")
def lying_cfg():
    return load_config(["width=96", "height=72", "rest.chance=1"])


@pytest.fixture(scope="module")
def lying(lying_cfg):
    return Sampler(lying_cfg)


def _measured(obj, dictionary) -> str:
    """The rest level of ``obj`` from its pose: which canonical direction points down."""
    return level_of(-obj.world_from_object()[2, :3], dictionary[obj.entry].symmetry)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(0, 10**7))
def test_lying_layouts_are_physical_and_round_trip(lying, lying_cfg, index):
    """Every object rests on the floor or its support within 1 mm, no two meshes
    overlap, carriers stand upright, the drawn level is the one its pose shows, and the
    record survives JSON exactly."""
    scene = lying.sample(index)
    dictionary = lying.dictionary
    assert_physical(scene, dictionary, lying_cfg)
    assert Scene.from_json(scene.to_json()) == scene
    carriers = {o.support for o in scene.objects if o.support >= 0}
    for i, obj in enumerate(scene.objects):
        assert obj.rest in LEVELS
        assert _measured(obj, dictionary) == obj.rest
        assert obj.tipped == (obj.rest != "upright")
        if i in carriers:
            assert obj.rest == "upright"
        rotation = np.reshape(obj.rest_rotation, (3, 3)) if obj.tipped else np.eye(3)
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
        vertices = world_vertices(obj, dictionary)
        # position is the centre of the base of the box of the object as it lies
        low, high = vertices.min(axis=0), vertices.max(axis=0)
        assert abs(low[2] - obj.position[2]) < 1e-9
        if obj.yaw % (math.pi / 2) < 1e-12:
            np.testing.assert_allclose((low[:2] + high[:2]) / 2, obj.position[:2], atol=1e-9)


def test_levels_follow_the_weights_and_the_stream_is_its_own(lying_cfg, dictionary):
    """With chance 1 and uniform weights every level of the dictionary shows up; with
    chance 0 (the default) the scenes are exactly those of a config without rest states
    (no key written); the other stages do not move when rest states are drawn."""
    lying = Sampler(lying_cfg)
    flat = Sampler(load_config(["width=96", "height=72"]))
    counts = Counter(o.rest for i in range(300) for o in lying.sample(i).objects)
    assert set(counts) == set(LEVELS)
    assert counts["upright"] < 0.5 * sum(counts.values())
    plain = flat.sample(5)
    assert all(o.rest == "" and not o.tipped for o in plain.objects)
    assert not {"rest", "rest_rotation", "rest_offset"} & {key for o in plain.to_dict()["objects"] for key in o}
    assert Sampler(load_config(["width=96", "height=72", "rest.chance=0"])).sample(5) == plain
    # the context, the camera's direction and the lights draw from their own streams
    tilted = lying.sample(5)
    assert tilted.context == plain.context and tilted.lights == plain.lights
    assert tilted.camera.azimuth == plain.camera.azimuth and tilted.camera.elevation == plain.camera.elevation


def test_per_entry_levels_and_weights():
    """rest.levels: the listed levels only, by their weights; the entry's name wins over
    its category; an object carrying others stays upright."""
    cfg = load_config(["width=96", "height=72", "rest.chance=1",
                       "+rest.levels={chair: {on-back: 1}, lamp: {on-side: 3, upright: 1}, table: {upside-down: 1}}"])
    sampler = Sampler(cfg)
    seen: dict = {}
    for i in range(250):
        scene = sampler.sample(i)
        carriers = {o.support for o in scene.objects if o.support >= 0}
        for j, obj in enumerate(scene.objects):
            if j not in carriers:
                seen.setdefault(obj.category, Counter())[obj.rest] += 1
    assert set(seen["chair"]) == {"on-back"}
    assert set(seen["lamp"]) == {"on-side", "upright"} and seen["lamp"]["on-side"] > 2 * seen["lamp"]["upright"]
    assert set(seen.get("table", {"upside-down": 1})) == {"upside-down"}
    assert len(set(seen["book"])) > 2  # not listed: every level it has


def test_probability_weighting_favours_the_likely_landings():
    """weighting=probability draws each level about as often as the object lands in it
    when dropped (the quasi-static probabilities of scenegen.world.rest)."""
    cfg = load_config(["width=96", "height=72", "rest.chance=1", "rest.weighting=probability"])
    world = World.of(cfg)
    sampler = Sampler(cfg)
    drawn, expected = Counter(), Counter()
    for i in range(300):
        scene = sampler.sample(i)
        carriers = {o.support for o in scene.objects if o.support >= 0}
        for j, obj in enumerate(scene.objects):
            if j in carriers or obj.category != "book":
                continue
            drawn[obj.rest] += 1
            levels, weights = world.rest.weights(world.dictionary[obj.entry], obj.style)
            for level, w in zip(levels, weights / weights.sum()):
                expected[level] += w
    total = sum(drawn.values())
    assert total > 40
    for level in expected:
        assert abs(drawn[level] - expected[level]) < 4 * math.sqrt(expected[level]) + 3, (level, drawn, expected)


@pytest.mark.parametrize("directive", [
    {"category": "chair", "rest": "on-side"},
    {"category": "chair", "rest": "on-back", "pose": "front"},
    {"category": "table", "rest": "upside-down", "pose": "left"},
    {"category": "mug", "rest": "on-side", "occlusion": "partial"},
    {"rest": "tilted"},
])
def test_directives_reach_their_rest_and_pose(lying, directive):
    """The target lies in the requested level, seen at the requested pose in its own
    frame, for every scene."""
    for index in range(8):
        scene = lying.sample(index, directive)
        target = scene.objects[scene.target]
        assert target.rest == directive["rest"] == _measured(target, lying.dictionary)
        if "category" in directive:
            assert target.category == directive["category"]


def test_rendered_labels_show_the_requested_rest_levels(lying, renderer):
    """Hit rates measured from the rendered labels (rest from the pose, pose in the
    object's frame) over directives mixing rest with category, pose and occlusion."""
    directives = [{"category": c, "rest": r} for c, r in [("chair", "on-side"), ("chair", "on-back"),
                                                            ("table", "upside-down"), ("mug", "on-front"),
                                                            ("book", "on-back"), ("lamp", "on-side")]]
    directives += [{"category": "chair", "rest": "on-back", "pose": "front"},
                   {"category": "sofa", "rest": "on-side", "pose": "front-right"},
                   {"category": "crate", "rest": "on-side", "occlusion": "partial"},
                   {"category": "bucket", "rest": "upright", "pose": "left"}]
    directives = [directives[i % len(directives)] for i in range(30)]
    report = measure_hit_rates(lying, renderer, directives)
    assert report.pop("_failed")["scenes"] == 0
    assert report["rest"]["scenes"] == 30 and report["rest"]["rate"] >= 0.99, report["rest"]
    for factor, figures in report.items():
        assert figures["rate"] >= 0.99, (factor, figures)


def test_lying_labels_measure_pose_in_the_object_frame(lying, lying_cfg, renderer):
    """For a lying object the label's azimuth is the camera's in the object's frame
    (its front +x, its up +z), its pose level that azimuth's bin, its rest the measured
    level; upright objects keep the world formulas."""
    checked = 0
    for index in range(12):
        scene = lying.sample(index)
        labels = object_labels(scene, renderer.render(scene), lying.dictionary, lying_cfg.factors)
        eye = scene.camera.position
        for obj, label in zip(scene.objects, labels):
            entry = lying.dictionary[obj.entry]
            pose = obj.world_from_object()
            height = entry.variant(obj.style).extents[2] * obj.scale
            centre = pose[:3, :3] @ [0.0, 0.0, height / 2] + pose[:3, 3]
            local = pose[:3, :3].T @ (np.asarray(eye) - centre)
            azimuth = math.atan2(local[1], local[0]) % (2 * math.pi)
            assert label["azimuth"] == pytest.approx(math.degrees(azimuth), abs=1e-9)
            assert label["elevation"] == pytest.approx(math.degrees(math.asin(local[2] / np.linalg.norm(local))),
                                                       abs=1e-9)
            assert label["factors"]["pose"] == pose_bin(azimuth, entry.symmetry)
            assert label["rest"] == label["factors"]["rest"] == obj.rest
            checked += obj.tipped
    assert checked > 15


def test_rest_is_a_tracked_factor_of_the_universe(lying_cfg):
    """rest levels come from the dictionary's shapes; a ball only rolls upright; the
    coverage tracker counts it when tracked."""
    world = World.of(lying_cfg)
    levels, _ = world.factor_levels
    assert levels["rest"] == list(LEVELS)
    assert world.rest.levels_of(world.dictionary["ball"]) == ("upright",)
    assert set(world.rest.levels_of(world.dictionary["chair"])) == {"upright", "on-side", "on-front", "on-back",
                                                                     "tilted"}
    tracked = load_config(["width=96", "height=72", "rest.chance=1",
                           "factors.tracked=[category,pose,context,rest]"])
    tracker = coverage_tracker(tracked)
    assert list(tracker.levels["rest"]) == list(LEVELS)
    assert {"category": "ball", "rest": "on-side"} in tracker.forbidden


@pytest.mark.parametrize("overrides, message", [
    (["factors.tracked=[category,rest]"], r"factors.tracked names 'rest', which scenes do not have: set rest.chance"),
    (["rest.chance=1", "+rest.levels={unicorn: {upright: 1}}"], r"rest.levels names 'unicorn'.*valid: .*chair"),
    (["rest.chance=1", "+rest.levels={chair: {sideways: 1}}"], r"'sideways' is not a rest level.*valid: .*on-side"),
    (["rest.chance=1", "+rest.levels={chair: {on-side: heavy}}"], r"rest.levels.chair.on-side must be a weight >= 0"),
    (["rest.chance=1.5"], r"rest.chance"),
    (["rest.weighting=heavy"], r"rest.weighting"),
    (["directive={category:chair,rest:on-side}"], r"directive rest 'on-side' needs rest states: set rest.chance"),
    (["rest.chance=1", "directive={category:ball,rest:on-side}"], r"rest=on-side is impossible for ball.*'upright'"),
    (["rest.chance=1", "directive={category:chair,rest:flat}"], r"directive rest 'flat' is unknown; valid: .*tilted"),
])
def test_bad_rest_settings_are_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides)


def test_a_pose_no_turn_can_show_is_refused(lying):
    """A book lying on its front cannot be seen from its front by a camera above the
    floor: refused at load, naming the poses it can show; from its back it can."""
    with pytest.raises(ConfigError, match=r"pose=front, rest=on-front is impossible for book.*valid pose: 'back'"):
        load_config(["rest.chance=1", "directive={category:book,rest:on-front,pose:front}"])
    for index in range(5):
        scene = lying.sample(index, {"category": "book", "rest": "on-front", "pose": "back"})
        assert scene.objects[scene.target].rest == "on-front"


def test_a_covering_design_over_category_pose_and_rest_is_realized():
    """Every pair of (category, pose, rest) levels a directive can show is in the plan,
    pairs no object can show (a ball on its side, a book on its front seen from the
    front) are left out, and each row's scene shows its levels, measured from the pose."""
    cfg = load_config(["width=64", "height=48", "rest.chance=1", "design_factors=[category,pose,rest]"])
    world = World.of(cfg)
    rows = covering_plan(world)
    levels, forbidden = design_space(world)
    assert {"category": "ball", "rest": "on-side"} in forbidden
    shown = {(f, row[f], g, row[g]) for row in rows for f in row for g in row if f < g}
    for f, g in (("category", "rest"), ("pose", "rest"), ("category", "pose")):
        for a in levels[f]:
            for b in levels[g]:
                pair = {f: a, g: b}
                assert (f, a, g, b) in shown or pair in forbidden or not directive_allowed(pair, world)
    sampler = Sampler(world)
    for index, row in enumerate(rows[:20]):
        scene = sampler.sample(index, row)
        target = scene.objects[scene.target]
        assert target.category == row["category"] and _measured(target, sampler.dictionary) == row["rest"]
