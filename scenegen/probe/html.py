"""A self-contained HTML page for a worst-case probe report.

A probe renders scenes, shows them to a model and measures its accuracy per factor level
and per t-tuple of factor levels; the report dict (``schema`` 1) says where the model is
worst. The page follows :mod:`scenegen.reports.html`: one ``.html`` file with no network
access (a Content-Security-Policy meta tag forbids it), styles inline, images as base64
``data:`` URIs, no JavaScript, all report text escaped with :func:`html.escape`, and
output that depends only on the inputs. Accuracies are fractions in [0, 1], shown as
percentages; ``ci`` is the ``[low, high]`` confidence interval at ``confidence``.
Sections, top to bottom:

1. **Header** - title, model, task, what the model saw (``input``), strategy, renders /
   budget, seed, strength, the scenes skipped, and the overall accuracy with its
   interval as text and as a bar with a whisker.
2. **Findings** - the minimal tuples significantly worse than the other tuples of their size, worst first: the
   tuple (``category=chair · context=outdoor``), accuracy, interval, a bar with a
   whisker and the overall accuracy as a dashed reference line, correct / n. Each row
   carries ``data-tuple``, ``data-accuracy`` and ``data-n``. When there are none, the
   message "No tuple is significantly worse than the other tuples of its size".
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

import base64
import math
import os
from itertools import combinations
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..fileio import atomic_write_bytes
from ..reports.html import (
    BAR_COLOR,
    FONT_STACK,
    HATCH_DARK,
    HATCH_LIGHT,
    ZERO_COLOR,
    _css,
    _esc,
    _hex_to_rgb,
    _missing_columns,
    _num,
    _pct,
    _text_color,
    _truncate,
    nav_links,
    tuple_cells,
)
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
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

PROBE_CSS = """
header .sub2{font-size:13.5px;color:#3b4552;margin:2px 0 0}
header code,section code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;
 background:#f1f3f7;border-radius:4px;padding:1px 5px}
.stat.hi b{color:#1c2530;font-size:26px}
.stat.warn b{color:%(zero)s}
.cib{position:relative;height:14px;background:#e9edf2;border-radius:4px;min-width:180px;margin:2px 0}
.cib.big{height:20px;border-radius:6px;margin:10px 0 4px}
.cib .fill{position:absolute;left:0;top:0;bottom:0;background:%(bar)s;opacity:.8;border-radius:4px 0 0 4px}
.cib .wh{position:absolute;top:50%%;height:0;border-top:2px solid #1c2530}
.cib .wh::before,.cib .wh::after{content:"";position:absolute;top:-6px;height:10px;border-left:2px solid #1c2530}
.cib .wh::before{left:-1px}.cib .wh::after{right:-1px}
.cib .ref{position:absolute;top:-4px;bottom:-4px;border-left:2px dashed %(ref)s}
.axis{display:flex;justify-content:space-between;font-size:11px;color:#8a94a1;min-width:180px}
.legend b.refl{display:inline-block;width:0;height:14px;border-left:2px dashed %(ref)s;vertical-align:-3px;
 margin-right:6px}
.legend b.whl{display:inline-block;width:22px;height:8px;border:2px solid #1c2530;border-top:0;border-bottom:0;
 position:relative;vertical-align:0;margin-right:6px}
.legend b.whl::after{content:"";position:absolute;left:0;right:0;top:3px;border-top:2px solid #1c2530}
.tup{white-space:nowrap}
.tup .k{color:#66717f}
.tup .sep{color:#b0b8c3;padding:0 5px}
td.accv{font-weight:650}
td.accv.bad{color:%(zero)s}
table.data td.cis{color:#56616f;font-size:12.5px;white-space:nowrap}
table.hm.acc td{width:46px;min-width:46px;height:38px;line-height:1.1;font-weight:600;font-size:12px}
table.hm.acc td small{display:block;font-weight:400;font-size:10px;opacity:.8}
table.hm.acc td.none{background:repeating-linear-gradient(45deg,%(hatch_light)s 0 4px,%(hatch_dark)s 4px 8px);
 color:#98a0aa;font-weight:400}
table.hm.acc td.finding{outline:2px solid #1c2530;outline-offset:-2px}
table.hm.acc td:hover{outline:2px solid #1c2530;outline-offset:0}
.aramp{display:inline-block;width:140px;height:12px;border-radius:3px;vertical-align:-2px;margin:0 5px;
 background:linear-gradient(90deg,%(ramp)s)}
svg.lv text,svg.chart text{font-family:%(font)s;font-size:12px;fill:#3b4552}
svg.lv text.val{fill:#56616f;font-variant-numeric:tabular-nums;font-size:11.5px}
svg.lv text.unseen{fill:%(grey)s;font-style:italic}
svg.lv text.bad{fill:%(zero)s;font-weight:700}
svg text.tick{fill:#8a94a1;font-size:10.5px}
.fails{display:grid;grid-template-columns:repeat(auto-fill,minmax(168px,1fr));gap:14px}
.fail{border:1px solid #e6eaf0;border-radius:10px;padding:10px;background:#fff;font-size:12px}
.thumb{width:128px;height:128px;margin:0 auto 8px;border-radius:6px;background-color:#f1f3f7;
 background-size:contain;background-repeat:no-repeat;background-position:center;border:1px solid #e1e5eb}
.thumb.none{display:flex;align-items:center;justify-content:center;color:#98a0aa;font-size:11px;
 background:repeating-linear-gradient(45deg,%(hatch_light)s 0 6px,%(hatch_dark)s 6px 12px)}
.fail .tp{font-size:13px;font-weight:600;margin:0 0 3px;word-break:break-word}
.fail .tp .pred{color:%(zero)s}
.fail .score{font-variant-numeric:tabular-nums;color:#3b4552}
.chips{display:flex;flex-wrap:wrap;gap:4px;margin:6px 0}
.chip{background:#eef2f8;border-radius:10px;padding:1px 7px;font-size:11px;color:#2f3a47;max-width:100%%;
 overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.chip.off{background:#fff4e0;color:#7a4a00}
.phase{display:inline-block;border-radius:4px;padding:0 5px;font-size:10.5px;font-weight:600;
 text-transform:uppercase;letter-spacing:.03em;background:#e9edf2;color:#56616f}
.phase.local{background:#efe6fb;color:#6a3fb0}
.ls{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.ls .pair{display:flex;align-items:center;gap:14px}
.ls .pair .arrow{font-size:28px;color:#8a94a1}
.ls figure{margin:0;text-align:center;font-size:12px;color:#56616f}
.ls figure b{display:block;font-size:18px;color:#1c2530;font-variant-numeric:tabular-nums}
.line-legend{display:flex;gap:18px;font-size:12px;color:#56616f;margin:0 0 6px}
.line-legend i{display:inline-block;width:22px;height:0;border-top:3px solid;vertical-align:3px;margin-right:6px}
.line-legend i.dash{border-top-style:dashed;border-top-width:2px}
"""


# -- small helpers ---------------------------------------------------------------------


def _css_all() -> str:
    """The report page's stylesheet (:func:`scenegen.reports.html._css`) plus the probe's."""
    return _css() + PROBE_CSS % {
        "font": FONT_STACK, "bar": BAR_COLOR, "ref": REF_COLOR, "zero": ZERO_COLOR, "grey": GREY,
        "ramp": ",".join(ACCURACY_SCALE), "hatch_light": HATCH_LIGHT, "hatch_dark": HATCH_DARK,
    }


def accuracy_color(accuracy: float) -> str:
    """The ``#rrggbb`` fill of a heatmap cell: ``accuracy`` (a fraction, clipped to
    [0, 1]) interpolated linearly between the stops of :data:`ACCURACY_SCALE`."""
    stops = np.linspace(0.0, 1.0, len(ACCURACY_SCALE))
    channels = np.array([_hex_to_rgb(c) for c in ACCURACY_SCALE], dtype=float).T  # (3, stops)
    t = min(1.0, max(0.0, float(accuracy)))
    return "#%02x%02x%02x" % tuple(int(round(float(np.interp(t, stops, ch)))) for ch in channels)


def _has_value(entry: Optional[Mapping]) -> bool:
    """Whether ``entry`` (a level/tuple entry) has a measured accuracy (n >= 1)."""
    return bool(entry) and entry.get("accuracy") is not None and int(entry.get("n") or 0) > 0


def _acc_text(entry: Mapping) -> str:
    """An entry's accuracy as "41.7%" (never "100.0%" unless all correct), or "–"."""
    if not _has_value(entry):
        return "–"
    return _pct(float(entry["accuracy"]), int(entry.get("correct", 0)) >= int(entry["n"]))


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
    return "–" if value is None else _pct(float(value), float(value) >= 1.0)


def _ci_text(entry: Mapping) -> str:
    """An entry's interval as "25.0–58.3%", or "–" without one."""
    ci = entry.get("ci") if entry else None
    if not ci:
        return "–"
    return f"{100.0 * float(ci[0]):.1f}–{100.0 * float(ci[1]):.1f}%"


def _attr_accuracy(entry: Optional[Mapping]) -> str:
    """``data-accuracy`` / ``data-n`` attributes: the exact accuracy (``repr`` of the
    float) or ``none``, and n."""
    if not entry:
        return 'data-accuracy="none" data-n="0"'
    accuracy = entry.get("accuracy")
    shown = "none" if accuracy is None else repr(float(accuracy))
    return f'data-accuracy="{shown}" data-n="{int(entry.get("n") or 0)}"'


def _clip_pct(value: float) -> float:
    return 100.0 * min(1.0, max(0.0, float(value)))


def _ci_bar(entry: Optional[Mapping], ref: Optional[float] = None, big: bool = False) -> str:
    """A CSS bar filled to the entry's accuracy, with its interval as a whisker and
    ``ref`` (a fraction, e.g. the overall accuracy) as a dashed line."""
    parts = []
    if _has_value(entry):
        parts.append(f'<div class="fill" style="width:{_clip_pct(entry["accuracy"]):.2f}%"></div>')
        ci = entry.get("ci")
        if ci:
            low, high = _clip_pct(ci[0]), _clip_pct(ci[1])
            parts.append(f'<div class="wh" style="left:{low:.2f}%;width:{max(high - low, 0.0):.2f}%"></div>')
    if ref is not None:
        parts.append(f'<div class="ref" style="left:{_clip_pct(ref):.2f}%"></div>')
    title = f"accuracy {_acc_text(entry)}, interval {_ci_text(entry)}" if entry else "no data"
    return f'<div class="cib{" big" if big else ""}" title="{_esc(title)}">{"".join(parts)}</div>'


def _ordered_items(report: Mapping, t: Mapping) -> List[Tuple[str, Any]]:
    """The (factor, level) pairs of tuple ``t``: report factor order first, then others."""
    plain = {str(k): v for k, v in t.items()}
    return [(k, plain[k]) for k in _missing_columns(report, [plain])]


def _tuple_plain(report: Mapping, t: Mapping) -> str:
    """Tuple ``t`` as plain text: ``category=chair · context=outdoor``."""
    return " · ".join(f"{k}={v}" for k, v in _ordered_items(report, t))


def _tuple_html(report: Mapping, t: Mapping) -> str:
    """Tuple ``t`` as escaped HTML (factor names muted, levels bold)."""
    items = '<span class="sep">·</span>'.join(
        f'<span class="k">{_esc(k)}</span>=<b>{_esc(v)}</b>' for k, v in _ordered_items(report, t)
    )
    return f'<span class="tup">{items}</span>'


def _tuple_key(t: Mapping) -> frozenset:
    return frozenset((str(k), str(v)) for k, v in t.items())


def _level_names(report: Mapping, factor: str) -> List[str]:
    """The levels of ``factor`` in ``report["levels"]`` order, as text."""
    return [str(e["level"]) for e in report.get("levels", {}).get(factor, [])]


def _nice_step(span: float, ticks: int = 6) -> float:
    """A 1/2/5 x 10^k step that cuts ``span`` into at most about ``ticks`` parts."""
    raw = max(span, 1e-12) / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1.0, 2.0, 5.0, 10.0) if m * magnitude >= raw)


def _fmt_renders(x: float) -> str:
    return _num(int(round(x)))


def _fmt_accuracy(y: float) -> str:
    return f"{100.0 * y:.0f}%"


def _fmt_score(y: float) -> str:
    return f"{y:.2f}"


# -- charts ----------------------------------------------------------------------------


def _line_chart(series: Sequence[Tuple[str, str, bool, Sequence[Tuple[float, Optional[float], str]]]],
                x_max: float, y_range: Tuple[float, float], y_format, ref: Optional[Tuple[float, str]] = None,
                x_label: str = "renders", width: int = 760, height: int = 250, label: str = "") -> str:
    """An inline SVG line chart.

    Args:
        series: ``(name, colour, dashed, points)``; points are ``(x, y, title)`` with
            ``y`` None for a gap; each point gets a marker whose tooltip is ``title``.
        x_max: right end of the x axis (the left end is 0).
        y_range: ``(low, high)`` of the y axis.
        y_format: y value -> tick text.
        ref: ``(y, text)`` drawn as a dashed horizontal reference line.
    """
    left, right, top, bottom = 52, 110, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = max(float(x_max), 1.0)
    low, high = float(y_range[0]), float(y_range[1])
    high = high if high > low else low + 1.0

    def sx(x: float) -> float:
        return left + plot_w * min(max(float(x), 0.0), x_max) / x_max

    def sy(y: float) -> float:
        return top + plot_h * (1.0 - (min(max(float(y), low), high) - low) / (high - low))

    parts = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{_esc(label)}">']
    for i in range(5):
        y = low + (high - low) * i / 4
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" '
                     f'stroke="{"#c9d0da" if i == 0 else "#edf0f4"}"/>'
                     f'<text class="tick" x="{left - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">'
                     f"{_esc(y_format(y))}</text>")
    step = max(1.0, _nice_step(x_max))
    for k in range(int(x_max // step) + 1):
        x = k * step
        parts.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" '
                     f'stroke="#c9d0da"/><text class="tick" x="{sx(x):.1f}" y="{top + plot_h + 16}" '
                     f'text-anchor="middle">{_fmt_renders(x)}</text>')
    parts.append(f'<text class="tick" x="{left + plot_w / 2:.1f}" y="{height - 4}" '
                 f'text-anchor="middle">{_esc(x_label)}</text>')
    if ref is not None:
        y = sy(ref[0])
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{REF_COLOR}" '
                     f'stroke-width="1.5" stroke-dasharray="5 4"/>'
                     f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}" fill="{REF_COLOR}">{_esc(ref[1])}</text>')
    for name, color, dashed, points in series:
        runs: List[List[Tuple[float, float]]] = [[]]
        for x, y, _ in points:
            if y is None:
                runs.append([])
            else:
                runs[-1].append((sx(x), sy(y)))
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        for run in runs:
            if len(run) > 1:
                d = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(run))
                parts.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="2"{dash} '
                             f'stroke-linejoin="round"/>')
        marks = [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}"><title>{_esc(title)}</title>'
                 f"</circle>" for x, y, title in points if y is not None]
        parts.append(f'<g data-series="{_esc(name)}">{"".join(marks)}</g>')
    parts.append("</svg>")
    return "".join(parts)


def _level_chart(factor: str, entries: Sequence[Mapping], overall: Optional[float], bad: set) -> str:
    """An inline SVG chart of the accuracy per level of ``factor``: a bar per level, the
    interval as a whisker, ``n`` printed; unseen levels grey; levels in ``bad`` red."""
    row_h, label_w, plot_w, text_w, top, axis_h = 22, 104, 140, 98, 6, 20
    width, height = label_w + plot_w + text_w, top + row_h * len(entries) + axis_h

    def sx(fraction: float) -> float:
        return label_w + plot_w * min(1.0, max(0.0, float(fraction)))

    parts = [f'<svg class="lv" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{_esc(factor)}: accuracy per level">']
    bottom = top + row_h * len(entries)
    for fraction in (0.0, 0.5, 1.0):
        x = sx(fraction)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="#edf0f4"/>'
                     f'<text class="tick" x="{x:.1f}" y="{bottom + 14}" text-anchor="middle">'
                     f"{fraction * 100:.0f}%</text>")
    for i, entry in enumerate(entries):
        y, level = top + i * row_h, str(entry["level"])
        seen = _has_value(entry)
        n = int(entry.get("n") or 0)
        label_class = ' class="bad"' if level in bad else ("" if seen else ' class="unseen"')
        title = (f"{factor}={level}: {_acc_text(entry)} ({_num(entry.get('correct', 0))} / {_num(n)} correct), "
                 f"interval {_ci_text(entry)}" if seen else f"{factor}={level}: not seen")
        parts.append(f'<g data-level="{_esc(level)}" {_attr_accuracy(entry)}><title>{_esc(title)}</title>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{plot_w}" height="{row_h - 8}" fill="#f1f3f7" rx="2"/>')
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end"{label_class}>'
                     f"{_esc(_truncate(level, 15))}</text>")
        if seen:
            accuracy = float(entry["accuracy"])
            parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{max(sx(accuracy) - label_w, 1.0):.1f}" '
                         f'height="{row_h - 8}" fill="{ZERO_COLOR if level in bad else BAR_COLOR}" '
                         f'opacity=".8" rx="2"/>')
            ci = entry.get("ci")
            if ci:
                x0, x1, mid = sx(ci[0]), sx(ci[1]), y + row_h / 2
                parts.append(f'<path d="M{x0:.1f},{mid - 4:.1f}V{mid + 4:.1f}M{x0:.1f},{mid:.1f}H{x1:.1f}'
                             f'M{x1:.1f},{mid - 4:.1f}V{mid + 4:.1f}" stroke="#1c2530" stroke-width="1.5" '
                             f'fill="none"/>')
            value = f"{_acc_text(entry)} · n={_num(n)}"
            parts.append(f'<text class="val" x="{label_w + plot_w + 8}" y="{y + 15}">{value}</text></g>')
        else:
            parts.append(f'<text class="unseen" x="{label_w + 8}" y="{y + 15}">not seen</text></g>')
    if overall is not None:
        x = sx(overall)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{bottom + 2}" stroke="{REF_COLOR}" '
                     f'stroke-width="1.5" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "".join(parts)


# -- page sections ---------------------------------------------------------------------


def _overall(report: Mapping) -> Optional[float]:
    overall = report.get("overall") or {}
    return float(overall["accuracy"]) if _has_value(overall) else None


def _header(report: Mapping) -> str:
    """Title, the run's settings, summary cards and the overall accuracy bar."""
    overall = report.get("overall") or {}
    confidence = float(report.get("confidence", 0.95))
    findings = report.get("findings") or []
    settings = [
        f"model <code>{_esc(report.get('model', '?'))}</code>",
        f"task <b>{_esc(report.get('task', '?'))}</b>",
        f"strategy <b>{_esc(report.get('strategy', '?'))}</b>",
        f"seed <b>{_esc(report.get('seed', '?'))}</b>",
        f"strength <b>{_esc(report.get('strength', '?'))}</b>",
        f"confidence <b>{100.0 * confidence:g}%</b>",
        f"searched factors <b>{_esc(', '.join(str(f) for f in report.get('factors', [])))}</b>",
    ]
    if report.get("input"):
        settings.append(f"the model saw {_esc(input_text(report['input']))}")
    skipped = report.get("skipped") or []
    renders = f"{_num(report.get('renders', 0))} / {_num(report.get('budget', 0))}"
    summary = (f"overall accuracy {_acc_text(overall)} ({_num(overall.get('correct', 0))} / "
               f"{_num(overall.get('n', 0))} correct), {100.0 * confidence:g}% interval {_ci_text(overall)}; "
               f"{renders} renders")
    stats = [
        ("hi", _acc_text(overall), f"overall accuracy · {100.0 * confidence:g}% CI {_ci_text(overall)}"),
        ("", f"{_num(overall.get('correct', 0))} / {_num(overall.get('n', 0))}", "correct / evaluated"),
        ("", renders, "renders / budget"),
        ("warn" if findings else "", _num(len(findings)), "findings"),
        ("", _num(len(report.get("failures") or [])), "failures shown"),
    ]
    if skipped:
        stats.append(("warn", _num(len(skipped)), "scenes skipped (not placed)"))
    cards = "".join(f'<div class="stat {css}"><b>{value}</b><span>{_esc(label)}</span></div>'
                    for css, value, label in stats)
    links = [("findings", "Findings"), ("strengths", "Mean vs min"), ("levels", "Per level"),
             ("heatmaps", "Heatmaps"), ("tuples", "Worst tuples"), ("failures", "Failures")]
    if report.get("local_search"):
        links.append(("local", "Local search"))
    if skipped:
        links.append(("skipped", "Skipped"))
    links.append(("history", "History"))
    return (
        f'<header><h1>{_esc(report["title"])}</h1>'
        f'<div class="sub2">{" · ".join(settings)}</div>'
        f'<div class="muted" id="summary">{summary}</div>'
        f'<div class="stats">{cards}</div>{_ci_bar(overall, big=True)}'
        '<div class="axis"><span>0%</span><span>50%</span><span>100%</span></div>'
        f"{nav_links(links)}</header>"
    )


def _bar_legend(report: Mapping, extra: str = "") -> str:
    """The legend of :func:`_ci_bar` (``extra``: more legend items, HTML, first)."""
    overall = _overall(report)
    confidence = 100.0 * float(report.get("confidence", 0.95))
    ref = (f'<span><b class="refl"></b>overall accuracy {_acc_text(report.get("overall") or {})}</span>'
           if overall is not None else "")
    return (f'<div class="legend">{extra}<span><i style="background:{BAR_COLOR};opacity:.8"></i>accuracy</span>'
            f'<span><b class="whl"></b>{confidence:g}% interval</span>{ref}</div>')


def _entry_cells(report: Mapping, entry: Mapping) -> str:
    """The accuracy, interval, bar and correct / n cells of a tuple entry's row; the
    accuracy is red when the whole interval lies below the overall accuracy."""
    overall, ci = _overall(report), entry.get("ci")
    below = overall is not None and bool(ci) and float(ci[1]) < overall
    return (f'<td class="n accv{" bad" if below else ""}">{_acc_text(entry)}</td><td class="cis">{_ci_text(entry)}</td>'
            f"<td>{_ci_bar(entry, _overall(report))}</td>"
            f'<td class="n">{_num(entry.get("correct", 0))} / {_num(entry.get("n", 0))}</td>')


def _findings(report: Mapping) -> str:
    """The findings table, or a message when there are none."""
    findings = list(report.get("findings") or [])
    if not findings:
        return ('<section id="findings"><h2>Findings</h2><p class="ok" id="no-findings">'
                "No tuple is significantly worse than the other tuples of its size.</p></section>")
    rows = []
    for i, entry in enumerate(findings[:MAX_FINDING_ROWS], 1):
        t = entry.get("tuple") or {}
        rows.append(f'<tr data-tuple="{_esc(_tuple_plain(report, t))}" {_attr_accuracy(entry)}>'
                    f'<td class="n muted">{i}</td><td>{_tuple_html(report, t)}</td><td class="n">{len(t)}</td>'
                    f"{_entry_cells(report, entry)}</tr>")
    more = len(findings) - MAX_FINDING_ROWS
    tail = f'<p class="muted">… and {_num(more)} more</p>' if more > 0 else ""
    confidence = 100.0 * float(report.get("confidence", 0.95))
    intro = (f"{_num(len(findings))} minimal tuple{'s' if len(findings) != 1 else ''} whose accuracy is "
             f"significantly below the mean accuracy of the other tuples of their size (a one-sided binomial test, "
             f"Benjamini-Hochberg over all tuples at {100.0 - confidence:g}%), worst first; "
             f"the dashed line is the overall accuracy.")
    return (
        f'<section id="findings"><h2>Findings</h2><p class="muted">{intro}</p>{_bar_legend(report)}'
        '<table class="data" id="findings-table"><thead><tr><th>#</th><th>tuple</th><th>t</th><th>accuracy</th>'
        f'<th>interval</th><th></th><th>correct / n</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        f"{tail}</section>"
    )


def _strengths(report: Mapping) -> str:
    """One row per strength: cells, micro (overall) and macro (mean) accuracy, min cell."""
    rows = []
    for s in report.get("strengths") or []:
        low = s.get("min")
        mean = s.get("mean")
        overall = s.get("overall")
        cell = (f"<td>{_tuple_html(report, low.get('tuple') or {})}</td>{_entry_cells(report, low)}"
                if low else '<td class="muted" colspan="5">no cells</td>')
        rows.append(
            f'<tr data-strength="{int(s["strength"])}"><td class="n">{int(s["strength"])}</td>'
            f'<td class="n">{_num(s.get("cells", 0))}</td>'
            f'<td class="n">{_fraction_text(overall)}</td><td class="n">{_fraction_text(mean)}</td>{cell}</tr>'
        )
    body = "".join(rows) or '<tr><td colspan="9" class="muted">no strengths</td></tr>'
    return (
        '<section id="strengths"><h2>Mean vs min over cells</h2>'
        '<p class="muted">Cells are the t-tuples of searched factor levels seen at least once. Overall is the '
        "accuracy over all evaluations (micro), mean the average of the cells' accuracies (macro), min the "
        "worst cell.</p>"
        '<table class="data" id="strengths-table"><thead><tr><th>t</th><th>cells</th><th>overall (micro)</th>'
        "<th>mean over cells (macro)</th><th>min cell</th><th>accuracy</th><th>interval</th><th></th>"
        f"<th>correct / n</th></tr></thead><tbody>{body}</tbody></table></section>"
    )


def _levels(report: Mapping) -> str:
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
        chart = _level_chart(str(factor), entries, overall, bad.get(str(factor), set()))
        cards.append(f'<div class="card" data-factor="{_esc(factor)}"><h3>{_esc(factor)}</h3>'
                     f'<div class="sub">{sub}</div>{chart}</div>')
    legend = _bar_legend(report, f'<span><i style="background:{ZERO_COLOR};opacity:.8"></i>a finding</span>'
                                 '<span><i style="background:#f1f3f7"></i>not seen</span>')
    return (f'<section id="levels"><h2>Accuracy per factor level</h2>{legend}'
            f'<div class="cards">{"".join(cards)}</div></section>')


def _pairs_present(report: Mapping) -> List[Tuple[str, str]]:
    """Pairs of searched factors (in ``factors`` order) with a strength-2 entry in ``tuples``."""
    factors = [str(f) for f in report.get("factors", [])]
    present = {frozenset(str(k) for k in e.get("tuple", {})) for e in report.get("tuples") or []
               if len(e.get("tuple") or {}) == 2}
    return [(a, b) for a, b in combinations(factors, 2) if frozenset((a, b)) in present]


def _heatmap(report: Mapping, a: str, b: str, cells: Mapping[frozenset, Mapping], findings: set) -> str:
    """One card: levels of ``a`` x levels of ``b``, each cell an entry of ``tuples`` or "–"."""
    rows, cols = _level_names(report, a), _level_names(report, b)
    head = "".join(f'<th class="col" title="{_esc(y)}"><span>{_esc(y)}</span></th>' for y in cols)
    body, shown = [], 0
    for x in rows:
        tds = []
        for y in cols:
            key = frozenset(((a, x), (b, y)))
            entry = cells.get(key)
            if not _has_value(entry):
                title = f"{a}={x}, {b}={y}: not among the reported tuples"
                tds.append(f'<td class="none" {_attr_accuracy(entry)} title="{_esc(title)}">–</td>')
                continue
            shown += 1
            fill = accuracy_color(entry["accuracy"])
            title = (f"{a}={x}, {b}={y}: {_acc_text(entry)} ({_num(entry.get('correct', 0))} / "
                     f"{_num(entry['n'])} correct), interval {_ci_text(entry)}"
                     + ("; a finding" if key in findings else ""))
            css = "v finding" if key in findings else "v"
            tds.append(f'<td class="{css}" {_attr_accuracy(entry)} style="background:{fill};'
                       f'color:{_text_color(fill)}" title="{_esc(title)}">{_acc_short(entry)}'
                       f"<small>n={_num(entry['n'])}</small></td>")
        body.append(f'<tr><th class="row" title="{_esc(x)}">{_esc(x)}</th>{"".join(tds)}</tr>')
    return (
        f'<div class="card" data-pair="{_esc(a)}|{_esc(b)}"><h3>{_esc(a)} × {_esc(b)}</h3>'
        f'<div class="sub">{shown} of {len(rows) * len(cols)} cells among the reported tuples</div>'
        f'<table class="hm acc"><thead><tr><th class="corner">{_esc(a)} ↓ {_esc(b)} →</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _heatmaps(report: Mapping) -> str:
    """The pairwise heatmaps section: a legend and one card per pair of searched factors."""
    cells: Dict[frozenset, Mapping] = {}
    for entry in report.get("tuples") or []:
        cells.setdefault(_tuple_key(entry.get("tuple") or {}), entry)
    findings = {_tuple_key(e.get("tuple") or {}) for e in report.get("findings") or []}
    cards = "".join(_heatmap(report, a, b, cells, findings) for a, b in _pairs_present(report))
    if not cards:
        cards = '<div class="muted">no strength-2 tuples in the report</div>'
    legend = (
        '<div class="legend"><span>0%<span class="aramp"></span>100% accuracy</span>'
        '<span><i style="outline:2px solid #1c2530;outline-offset:-2px;background:#fff"></i>a finding</span>'
        f'<span><i style="background:repeating-linear-gradient(45deg,{HATCH_LIGHT} 0 4px,{HATCH_DARK} 4px 8px)">'
        f"</i>– not among the {_num(len(report.get('tuples') or []))} reported tuples</span></div>"
    )
    return (f'<section id="heatmaps"><h2>Pairwise accuracy heatmaps</h2>{legend}'
            f'<div class="cards">{cards}</div></section>')


def _worst_tuples(report: Mapping) -> str:
    """The first :data:`MAX_TUPLE_ROWS` entries of ``tuples``, one column per factor."""
    entries = list(report.get("tuples") or [])
    if not entries:
        return '<section id="tuples"><h2>Worst tuples</h2><p class="muted">No tuples.</p></section>'
    shown = entries[:MAX_TUPLE_ROWS]
    columns = _missing_columns(report, [e.get("tuple") or {} for e in shown])
    head = "<th>#</th><th>t</th>" + "".join(f"<th>{_esc(c)}</th>" for c in columns)
    rows = []
    for i, entry in enumerate(shown, 1):
        t = {str(k): v for k, v in (entry.get("tuple") or {}).items()}
        rows.append(f'<tr data-tuple="{_esc(_tuple_plain(report, t))}" {_attr_accuracy(entry)}>'
                    f'<td class="n muted">{i}</td><td class="n">{len(t)}</td>{tuple_cells(t, columns)}'
                    f'{_entry_cells(report, entry)}</tr>')
    more = len(entries) - len(shown)
    tail = f'<p class="muted" id="tuples-more">… and {_num(more)} more</p>' if more > 0 else ""
    return (
        f'<section id="tuples"><h2>Worst tuples</h2>{_bar_legend(report)}<div class="scroll">'
        f'<table class="data" id="tuples-table"><thead><tr>{head}<th>accuracy</th><th>interval</th><th></th>'
        f"<th>correct / n</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>{tail}</section>"
    )


def _thumb(scene_id: Any, thumbs: Mapping[int, bytes], label: str) -> str:
    """A thumbnail box: the embedded ``.t<id>`` image, or a placeholder without one."""
    if scene_id is not None and int(scene_id) in thumbs:
        return f'<div class="thumb t{int(scene_id)}" role="img" aria-label="{_esc(label)}"></div>'
    return '<div class="thumb none">no image</div>'


def _failures(report: Mapping, thumbs: Mapping[int, bytes]) -> str:
    """A grid of cards, one per failure."""
    factors = [str(f) for f in report.get("factors", [])]
    cards = []
    for failure in report.get("failures") or []:
        levels = failure.get("factors") or {}
        requested = failure.get("requested") or {}
        chips = "".join(
            f'<span class="chip{" off" if f in requested and str(requested[f]) != str(levels.get(f)) else ""}" '
            f'title="{_esc(f)}={_esc(levels.get(f, "?"))}">{_esc(f)}={_esc(levels.get(f, "?"))}</span>'
            for f in factors
        )
        others = ", ".join(f"{k}={v}" for k, v in levels.items() if str(k) not in factors)
        truth, prediction = failure.get("truth"), failure.get("prediction")
        shown_prediction = "nothing" if prediction is None else prediction
        phase = str(failure.get("phase", ""))
        label = f"scene {failure.get('index', '?')}: {truth} predicted as {shown_prediction}"
        cards.append(
            f'<div class="fail" data-id="{int(failure["id"])}" title="{_esc(others)}">'
            f"{_thumb(failure['id'], thumbs, label)}"
            f'<div class="tp">{_esc(truth)} → <span class="pred">{_esc(shown_prediction)}</span></div>'
            f'<div class="score">score {_fmt_score(float(failure.get("score", 0.0)))}</div>'
            f'<div class="chips">{chips}</div>'
            f'<div class="muted">scene {_esc(failure.get("index", "?"))} '
            f'<span class="phase {_esc(phase)}">{_esc(phase)}</span></div></div>'
        )
    if not cards:
        return '<section id="failures"><h2>Failures</h2><p class="muted">No failures.</p></section>'
    return (f'<section id="failures"><h2>Failures</h2><p class="muted">The worst {_num(len(cards))} failures, lowest '
            "score first; the target object is outlined. Amber chips: a level that differs from the one "
            f'requested. Hover a card for the other factors.</p><div class="fails">{"".join(cards)}</div></section>')


def _local_search(report: Mapping, thumbs: Mapping[int, bytes]) -> str:
    """The local-search summary, steps table and score chart (empty when null)."""
    local = report.get("local_search")
    if not local:
        return ""
    start, best = local.get("start") or {}, local.get("best") or {}
    steps = list(local.get("steps") or [])

    def figure(name: str, point: Mapping) -> str:
        score = point.get("score")
        return (f"<figure>{_thumb(point.get('id'), thumbs, f'{name} scene')}"
                f"<b>{'–' if score is None else _fmt_score(float(score))}</b>{name} score</figure>")

    summary = (f'<div class="pair">{figure("start", start)}<span class="arrow">→</span>{figure("best", best)}</div>'
               f'<div><table class="data" id="local-summary">'
               f"<tr><th>tuple</th><td>{_tuple_html(report, local.get('tuple') or {})}</td></tr>"
               f'<tr><th>renders</th><td class="n">{_num(local.get("renders", 0))}</td></tr>'
               f'<tr><th>failures</th><td class="n">{_num(local.get("failures", 0))}</td></tr>'
               f'<tr><th>steps</th><td class="n">{_num(len(steps))}</td></tr></table></div>')
    rows = "".join(f'<tr><td class="n muted">{i}</td><td class="n">{_num(s.get("renders", 0))}</td>'
                   f'<td class="n">{_fmt_score(float(s.get("score", 0.0)))}</td><td>{_esc(s.get("change", ""))}</td>'
                   "</tr>" for i, s in enumerate(steps, 1))
    chart = ""
    if steps:
        scores = [float(s.get("score", 0.0)) for s in steps] + [float(start.get("score") or 0.0)]
        points = [(0.0, start.get("score"), f"start: score {_fmt_score(float(start.get('score') or 0.0))}")]
        points += [(float(s.get("renders", 0)), float(s.get("score", 0.0)),
                    f"after {s.get('renders', 0)} renders: score {_fmt_score(float(s.get('score', 0.0)))}"
                    f" ({s.get('change', '')})") for s in steps]
        chart = _line_chart([("score", WORST_COLOR, False, points)], max(float(local.get("renders", 0)), 1.0),
                            (min(0.0, min(scores)), max(1.0, max(scores))), _fmt_score,
                            width=520, height=200, label="local search: score vs renders")
    table = (f'<div class="scroll"><table class="data" id="local-steps"><thead><tr><th>#</th><th>renders</th>'
             f"<th>score</th><th>change</th></tr></thead><tbody>{rows}</tbody></table></div>" if steps else
             '<p class="muted">No steps.</p>')
    return (f'<section id="local"><h2>Local search</h2><p class="muted">Starting from a failing scene of the worst '
            "tuple, scene parameters were changed step by step to lower the model's score. These scenes are not "
            "counted in the accuracies above.</p>"
            f'<div class="ls">{summary}</div><div class="ls" style="margin-top:16px">{table}{chart}</div></section>')


def _skipped(report: Mapping) -> str:
    """The directed scenes that could not be placed (empty when there are none)."""
    skipped = list(report.get("skipped") or [])
    if not skipped:
        return ""
    rows = "".join(f'<tr data-index="{_esc(skip.get("index", "?"))}"><td class="n">{_esc(skip.get("index", "?"))}</td>'
                   f'<td>{_tuple_html(report, skip.get("requested") or {})}</td><td>{_esc(skip.get("error", ""))}</td></tr>'
                   for skip in skipped)
    return (f'<section id="skipped"><h2>Skipped scenes</h2><p class="muted">{_num(len(skipped))} directed '
            f"scene{'' if len(skipped) == 1 else 's'} could not be placed: not rendered, not scored and not counted in "
            "the budget (the search moved on to its next scene).</p><div class=\"scroll\">"
            '<table class="data" id="skipped-table"><thead><tr><th>scene</th><th>requested</th><th>error</th></tr>'
            f"</thead><tbody>{rows}</tbody></table></div></section>")


def _history(report: Mapping) -> str:
    """The line chart of the worst finding's upper bound and accuracy vs renders."""
    history = list(report.get("history") or [])
    if not history:
        return '<section id="history"><h2>Search history</h2><p class="muted">No history.</p></section>'
    upper, accuracy, changes, last = [], [], [], None
    for h in history:
        x, worst = float(h.get("renders", 0)), h.get("worst")
        text = _tuple_plain(report, worst) if worst else "no finding"
        for points, key in ((upper, "upper"), (accuracy, "accuracy")):
            value = h.get(key) if worst else None
            shown = "–" if value is None else _fmt_accuracy(float(value))
            points.append((x, None if value is None else float(value),
                           f"after {_num(int(x))} renders: {text}; {key} {shown}"))
        if text != last:
            changes.append(f'<li><b>{_num(int(x))}</b> renders: '
                           f'{_tuple_html(report, worst) if worst else "no finding"}</li>')
            last = text
    x_max = max([float(report.get("budget") or 0), float(report.get("renders") or 0)] + [p[0] for p in upper])
    overall = _overall(report)
    ref = (overall, f"overall {_fmt_accuracy(overall)}") if overall is not None else None
    chart = _line_chart([("upper", UPPER_COLOR, False, upper), ("accuracy", WORST_COLOR, True, accuracy)],
                        x_max, (0.0, 1.0), _fmt_accuracy, ref=ref, label="worst finding vs renders")
    legend = (f'<div class="line-legend"><span><i style="border-color:{UPPER_COLOR}"></i>upper bound of the worst '
              f'finding</span><span><i class="dash" style="border-color:{WORST_COLOR}"></i>its accuracy</span>'
              f'<span><i class="dash" style="border-color:{REF_COLOR}"></i>overall accuracy</span></div>')
    return (f'<section id="history"><h2>Search history</h2><p class="muted">After each batch of renders: the current '
            "worst finding's accuracy and the upper end of its interval (gaps: no finding yet).</p>"
            f'{legend}<div class="ls">{chart}<div><h3>worst finding since</h3>'
            f'<ul class="muted" id="history-changes">{"".join(changes)}</ul></div></div></section>')


def _referenced_ids(report: Mapping) -> List[int]:
    """The sorted ids of failures and of the local search's start and best scenes."""
    ids = {int(f["id"]) for f in report.get("failures") or []}
    local = report.get("local_search") or {}
    for key in ("start", "best"):
        point = local.get(key) or {}
        if point.get("id") is not None:
            ids.add(int(point["id"]))
    return sorted(ids)


def _thumbnail_rules(report: Mapping, thumbs: Mapping[int, bytes]) -> str:
    """One ``.t<id>`` CSS rule per referenced id with a thumbnail, in id order."""
    rules = []
    for scene_id in _referenced_ids(report):
        if scene_id in thumbs:
            encoded = base64.b64encode(bytes(thumbs[scene_id])).decode("ascii")
            rules.append(f".t{scene_id}{{background-image:url(data:image/png;base64,{encoded})}}")
    return "\n".join(rules)


# -- public API ------------------------------------------------------------------------


def render_probe_html(report: dict, thumbnails: Mapping[int, bytes]) -> str:
    """The complete HTML page for a probe report (see the module docstring).

    Args:
        report: the probe report dict (``schema`` 1), read only. Required: ``title``;
            the rest are read with defaults: ``model, task, input, strategy, budget,
            renders, skipped, seed, strength, confidence, factors, overall, levels,
            strengths, tuples, findings, failures, local_search, history``. Accuracies and interval ends
            are fractions in [0, 1]; an entry with ``n`` 0 has ``accuracy`` None.
        thumbnails: failure ``id`` -> PNG bytes (longest side ~128 px). Only ids of
            ``failures`` and of ``local_search`` start / best are embedded, each once.

    Raises:
        KeyError: ``title`` or an entry's ``id`` / ``level`` / ``strength`` is missing.
    """
    thumbs = {int(k): v for k, v in thumbnails.items()}
    sections = [
        _header(report), _findings(report), _strengths(report), _levels(report), _heatmaps(report),
        _worst_tuples(report), _failures(report, thumbs), _local_search(report, thumbs), _skipped(report),
        _history(report),
        "<footer>generated by scenegen probe · self-contained page, no network access</footer>",
    ]
    head = [
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(report['title'])}</title>",
        f"<style>{_css_all()}</style>",
        f"<style>\n{_thumbnail_rules(report, thumbs)}\n</style>",
    ]
    return (f'<!DOCTYPE html>\n<html lang="en"><head>{chr(10).join(head)}</head><body>\n'
            f'{"".join(sections)}\n</body></html>\n')


def write_probe_html(path, report: dict, thumbnails: Mapping[int, bytes]) -> Path:
    """Render ``report`` (see :func:`render_probe_html`) and write it to ``path`` as
    UTF-8, atomically (temporary file + rename); returns ``path`` as a Path."""
    path = Path(os.fspath(path))
    atomic_write_bytes(path, render_probe_html(report, thumbnails).encode("utf-8"))
    return path
