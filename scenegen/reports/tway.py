"""t-way coverage reports of a dataset, measured from its labels.

For ``strength`` t and factors F (default ``cfg.design_factors``), a *t-tuple* is one
level for each of t factors of F. The feasible tuples are those of the coverage universe
(:func:`scenegen.design.plan.coverage_universe`: a ball has only pose ``any``, no lamps
outdoors, the declared ``factors.exclude``, ...). A tuple is covered when at least
``min_count`` objects (or scenes) of the dataset show it, with every level taken from the
object's labels (``factors``: the occlusion level from the rendered visible fraction,
the pose from the camera). The counting is :meth:`scenegen.design.coverage.CoverageTracker.tway`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence

from ..dataset.layout import layer_file
from ..design.coverage import CoverageTracker
from ..design.universe import coverage_tracker
from ..errors import ConfigError, CoverageError
from ..fileio import dumps_json
from ..world.compile import World
from .coverage_page import write_html
from .html import thumbnail_png
from .templating import render


def tway_of(tracker: CoverageTracker, cfg, strength: int, factors: Optional[Sequence[str]] = None,
            min_count: int = 1, unit: str = "objects") -> dict:
    """:meth:`CoverageTracker.tway` with the factors defaulting to ``cfg.design_factors``
    (those the tracker counts); bad arguments are a :class:`ConfigError`."""
    if factors is None:
        factors = [f for f in cfg.design_factors if f in tracker.levels]
    try:
        return tracker.tway(strength, factors, min_count, unit)
    except CoverageError as exc:
        raise ConfigError(str(exc)) from None


def tway_report(records: Iterable[Mapping], world: World, strength: int, factors: Optional[Sequence[str]] = None,
                min_count: int = 1, unit: str = "objects") -> dict:
    """The t-way coverage of ``records`` (scene records of a dataset of ``world``'s
    config): the dict of :meth:`CoverageTracker.tway`.

    Raises:
        ConfigError: unknown factors, a strength outside 1..len(factors), min_count < 1.
    """
    return tway_of(coverage_tracker(world, records), world.cfg, strength, factors, min_count, unit)


TEXT_STYLES = ("md", "text")
SEPARATOR = {"md": "\n\n", "text": "\n"}  # between the coverage and the split


def format_report(report: dict, style: str = "text", max_missing: int = 40, split: Optional[dict] = None,
                  factor_order: Sequence[str] = ()) -> str:
    """``report`` as ``"json"``, ``"md"`` (Markdown, ``templates/tway.md``) or ``"text"``
    (``templates/tway.txt``); with the manifest's ``split`` (held-out tuples and
    guarantees) when given, its tuples' factors listed in ``factor_order``.

    Raises:
        ConfigError: another ``style``.
    """
    if style == "json":
        return dumps_json({**report, "split": split} if split else report)
    if style not in TEXT_STYLES:
        raise ConfigError(f"format {style!r} is unknown; valid: 'json', 'md', 'text'")
    missing = report["missing"]
    shown = [", ".join(f"{f}={v}" for f, v in t.items()) for t in missing[:max_missing]]
    if len(missing) > max_missing:
        shown.append(f"... and {len(missing) - max_missing} more")
    head = (
        f"{report['strength']}-way coverage over {', '.join(report['factors'])} "
        f"(at least {report['min_count']} {_unit_noun(report)} each): {report['covered']} of {report['tuples']} "
        f"feasible tuples ({report['coverage']:.1%}), {report['objects']} objects in {report.get('scenes', 0)} scenes"
    )
    rows = [(combo, c, n) for combo, (c, n) in report["per_combination"].items()]
    width = max((len(combo) for combo, _, _ in rows), default=0)
    text = _render(f"tway.{_extension(style)}", head=head, rows=rows, width=width, missing=len(missing), shown=shown)
    return text + (format_split(split, style, factor_order) if split else "")


def _extension(style: str) -> str:
    return "txt" if style == "text" else style


def _render(template: str, **data) -> str:
    """A text template's lines, without the newline after the last."""
    return render(template, **data).removesuffix("\n")


def _unit_noun(report: dict) -> str:
    unit = report.get("unit", "objects")
    return unit[:-1] if report["min_count"] == 1 else unit


def format_split(split: dict, style: str = "text", factor_order: Sequence[str] = ()) -> str:
    """The held-out split of a dataset's manifest (``manifest["split"]``) as lines to
    append to a report (``templates/split.txt`` or ``.md``, after a line break or, in
    Markdown, a blank line): sizes, held-out tuples (factors in ``factor_order``, the
    manifest's JSON having sorted them), guarantees."""
    rank = {f: i for i, f in enumerate(factor_order)}
    held = [", ".join(f"{f}={t[f]}" for f in sorted(t, key=lambda f: (rank.get(f, len(rank)), f)))
            for t in split.get("held_out", [])]
    marks = [f"{'yes' if ok else 'NO'}  {name.replace('_', ' ')}" for name, ok in split.get("guarantees", {}).items()]
    head = (f"split: {split.get('train_scenes', 0)} train and {split.get('test_scenes', 0)} test scenes, "
            f"{len(held)} held-out {split.get('strength', '')}-tuple{'' if len(held) == 1 else 's'}")
    style = "md" if style == "md" else "text"
    return SEPARATOR[style] + _render(f"split.{_extension(style)}", head=head, held=held, marks=marks)


def html_data(tracker: CoverageTracker, report: dict, title: str, split: Optional[dict] = None) -> dict:
    """The input of :func:`scenegen.reports.coverage_page.render_html`: ``report`` (a
    :meth:`CoverageTracker.tway` dict) with the levels, the level counts and a pairwise
    table (counts and example scenes) for every pair of its factors."""
    factors = report["factors"]
    data = {
        **report,
        "title": title,
        "levels": {f: list(tracker.levels[f]) for f in factors},
        "level_counts": {f: tracker.level_counts[f] for f in factors},
        "pairs": [
            tracker.pair_table(a, b, report["unit"])
            for i, a in enumerate(factors)
            for b in factors[i + 1:]
        ],
    }
    if split:
        data["split"] = split
    return data


def write_html_report(root, tracker: CoverageTracker, report: dict, path, split: Optional[dict] = None,
                      thumbnail_size: int = 96):
    """Write the self-contained HTML coverage report of the dataset folder ``root`` to
    ``path``, with a thumbnail of the example scene of every covered pairwise cell.
    Returns the path written."""
    data = html_data(tracker, report, f"scenegen coverage: {Path(root).resolve().name}", split)
    scenes = sorted({ex for pair in data["pairs"] for row in pair["examples"] for ex in row if ex is not None})
    thumbnails = {}
    for index in scenes:
        image = Path(root) / layer_file("rgb", index)
        if image.is_file():
            thumbnails[index] = thumbnail_png(image, thumbnail_size)
    return write_html(path, data, thumbnails)
