"""A self-contained HTML page for a t-way coverage report.

The page is one ``.html`` file that needs nothing else: no network access at all (no
external CSS, scripts, fonts or images; a Content-Security-Policy meta tag forbids
them), styles inline in one ``<style>`` block, images as base64 ``data:`` URIs, and no
JavaScript. Sections, top to bottom:

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

All text from the report is escaped with :func:`html.escape`, and the output depends
only on the inputs (dict order is kept, thumbnails are emitted in scene order), so the
same inputs give the same string.

::

    from scenegen.report_html import thumbnail_png, write_html
    thumbs = {i: thumbnail_png(f"/data/ds/{i:06d}/rgb.png") for i in scene_indices}
    write_html("/data/ds/coverage.html", report, thumbs)
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from pathlib import Path
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

from PIL import Image

from ..fileio import atomic_write_bytes

MAX_MISSING_ROWS = 500  # rows of the missing-tuples table; the rest are only counted

# heatmap cell colours (the test of the rendered page looks for them in a screenshot)
MISSING_COLOR = "#f6c4c0"  # count 0
MISSING_TEXT = "#a61b1b"
LOW_COLOR = "#ffdf9e"  # 0 < count < min_count
LOW_TEXT = "#7a4a00"
HATCH_LIGHT = "#eef0f3"  # infeasible: alternating stripes of these two greys
HATCH_DARK = "#dcdfe5"
# sequential scale of covered cells, from the smallest count to the largest
SCALE: Tuple[str, ...] = ("#d3eeea", "#9fd8cf", "#63bcb4", "#35999d", "#237488", "#1d5170", "#1a3357")
BAR_COLOR = "#3a78d4"  # coverage and histogram bars
ZERO_COLOR = "#d23b3b"  # histogram levels with no objects

FONT_STACK = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", '
    '"Liberation Sans", Arial, sans-serif'
)


# -- small helpers ---------------------------------------------------------------------


def _esc(value: Any) -> str:
    """``value`` as text, escaped for HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def _num(value: int) -> str:
    """An integer with thousands separators."""
    return f"{int(value):,}"


def _fraction(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def _pct(fraction: float, complete: bool) -> str:
    """``fraction`` as a percentage with one decimal; never "100.0%" unless complete."""
    text = f"{100.0 * fraction:.1f}%"
    if text == "100.0%" and not complete:
        text = "99.9%"
    return text


def _unit_word(unit: str, n: int) -> str:
    """``"objects"``/``"scenes"`` for ``n``, singular when ``n`` is 1."""
    unit = str(unit)
    return unit[:-1] if n == 1 and unit.endswith("s") else unit


def _hex_to_rgb(color: str) -> Tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _bar(fraction: float, css_class: str = "bar") -> str:
    """A horizontal bar (a div in a div) filled to ``fraction``."""
    width = max(0.0, min(1.0, float(fraction))) * 100.0
    return f'<div class="{css_class}"><div style="width:{width:.2f}%"></div></div>'


def count_color(count: int, max_count: int) -> str:
    """The ``#rrggbb`` fill of a covered heatmap cell: ``count`` placed on :data:`SCALE`
    by ``log(count) / log(max_count)`` (the first stop when ``max_count`` <= 1)."""
    if max_count <= 1 or count <= 1:
        t = 0.0 if max_count > 1 else 1.0
    else:
        t = min(1.0, math.log(count) / math.log(max_count))
    position = t * (len(SCALE) - 1)
    low = min(int(position), len(SCALE) - 2)
    frac = position - low
    a, b = _hex_to_rgb(SCALE[low]), _hex_to_rgb(SCALE[low + 1])
    rgb = tuple(int(round(x + (y - x) * frac)) for x, y in zip(a, b))
    return "#%02x%02x%02x" % rgb


def _text_color(fill: str) -> str:
    """Dark or white text, whichever reads better on ``fill``."""
    r, g, b = _hex_to_rgb(fill)
    return "#10202b" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#ffffff"


# -- thumbnails ------------------------------------------------------------------------


def thumbnail_png(image_path, size: int = 96) -> bytes:
    """PNG bytes of the image at ``image_path`` (a path or a binary file object) scaled
    with LANCZOS so that its longer side is ``size`` pixels (up or down; the shorter
    side keeps the aspect ratio, at least 1 px). Images with transparency stay RGBA,
    all others become RGB. No metadata is written, so the bytes depend only on the
    pixels and ``size``.

    Raises:
        ValueError: ``size`` < 1.
    """
    size = int(size)
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    with Image.open(image_path) as image:
        has_alpha = image.mode in ("RGBA", "LA", "PA") or (
            image.mode == "P" and "transparency" in image.info
        )
        image = image.convert("RGBA" if has_alpha else "RGB")
    width, height = image.size
    scale = size / max(width, height)
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    if width >= height:
        target = (size, target[1])
    else:
        target = (target[0], size)
    image = image.resize(target, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=9)
    return buffer.getvalue()


def referenced_scenes(report: Mapping) -> List[int]:
    """The sorted scene indices named in the ``examples`` of ``report["pairs"]``."""
    scenes = set()
    for pair in report.get("pairs", []):
        for row in pair.get("examples") or []:
            scenes.update(int(s) for s in row if s is not None)
    return sorted(scenes)


def _thumbnail_css(report: Mapping, thumbnails: Mapping[int, bytes]) -> str:
    """One CSS rule per referenced scene that has a thumbnail, in scene order."""
    rules = []
    for scene in referenced_scenes(report):
        data = thumbnails.get(scene)
        if data is None:
            continue
        encoded = base64.b64encode(bytes(data)).decode("ascii")
        rules.append(f".s{scene}{{background-image:url(data:image/png;base64,{encoded})}}")
    return "\n".join(rules)


# -- page sections ---------------------------------------------------------------------

CSS = """
*{box-sizing:border-box}
html{background:#f4f6f9}
body{margin:0;padding:28px 32px 48px;font-family:%(font)s;color:#1c2530;
 font-size:14px;line-height:1.45;max-width:1600px;margin:0 auto}
h1{font-size:24px;margin:0 0 6px;font-weight:650;letter-spacing:-.01em;word-break:break-word}
h2{font-size:17px;margin:0 0 12px;font-weight:620}
h3{font-size:14px;margin:0 0 2px;font-weight:620}
.muted{color:#66717f}
section,header{background:#fff;border:1px solid #e1e5eb;border-radius:12px;padding:20px 22px;
 margin:0 0 20px;box-shadow:0 1px 2px rgba(20,30,50,.04)}
nav{margin:10px 0 0;font-size:13px}
nav a{color:#2d5fa8;text-decoration:none;margin-right:14px}
nav a:hover{text-decoration:underline}
.stats{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.stat{background:#f6f8fb;border:1px solid #e6eaf0;border-radius:9px;padding:8px 14px;min-width:110px}
.stat b{display:block;font-size:20px;font-weight:650;font-variant-numeric:tabular-nums}
.stat span{font-size:12px;color:#66717f}
.bigbar{height:14px;background:#e9edf2;border-radius:7px;overflow:hidden;margin:6px 0 2px}
.bigbar>div{height:100%%;background:%(bar)s;border-radius:7px}
.bar{height:8px;background:#e9edf2;border-radius:4px;overflow:hidden;min-width:120px}
.bar>div{height:100%%;background:%(bar)s}
table.data{border-collapse:collapse;font-variant-numeric:tabular-nums}
table.data th,table.data td{padding:5px 12px;border-bottom:1px solid #edf0f4;text-align:left}
table.data th{font-size:12px;color:#56616f;font-weight:600;background:#f8f9fb;position:sticky;top:0}
table.data td.n{text-align:right}
table.data tr.full td.pct{color:#1f7a4a}
.dot{color:#c4cad3}
.scroll{max-height:560px;overflow:auto;border:1px solid #edf0f4;border-radius:8px;display:inline-block;max-width:100%%}
.legend{display:flex;flex-wrap:wrap;align-items:center;gap:16px;font-size:12px;color:#56616f;margin:0 0 14px}
.legend i{display:inline-block;width:18px;height:14px;border-radius:3px;vertical-align:-3px;margin-right:5px;
 border:1px solid rgba(0,0,0,.08)}
.ramp{display:inline-block;width:120px;height:12px;border-radius:3px;vertical-align:-2px;margin:0 5px;
 background:linear-gradient(90deg,%(ramp)s)}
.cards{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.card{border:1px solid #e6eaf0;border-radius:10px;padding:12px 14px 14px;background:#fff}
.card .sub{font-size:12px;color:#66717f;margin:0 0 8px}
table.hm{border-collapse:separate;border-spacing:2px;font-size:12px;font-variant-numeric:tabular-nums}
table.hm th{font-weight:500;color:#3b4552;font-size:11.5px}
table.hm th.row{text-align:right;padding:0 6px 0 0;max-width:150px;white-space:nowrap;overflow:hidden;
 text-overflow:ellipsis}
table.hm th.col{vertical-align:bottom;padding:0 0 4px;height:1px}
table.hm th.col span{writing-mode:vertical-rl;transform:rotate(180deg);display:inline-block;
 max-height:120px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
table.hm th.corner{font-size:11px;color:#66717f;text-align:left;vertical-align:bottom;padding:0 6px 4px 0;
 white-space:nowrap}
table.hm td{width:38px;min-width:38px;height:30px;text-align:center;border-radius:4px;position:relative;
 padding:0 2px}
table.hm td.covered:hover,table.hm td.low:hover{outline:2px solid #1c2530;outline-offset:0}
td.missing{background:%(missing)s;color:%(missing_text)s;font-weight:700}
td.low{background:%(low)s;color:%(low_text)s;font-weight:600}
td.infeasible{background:repeating-linear-gradient(45deg,%(hatch_light)s 0 4px,%(hatch_dark)s 4px 8px);
 color:#98a0aa}
td.ex::after{content:"";position:absolute;top:0;right:0;border-style:solid;border-width:0 7px 7px 0;
 border-color:transparent currentColor transparent transparent;border-top-right-radius:4px;opacity:.55}
.pop{display:none;position:absolute;bottom:calc(100%% + 8px);left:50%%;transform:translateX(-50%%);
 width:112px;height:112px;background-color:#fff;background-size:contain;background-repeat:no-repeat;
 background-position:center;border:1px solid #c9d0da;border-radius:8px;
 box-shadow:0 6px 18px rgba(20,30,50,.22);z-index:20;pointer-events:none}
.pop::after{content:"scene " attr(data-scene);position:absolute;left:0;right:0;top:100%%;
 font-size:11px;color:#1c2530;background:#fff;border-radius:0 0 6px 6px;padding:1px 0;font-weight:500}
td:hover>.pop{display:block}
.hists{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
svg.hist text{font-family:%(font)s;font-size:12px;fill:#3b4552}
svg.hist text.count{fill:#56616f;font-variant-numeric:tabular-nums}
svg.hist text.zero{fill:%(zero)s;font-weight:700}
.ok{color:#1f7a4a;font-weight:600}
.bad{color:%(zero)s;font-weight:600}
footer{font-size:12px;color:#8a94a1;text-align:center}
"""


def _css() -> str:
    return CSS % {
        "font": FONT_STACK,
        "bar": BAR_COLOR,
        "ramp": ",".join(SCALE),
        "missing": MISSING_COLOR,
        "missing_text": MISSING_TEXT,
        "low": LOW_COLOR,
        "low_text": LOW_TEXT,
        "hatch_light": HATCH_LIGHT,
        "hatch_dark": HATCH_DARK,
        "zero": ZERO_COLOR,
    }


def _header(report: Mapping) -> str:
    """Title, summary stats, coverage bar and section links.

    Reads ``title, scenes, objects, strength, min_count, unit, tuples, covered,
    coverage`` (and ``split`` for the link)."""
    tuples, covered = int(report["tuples"]), int(report["covered"])
    fraction = _fraction(covered, tuples) if tuples else float(report.get("coverage", 1.0))
    pct = _pct(fraction, covered >= tuples)
    strength, unit = int(report["strength"]), report["unit"]
    min_count = int(report["min_count"])
    summary = (
        f"{_num(report['scenes'])} scenes, {_num(report['objects'])} objects; "
        f"{strength}-way coverage {_num(covered)} / {_num(tuples)} tuples ({pct}); "
        f"a tuple counts as covered with at least {_num(min_count)} "
        f"{_esc(_unit_word(unit, min_count))}"
    )
    stats = [
        (pct, f"{strength}-way coverage"),
        (f"{_num(covered)} / {_num(tuples)}", "tuples covered"),
        (_num(report["scenes"]), "scenes"),
        (_num(report["objects"]), "objects"),
        (_num(min_count), f"min_count ({_esc(unit)})"),
    ]
    cards = "".join(f'<div class="stat"><b>{v}</b><span>{label}</span></div>' for v, label in stats)
    links = [("combos", "Combinations"), ("pairs", "Pairwise heatmaps"), ("hists", "Level histograms"),
             ("missing", "Missing tuples")]
    if report.get("split") is not None:
        links.append(("split", "Split"))
    return (
        f'<header><h1>{_esc(report["title"])}</h1>'
        f'<div class="muted" id="summary">{summary}</div>'
        f'<div class="stats">{cards}</div>'
        f'<div class="bigbar" title="{pct} of feasible tuples covered">'
        f'<div style="width:{100.0 * fraction:.2f}%"></div></div>'
        f"{nav_links(links)}</header>"
    )


def nav_links(links: Sequence[Tuple[str, str]]) -> str:
    """The header's ``<nav>``: one link per (section id, label)."""
    return "<nav>" + "".join(f'<a href="#{anchor}">{label}</a>' for anchor, label in links) + "</nav>"


def _combinations(report: Mapping) -> str:
    """The ``per_combination`` table: covered, feasible, % and a bar per combination."""
    rows = []
    for name, (covered, feasible) in report.get("per_combination", {}).items():
        covered, feasible = int(covered), int(feasible)
        fraction = _fraction(covered, feasible)
        pct = _pct(fraction, covered >= feasible) if feasible else "–"
        css = ' class="full"' if feasible and covered >= feasible else ""
        rows.append(
            f"<tr{css}><td>{_esc(str(name).replace(' x ', ' × '))}</td>"
            f'<td class="n">{_num(covered)}</td><td class="n">{_num(feasible)}</td>'
            f'<td class="n pct">{pct}</td><td>{_bar(fraction)}</td></tr>'
        )
    body = "".join(rows) or '<tr><td colspan="5" class="muted">no combinations</td></tr>'
    return (
        '<section id="combos"><h2>Factor combinations</h2>'
        '<table class="data"><thead><tr><th>combination</th><th>covered</th><th>feasible</th>'
        f"<th>%</th><th></th></tr></thead><tbody>{body}</tbody></table></section>"
    )


def _cell_state(count: Optional[int], min_count: int) -> str:
    if count is None:
        return "infeasible"
    if count <= 0:
        return "missing"
    return "low" if count < min_count else "covered"


def _heatmap_cell(a: str, x: str, b: str, y: str, count: Optional[int], example: Optional[int],
                  max_count: int, min_count: int, unit: str, with_thumb: bool) -> str:
    """One ``<td>`` of a heatmap (see the module docstring for its states)."""
    state = _cell_state(count, min_count)
    if state == "infeasible":
        title = f"{a}={x}, {b}={y}: infeasible"
        return f'<td class="infeasible" data-state="infeasible" data-count="none" title="{_esc(title)}">–</td>'
    count = int(count)
    title = f"{a}={x}, {b}={y}: {_num(count)} {_unit_word(unit, count)}"
    if state == "low":
        title += f" (below min_count {min_count})"
    classes, style, pop = [state], "", ""
    if state == "covered":
        fill = count_color(count, max_count)
        style = f' style="background:{fill};color:{_text_color(fill)}"'
    if example is not None and state != "missing":
        title += f"; example: scene {int(example)}"
        if with_thumb:
            classes.append("ex")
            pop = f'<span class="pop s{int(example)}" data-scene="{int(example)}"></span>'
    attrs = f'class="{" ".join(classes)}" data-state="{state}" data-count="{count}"'
    if example is not None:
        attrs += f' data-scene="{int(example)}"'
    return f'<td {attrs}{style} title="{_esc(title)}">{_num(count)}{pop}</td>'


def _check_matrix(name: str, matrix: Sequence[Sequence], rows: int, cols: int, pair: str) -> None:
    if len(matrix) != rows or any(len(row) != cols for row in matrix):
        raise ValueError(f"pair {pair}: {name} must be {rows} x {cols} (levels of the two factors)")


def _heatmap(report: Mapping, pair: Mapping, max_count: int, thumbnails: Mapping[int, bytes]) -> str:
    """One card: the table of ``pair["counts"]`` with its examples as hover thumbnails.

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
    head = "".join(f'<th class="col" title="{_esc(y)}"><span>{_esc(y)}</span></th>' for y in cols)
    body = []
    for i, x in enumerate(rows):
        cells = "".join(
            _heatmap_cell(a, str(x), b, str(y), counts[i][j], examples[i][j], max_count, min_count, unit,
                          examples[i][j] is not None and int(examples[i][j]) in thumbnails)
            for j, y in enumerate(cols)
        )
        body.append(f'<tr><th class="row" title="{_esc(x)}">{_esc(x)}</th>{cells}</tr>')
    return (
        f'<div class="card" data-pair="{_esc(a)}|{_esc(b)}"><h3>{_esc(a)} × {_esc(b)}</h3>'
        f'<div class="sub">{covered} / {feasible} feasible cells covered'
        f"{'' if covered == feasible else f' · {feasible - covered} missing'}</div>"
        f'<table class="hm"><thead><tr><th class="corner">{_esc(a)} ↓ {_esc(b)} →</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _pairs(report: Mapping, thumbnails: Mapping[int, bytes]) -> str:
    """The heatmaps section: a shared legend and one card per entry of ``pairs``."""
    pairs = report.get("pairs", [])
    values = [int(c) for pair in pairs for row in pair["counts"] for c in row if c is not None]
    max_count = max(values, default=1)
    unit = _esc(report["unit"])
    legend = (
        '<div class="legend">'
        f"<span>1<span class=\"ramp\"></span>{_num(max_count)} {unit} (log scale)</span>"
        f'<span><i style="background:{LOW_COLOR}"></i>below min_count</span>'
        f'<span><i style="background:{MISSING_COLOR}"></i>missing (0)</span>'
        f'<span><i style="background:repeating-linear-gradient(45deg,{HATCH_LIGHT} 0 4px,{HATCH_DARK} 4px 8px)">'
        "</i>infeasible</span>"
        "<span>◥ hover for an example scene</span></div>"
    )
    cards = "".join(_heatmap(report, pair, max_count, thumbnails) for pair in pairs)
    if not cards:
        cards = '<div class="muted">no factor pairs</div>'
    return f'<section id="pairs"><h2>Pairwise heatmaps</h2>{legend}<div class="cards">{cards}</div></section>'


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _histogram(factor: str, levels: Sequence, counts: Mapping) -> str:
    """An inline SVG bar chart of the objects per level of ``factor``."""
    row_h, label_w, bar_w, count_w, top = 20, 128, 210, 64, 4
    values = [int(counts.get(str(level), counts.get(level, 0)) or 0) for level in levels]
    peak = max(values, default=0) or 1
    width, height = label_w + bar_w + count_w, top * 2 + row_h * len(levels)
    parts = [
        f'<svg class="hist" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(factor)} level counts">'
    ]
    for i, (level, value) in enumerate(zip(levels, values)):
        y = top + i * row_h
        zero = ' class="zero"' if value == 0 else ""
        parts.append(f"<g><title>{_esc(level)}: {_num(value)} objects</title>")
        if value == 0:
            parts.append(f'<rect x="0" y="{y}" width="{width}" height="{row_h - 2}" fill="#fdecec" rx="3"/>')
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end"{zero}>{_esc(_truncate(str(level), 19))}</text>'
        )
        length = bar_w * value / peak
        if value > 0:
            parts.append(
                f'<rect x="{label_w}" y="{y + 3}" width="{max(length, 1.0):.1f}" height="{row_h - 8}" '
                f'fill="{BAR_COLOR}" rx="2"/>'
            )
        else:
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="3" height="{row_h - 8}" fill="{ZERO_COLOR}"/>')
        count_class = "zero" if value == 0 else "count"
        parts.append(
            f'<text x="{label_w + max(length, 3.0) + 6:.1f}" y="{y + 13}" class="{count_class}">'
            f"{_num(value)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _histograms(report: Mapping) -> str:
    """One card per factor with its level histogram (``levels`` and ``level_counts``)."""
    cards = []
    level_counts = report.get("level_counts", {})
    for factor in report["factors"]:
        levels = list(report["levels"].get(factor, []))
        counts = level_counts.get(factor, {})
        zeros = sum(1 for level in levels if not int(counts.get(str(level), 0) or 0))
        sub = f"{len(levels)} levels" + (f" · {zeros} with no objects" if zeros else "")
        cards.append(
            f'<div class="card" data-factor="{_esc(factor)}"><h3>{_esc(factor)}</h3><div class="sub">{sub}</div>'
            f"{_histogram(str(factor), levels, counts)}</div>"
        )
    return f'<section id="hists"><h2>Level histograms</h2><div class="hists">{"".join(cards)}</div></section>'


def _missing_columns(report: Mapping, tuples: Iterable[Mapping]) -> List[str]:
    """Factors that occur in ``tuples``: report factor order first, then others as met."""
    seen: dict = {}
    for t in tuples:
        for key in t:
            seen.setdefault(str(key), None)
    ordered = [str(f) for f in report["factors"] if str(f) in seen]
    return ordered + [k for k in seen if k not in ordered]


def _missing(report: Mapping) -> str:
    """The missing tuples: the first :data:`MAX_MISSING_ROWS` and a count of the rest."""
    missing = list(report.get("missing", []))
    shown = missing[:MAX_MISSING_ROWS]
    min_count, unit = int(report["min_count"]), report["unit"]
    intro = (
        f"{_num(len(missing))} feasible {int(report['strength'])}-tuples seen fewer than "
        f"{_num(min_count)} {_esc(_unit_word(unit, min_count))}."
    )
    if not missing:
        return (
            '<section id="missing"><h2>Missing tuples</h2>'
            '<p class="ok">None: every feasible tuple is covered.</p></section>'
        )
    columns = _missing_columns(report, shown)
    head = "<th>#</th>" + "".join(f"<th>{_esc(c)}</th>" for c in columns)
    rows = []
    for i, t in enumerate(shown, 1):
        rows.append(f'<tr><td class="n muted">{i}</td>{tuple_cells(t, columns)}</tr>')
    more = len(missing) - len(shown)
    tail = f'<p class="muted" id="missing-more">… and {_num(more)} more</p>' if more > 0 else ""
    return (
        f'<section id="missing"><h2>Missing tuples</h2><p class="muted">{intro}</p>'
        f'<div class="scroll"><table class="data" id="missing-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{tail}</section>"
    )


def tuple_cells(t: Mapping, columns: Sequence[str]) -> str:
    """One ``<td>`` per column: the tuple's level of that factor, or a dot."""
    plain = {str(k): v for k, v in t.items()}
    return "".join(f"<td>{_esc(plain[c])}</td>" if c in plain else '<td class="dot">·</td>' for c in columns)


def _tuple_text(t: Any) -> str:
    """A held-out entry: ``{factor: level}`` as ``factor=level, ...``, anything else as text."""
    if isinstance(t, Mapping):
        return ", ".join(f"{k}={v}" for k, v in t.items())
    return str(t)


def _split(report: Mapping) -> str:
    """The ``split`` entry as a small table (empty string when absent).

    Known keys: ``held_out`` (list of ``{factor: level}``), ``train_scenes``,
    ``test_scenes``, ``guarantees`` (``{name: bool}``); other keys are shown as text."""
    split = report.get("split")
    if split is None:
        return ""
    rows = []
    for key, value in split.items():
        if key == "held_out":
            items = "<br>".join(_esc(_tuple_text(t)) for t in value) or '<span class="muted">none</span>'
            rows.append(f"<tr><th>held out</th><td>{items}</td></tr>")
        elif key == "guarantees" and isinstance(value, Mapping):
            marks = "<br>".join(
                f'<span class="{"ok" if ok else "bad"}">{"✓" if ok else "✗"}</span> {_esc(name)}'
                for name, ok in value.items()
            ) or '<span class="muted">none</span>'
            rows.append(f"<tr><th>guarantees</th><td>{marks}</td></tr>")
        else:
            shown = _num(value) if isinstance(value, int) and not isinstance(value, bool) else _esc(value)
            rows.append(f"<tr><th>{_esc(str(key).replace('_', ' '))}</th><td>{shown}</td></tr>")
    return f'<section id="split"><h2>Split</h2><table class="data" id="split-table">{"".join(rows)}</table></section>'


# -- public API ------------------------------------------------------------------------


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
    thumbs = {int(k): v for k, v in thumbnails.items()}
    title = _esc(report["title"])
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    body = "".join([
        _header(report),
        _combinations(report),
        _pairs(report, thumbs),
        _histograms(report),
        _missing(report),
        _split(report),
        '<footer>generated by scenegen · self-contained page, no network access</footer>',
    ])
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>\n<style>{_css()}</style>\n"
        f"<style>\n{_thumbnail_css(report, thumbs)}\n</style>\n"
        f"</head><body>\n{body}\n</body></html>\n"
    )


def write_html(path, report: dict, thumbnails: Mapping[int, bytes]) -> Path:
    """Render ``report`` (see :func:`render_html`) and write it to ``path`` as UTF-8,
    atomically; returns ``path`` as a :class:`~pathlib.Path`."""
    path = Path(os.fspath(path))
    atomic_write_bytes(path, render_html(report, thumbnails).encode("utf-8"))
    return path
