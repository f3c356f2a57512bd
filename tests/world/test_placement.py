"""Placer.fits: its shortcut for far-apart footprints gives the answers of the full
separating-axis test."""

import math

import numpy as np
import pytest

from scenegen.world import placement
from scenegen.world.placement import Placed, Placer, Surface


def _random_placed(rng, dictionary, categories) -> Placed:
    entry = dictionary.entries_of(categories[int(rng.integers(len(categories)))])[0]
    return Placed(entry=entry, style=entry.sample_style(rng), node=None,
                  position=np.array([*rng.uniform(-1.5, 1.5, size=2), float(rng.choice([0.0, 0.0, 0.4]))]),
                  yaw=float(rng.uniform(0, 2 * math.pi)), scale=float(rng.uniform(*entry.size)),
                  free_yaw=bool(rng.random() < 0.3))


@pytest.mark.parametrize("seed", range(4))
def test_the_far_apart_shortcut_changes_no_answer(small_cfg, dictionary, seed, monkeypatch):
    rng = np.random.default_rng(seed)
    categories = list(dictionary.categories)
    placer = Placer(small_cfg, rng, 0.0, 5.0)
    layouts = [[_random_placed(rng, dictionary, categories) for _ in range(int(rng.integers(2, 7)))]
               for _ in range(60)]
    gaps = [float(rng.choice([0.0, 0.02, 0.3])) for _ in layouts]

    def answers():
        found = []
        for layout, gap in zip(layouts, gaps):
            placer.gap = gap
            found += [placer.fits(p, layout, Surface(float(p.position[2]))) for p in layout]
        return found

    shortcut = answers()
    monkeypatch.setattr(placement, "_corner_reach", lambda p: math.inf)  # never far apart: always the full test
    full = answers()
    assert shortcut == full
    assert 0 < sum(full) < len(full)  # both answers occur


def _corners_worked_out(p: Placed) -> np.ndarray:
    """``p``'s footprint corners from its fields, without its memo."""
    if p.free_yaw:
        return placement.footprint(p.position[:2], (p.radius, p.radius), 0.0)
    width, depth = (np.asarray(p.unit_extents[:2]) * p.scale)
    return placement.footprint(p.position[:2], (width / 2, depth / 2), p.yaw)


@pytest.mark.parametrize("seed", range(3))
def test_remembered_corners_follow_every_move_and_copies_move_alone(dictionary, seed):
    """corners() is remembered while the object stays as it is, and worked out again after
    any change of what it is made of (moved, turned, scaled, position changed in place,
    yaw freed); a moved copy (copy_layout) never changes the original's."""
    rng = np.random.default_rng(seed)
    categories = list(dictionary.categories)
    objects = [_random_placed(rng, dictionary, categories) for _ in range(20)]
    other = dictionary.entries_of(categories[0])[0]
    for p in objects:
        first = p.corners()
        assert p.corners() is first and not first.flags.writeable  # remembered, and nobody may change it
        assert np.array_equal(first, _corners_worked_out(p))
        copy = placement.copy_layout([p])[0]
        copy.position[0] += 0.25  # in place, on the copy
        changes = [lambda q: setattr(q, "yaw", q.yaw + 0.3), lambda q: setattr(q, "scale", q.scale * 1.1),
                   lambda q: q.position.__setitem__(1, q.position[1] - 0.2),
                   lambda q: setattr(q, "position", q.position + 0.1),
                   lambda q: setattr(q, "free_yaw", not q.free_yaw),
                   lambda q: setattr(q, "entry", other) or setattr(q, "style", other.styles[0])]
        for change in changes:
            change(copy)
            assert np.array_equal(copy.corners(), _corners_worked_out(copy))
        assert np.array_equal(p.corners(), first) and np.array_equal(first, _corners_worked_out(p))
