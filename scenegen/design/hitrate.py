"""Directive hit rates measured from rendered labels.

:func:`random_directives` draws feasible directives over the factors a user may request;
:func:`measure_hit_rates` samples, renders and labels one scene per directive and
reports, per factor, the fraction of scenes whose target object's labels show the
requested level (occlusion from the rendered visible fraction, pose from the camera).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List

from ..errors import ConfigError, PlacementError
from ..labels.objects import object_labels
from ..scene.factors import OCCLUSION_LEVELS, pose_levels
from ..streams import Stream, generator
from ..world.directives import Directive, check_directive, matching_entries

MAX_DRAWS_PER_DIRECTIVE = 200  # random draws allowed per feasible directive wanted


def random_directives(sampler, count: int, seed: int = 0) -> List[Directive]:
    """``count`` feasible directives with a category, context, pose, occlusion and
    material each (drawn uniformly, infeasible draws skipped)."""
    rng = generator(seed, Stream.HIT_RATE_DIRECTIVES)
    grammar, dictionary = sampler.grammar, sampler.dictionary
    found: List[Directive] = []
    for _ in range(MAX_DRAWS_PER_DIRECTIVE * count):
        if len(found) == count:
            break
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
    if len(found) < count:
        raise ConfigError(
            f"found only {len(found)} feasible directives of {count} in "
            f"{MAX_DRAWS_PER_DIRECTIVE * count} draws: most level combinations of this config are infeasible"
        )
    return found


@dataclass
class Outcome:
    """One directive's scene: ``hits`` factor -> whether the rendered labels show the
    requested level (empty when the scene could not be placed); ``seconds`` of sampling."""

    directive: Directive
    placed: bool
    seconds: float
    hits: Dict[str, bool] = field(default_factory=dict)


def directive_outcomes(sampler, renderer, directives: Iterable[Directive], first_index: int = 0) -> Iterator[Outcome]:
    """Sample (scene ``first_index + k`` for the k-th directive), render and label one
    scene per directive and compare the target's labels with the request."""
    for offset, directive in enumerate(directives):
        start = time.perf_counter()
        try:
            scene = sampler.sample(first_index + offset, directive)
        except PlacementError:
            yield Outcome(directive, False, time.perf_counter() - start)
            continue
        seconds = time.perf_counter() - start
        frame = renderer.render(scene)
        labels = object_labels(scene, frame, sampler.dictionary, sampler.cfg.factors)[scene.target]
        hits = {factor: labels["factors"][factor] == wanted for factor, wanted in directive.items()}
        yield Outcome(directive, True, seconds, hits)


def hit_rates(outcomes: Iterable[Outcome]) -> Dict[str, dict]:
    """Per factor: ``{"hits", "scenes", "rate"}``; plus ``"_failed"``: directives whose
    scene could not be placed within the bounded retries."""
    hits, totals, failed = Counter(), Counter(), 0
    for outcome in outcomes:
        failed += not outcome.placed
        for factor, hit in outcome.hits.items():
            totals[factor] += 1
            hits[factor] += int(hit)
    report = {f: {"hits": hits[f], "scenes": totals[f], "rate": hits[f] / totals[f]} for f in sorted(totals)}
    report["_failed"] = {"hits": 0, "scenes": failed, "rate": 0.0}
    return report


def measure_hit_rates(sampler, renderer, directives: Iterable[Directive], first_index: int = 0) -> Dict[str, dict]:
    """:func:`hit_rates` of :func:`directive_outcomes`."""
    return hit_rates(directive_outcomes(sampler, renderer, directives, first_index))
