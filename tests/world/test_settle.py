"""Tests of scenegen.world.settle: PyBullet settling of rigid bodies made of convex pieces.

The rest states of every built-in entry stay put when released (the acceptance check of
rest states), a dropped box lands flat, a pile of built-in objects settles without
interpenetration, runs are byte-identical here and in another process, and bodies that
leave the area or are still moving are flagged."""

from __future__ import annotations

import functools
import hashlib
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh
from scipy.spatial import ConvexHull

from scenegen.errors import ConfigError, MeshError
from scenegen.world.piles import random_rotation
from scenegen.world.rest import rest_states
from scenegen.world.settle import CHECK_EVERY, SettleBody, SettleResult, center_of_mass, drift, settle

pytest.importorskip("pybullet")

MAX_DRIFT = 2e-3  # m: a rest state moves less than this in 2 simulated seconds
MAX_TURN = 1.0  # degrees: ... and turns less than this
PENETRATION_TOL = 1e-3  # m: how deep a settled mesh may reach into another or the floor

# Rest states, by (entry, level) of each entry's first style, that rest_states() finds
# stable with its default centre of mass (the centroid of the hull of all vertices, which
# counts the space between parts as solid) and that tip over when the parts carry the mass.
# Margins (canonical units; hull centroid -> parts' centroid): chair on-side 0.057 -> -0.082,
# on-back 0.056 -> -0.084, on-front 0.057 -> -0.080; bench on-front 0.009 -> -0.065.
TIPS_OVER_WITH_THE_HULL_CENTROID = {("chair", "on-side"), ("chair", "on-back"), ("chair", "on-front"),
                                    ("bench", "on-front")}

PILE = ("crate", "can", "book", "bowl", "mug", "flowerpot", "laptop", "ball")


def pieces_of(entry, style: str = "") -> tuple:
    """One convex piece per part: the canonical vertices of each part mesh."""
    return tuple(np.asarray(part.mesh.vertices) for part in entry.variant(style).parts)


def mean_size(entry) -> float:
    return (entry.size[0] + entry.size[1]) / 2


def yaw(degrees: float) -> np.ndarray:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def world_pieces(body: SettleBody, rotation, position) -> list[np.ndarray]:
    """(V, 3) world vertices (metres) of each piece of ``body`` at a pose."""
    rotation, position = np.asarray(rotation), np.asarray(position)
    return [np.asarray(piece) * body.scale @ rotation.T + position for piece in body.pieces]


def penetration(points: np.ndarray, hull_points: np.ndarray) -> float:
    """Deepest penetration (metres) of any of (N, 3) ``points`` into the convex hull of
    ``hull_points``: per point the least distance inside any of the hull's planes
    (positive inside, negative outside), then the largest over the points."""
    planes = ConvexHull(hull_points).equations  # unit normal . x + offset <= 0 inside
    return float((-(points @ planes[:, :3].T + planes[:, 3])).min(axis=1).max())


def boxes_overlap(a: np.ndarray, b: np.ndarray, margin: float) -> bool:
    return bool(np.all(a.min(axis=0) <= b.max(axis=0) + margin) and np.all(b.min(axis=0) <= a.max(axis=0) + margin))


def box_pieces(x: float, y: float, z: float) -> tuple:
    """One box piece with its base centred on the origin, canonical units."""
    box = trimesh.creation.box([x, y, z])
    box.apply_translation([0.0, 0.0, z / 2])
    return (np.asarray(box.vertices),)


def pile_bodies(dictionary) -> list[SettleBody]:
    """Eight built-in objects in random orientations (seeded) over a 0.24 m square, each
    released 2 cm above the previous one's top."""
    rng = np.random.default_rng(7)
    bodies, bottom = [], 0.02
    for name in PILE:
        entry = dictionary[name]
        rotation = random_rotation(rng)
        pieces, scale = pieces_of(entry), mean_size(entry)
        z = (np.concatenate(pieces) * scale @ rotation.T)[:, 2]
        x, y = rng.uniform(-0.12, 0.12, size=2)
        bodies.append(SettleBody(pieces, scale, rotation, (x, y, bottom - z.min())))
        bottom += float(np.ptp(z)) + 0.02
    return bodies


def settle_pile(dictionary) -> SettleResult:
    return settle(pile_bodies(dictionary), area_half=0.5, seconds=2.0)


def digest(result: SettleResult) -> str:
    h = hashlib.sha256()
    for values in (result.rotations, result.positions, result.at_rest, result.left_area, (result.steps,)):
        h.update(np.asarray(values, dtype=np.float64).tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def drift_of(dictionary):
    """``(name, style, state) -> (metres, degrees)``: :func:`drift` of the entry's style
    released in ``state`` at its mean size, memoised (states found by several tests)."""

    @functools.lru_cache(maxsize=None)
    def measure(name, style, rotation, offset):
        entry = dictionary[name]
        scale = mean_size(entry)
        return drift(pieces_of(entry, style), scale, rotation, np.asarray(offset) * scale)

    return lambda name, style, state: measure(name, style, state.rotation, state.offset)


# ---------------------------------------------------------------------------- rest states stay put


def test_every_rest_state_is_stable(dictionary, drift_of):
    """The acceptance check: every rest state of every style of every built-in entry,
    analysed with the centre of mass the simulation has (the parts'), moves less than
    2 mm and turns less than 1 degree in 2 simulated seconds at the entry's mean size."""
    moved, states = [], 0
    for name in dictionary:
        entry = dictionary[name]
        for style in entry.styles:
            pieces = pieces_of(entry, style)
            center = center_of_mass(pieces)
            for state in rest_states(entry.variant(style).mesh(), entry.symmetry, center=center):
                states += 1
                metres, degrees = drift_of(name, style, state)
                if metres > MAX_DRIFT or degrees > MAX_TURN:
                    moved.append((name, style, state.level, round(metres * 1e3, 3), round(degrees, 3)))
    assert states >= 200
    assert not moved, f"rest states that moved (entry, style, level, mm, degrees): {moved}"


def test_rest_states_with_the_hull_centroid(dictionary, drift_of):
    """The acceptance check as rest_states() runs by default (the hull's centroid as the
    centre of mass), on each entry's first style: stable but for the states listed in
    TIPS_OVER_WITH_THE_HULL_CENTROID, which do tip over (their part-weighted stability
    margin is negative), so the list shrinks when rest_states() learns the parts' mass."""
    moved = set()
    for name in dictionary:
        entry = dictionary[name]
        style = entry.styles[0]
        for state in rest_states(entry.variant(style).mesh(), entry.symmetry):
            metres, degrees = drift_of(name, style, state)
            if metres > MAX_DRIFT or degrees > MAX_TURN:
                moved.add((name, state.level))
    assert moved == TIPS_OVER_WITH_THE_HULL_CENTROID


def test_center_of_mass_weighs_each_hull_by_its_volume():
    small = box_pieces(1.0, 1.0, 1.0)[0]
    big = box_pieces(2.0, 2.0, 2.0)[0] + [10.0, 0.0, 0.0]
    np.testing.assert_allclose(center_of_mass([small, big]), [10.0 * 8 / 9, 0.0, (0.5 + 8.0) / 9], atol=1e-12)


# ---------------------------------------------------------------------------- single bodies


def test_a_dropped_box_lands_flat_on_the_floor():
    pieces = box_pieces(1.0, 0.6, 0.3)
    floor_z = 0.1
    body = SettleBody(pieces, 0.2, yaw(30.0), (0.05, -0.02, floor_z + 0.3))
    result = settle([body], area_half=1.0, floor_z=floor_z)
    assert result.steps < 480 and result.steps % CHECK_EVERY == 0  # at rest early: it stopped there
    full = settle([body], area_half=1.0, floor_z=floor_z, early_exit=False)
    assert full.steps == 480 and full.at_rest == (True,)
    np.testing.assert_allclose(full.positions[0], result.positions[0], atol=1e-3)
    assert result.at_rest == (True,) and result.left_area == (False,)
    rotation, position = np.array(result.rotations[0]), np.array(result.positions[0])
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-9)
    (world,) = world_pieces(body, rotation, position)
    assert abs(world[:, 2].min() - floor_z) <= 1e-3
    assert np.ptp(world[:, 2]) == pytest.approx(0.2 * 0.3, abs=1e-4)  # flat: the base is level
    assert math.degrees(math.acos(min(1.0, rotation[2, 2]))) < 0.1
    # the impact (on one corner first: a contact manifold gains a point per step) turns and
    # shifts it a little
    assert math.degrees(math.atan2(rotation[1, 0], rotation[0, 0])) == pytest.approx(30.0, abs=2.0)
    np.testing.assert_allclose(position[:2], [0.05, -0.02], atol=0.01)


def test_poses_are_those_of_the_canonical_origin():
    """A body whose canonical origin is far from its centre of mass: the result still
    describes the canonical frame (a resting body keeps its pose)."""
    pieces = tuple(piece + [3.0, -2.0, 0.0] for piece in box_pieces(1.0, 1.0, 0.5))
    rotation = yaw(-50.0)
    position = np.array([0.4, 0.3, 0.0]) - rotation @ np.array([3.0, -2.0, 0.0]) * 0.1
    result = settle([SettleBody(pieces, 0.1, rotation, position)], area_half=1.0)
    # within 0.06 degrees: released on a face, it rocks a little while its contact
    # manifold fills (a point per step) and stops when it is at rest, not when level
    np.testing.assert_allclose(result.rotations[0], rotation, atol=1e-3)
    np.testing.assert_allclose(result.positions[0], position, atol=3e-4)
    assert result.left_area == (False,)


def test_a_fixed_body_holds_what_falls_on_it(dictionary):
    table, crate = dictionary["table"], dictionary["crate"]
    table_scale = mean_size(table)
    top = table.variant().extents[2] * table_scale
    fixed = SettleBody(pieces_of(table), table_scale, np.eye(3), (0.0, 0.0, 0.0), fixed=True)
    falling = SettleBody(pieces_of(crate), 0.3, yaw(10.0), (0.0, 0.0, top + 0.1))
    result = settle([fixed, falling], area_half=1.0)
    assert result.rotations[0] == tuple(tuple(row) for row in np.eye(3)) and result.positions[0] == (0.0, 0.0, 0.0)
    assert result.at_rest == (True, True)
    lowest = min(float(w[:, 2].min()) for w in world_pieces(falling, result.rotations[1], result.positions[1]))
    assert top - PENETRATION_TOL <= lowest <= top + 3e-3  # two collision margins of gap at most


def test_flags_what_left_the_area_and_what_still_moves():
    pieces = box_pieces(1.0, 1.0, 1.0)
    inside = SettleBody(pieces, 0.1, np.eye(3), (0.0, 0.0, 0.0))
    outside = SettleBody(pieces, 0.1, np.eye(3), (0.6, 0.0, 0.0))
    result = settle([inside, outside], area_half=0.5)
    assert result.left_area == (False, True)
    assert result.at_rest == (True, True)

    falling = SettleBody(pieces, 0.1, np.eye(3), (0.0, 0.0, 0.3))
    short = settle([falling], area_half=0.5, seconds=0.1)
    assert short.steps == 24
    assert short.at_rest == (False,) and short.left_area == (False,)


def test_drift_of_a_resting_and_a_toppling_body():
    pieces = box_pieces(0.2, 0.2, 1.0)
    metres, degrees = drift(pieces, 0.5, np.eye(3), (0.0, 0.0, 0.0))
    assert metres < 1e-3 and degrees < 0.1
    tilt = math.radians(30.0)  # a tall box on an edge with its centre of mass beyond it falls
    rotation = np.array([[math.cos(tilt), 0.0, math.sin(tilt)], [0.0, 1.0, 0.0],
                         [-math.sin(tilt), 0.0, math.cos(tilt)]])
    corner = (rotation @ (pieces[0] * 0.5).T)[2].min()
    metres, degrees = drift(pieces, 0.5, rotation, (0.0, 0.0, -corner), seconds=1.0)
    assert metres > 0.1 and degrees > 45.0


# ---------------------------------------------------------------------------- piles


def test_penetration_helper():
    cube = box_pieces(1.0, 1.0, 1.0)[0]
    assert penetration(np.array([[0.0, 0.0, 0.5]]), cube) == pytest.approx(0.5)
    assert penetration(np.array([[0.0, 0.0, 0.9], [0.0, 0.0, 1.2]]), cube) == pytest.approx(0.1)
    assert penetration(np.array([[0.0, 0.0, 1.2]]), cube) == pytest.approx(-0.2)


def test_a_pile_settles_without_interpenetration(dictionary):
    """After 4 simulated seconds (round things may still roll: there is no rolling
    friction) no mesh reaches more than 1 mm into another's convex pieces or the floor."""
    bodies = pile_bodies(dictionary)
    result = settle(bodies, area_half=0.5, seconds=4.0)
    worlds = [world_pieces(body, r, p) for body, r, p in zip(bodies, result.rotations, result.positions)]
    meshes = [[part.mesh.vertices for part in dictionary[name].variant().parts] for name in PILE]
    vertices = [np.concatenate([np.asarray(m) * body.scale @ np.asarray(r).T + p for m in parts])
                for parts, body, r, p in zip(meshes, bodies, result.rotations, result.positions)]
    lowest = [float(v[:, 2].min()) for v in vertices]
    assert min(lowest) >= -PENETRATION_TOL
    assert sum(low > 0.01 for low in lowest) >= 1  # something rests on something else
    assert sum(result.at_rest) >= len(bodies) - 2
    deepest, pairs = -math.inf, 0
    for a, points in enumerate(vertices):
        for b, pieces in enumerate(worlds):
            for piece in pieces:
                if a != b and boxes_overlap(points, piece, PENETRATION_TOL):
                    pairs += 1
                    deepest = max(deepest, penetration(points, piece))
    assert pairs >= 1
    assert deepest <= PENETRATION_TOL, f"deepest penetration {deepest * 1e3:.3f} mm"


def test_runs_are_byte_identical_here_and_in_another_process(dictionary):
    first, second = settle_pile(dictionary), settle_pile(dictionary)
    for field in ("rotations", "positions", "at_rest", "left_area"):
        assert np.array_equal(np.asarray(getattr(first, field)), np.asarray(getattr(second, field)))
    assert first == second
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            "from scenegen import load_config\n"
            "from scenegen.world.dictionary import ObjectDictionary\n"
            "import test_settle as t\n"
            "print(t.digest(t.settle_pile(ObjectDictionary.from_config(load_config()))))\n")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert there.stdout.strip().splitlines()[-1] == digest(first)


def test_seed_changes_nothing(dictionary):
    bodies = pile_bodies(dictionary)[:3]
    assert settle(bodies, area_half=0.5, seconds=0.5, seed=0) == settle(bodies, area_half=0.5, seconds=0.5, seed=9)


# ---------------------------------------------------------------------------- errors


def test_missing_pybullet_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pybullet", None)
    body = SettleBody(box_pieces(1.0, 1.0, 1.0), 0.1, np.eye(3), (0.0, 0.0, 0.0))
    with pytest.raises(ConfigError, match=r"scenegen\[physics\]"):
        settle([body], area_half=1.0)
    with pytest.raises(ConfigError, match=r"scenegen\[physics\]"):
        drift(body.pieces, 0.1, np.eye(3), (0.0, 0.0, 0.0))


def test_bad_input():
    pieces = box_pieces(1.0, 1.0, 1.0)
    good = SettleBody(pieces, 0.1, np.eye(3), (0.0, 0.0, 0.0))
    for kwargs in ({"area_half": 0.0}, {"area_half": 1.0, "seconds": 0.0}, {"area_half": 1.0, "time_step": -1.0},
                   {"area_half": 1.0, "friction": -0.1}, {"area_half": 1.0, "restitution": 1.5},
                   {"area_half": 1.0, "seed": 1.5}):
        with pytest.raises(ValueError):
            settle([good], **kwargs)
    for body in (SettleBody(pieces, 0.0, np.eye(3), (0, 0, 0)), SettleBody(pieces, 0.1, 2 * np.eye(3), (0, 0, 0)),
                 SettleBody(pieces, 0.1, np.diag([1.0, 1.0, -1.0]), (0, 0, 0)),
                 SettleBody(pieces, 0.1, np.eye(3), (0, 0)), SettleBody((), 0.1, np.eye(3), (0, 0, 0)),
                 SettleBody(pieces, 0.1, np.eye(3), (0, 0, 0), density=0.0)):
        with pytest.raises(ValueError, match="settle body 0"):
            settle([body], area_half=1.0)
    flat = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    with pytest.raises(MeshError, match="piece 1.*flat"):
        settle([SettleBody((pieces[0], flat), 0.1, np.eye(3), (0, 0, 0))], area_half=1.0)
    with pytest.raises(MeshError):
        settle([SettleBody((flat[:3],), 0.1, np.eye(3), (0, 0, 0))], area_half=1.0)
    with pytest.raises(ValueError, match="unknown options"):
        drift(pieces, 0.1, np.eye(3), (0, 0, 0), gravity=1.0)
