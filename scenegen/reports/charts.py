"""The geometry of an inline SVG line chart (``templates/charts.html`` draws it)."""

from __future__ import annotations

import math
from typing import Callable, List, Optional, Sequence, Tuple

from .formatting import num

# (x, y, tooltip); y None is a gap in the line
Point = Tuple[float, Optional[float], str]
MARGINS = (52, 110, 12, 36)  # left, right, top, bottom, px
GRID = "#edf0f4"
AXIS = "#c9d0da"


def nice_step(span: float, ticks: int = 6) -> float:
    """A 1/2/5 x 10^k step that cuts ``span`` into at most about ``ticks`` parts."""
    raw = max(span, 1e-12) / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1.0, 2.0, 5.0, 10.0) if m * magnitude >= raw)


def line_chart(series: Sequence[Tuple[str, str, bool, Sequence[Point]]], x_max: float, y_range: Tuple[float, float],
               y_format: Callable[[float], str], ref: Optional[Tuple[float, str, str]] = None,
               x_label: str = "renders", width: int = 760, height: int = 250, label: str = "") -> dict:
    """A line chart of ``series`` over x in [0, ``x_max``] (integer ticks, thousands
    separated) and y in ``y_range``, for the ``line_chart`` macro.

    Args:
        series: ``(name, colour, dashed, points)``; each point with a y gets a marker
            whose tooltip is its text, and a None y breaks the line.
        y_format: y value -> tick text (five ticks, bottom to top).
        ref: ``(y, text, colour)`` drawn as a dashed horizontal reference line.
        label: the chart's accessible name.
    """
    left, right, top, bottom = MARGINS
    plot_w, plot_h = width - left - right, height - top - bottom
    x_max = max(float(x_max), 1.0)
    low, high = float(y_range[0]), float(y_range[1])
    high = high if high > low else low + 1.0

    def sx(x: float) -> float:
        return left + plot_w * min(max(float(x), 0.0), x_max) / x_max

    def sy(y: float) -> float:
        return top + plot_h * (1.0 - (min(max(float(y), low), high) - low) / (high - low))

    y_ticks = [{"y": sy(low + (high - low) * i / 4), "color": AXIS if i == 0 else GRID,
                "text": y_format(low + (high - low) * i / 4)} for i in range(5)]
    step = max(1.0, nice_step(x_max))
    x_ticks = [{"x": sx(k * step), "text": num(int(round(k * step)))} for k in range(int(x_max // step) + 1)]
    lines = []
    for name, color, dashed, points in series:
        runs: List[List[Tuple[float, float]]] = [[]]
        for x, y, _ in points:
            if y is None:
                runs.append([])
            else:
                runs[-1].append((sx(x), sy(y)))
        paths = [" ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(run))
                 for run in runs if len(run) > 1]
        marks = [{"x": sx(x), "y": sy(y), "title": title} for x, y, title in points if y is not None]
        lines.append({"name": name, "color": color, "dashed": dashed, "paths": paths, "marks": marks})
    return {
        "width": width, "height": height, "label": label, "left": left, "right": left + plot_w,
        "axis_y": top + plot_h, "y_ticks": y_ticks, "x_ticks": x_ticks, "x_label": x_label,
        "x_label_x": left + plot_w / 2, "x_label_y": height - 4,
        "ref": None if ref is None else {"y": sy(ref[0]), "text": ref[1], "color": ref[2]},
        "series": lines, "grid": GRID, "axis": AXIS,
    }
