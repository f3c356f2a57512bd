"""Directive hit rates measured from rendered labels.

:func:`random_directives` draws feasible directives over the factors a user may request;
:func:`measure_hit_rates` samples, renders and labels one scene per directive and
reports, per factor, the fraction of scenes whose target object's labels show the
requested level (occlusion from the rendered visible fraction, pose from the camera).
"""

from __future__ import annotations

from collections import Counter
from typing import Dict, Iterable, List

import numpy as np

from .directives import Directive, check_directive, matching_entries
from .errors import ConfigError
from .factors import OCCLUSION_LEVELS, pose_levels


def random_directives(sampler, count: int, seed: int = 0) -> List[Directive]:
    """``count`` feasible directives with a category, context, pose, occlusion and
    material each (drawn uniformly, infeasible draws skipped)."""
    rng = np.random.default_rng(seed)
    grammar, dictionary = sampler.grammar, sampler.dictionary
    found: List[Directive] = []
    while len(found) < count:
        category = grammar.categories[int(rng.integers(len(grammar.categories)))]
        entries = dictionary.entries_of(category)
        entry = entries[int(rng.integers(len(entries)))]
        poses = pose_levels(entry.symmetry)
        directive = Directive(
            category=category,
            context=grammar.contexts[int(rng.integers(len(grammar.contexts)))],
            pose=poses[int(rng.integers(len(poses)))],
            occlusion=OCCLUSION_LEVELS[int(rng.integers(len(OCCLUSION_LEVELS)))],
            material=entry.materials[int(rng.integers(len(entry.materials)))],
        )
        try:
            check_directive(directive, grammar, sampler.cfg)
        except ConfigError:
            continue
        if matching_entries(directive, dictionary, category):
            found.append(directive)
    return found


def measure_hit_rates(sampler, renderer, directives: Iterable[Directive], first_index: int = 0) -> Dict[str, dict]:
    """Per factor: ``{"hits", "scenes", "rate"}``; plus ``"_failed"``: directives whose
    scene could not be placed within the bounded retries."""
    from .errors import PlacementError
    from .labels import object_labels

    hits, totals, failed = Counter(), Counter(), 0
    for offset, directive in enumerate(directives):
        try:
            scene = sampler.sample(first_index + offset, directive)
        except PlacementError:
            failed += 1
            continue
        frame = renderer.render(scene)
        labels = object_labels(scene, frame, sampler.dictionary, sampler.cfg.factors)[scene.target]
        for factor, wanted in directive.items():
            totals[factor] += 1
            hits[factor] += int(labels["factors"][factor] == wanted)
    report = {f: {"hits": hits[f], "scenes": totals[f], "rate": hits[f] / totals[f]} for f in sorted(totals)}
    report["_failed"] = {"hits": 0, "scenes": failed, "rate": 0.0}
    return report
