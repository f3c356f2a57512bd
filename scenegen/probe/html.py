"""A self-contained HTML page for a worst-case probe report.

A probe renders scenes, shows them to a model and measures its accuracy per factor level
and per t-tuple of factor levels; the report dict (``schema`` 1) says where the model is
worst. The page is drawn by ``scenegen/probe/templates/probe.html`` on the reports' page
kit (:mod:`scenegen.reports.html`): one ``.html`` file with no network access (a
Content-Security-Policy meta tag forbids it), styles inline (the packaged
``report.css`` and ``probe.css``), images as base64 ``data:`` URIs, no JavaScript, all
report text escaped, and output that depends only on the inputs; this module only
prepares the data. Accuracies are fractions in [0, 1], shown as percentages; ``ci`` is
the ``[low, high]`` confidence interval at ``confidence``. Sections, top to bottom:

1. **Header** - title, model, task, what the model saw (``input``), strategy, renders /
   budget, seed, strength, the scenes skipped, and the overall accuracy with its
   interval as text and as a bar with a whisker.
2. **Findings** - the minimal tuples significantly worse than the other tuples of their
   size, worst first: the tuple (``category=chair · context=outdoor``), accuracy,
   interval, a bar with a whisker and the overall accuracy as a dashed reference line,
   correct / n. Each row carries ``data-tuple``, ``data-accuracy`` and ``data-n``. When
   there are none, the message "No tuple is significantly worse than the other tuples
   of its size".
3. **Mean vs min over cells** - one row per strength 1..t: cells (tuples with n >= 1),
   overall (micro) accuracy, mean over cells (macro), and the min cell with its
   accuracy and interval.
4. **Accuracy per factor level** - one inline SVG chart per measured factor: bars are
   accuracy, whiskers the interval, n printed; levels with n == 0 are grey and say
   "not seen"; levels that are findings are red.
5. **Pairwise heatmaps** - one table per pair of searched factors with strength-2
   tuples in ``tuples`` (rows: levels of the factor first in ``factors``, columns: the
   other's, both in ``levels`` order). A cell is filled by :func:`accuracy_color`
   (red 0 % through pale yellow 50 % to blue 100 %), prints accuracy % and n and
   carries ``data-accuracy`` and ``data-n``; a cell whose tuple is not in ``tuples``
   is a hatched "–" (``data-accuracy="none"``); cells of findings are outlined.
6. **Worst tuples** - the first :data:`MAX_TUPLE_ROWS` of ``tuples``, one column per
   factor, then "... and N more".
7. **Failures** - a grid of cards: thumbnail (or a placeholder), truth → prediction,
   score, the searched factors' levels, scene index and phase.
8. **Local search** - only when ``local_search`` is not null: start score → best score
   (with their thumbnails), renders, failures, and the steps as a table and a chart.
   Its scenes are not counted in the accuracies of the other sections.
9. **Skipped scenes** - only when ``skipped`` is not empty: the directed scenes that
   could not be placed (scene index, requested levels, the sampler's message).
10. **Search history** - an inline SVG line chart of the worst finding's upper bound and
   accuracy vs renders, and the renders at which the worst finding changed.

Thumbnails are embedded once each, as a CSS class ``.t<id>`` whose background is the
PNG, for the failure ids and local-search start/best ids that have one (in id order);
other entries of ``thumbnails`` are ignored.

::

    from scenegen.probe.html import write_probe_html
    write_probe_html("/data/probe/report.html", report, {f["id"]: png for ...})
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..reports.charts import line_chart
from ..reports.formatting import num, pct, truncate
from ..reports.html import embedded_thumbnails, int_keys, plain_tuple, tuple_columns, write_page
from ..reports.palette import BAR_COLOR, ZERO_COLOR, css_variables, scale_color, text_color
from ..reports.templating import render
from .model import input_text

MAX_TUPLE_ROWS = 50  # rows of the worst-tuples table
MAX_FINDING_ROWS = 200  # rows of the findings table

# heatmap scale, accuracy 0 -> 1 in equal steps (ColorBrewer RdYlBu, colour-blind safe)
ACCURACY_SCALE: Tuple[str, ...] = (
    "#d73027", "#f46d43", "#fdae61", "#fee090", "#ffffbf", "#e0f3f8", "#abd9e9", "#74add1", "#4575b4",
)
REF_COLOR = "#e07b00"  # the overall accuracy as a reference line
UPPER_COLOR = "#3a78d4"  # history: the worst finding's upper bound
WORST_COLOR = "#d23b3b"  # history: the worst finding's accuracy
GREY = "#a3abb6"  # levels not seen
# the geometry of a level chart, px
LEVEL_ROW, LEVEL_LABEL, LEVEL_PLOT, LEVEL_TEXT, LEVEL_TOP, LEVEL_AXIS = 22, 104, 140, 98, 6, 20


def accuracy_color(accuracy: float) -> str:
    """The ``#rrggbb`` fill of a heatmap cell: ``accuracy`` (a fraction, clipped to
    [0, 1]) interpolated linearly between the stops of :data:`ACCURACY_SCALE`."""
    return scale_color(ACCURACY_SCALE, accuracy)


# -- an entry's numbers as text ----------------------------------------------------------


def _has_value(entry: Optional[Mapping]) -> bool:
    """Whether ``entry`` (a level/tuple entry) has a measured accuracy (n >= 1)."""
    return bool(entry) and entry.get("accuracy") is not None and int(entry.get("n") or 0) > 0


def _acc_text(entry: Mapping) -> str:
    """An entry's accuracy as "41.7%" (never "100.0%" unless all correct), or "–"."""
    if not _has_value(entry):
        return "–"
    return pct(float(entry["accuracy"]), int(entry.get("correct", 0)) >= int(entry["n"]))


def _acc_short(entry: Mapping) -> str:
    """An entry's accuracy as a whole percentage ("42%"), never 0 % / 100 % unless exact."""
    value = round(100.0 * float(entry["accuracy"]))
    correct, n = int(entry.get("correct", 0)), int(entry["n"])
    if value >= 100 and correct < n:
        return "99%"
    if value <= 0 and correct > 0:
        return "<1%"
    return f"{value}%"


def _fraction_text(value: Optional[float]) -> str:
    """A fraction as "72.5%" ("100.0%" only for exactly 1), or "–" for None."""
    return "–" if value is None else pct(float(value), float(value) >= 1.0)


def _ci_text(entry: Optional[Mapping]) -> str:
    """An entry's interval as "25.0–58.3%", or "–" without one."""
    ci = entry.get("ci") if entry else None
    if not ci:
        return "–"
    return f"{100.0 * float(ci[0]):.1f}–{100.0 * float(ci[1]):.1f}%"


def _percent(fraction: float) -> str:
    """A fraction as a short percentage number: 0.95 -> "95"."""
    return f"{100.0 * fraction:g}"


def _accuracy_attrs(entry: Optional[Mapping]) -> dict:
    """The ``data-accuracy`` / ``data-n`` values: the exact accuracy (``repr`` of the
    float) or ``none``, and n."""
    accuracy = entry.get("accuracy") if entry else None
    return {"accuracy": "none" if accuracy is None else repr(float(accuracy)),
            "n": int(entry.get("n") or 0) if entry else 0}


def _clip_pct(value: float) -> float:
    return 100.0 * min(1.0, max(0.0, float(value)))


def _overall(report: Mapping) -> Optional[float]:
    overall = report.get("overall") or {}
    return float(overall["accuracy"]) if _has_value(overall) else None


def _ci_bar(entry: Optional[Mapping], ref: Optional[float] = None, big: bool = False) -> dict:
    """A bar filled to the entry's accuracy (%), with its interval as a whisker
    (left, width in %) and ``ref`` (a fraction, e.g. the overall accuracy) as a line."""
    bar: Dict[str, Any] = {"big": big, "fill": None, "whisker": None, "ref": None if ref is None else _clip_pct(ref),
                           "title": f"accuracy {_acc_text(entry)}, interval {_ci_text(entry)}" if entry else "no data"}
    if _has_value(entry):
        bar["fill"] = _clip_pct(entry["accuracy"])
        ci = entry.get("ci")
        if ci:
            low, high = _clip_pct(ci[0]), _clip_pct(ci[1])
            bar["whisker"] = (low, max(high - low, 0.0))
    return bar


def _entry(report: Mapping, entry: Mapping) -> dict:
    """A tuple entry's row cells: accuracy (red when the whole interval lies below the
    overall accuracy), interval, bar, correct / n, and its data attributes."""
    overall, ci = _overall(report), entry.get("ci")
    return {"acc": _acc_text(entry), "ci": _ci_text(entry), "bar": _ci_bar(entry, overall),
            "below": overall is not None and bool(ci) and float(ci[1]) < overall,
            "correct": entry.get("correct", 0), "n": entry.get("n", 0), "attrs": _accuracy_attrs(entry)}


# -- tuples ------------------------------------------------------------------------------


def _tuple_items(report: Mapping, t: Mapping) -> List[Tuple[str, Any]]:
    """The (factor, level) pairs of tuple ``t``: report factor order first, then others."""
    plain = plain_tuple(t)
    return [(k, plain[k]) for k in tuple_columns(report.get("factors", []), [plain])]


def _tuple_plain(report: Mapping, t: Mapping) -> str:
    """Tuple ``t`` as plain text: ``category=chair · context=outdoor``."""
    return " · ".join(f"{k}={v}" for k, v in _tuple_items(report, t))


def _tuple_key(t: Mapping) -> frozenset:
    return frozenset((str(k), str(v)) for k, v in t.items())


def _tuple_row(report: Mapping, entry: Mapping) -> dict:
    """A row of the findings or worst-tuples table."""
    t = plain_tuple(entry.get("tuple") or {})
    return {"plain": _tuple_plain(report, t), "levels": _tuple_items(report, t), "tuple": t, **_entry(report, entry)}


# -- sections ----------------------------------------------------------------------------


def _header(report: Mapping) -> dict:
    """The run's settings, the summary cards, the overall accuracy bar, the links."""
    overall = report.get("overall") or {}
    findings = report.get("findings") or []
    skipped = report.get("skipped") or []
    links = [("findings", "Findings"), ("strengths", "Mean vs min"), ("levels", "Per level"),
             ("heatmaps", "Heatmaps"), ("tuples", "Worst tuples"), ("failures", "Failures")]
    if report.get("local_search"):
        links.append(("local", "Local search"))
    if skipped:
        links.append(("skipped", "Skipped"))
    links.append(("history", "History"))
    return {
        "model": report.get("model", "?"), "task": report.get("task", "?"), "strategy": report.get("strategy", "?"),
        "seed": report.get("seed", "?"), "strength": report.get("strength", "?"),
        "factors": ", ".join(str(f) for f in report.get("factors", [])),
        "input": input_text(report["input"]) if report.get("input") else None,
        "accuracy": _acc_text(overall), "ci": _ci_text(overall), "correct": overall.get("correct", 0),
        "n": overall.get("n", 0), "renders": f"{num(report.get('renders', 0))} / {num(report.get('budget', 0))}",
        "findings": len(findings), "failures": len(report.get("failures") or []), "skipped": len(skipped),
        "bar": _ci_bar(overall, big=True), "links": links,
    }


def _findings(report: Mapping) -> dict:
    """The findings table (the first :data:`MAX_FINDING_ROWS`) and how many more."""
    findings = list(report.get("findings") or [])
    return {"total": len(findings), "rows": [_tuple_row(report, e) for e in findings[:MAX_FINDING_ROWS]],
            "more": len(findings) - MAX_FINDING_ROWS}


def _strengths(report: Mapping) -> List[dict]:
    """One row per strength: cells, micro (overall) and macro (mean) accuracy, min cell."""
    rows = []
    for s in report.get("strengths") or []:
        low = s.get("min")
        rows.append({"strength": int(s["strength"]), "cells": s.get("cells", 0),
                     "overall": _fraction_text(s.get("overall")), "mean": _fraction_text(s.get("mean")),
                     "min": _tuple_row(report, low) if low else None})
    return rows


def _level_chart(factor: str, entries: Sequence[Mapping], overall: Optional[float], bad: set) -> dict:
    """The geometry of the accuracy-per-level chart of ``factor``: a bar per level, the
    interval as a whisker, ``n`` printed; unseen levels grey; levels in ``bad`` red."""
    width = LEVEL_LABEL + LEVEL_PLOT + LEVEL_TEXT
    bottom = LEVEL_TOP + LEVEL_ROW * len(entries)

    def sx(fraction: float) -> float:
        return LEVEL_LABEL + LEVEL_PLOT * min(1.0, max(0.0, float(fraction)))

    rows = []
    for i, entry in enumerate(entries):
        y, level = LEVEL_TOP + i * LEVEL_ROW, str(entry["level"])
        seen, n = _has_value(entry), int(entry.get("n") or 0)
        row = {"level": level, "label": truncate(level, 15), "attrs": _accuracy_attrs(entry), "seen": seen,
               "label_class": "bad" if level in bad else None if seen else "unseen",
               "title": (f"{factor}={level}: {_acc_text(entry)} ({num(entry.get('correct', 0))} / {num(n)} correct), "
                         f"interval {_ci_text(entry)}" if seen else f"{factor}={level}: not seen"),
               "y": y + 4, "text_y": y + 15}
        if seen:
            ci, mid = entry.get("ci"), y + LEVEL_ROW / 2
            x0, x1 = (sx(ci[0]), sx(ci[1])) if ci else (0.0, 0.0)
            row.update(bar_width=max(sx(float(entry["accuracy"])) - LEVEL_LABEL, 1.0),
                       fill=ZERO_COLOR if level in bad else BAR_COLOR,
                       whisker=(f"M{x0:.1f},{mid - 4:.1f}V{mid + 4:.1f}M{x0:.1f},{mid:.1f}H{x1:.1f}"
                                f"M{x1:.1f},{mid - 4:.1f}V{mid + 4:.1f}") if ci else None,
                       value=f"{_acc_text(entry)} · n={num(n)}")
        rows.append(row)
    return {"width": width, "height": bottom + LEVEL_AXIS, "top": LEVEL_TOP, "bottom": bottom,
            "label_x": LEVEL_LABEL - 8, "plot_x": LEVEL_LABEL, "plot_width": LEVEL_PLOT, "bar_height": LEVEL_ROW - 8,
            "value_x": LEVEL_LABEL + LEVEL_PLOT + 8, "unseen_x": LEVEL_LABEL + 8,
            "grid": [(sx(f), f"{f * 100:.0f}%") for f in (0.0, 0.5, 1.0)], "rows": rows,
            "ref_x": None if overall is None else sx(overall), "ref_color": REF_COLOR}


def _levels(report: Mapping) -> List[dict]:
    """One card per measured factor with its accuracy-per-level chart."""
    overall = _overall(report)
    bad: Dict[str, set] = {}
    for entry in report.get("findings") or []:
        t = entry.get("tuple") or {}
        if len(t) == 1:
            (factor, level), = t.items()
            bad.setdefault(str(factor), set()).add(str(level))
    searched = {str(f) for f in report.get("factors", [])}
    cards = []
    for factor, entries in report.get("levels", {}).items():
        unseen = sum(1 for e in entries if not _has_value(e))
        sub = f"{len(entries)} levels" + (f" · {unseen} not seen" if unseen else "")
        sub += " · searched" if str(factor) in searched else " · not searched"
        cards.append({"factor": factor, "sub": sub,
                      "chart": _level_chart(str(factor), entries, overall, bad.get(str(factor), set()))})
    return cards


def _level_names(report: Mapping, factor: str) -> List[str]:
    """The levels of ``factor`` in ``report["levels"]`` order, as text."""
    return [str(e["level"]) for e in report.get("levels", {}).get(factor, [])]


def _pairs_present(report: Mapping) -> List[Tuple[str, str]]:
    """Pairs of searched factors (in ``factors`` order) with a strength-2 entry in ``tuples``."""
    factors = [str(f) for f in report.get("factors", [])]
    present = {frozenset(str(k) for k in e.get("tuple", {})) for e in report.get("tuples") or []
               if len(e.get("tuple") or {}) == 2}
    return [(a, b) for a, b in combinations(factors, 2) if frozenset((a, b)) in present]


def _heat_cell(where: str, entry: Optional[Mapping], finding: bool) -> dict:
    """One heatmap cell (``where`` names it: ``a=x, b=y``): an entry's accuracy, or none."""
    if not _has_value(entry):
        return {"value": False, "attrs": _accuracy_attrs(entry), "title": f"{where}: not among the reported tuples"}
    fill = accuracy_color(entry["accuracy"])
    title = (f"{where}: {_acc_text(entry)} ({num(entry.get('correct', 0))} / {num(entry['n'])} correct), "
             f"interval {_ci_text(entry)}" + ("; a finding" if finding else ""))
    return {"value": True, "attrs": _accuracy_attrs(entry), "title": title, "finding": finding, "fill": fill,
            "text": text_color(fill), "short": _acc_short(entry), "n": entry["n"]}


def _heatmaps(report: Mapping) -> dict:
    """One card per pair of searched factors: levels of ``a`` x levels of ``b``."""
    cells: Dict[frozenset, Mapping] = {}
    for entry in report.get("tuples") or []:
        cells.setdefault(_tuple_key(entry.get("tuple") or {}), entry)
    findings = {_tuple_key(e.get("tuple") or {}) for e in report.get("findings") or []}
    cards = []
    for a, b in _pairs_present(report):
        rows, cols = _level_names(report, a), _level_names(report, b)
        body = []
        for x in rows:
            keys = [frozenset(((a, x), (b, y))) for y in cols]
            body.append({"level": x, "cells": [_heat_cell(f"{a}={x}, {b}={y}", cells.get(key), key in findings)
                                               for y, key in zip(cols, keys)]})
        shown = sum(cell["value"] for row in body for cell in row["cells"])
        cards.append({"a": a, "b": b, "columns": cols, "rows": body,
                      "sub": f"{shown} of {len(rows) * len(cols)} cells among the reported tuples"})
    return {"cards": cards, "reported": len(report.get("tuples") or [])}


def _worst_tuples(report: Mapping) -> dict:
    """The first :data:`MAX_TUPLE_ROWS` entries of ``tuples``, one column per factor."""
    entries = list(report.get("tuples") or [])
    rows = [_tuple_row(report, e) for e in entries[:MAX_TUPLE_ROWS]]
    return {"rows": rows, "columns": tuple_columns(report.get("factors", []), [r["tuple"] for r in rows]),
            "more": len(entries) - len(rows)}


def _thumb(scene_id: Any, thumbs: Mapping[int, bytes], label: str) -> dict:
    """A thumbnail box: the embedded ``.t<id>`` image, or a placeholder (class None)."""
    has = scene_id is not None and int(scene_id) in thumbs
    return {"css": f"t{int(scene_id)}" if has else None, "label": label}


def _failures(report: Mapping, thumbs: Mapping[int, bytes]) -> List[dict]:
    """One card per failure."""
    factors = [str(f) for f in report.get("factors", [])]
    cards = []
    for failure in report.get("failures") or []:
        levels = failure.get("factors") or {}
        requested = failure.get("requested") or {}
        truth, prediction = failure.get("truth"), failure.get("prediction")
        shown_prediction = "nothing" if prediction is None else prediction
        label = f"scene {failure.get('index', '?')}: {truth} predicted as {shown_prediction}"
        cards.append({
            "id": int(failure["id"]), "thumb": _thumb(failure["id"], thumbs, label), "truth": truth,
            "prediction": shown_prediction, "score": f"{float(failure.get('score', 0.0)):.2f}",
            "chips": [(f"{f}={levels.get(f, '?')}", f in requested and str(requested[f]) != str(levels.get(f)))
                      for f in factors],
            "others": ", ".join(f"{k}={v}" for k, v in levels.items() if str(k) not in factors),
            "index": failure.get("index", "?"), "phase": str(failure.get("phase", "")),
        })
    return cards


def _score(value: Optional[float]) -> str:
    return "–" if value is None else f"{float(value):.2f}"


def _local_search(report: Mapping, thumbs: Mapping[int, bytes]) -> Optional[dict]:
    """The local search's start and best, summary, steps and score chart (None when null)."""
    local = report.get("local_search")
    if not local:
        return None
    start, best = local.get("start") or {}, local.get("best") or {}
    steps = list(local.get("steps") or [])
    chart = None
    if steps:
        start_score = float(start.get("score") or 0.0)
        scores = [float(s.get("score", 0.0)) for s in steps] + [start_score]
        points = [(0.0, start.get("score"), f"start: score {_score(start_score)}")]
        points += [(float(s.get("renders", 0)), float(s.get("score", 0.0)),
                    f"after {s.get('renders', 0)} renders: score {_score(s.get('score', 0.0))} ({s.get('change', '')})")
                   for s in steps]
        chart = line_chart([("score", WORST_COLOR, False, points)], max(float(local.get("renders", 0)), 1.0),
                           (min(0.0, min(scores)), max(1.0, max(scores))), _score,
                           width=520, height=200, label="local search: score vs renders")
    return {
        "figures": [(name, _thumb(point.get("id"), thumbs, f"{name} scene"), _score(point.get("score")))
                    for name, point in (("start", start), ("best", best))],
        "tuple": _tuple_items(report, local.get("tuple") or {}), "renders": local.get("renders", 0),
        "failures": local.get("failures", 0),
        "steps": [{"renders": s.get("renders", 0), "score": _score(s.get("score", 0.0)), "change": s.get("change", "")}
                  for s in steps],
        "chart": chart,
    }


def _skipped(report: Mapping) -> List[dict]:
    """The directed scenes that could not be placed."""
    return [{"index": skip.get("index", "?"), "requested": _tuple_items(report, skip.get("requested") or {}),
             "error": skip.get("error", "")} for skip in report.get("skipped") or []]


def _history(report: Mapping) -> Optional[dict]:
    """The line chart of the worst finding's upper bound and accuracy vs renders, and
    the renders at which the worst finding changed (None without history)."""
    history = list(report.get("history") or [])
    if not history:
        return None
    upper, accuracy, changes, last = [], [], [], None
    for h in history:
        x, worst = float(h.get("renders", 0)), h.get("worst")
        text = _tuple_plain(report, worst) if worst else "no finding"
        for points, key in ((upper, "upper"), (accuracy, "accuracy")):
            value = h.get(key) if worst else None
            shown = "–" if value is None else f"{100.0 * float(value):.0f}%"
            points.append((x, None if value is None else float(value),
                           f"after {num(int(x))} renders: {text}; {key} {shown}"))
        if text != last:
            changes.append((int(x), _tuple_items(report, worst) if worst else None))
            last = text
    x_max = max([float(report.get("budget") or 0), float(report.get("renders") or 0)] + [p[0] for p in upper])
    overall = _overall(report)
    ref = (overall, f"overall {100.0 * overall:.0f}%", REF_COLOR) if overall is not None else None
    chart = line_chart([("upper", UPPER_COLOR, False, upper), ("accuracy", WORST_COLOR, True, accuracy)],
                       x_max, (0.0, 1.0), lambda y: f"{100.0 * y:.0f}%", ref=ref, label="worst finding vs renders")
    return {"chart": chart, "changes": changes,
            "colors": {"upper": UPPER_COLOR, "accuracy": WORST_COLOR, "ref": REF_COLOR}}


def _referenced_ids(report: Mapping) -> List[int]:
    """The ids of failures and of the local search's start and best scenes."""
    ids = {int(f["id"]) for f in report.get("failures") or []}
    local = report.get("local_search") or {}
    for key in ("start", "best"):
        point = local.get(key) or {}
        if point.get("id") is not None:
            ids.add(int(point["id"]))
    return sorted(ids)


# -- public API --------------------------------------------------------------------------


def render_probe_html(report: dict, thumbnails: Mapping[int, bytes]) -> str:
    """The complete HTML page for a probe report (see the module docstring).

    Args:
        report: the probe report dict (``schema`` 1), read only. Required: ``title``;
            the rest are read with defaults: ``model, task, input, strategy, budget,
            renders, skipped, seed, strength, confidence, factors, overall, levels,
            strengths, tuples, findings, failures, local_search, history``. Accuracies
            and interval ends are fractions in [0, 1]; an entry with ``n`` 0 has
            ``accuracy`` None.
        thumbnails: failure ``id`` -> PNG bytes (longest side ~128 px). Only ids of
            ``failures`` and of ``local_search`` start / best are embedded, each once.

    Raises:
        KeyError: ``title`` or an entry's ``id`` / ``level`` / ``strength`` is missing.
    """
    thumbs = int_keys(thumbnails)
    confidence = float(report.get("confidence", 0.95))
    overall = _overall(report)
    return render(
        "probe.html", __package__,
        title=str(report["title"]), generator="scenegen probe",
        palette=css_variables(ref=REF_COLOR, grey=GREY, aramp=",".join(ACCURACY_SCALE)),
        thumbnails=embedded_thumbnails("t", _referenced_ids(report), thumbs),
        confidence=_percent(confidence), significance=f"{100.0 - 100.0 * confidence:g}",
        overall=None if overall is None else _acc_text(report["overall"]),
        header=_header(report), findings=_findings(report), strengths=_strengths(report), levels=_levels(report),
        heatmaps=_heatmaps(report), tuples=_worst_tuples(report), failures=_failures(report, thumbs),
        local=_local_search(report, thumbs), skipped=_skipped(report), history=_history(report),
    )


def write_probe_html(path, report: dict, thumbnails: Mapping[int, bytes]) -> Path:
    """Render ``report`` (see :func:`render_probe_html`) and write it to ``path`` as
    UTF-8, atomically (temporary file + rename); returns ``path`` as a Path."""
    return write_page(path, render_probe_html(report, thumbnails))

