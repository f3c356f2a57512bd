"""The self-contained HTML page of a t-way coverage report (``templates/coverage_report.html``,
on the page kit of :mod:`scenegen.reports.html`). Sections, top to bottom:

1. **Header** - the title, a summary line (scenes, objects, strength-t coverage as
   covered / tuples and %, ``min_count`` and its unit) and a coverage bar.
2. **Factor combinations** - one row per t-combination of factors: covered, feasible,
   % and a small inline bar.
3. **Pairwise heatmaps** - one table per pair of factors (rows: levels of the first,
   columns: levels of the second). Each cell prints its count and carries
   ``data-count`` and ``data-state`` attributes; the state is one of

   * ``covered`` - count >= ``min_count``; filled on a sequential colour scale by log
     count (:func:`count_color`);
   * ``low`` - 0 < count < ``min_count``; amber (:data:`LOW_COLOR`);
   * ``missing`` - count 0; red-ish (:data:`MISSING_COLOR`);
   * ``infeasible`` - count ``None``; grey hatching and a dash.

   A covered cell with an example scene has a small corner mark; hovering it shows that
   scene's thumbnail (pure CSS). Each thumbnail is embedded once, as a CSS class
   ``.s<index>`` whose background image is the PNG, however many cells use it.
4. **Level histograms** - one inline SVG bar chart per factor; levels with no objects
   are drawn in red.
5. **Missing tuples** - the first :data:`MAX_MISSING_ROWS` as a table, then "... and N
   more".
6. **Split** - only when the report has a ``split`` entry.

::

    from scenegen.reports.html import thumbnail_png
    from scenegen.reports.coverage_page import write_html
    thumbs = {i: thumbnail_png(f"/data/ds/rgb/{i:06d}.png") for i in scene_indices}
    write_html("/data/ds/coverage.html", report, thumbs)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence

from .formatting import fraction, num, pct, truncate, unit_word
from .html import embedded_thumbnails, int_keys, plain_tuple, tuple_columns, write_page
from .palette import BAR_COLOR, LOW_COLOR, MISSING_COLOR, ZERO_COLOR, count_color, css_variables, text_color
from .templating import render

__all__ = ["MAX_MISSING_ROWS", "LOW_COLOR", "MISSING_COLOR", "count_color", "referenced_scenes", "render_html",
           "write_html"]

MAX_MISSING_ROWS = 500  # rows of the missing-tuples table; the rest are only counted
# the geometry of a level histogram, px
HIST_ROW, HIST_LABEL, HIST_BAR, HIST_COUNT, HIST_TOP = 20, 128, 210, 64, 4


def referenced_scenes(report: Mapping) -> List[int]:
    """The sorted scene indices named in the ``examples`` of ``report["pairs"]``."""
    scenes = set()
    for pair in report.get("pairs", []):
        for row in pair.get("examples") or []:
            scenes.update(int(s) for s in row if s is not None)
    return sorted(scenes)


def _header(report: Mapping) -> dict:
    """Summary numbers, the coverage bar and the section links.

    Reads ``scenes, objects, strength, min_count, unit, tuples, covered, coverage``
    (and ``split`` for its link)."""
    tuples, covered = int(report["tuples"]), int(report["covered"])
    share = fraction(covered, tuples) if tuples else float(report.get("coverage", 1.0))
    links = [("combos", "Combinations"), ("pairs", "Pairwise heatmaps"), ("hists", "Level histograms"),
             ("missing", "Missing tuples")]
    if report.get("split") is not None:
        links.append(("split", "Split"))
    return {"pct": pct(share, covered >= tuples), "fill": 100.0 * share, "covered": covered, "tuples": tuples,
            "scenes": report["scenes"], "objects": report["objects"], "links": links}


def _combinations(report: Mapping) -> List[dict]:
    """One row per ``per_combination`` entry: covered, feasible, % and the bar's fill."""
    rows = []
    for name, (covered, feasible) in report.get("per_combination", {}).items():
        covered, feasible = int(covered), int(feasible)
        share = fraction(covered, feasible)
        rows.append({"name": str(name).replace(" x ", " × "), "covered": covered, "feasible": feasible,
                     "pct": pct(share, covered >= feasible) if feasible else "–",
                     "full": bool(feasible) and covered >= feasible, "fill": 100.0 * max(0.0, min(1.0, share))})
    return rows


def _cell(where: str, count: Optional[int], example: Optional[int], max_count: int, min_count: int, unit: str,
          with_thumb: bool) -> dict:
    """One heatmap cell (see the module docstring for its states); ``where`` names it
    (``a=x, b=y``)."""
    if count is None:
        return {"state": "infeasible", "title": f"{where}: infeasible"}
    count = int(count)
    state = "missing" if count <= 0 else "low" if count < min_count else "covered"
    title = f"{where}: {num(count)} {unit_word(unit, count)}"
    if state == "low":
        title += f" (below min_count {min_count})"
    fill = count_color(count, max_count) if state == "covered" else None
    thumb = False
    if example is not None and state != "missing":
        title += f"; example: scene {int(example)}"
        thumb = with_thumb
    return {"state": state, "count": count, "title": title, "example": None if example is None else int(example),
            "thumb": thumb, "fill": fill, "text": fill and text_color(fill)}


def _check_matrix(name: str, matrix: Sequence[Sequence], rows: int, cols: int, pair: str) -> None:
    if len(matrix) != rows or any(len(row) != cols for row in matrix):
        raise ValueError(f"pair {pair}: {name} must be {rows} x {cols} (levels of the two factors)")


def _heatmap(report: Mapping, pair: Mapping, max_count: int, thumbnails: Mapping[int, bytes]) -> dict:
    """One card: the cells of ``pair["counts"]`` with their examples.

    Raises:
        ValueError: ``counts`` or ``examples`` not ``len(levels[a]) x len(levels[b])``.
    """
    a, b = (str(f) for f in pair["factors"])
    rows, cols = list(report["levels"][a]), list(report["levels"][b])
    counts = pair["counts"]
    examples = pair.get("examples") or [[None] * len(cols) for _ in rows]
    _check_matrix("counts", counts, len(rows), len(cols), f"{a} x {b}")
    _check_matrix("examples", examples, len(rows), len(cols), f"{a} x {b}")
    min_count, unit = int(report["min_count"]), str(report["unit"])
    feasible = sum(c is not None for row in counts for c in row)
    covered = sum(c is not None and c >= min_count for row in counts for c in row)
    sub = f"{covered} / {feasible} feasible cells covered" + ("" if covered == feasible else
                                                               f" · {feasible - covered} missing")
    body = [{"level": x, "cells": [
        _cell(f"{a}={x}, {b}={y}", counts[i][j], examples[i][j], max_count, min_count, unit,
              examples[i][j] is not None and int(examples[i][j]) in thumbnails)
        for j, y in enumerate(cols)]} for i, x in enumerate(rows)]
    return {"a": a, "b": b, "columns": cols, "rows": body, "sub": sub}


def _pairs(report: Mapping, thumbnails: Mapping[int, bytes]) -> dict:
    """The heatmaps section: the legend's top count and one card per entry of ``pairs``."""
    pairs = report.get("pairs", [])
    values = [int(c) for pair in pairs for row in pair["counts"] for c in row if c is not None]
    max_count = max(values, default=1)
    return {"max_count": max_count, "cards": [_heatmap(report, pair, max_count, thumbnails) for pair in pairs]}


def _histogram(levels: Sequence, counts: Mapping) -> dict:
    """The geometry of a level histogram (an SVG bar chart of the objects per level)."""
    values = [int(counts.get(str(level), counts.get(level, 0)) or 0) for level in levels]
    peak = max(values, default=0) or 1
    width, height = HIST_LABEL + HIST_BAR + HIST_COUNT, HIST_TOP * 2 + HIST_ROW * len(levels)
    rows = []
    for i, (level, value) in enumerate(zip(levels, values)):
        y = HIST_TOP + i * HIST_ROW
        length = HIST_BAR * value / peak
        rows.append({"level": level, "label": truncate(level, 19), "value": value, "y": y, "text_y": y + 13,
                     "bar_y": y + 3, "bar_width": max(length, 1.0), "count_x": HIST_LABEL + max(length, 3.0) + 6})
    return {"width": width, "height": height, "rows": rows, "row_height": HIST_ROW, "label_x": HIST_LABEL - 8,
            "bar_x": HIST_LABEL, "bar_height": HIST_ROW - 8, "colors": {"bar": BAR_COLOR, "zero": ZERO_COLOR}}


def _histograms(report: Mapping) -> List[dict]:
    """One card per factor with its level histogram (``levels`` and ``level_counts``)."""
    cards = []
    level_counts = report.get("level_counts", {})
    for factor in report["factors"]:
        levels = list(report["levels"].get(factor, []))
        counts = level_counts.get(factor, {})
        zeros = sum(1 for level in levels if not int(counts.get(str(level), 0) or 0))
        cards.append({"factor": factor, "sub": f"{len(levels)} levels" + (f" · {zeros} with no objects" if zeros else ""),
                      "chart": _histogram(levels, counts)})
    return cards


def _missing(report: Mapping) -> dict:
    """The missing tuples: the first :data:`MAX_MISSING_ROWS`, their columns, the rest's count."""
    missing = list(report.get("missing", []))
    shown = [plain_tuple(t) for t in missing[:MAX_MISSING_ROWS]]
    return {"total": len(missing), "rows": shown, "columns": tuple_columns(report["factors"], shown),
            "more": len(missing) - len(shown)}


def _tuple_text(t: Any) -> str:
    """A held-out entry: ``{factor: level}`` as ``factor=level, ...``, anything else as text."""
    if isinstance(t, Mapping):
        return ", ".join(f"{k}={v}" for k, v in t.items())
    return str(t)


def _split(report: Mapping) -> Optional[List[dict]]:
    """The ``split`` entry as table rows (None when absent).

    Known keys: ``held_out`` (list of ``{factor: level}``), ``train_scenes``,
    ``test_scenes``, ``guarantees`` (``{name: bool}``); other keys are shown as text."""
    split = report.get("split")
    if split is None:
        return None
    rows = []
    for key, value in split.items():
        if key == "held_out":
            rows.append({"label": "held out", "lines": [_tuple_text(t) for t in value]})
        elif key == "guarantees" and isinstance(value, Mapping):
            rows.append({"label": "guarantees", "marks": [(str(name), bool(ok)) for name, ok in value.items()]})
        else:
            shown = num(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)
            rows.append({"label": str(key).replace("_", " "), "value": shown})
    return rows


def render_html(report: dict, thumbnails: Mapping[int, bytes]) -> str:
    """The complete HTML page for ``report`` (see the module docstring).

    Args:
        report: the coverage report dict, read only: ``title, scenes, objects, strength,
            min_count, unit, factors, levels, level_counts, tuples, covered, coverage,
            per_combination, pairs, missing`` and optionally ``split``.
        thumbnails: scene index -> PNG bytes. Only scenes named in some pair's
            ``examples`` are embedded, each once; others are ignored.

    Raises:
        ValueError: a pair's ``counts``/``examples`` shape does not match the levels.
        KeyError: a required key is missing.
    """
    thumbs = int_keys(thumbnails)
    min_count, unit = int(report["min_count"]), str(report["unit"])
    return render(
        "coverage_report.html",
        title=str(report["title"]), generator="scenegen", palette=css_variables(),
        thumbnails=embedded_thumbnails("s", referenced_scenes(report), thumbs),
        strength=int(report["strength"]), min_count=min_count, unit=unit, unit_word=unit_word(unit, min_count),
        header=_header(report), combinations=_combinations(report), pairs=_pairs(report, thumbs),
        histograms=_histograms(report), missing=_missing(report), split=_split(report),
    )


def write_html(path, report: dict, thumbnails: Mapping[int, bytes]) -> Path:
    """Render ``report`` (see :func:`render_html`) and write it to ``path`` as UTF-8,
    atomically; returns ``path`` as a :class:`~pathlib.Path`."""
    return write_page(path, render_html(report, thumbnails))
