"""Directive plans: which scenes a dataset should hold, one directive per scene.

``strategy=covering`` turns a covering array (:mod:`scenegen.design.covering`) over
``cfg.design_factors`` into a plan: row ``i`` is the directive of scene ``i``, so the
dataset's target objects show every feasible t-way combination of levels (t =
``cfg.strength``).

Feasibility comes from the sampler's own directive checks: a pair of levels is
forbidden when a directive asking for both is refused
(:func:`scenegen.world.directives.check_directive`: a ball has only pose ``any``, lamps never
appear outdoors, ...), and a level is dropped when it is refused alone. Every row of
the plan is checked again as a whole directive, so a plan never asks the sampler for
an impossible scene.
"""

from __future__ import annotations

import itertools
from typing import Dict, List

from ..errors import ConfigError, choices
from ..scene.factors import DIRECTIVE_FACTORS
from ..streams import Stream, generator
from ..world.compile import World
from ..world.directives import Directive
from .covering import covering_array

PLAN_ITERATIONS = 30_000  # fixed search budget: the plan depends only on the config
PLAN_MAX_SECONDS = 600.0  # far beyond the budget's need; only a guard against a hang


def directive_allowed(directive: Dict[str, str], world: World) -> bool:
    """Whether the world's sampler accepts a directive
    (:func:`scenegen.world.directives.check_directive`)."""
    try:
        world.check_directive(Directive.from_mapping(directive))
    except ConfigError:
        return False
    return True


def design_space(world: World, factors=None) -> tuple[Dict[str, List[str]], List[Dict[str, str]]]:
    """(levels of each factor that a directive can ask for alone, forbidden pairs of
    levels) for ``factors`` (default ``cfg.design_factors``) in ``world``.

    Raises:
        ConfigError: a factor a directive cannot set.
    """
    cfg = world.cfg
    factors = list(factors if factors is not None else cfg.design_factors)
    all_levels, _ = world.factor_levels
    unknown = [f for f in factors if f not in DIRECTIVE_FACTORS]
    if unknown:
        raise ConfigError(f"factor {unknown[0]!r} cannot be designed; valid: {choices(DIRECTIVE_FACTORS)}")
    levels = {
        factor: [level for level in all_levels[factor] if directive_allowed({factor: level}, world)]
        for factor in factors
    }
    forbidden = [
        {fa: la, fb: lb}
        for fa, fb in itertools.combinations(factors, 2)
        for la in levels[fa]
        for lb in levels[fb]
        if not directive_allowed({fa: la, fb: lb}, world)
    ]
    return levels, forbidden + _lying_triples(world, factors, levels, forbidden) + declared_constraints(cfg, levels)


def _lying_triples(world: World, factors, levels: Dict[str, List[str]], forbidden) -> List[Dict[str, str]]:
    """The (pose, rest, third factor) triples no directive can show although each of
    their pairs can: which poses an object lying in a level can show depends on its
    shape (a book on its front hides its front, a mug on its front its handle side), so
    ``{category: mug, pose: front-left, rest: on-front}`` is refused while mugs lie on
    their front, something lying on its front shows its front-left, and mugs do."""
    if "pose" not in factors or "rest" not in factors:
        return []
    pairs = {tuple(sorted(item.items())) for item in forbidden}
    triples = []
    for third in (f for f in factors if f not in ("pose", "rest")):
        for level, pose, rest in itertools.product(levels[third], levels["pose"], levels["rest"]):
            triple = {third: level, "pose": pose, "rest": rest}
            if any(tuple(sorted(pair)) in pairs for pair in itertools.combinations(triple.items(), 2)):
                continue
            if not directive_allowed(triple, world):
                triples.append(triple)
    return triples


def declared_constraints(cfg, levels: Dict[str, List[str]]) -> List[Dict[str, str]]:
    """The ``factors.exclude`` constraints that involve only ``levels``' factors and
    levels (the others cannot occur there anyway)."""
    return [
        dict(item)
        for item in cfg.factors.exclude
        if all(f in levels and lv in levels[f] for f, lv in item.items())
    ]


def covering_plan(world: World) -> List[Dict[str, str]]:
    """One directive per scene of ``world``'s config: the rows of a covering array of
    strength ``cfg.strength`` over ``cfg.design_factors``, seeded by ``cfg.seed``.

    Raises:
        ConfigError: a row the pairwise constraints allow is still infeasible as a whole
            directive (a constraint among three or more factors).
    """
    cfg = world.cfg
    levels, forbidden = design_space(world)
    rows = covering_array(
        levels,
        int(cfg.strength),
        generator(int(cfg.seed), Stream.COVERING_PLAN),
        forbidden=forbidden,
        iterations=PLAN_ITERATIONS,
        max_seconds=PLAN_MAX_SECONDS,
    )
    for row in rows:
        if not directive_allowed(row, world):
            raise ConfigError(
                f"covering plan row {row} is not a feasible directive although each pair of its "
                f"levels is; lower strength or drop a factor from design_factors"
            )
    return rows
