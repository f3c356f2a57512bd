"""t-way coverage of a dataset, measured from its labels.

For ``strength`` t and factors F (default ``cfg.design_factors``), a *t-tuple* is one
level for each of t factors of F. The feasible tuples are those a directive can ask for
(the constraints of :func:`scenegen.plan.design_space`: a ball has only pose ``any``,
no lamps outdoors, ...). A tuple is covered when at least ``min_count`` objects of the
dataset show it, with every level taken from the object's labels (``factors``: the
occlusion level from the rendered visible fraction, the pose from the camera).
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Iterable, Mapping, Optional, Sequence

from .design import feasible_tuples
from .errors import ConfigError
from .fileio import dumps_json
from .plan import design_space


def _key(levels: Mapping[str, str], combo: Sequence[str]) -> tuple:
    return tuple((factor, str(levels[factor])) for factor in combo)


def tway_report(records: Iterable[Mapping], cfg, strength: int, sampler, factors: Optional[Sequence[str]] = None,
                min_count: int = 1) -> dict:
    """The t-way coverage of ``records`` (scene records of a dataset of ``cfg``).

    Returns:
        ``{"strength", "factors", "min_count", "objects", "tuples", "covered",
        "coverage", "per_combination": {"a x b": [covered, feasible]}, "missing": [...]}``;
        ``missing`` lists the feasible tuples seen fewer than ``min_count`` times, as
        ``{factor: level}`` in factor order.

    Raises:
        ConfigError: unknown factors, a strength outside 1..len(factors), min_count < 1.
    """
    factors = list(factors if factors is not None else cfg.design_factors)
    if not 1 <= strength <= len(factors):
        raise ConfigError(f"strength must be between 1 and {len(factors)} (the number of factors), got {strength}")
    if min_count < 1:
        raise ConfigError(f"min_count must be >= 1, got {min_count}")
    levels, forbidden = design_space(cfg, sampler, factors)
    feasible = feasible_tuples(levels, strength, forbidden)
    combos = list(itertools.combinations(factors, strength))
    counts: Counter = Counter()
    objects = 0
    for record in records:
        for obj in record["objects"]:
            objects += 1
            counts.update(_key(obj["factors"], combo) for combo in combos)
    per_combination = {" x ".join(combo): [0, 0] for combo in combos}
    missing = []
    for wanted in feasible:
        combo = tuple(wanted)
        cell = per_combination[" x ".join(combo)]
        cell[1] += 1
        if counts[_key(wanted, combo)] >= min_count:
            cell[0] += 1
        else:
            missing.append(dict(wanted))
    covered = len(feasible) - len(missing)
    return {
        "strength": int(strength),
        "factors": factors,
        "min_count": int(min_count),
        "objects": objects,
        "tuples": len(feasible),
        "covered": covered,
        "coverage": covered / len(feasible) if feasible else 1.0,
        "per_combination": per_combination,
        "missing": missing,
    }


def format_report(report: dict, style: str = "text", max_missing: int = 40) -> str:
    """``report`` as ``"json"``, ``"md"`` (Markdown) or ``"text"``."""
    if style == "json":
        return dumps_json(report)
    head = (
        f"{report['strength']}-way coverage over {', '.join(report['factors'])} "
        f"(at least {report['min_count']} object(s) each): {report['covered']} of {report['tuples']} "
        f"feasible tuples ({report['coverage']:.1%}), {report['objects']} objects"
    )
    missing = report["missing"]
    shown = [", ".join(f"{f}={v}" for f, v in t.items()) for t in missing[:max_missing]]
    more = [f"... and {len(missing) - max_missing} more"] if len(missing) > max_missing else []
    if style == "md":
        lines = [f"**{head}**", "", "| factors | covered | feasible |", "| --- | --- | --- |"]
        lines += [f"| {combo} | {c} | {n} |" for combo, (c, n) in report["per_combination"].items()]
        if missing:
            lines += ["", f"Missing ({len(missing)}):", ""] + [f"- {t}" for t in shown + more]
        return "\n".join(lines)
    if style != "text":
        raise ConfigError(f"format {style!r} is unknown; valid: 'json', 'md', 'text'")
    width = max(len(c) for c in report["per_combination"])
    lines = [head] + [f"  {combo:<{width}}  {c:>6} / {n:<6}" for combo, (c, n) in report["per_combination"].items()]
    if missing:
        lines += [f"missing ({len(missing)}):"] + [f"  {t}" for t in shown + more]
    return "\n".join(lines)
