"""The coverage universe of a config (every level of every tracked factor, and the
combinations that cannot occur) and coverage trackers over it."""

from __future__ import annotations

import json
from typing import Dict, Iterable, List

from omegaconf import OmegaConf

from .. import cache
from ..scene.factors import COVERAGE_COMBINATION, DIRECTIVE_FACTORS
from ..world.appearance import APPEARANCE_FACTORS, FILE_LEVEL
from ..world.compile import World, as_world
from .coverage import CoverageTracker
from .plan import declared_constraints as _declared
from .plan import design_space


def coverage_universe(world: World) -> tuple[Dict[str, List[str]], List[Dict[str, str]]]:
    """(levels, forbidden) of the coverage universe of ``world`` over ``cfg.factors.tracked``.

    Factors a directive can set get the levels and pairwise constraints of
    :func:`design_space`; the others (elevation, light) every level of
    :func:`scenegen.scene.factors.universe`. ``factors.exclude`` adds declared constraints.
    """
    cfg = world.cfg
    tracked = list(cfg.factors.tracked)
    all_levels, _ = world.factor_levels
    directed = [f for f in tracked if f in DIRECTIVE_FACTORS]
    levels, forbidden = design_space(world, directed) if directed else ({}, [])
    ordered = {f: levels[f] if f in levels else list(all_levels[f]) for f in tracked}
    for factor in APPEARANCE_FACTORS:  # a directive cannot ask for a file's look, yet objects show it
        if factor in ordered and FILE_LEVEL in all_levels[factor] and FILE_LEVEL not in ordered[factor]:
            ordered[factor] = [*ordered[factor], FILE_LEVEL]
    return ordered, forbidden + [c for c in _declared(cfg, ordered) if c not in forbidden]


_UNIVERSES: dict = {}  # (grammar, factors and appearance levels) -> the coverage universe
UNIVERSE_CACHE = "universes"  # the cache folder (scenegen.cache.kind_dir) keeping coverage universes


def _kept_universe(world: World) -> tuple[Dict[str, List[str]], List[Dict[str, str]]]:
    """:func:`coverage_universe` of ``world``, kept across processes under the world's
    content (:attr:`scenegen.world.compile.World.content_key`): finding it checks about a
    thousand directives. Orders are kept: factors, levels and each constraint's factors
    are stored as lists of pairs."""
    key = world.content_key
    kept = cache.load_json(UNIVERSE_CACHE, key) if key else None
    if kept is not None:
        try:
            return ({str(f): [str(lv) for lv in levels] for f, levels in kept["levels"]},
                    [{str(f): str(lv) for f, lv in item} for item in kept["forbidden"]])
        except (KeyError, TypeError, ValueError):
            pass  # malformed: found again below
    levels, forbidden = coverage_universe(world)
    if key:
        cache.store_json(UNIVERSE_CACHE, key, {"levels": [[f, list(lv)] for f, lv in levels.items()],
                                               "forbidden": [list(map(list, item.items())) for item in forbidden]})
    return levels, forbidden


def coverage_tracker(world, records: Iterable[dict] = ()) -> CoverageTracker:
    """A tracker over the coverage universe of ``world`` (a
    :class:`scenegen.world.compile.World`, or a config: its World) and its
    ``cfg.factors``, fed with ``records``. The universe is found once per process for a
    grammar (memoised on its config's content, so its identity stands for that content)
    and the keys that add to it: the factors and the names of the appearance levels."""
    world = as_world(world)
    cfg = world.cfg
    key = (id(world.grammar), world.file_looks,
           json.dumps({name: OmegaConf.to_container(cfg[name], resolve=True)
                       for name in ("factors", "materials", "colors", "textures")}, sort_keys=True))
    universe = _UNIVERSES.get(key)
    if universe is None:
        universe = _UNIVERSES[key] = _kept_universe(world)
    levels, forbidden = universe
    combination = [f for f in COVERAGE_COMBINATION if f in levels] or list(levels)[:3]
    tracker = CoverageTracker(levels, combination=combination, forbidden=forbidden)
    for record in records:
        tracker.add_record(record)
    return tracker
