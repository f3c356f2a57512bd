"""Held-out splits: test generalization to combinations the training data never showed.

``cfg.split`` declares *held-out* t-tuples of design-factor levels (``held_out``, e.g.
``{category: chair, context: outdoor}``) or a fraction of the feasible t-tuples drawn
with the root seed (``fraction``, ``strength``). The split of each scene is decided
from its labels: a scene is in **test** when any of its objects shows a held-out tuple,
else in **train**. Three guarantees are then checked with coverage trackers of each
split and recorded in the manifest:

- ``train_has_no_held_out``: no train object shows a held-out tuple (true by
  construction of the assignment, and re-counted);
- ``sub_tuples_in_train``: every (t-1)-sub-tuple of every held-out tuple appears in train
  (unseen combinations of seen parts);
- ``test_has_every_held_out``: every held-out tuple appears in test.

:func:`complete_split` adds directed scenes (bounded by ``cfg.budget``) until the last
two hold: a directive asking for a missing held-out tuple, or a directive row that
shows a missing sub-tuple while avoiding every held-out tuple.

Declared tuples are refused when a guarantee is impossible: ``{category: ball, pose:
any}`` (a ball has only pose ``any``, so no ball could be trained on). Random tuples are
drawn among those the scenes generated so far make safe (:func:`held_out_tuples`), so
the guarantees hold without extra scenes; the manifest records the tuples.

The scene indices of each split are written to ``splits.json``; the exports read them
back with :func:`read_splits` (COCO ``coco_<split>.json``, the Hugging Face splits,
WebDataset ``shards/<split>-*.tar``).
"""

from __future__ import annotations

import itertools
from typing import Dict, Iterable, List, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..streams import Stream, generator
from ..world.compile import World
from .covering import TupleSpace, feasible_tuples, top_up_rows
from .plan import design_space
from .universe import coverage_tracker

SPLIT_NAMES = ("train", "test")
STALLED_ROUNDS = 4  # completion rounds in a row without progress before giving up


def split_enabled(cfg) -> bool:
    return bool(cfg.split.held_out) or float(cfg.split.fraction) > 0


def _sub_tuples(t: Mapping[str, str]) -> List[Dict[str, str]]:
    """The (t-1)-sub-tuples of ``t``; for t = 1 the empty tuple, which every object
    shows (so train must not be empty)."""
    items = list(t.items())
    return [dict(s) for s in itertools.combinations(items, len(items) - 1)]


def _trainable(levels, forbidden, held: Sequence[Mapping[str, str]]) -> bool:
    """Whether every (t-1)-sub-tuple of every held-out tuple has an allowed completion
    that contains no held-out tuple."""
    subs = [s for h in held for s in _sub_tuples(h) if s]
    if not subs:
        return True
    try:
        space = TupleSpace(levels, len(subs[0]), list(forbidden) + [dict(h) for h in held])
    except ConfigError:  # nothing is allowed at all
        return False
    allowed = {tuple(sorted(t.items())) for t in (space.tuple_dict(int(g)) for g in np.flatnonzero(space.feasible))}
    return all(tuple(sorted(s.items())) in allowed for s in subs)


def held_out_tuples(world: World, records: Sequence[Mapping] = ()) -> List[Dict[str, str]]:
    """The held-out t-tuples of ``cfg.split`` (the config of ``world``), factors in
    ``cfg.design_factors`` order.

    Declared tuples (``split.held_out``) are checked against the design space. A random
    fraction (``split.fraction`` of the feasible ``split.strength``-tuples) is drawn in
    a seeded random order among the tuples that ``records`` (the scenes generated so
    far) already make safe to hold out: some scene shows the tuple, and once every scene
    showing a held-out tuple goes to test, every (t-1)-sub-tuple of every held-out tuple
    is still shown by a train scene. Fewer tuples are held out when not enough qualify.

    Raises:
        ConfigError: a declared tuple names a factor outside ``design_factors``, an
            unknown or infeasible combination, tuples of different sizes, or tuples
            whose sub-tuples could then never appear in train.
    """
    cfg = world.cfg
    factors = list(cfg.design_factors)
    levels, forbidden = design_space(world, factors)
    if cfg.split.held_out:
        return _declared(cfg, factors, levels, forbidden)
    strength = int(cfg.split.strength)
    if not 1 <= strength <= len(factors):
        raise ConfigError(f"split.strength must be between 1 and {len(factors)} (the number of design_factors), "
                          f"got {strength}")
    pool = feasible_tuples(levels, strength, forbidden)
    want = int(round(float(cfg.split.fraction) * len(pool)))
    rng = generator(int(cfg.seed), Stream.SPLIT_HELD_OUT)
    scenes = [[obj["factors"] for obj in record["objects"]] for record in records]
    train = set(range(len(scenes)))
    held: List[Dict[str, str]] = []
    for k in rng.permutation(len(pool)):
        if len(held) == want:
            break
        candidate = pool[int(k)]
        hit = {i for i in train if any(_shows(obj, candidate) for obj in scenes[i])}
        shown = hit or any(_shows(obj, candidate) for i in range(len(scenes)) if i not in train for obj in scenes[i])
        rest = train - hit
        subs = [s for h in held + [candidate] for s in _sub_tuples(h)]
        if shown and all(any(_shows(obj, s) for i in rest for obj in scenes[i]) for s in subs):
            held.append(candidate)
            train = rest
    order = {tuple(t.items()): n for n, t in enumerate(pool)}
    return sorted(held, key=lambda t: order[tuple(t.items())])


def _declared(cfg, factors, levels, forbidden) -> List[Dict[str, str]]:
    held = []
    for i, item in enumerate(cfg.split.held_out):
        bad = [f for f in item if f not in factors]
        if bad:
            raise ConfigError(f"split.held_out[{i}] names factor {bad[0]!r}; valid: the design_factors {factors}")
        held.append({f: str(item[f]) for f in factors if f in item})
    sizes = {len(h) for h in held}
    if len(sizes) != 1:
        raise ConfigError(f"split.held_out tuples must all have the same size, got sizes {sorted(sizes)}")
    feasible = {tuple(t.items()) for t in feasible_tuples(levels, sizes.pop(), forbidden)}
    for i, h in enumerate(held):
        if tuple(h.items()) not in feasible:
            raise ConfigError(f"split.held_out[{i}] {h} is not a feasible combination (nothing could show it); "
                              f"levels: {levels}")
    if not _trainable(levels, forbidden, held):
        raise ConfigError(f"split.held_out {held}: some (t-1)-sub-tuple could then never appear in train "
                          f"(every scene showing it would show a held-out tuple)")
    return held


def _shows(factors: Mapping[str, str], held: Mapping[str, str]) -> bool:
    return all(factors.get(f) == lv for f, lv in held.items())


def assign_splits(records: Sequence[Mapping], held: Sequence[Mapping[str, str]]) -> Dict[str, List[int]]:
    """``{"train": [...], "test": [...]}``: scene indices, test when any object's labels
    show a held-out tuple."""
    out: Dict[str, List[int]] = {name: [] for name in SPLIT_NAMES}
    for record in records:
        out[split_of(record, held)].append(int(record["index"]))
    return out


def split_of(record: Mapping, held: Sequence[Mapping[str, str]]) -> str:
    """The split of one scene record: ``test`` when any object's labels show a held-out
    tuple, else ``train``."""
    return "test" if any(_shows(obj["factors"], h) for obj in record["objects"] for h in held) else "train"


class SplitCounter:
    """:func:`split_summary` fed one record at a time (:meth:`add`, which returns the
    record's split), so that no more than one record is held; :meth:`summary` gives the
    same dict as :func:`split_summary` of the records added."""

    def __init__(self, world: World, held: Sequence[Mapping[str, str]]):
        self.world, self.held = world, [dict(h) for h in held]
        self.splits: Dict[str, List[int]] = {name: [] for name in SPLIT_NAMES}
        self.trackers = {name: coverage_tracker(world) for name in SPLIT_NAMES}

    def add(self, record: Mapping) -> str:
        split = split_of(record, self.held)
        self.splits[split].append(int(record["index"]))
        self.trackers[split].add_record(record)
        return split

    def summary(self) -> dict:
        held, splits = self.held, self.splits
        train, test = self.trackers["train"], self.trackers["test"]
        subs = _unique(s for h in held for s in _sub_tuples(h))
        missing_subs = [s for s in subs if (train.count(s) if s else train.n_objects) == 0]
        missing_test = [dict(h) for h in held if test.count(h) == 0]
        return {
            "held_out": [dict(h) for h in held],
            "strength": len(held[0]) if held else int(self.world.cfg.split.strength),
            "train": list(splits["train"]),
            "test": list(splits["test"]),
            "train_scenes": len(splits["train"]),
            "test_scenes": len(splits["test"]),
            "guarantees": {
                "train_has_no_held_out": all(train.count(h) == 0 for h in held),
                "sub_tuples_in_train": not missing_subs,
                "test_has_every_held_out": not missing_test,
            },
            "missing_in_test": missing_test,
            "sub_tuples_missing_in_train": missing_subs,
        }


def split_summary(world: World, records: Iterable[Mapping], held: Sequence[Mapping[str, str]]) -> dict:
    """The split of ``records`` (scenes of ``world``'s config) and its guarantees,
    counted by coverage trackers of the
    train and test scenes: ``{"held_out", "strength", "train", "test", "train_scenes",
    "test_scenes", "guarantees": {name: bool}, "missing_in_test", "sub_tuples_missing_in_train"}``."""
    counter = SplitCounter(world, held)
    for record in records:
        counter.add(record)
    return counter.summary()


def _unique(items) -> List[Dict[str, str]]:
    seen, out = set(), []
    for item in items:
        key = tuple(item.items())
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def completion_rows(world: World, summary: dict, round_index: int) -> List[Dict[str, str]]:
    """Directives for what the split still lacks: each held-out tuple missing from test
    (as a directive of its own), then rows of design-factor levels that show the
    sub-tuples missing from train and avoid every held-out tuple."""
    cfg = world.cfg
    rows = [dict(h) for h in summary["missing_in_test"]]
    missing = [s for s in summary["sub_tuples_missing_in_train"] if s]
    if len(missing) < len(summary["sub_tuples_missing_in_train"]):  # train is empty: any allowed scene
        rng = generator(int(cfg.seed), Stream.SPLIT_ANY_ROW, round_index)
        levels, forbidden = design_space(world, list(cfg.design_factors))
        rows += top_up_rows(levels, 1, rng, [], forbidden=list(forbidden) + summary["held_out"])[:1]
    if missing:
        factors = list(cfg.design_factors)
        levels, forbidden = design_space(world, factors)
        t = len(missing[0])
        wanted = {tuple(sorted(s.items())) for s in missing}
        covered = [x for x in feasible_tuples(levels, t, forbidden) if tuple(sorted(x.items())) not in wanted]
        rng = generator(int(cfg.seed), Stream.SPLIT_TRAIN_ROWS, round_index)
        rows += top_up_rows(levels, t, rng, covered, forbidden=list(forbidden) + summary["held_out"])
    return rows
