import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scenegen.scene.factors import (
    AZIMUTH_BINS,
    bin_level,
    elevation_bin,
    light_bin,
    occlusion_level,
    pose_bin,
    pose_levels,
    relative_azimuth,
    universe,
)


@pytest.mark.parametrize(
    "degrees, expected",
    [(0, "front"), (22.4, "front"), (22.6, "front-left"), (90, "left"), (180, "back"), (270, "right"),
     (337.4, "front-right"), (337.6, "front"), (359.9, "front")],
)
def test_pose_bins_without_symmetry(degrees, expected):
    assert pose_bin(math.radians(degrees), 1) == expected


@given(st.floats(0, 2 * math.pi - 1e-9), st.sampled_from([1, 2, 4, 8]))
def test_pose_bin_respects_symmetry(azimuth, order):
    level = pose_bin(azimuth, order)
    assert level in pose_levels(order)
    # turning the object by one symmetry step shows the same level
    assert pose_bin((azimuth + 2 * math.pi / order) % (2 * math.pi), order) == level


def test_pose_levels_count():
    assert pose_levels(0) == ("any",)
    assert len(pose_levels(1)) == 8 and len(pose_levels(2)) == 4 and len(pose_levels(4)) == 2
    assert pose_levels(1) == AZIMUTH_BINS


def test_relative_azimuth_turns_with_the_object():
    # camera on +y of an object at the origin: left of an unrotated object, front of one turned by 90 deg
    assert relative_azimuth((0, 0, 0), 0.0, (0, 3, 1)) == pytest.approx(math.pi / 2)
    assert relative_azimuth((0, 0, 0), math.pi / 2, (0, 3, 1)) == pytest.approx(0.0)


def test_elevation_light_and_occlusion_levels(cfg):
    assert [elevation_bin(math.radians(d), cfg.factors) for d in (5, 20, 39.9, 40, 80)] == [
        "low", "mid", "mid", "high", "high"]
    assert [light_bin(i, cfg.factors) for i in ([1.0], [1.0, 0.99], [1.0, 1.0], [2.0, 1.49], [3.5], [])] == [
        "dim", "dim", "medium", "medium", "bright", "dim"]
    assert [bin_level(v, [0.0, 1.0], "abc") for v in (-1, 0, 0.5, 1, 9)] == ["a", "b", "b", "c", "c"]
    assert [occlusion_level(f, 0.95, 0.5) for f in (1.0, 0.95, 0.94, 0.5, 0.49, 0.0)] == [
        "none", "none", "partial", "partial", "heavy", "heavy"]


def test_universe_respects_symmetry_and_context_weights(cfg):
    levels, feasible = universe(cfg)
    assert levels["category"] == list(cfg.categories)
    feasible = set(feasible)
    # ball and can are continuous: one pose level
    assert {p for c, p, _ in feasible if c == "ball"} == {"any"}
    # cone has 4-fold symmetry (its square base), crate and table 2-fold, chair none
    assert {p for c, p, _ in feasible if c == "cone"} == {"front", "front-left"}
    assert {p for c, p, _ in feasible if c == "crate"} == {"front", "front-left", "left", "back-left"}
    assert len({p for c, p, _ in feasible if c == "table"}) == 4
    assert len({p for c, p, _ in feasible if c == "chair"}) == 8
    # the outdoor context gives lamps weight 0
    assert not any(c == "lamp" and x == "outdoor" for c, _, x in feasible)
    assert ("lamp", "any", "room") in feasible
