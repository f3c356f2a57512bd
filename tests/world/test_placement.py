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
