"""Brute-force references shared by the design tests (independent of scenegen.design.plan)."""

import itertools

from scenegen.errors import ConfigError
from scenegen.scene.factors import universe
from scenegen.world.directives import Directive, check_directive


def feasible_full_rows(cfg, sampler, factors):
    """Every full assignment of ``factors`` that the sampler accepts as a directive, by
    enumerating the product of all levels."""
    levels, _ = universe(cfg)
    for row in itertools.product(*(levels[f] for f in factors)):
        directive = dict(zip(factors, row))
        try:
            check_directive(Directive.from_mapping(directive), sampler.grammar, cfg)
        except ConfigError:
            continue
        yield directive
