"""Stand-ins for the probe's renderer and model, for tests of the search strategies.

:class:`FakeEvaluator` scores directed "scenes" without rendering: the target shows
the requested levels (each requested occlusion level is realized with probability
``realize``, otherwise another level is measured, as the sampler's measured levels can
differ) and random levels of the other factors; the model errs with probability ``fail_rate``
wherever ``fails`` says and with probability ``noise`` elsewhere. A directive for which
``unplaceable`` says true raises a PlacementError naming it, as the sampler does, and
becomes a Skip.
"""

from __future__ import annotations

import numpy as np

from scenegen.errors import PlacementError
from scenegen.probe.evaluate import Skip, Trial, sample_or_skip
from scenegen.scene.factors import universe
from scenegen.world.sampler import Sampler


class FakeEvaluator:
    def __init__(self, cfg, fails, fail_rate: float = 1.0, noise: float = 0.05, realize: float = 0.9, seed: int = 0,
                 unplaceable=lambda directive: False, sampler=None):
        self.cfg = cfg
        self.sampler = sampler or Sampler(cfg)  # only its directive checks are used: one can serve many runs
        self.fails, self.fail_rate, self.noise, self.realize = fails, fail_rate, noise, realize
        self.unplaceable = unplaceable
        self.levels, _ = universe(cfg)
        self.rng = np.random.default_rng(seed)
        self.renders = 0
        self.next_index = 0

    def _measured(self, index: int, directive: dict) -> dict:
        if self.unplaceable(directive):
            raise PlacementError(f"could not place scene {index} with directive {directive} (fake)")
        levels = {f: str(self.rng.choice(v)) for f, v in self.levels.items()}
        levels.update(directive)
        if "occlusion" in directive and self.rng.random() > self.realize:
            levels["occlusion"] = str(self.rng.choice([o for o in self.levels["occlusion"] if o != directive["occlusion"]]))
        return levels

    def evaluate(self, directives, phase: str = "sweep"):
        outcomes = []
        for directive in directives:
            levels = sample_or_skip(self.next_index, directive, self._measured)
            if not isinstance(levels, Skip):
                correct = self.rng.random() >= (self.fail_rate if self.fails(levels) else self.noise)
                levels = Trial(id=self.renders, index=self.next_index, phase=phase, requested=dict(directive),
                               factors=levels, truth=levels["category"],
                               prediction=levels["category"] if correct else "other", correct=correct,
                               score=float(correct))
                self.renders += 1
            outcomes.append(levels)
            self.next_index += 1
        return outcomes


def renders_to_find(history, wanted: dict):
    """Renders after which the worst finding was ``wanted`` from then on (None: it is
    not the worst at the end)."""
    found = None
    for point in history:
        if point["worst"] != wanted:
            found = None
        elif found is None:
            found = point["renders"]
    return found
