"""Completing a held-out split on disk: the directed scenes that make its guarantees
hold (the rows come from :mod:`scenegen.design.splits`)."""

from __future__ import annotations

from typing import Mapping, Sequence

from ..config.load import config_with
from ..design.splits import STALLED_ROUNDS, completion_rows, split_summary
from ..world.compile import World
from .pipeline import load_summaries, write_scenes


def complete_split(cfg, n: int, world: World, held: Sequence[Mapping[str, str]], progress: bool, on_scene=None) -> int:
    """Add directed scenes after scenes ``0..n-1`` of ``cfg.out`` until the split's
    guarantees hold, ``cfg.budget`` scenes were added, or a round adds nothing new.
    ``world``: the World of ``cfg``'s scenes. Returns the new number of scenes."""
    records = load_summaries(cfg.out, n)
    start, rounds, best, stalled = n, 0, None, 0
    while n - start < int(cfg.budget):
        summary = split_summary(world, records, held)
        lacking = len(summary["missing_in_test"]) + len(summary["sub_tuples_missing_in_train"])
        if lacking == 0:
            break
        # other objects of a directed scene can show a held-out tuple and send it to
        # test: new scenes (new seeds) get new chances, up to STALLED_ROUNDS in a row
        stalled = stalled + 1 if best is not None and lacking >= best else 0
        if stalled >= STALLED_ROUNDS:
            break
        best = lacking if best is None else min(best, lacking)
        rows = completion_rows(world, summary, rounds)[: int(cfg.budget) - (n - start)]
        if not rows:
            break
        indices = range(n, n + len(rows))
        write_scenes(config_with(cfg, n=indices.stop), indices,
                     dict(zip(indices, rows)), progress, on_scene)
        records += load_summaries(cfg.out, indices.stop, indices.start)
        n, rounds = indices.stop, rounds + 1
    return n
