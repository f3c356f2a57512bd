"""The size of the layout space a config describes, computed exactly from the grammar.

``scenegen space`` prints it: the number of distinct discrete layouts per context and in
total (structure, relations, and per object its category, entry, part style, pose level
and material), its log10, and the levels of every factor.
"""

from __future__ import annotations

import math

from .compile import World


def describe_space(cfg) -> dict:
    """Exact layout counts and factor levels of ``cfg`` (JSON-ready).

    Returns:
        ``{"objects": [lo, hi], "max_depth", "per_context": {context: count},
        "total": int, "log10": float, "factors": {factor: [levels]}}``.
    """
    world = World.of(cfg)
    grammar = world.grammar
    per_context = grammar.count_layouts()
    total = sum(per_context.values())
    levels = {factor: list(names) for factor, names in world.factor_levels[0].items()}
    return {
        "objects": list(grammar.count_range),
        "max_depth": grammar.max_depth,
        "per_context": per_context,
        "total": total,
        "log10": math.log10(total) if total else float("-inf"),
        "factors": levels,
    }


def format_space(space: dict) -> str:
    """A readable summary of :func:`describe_space`."""
    lo, hi = space["objects"]
    lines = [
        f"distinct layouts with {lo}-{hi} objects (grammar depth <= {space['max_depth']}):",
        f"  total    {space['total']:,}  (10^{space['log10']:.2f})",
    ]
    for context, count in space["per_context"].items():
        lines.append(f"  {context:<8} {count:,}")
    lines.append("counted per layout: structure (rules, repeats), relations, contexts, and per object")
    lines.append("its category, entry, part style, pose level and material")
    lines.append("factor levels:")
    for factor, levels in space["factors"].items():
        lines.append(f"  {factor:<10} ({len(levels)}) {', '.join(levels)}")
    return "\n".join(lines)
