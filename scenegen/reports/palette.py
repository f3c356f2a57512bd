"""The colours of the report pages, in one place: the Python computes cell fills with
them, and the pages hand them to the packaged CSS as custom properties (``--low``, ...).
"""

from __future__ import annotations

import math
from typing import Dict, Sequence, Tuple

MISSING_COLOR = "#f6c4c0"  # a heatmap cell with count 0
MISSING_TEXT = "#a61b1b"
LOW_COLOR = "#ffdf9e"  # 0 < count < min_count
LOW_TEXT = "#7a4a00"
HATCH_LIGHT = "#eef0f3"  # infeasible / no data: alternating stripes of these two greys
HATCH_DARK = "#dcdfe5"
# sequential scale of covered cells, from the smallest count to the largest
SCALE: Tuple[str, ...] = ("#d3eeea", "#9fd8cf", "#63bcb4", "#35999d", "#237488", "#1d5170", "#1a3357")
BAR_COLOR = "#3a78d4"  # coverage, histogram and accuracy bars
ZERO_COLOR = "#d23b3b"  # levels with no objects, accuracies below the rest


def hex_to_rgb(color: str) -> Tuple[int, int, int]:
    """``"#rrggbb"`` as three 0..255 integers."""
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def scale_color(scale: Sequence[str], t: float) -> str:
    """The ``#rrggbb`` at ``t`` (clipped to [0, 1]) along ``scale``, whose stops are
    equally spaced, interpolated linearly per channel."""
    position = min(1.0, max(0.0, float(t))) * (len(scale) - 1)
    low = min(int(position), len(scale) - 2)
    frac = position - low
    a, b = hex_to_rgb(scale[low]), hex_to_rgb(scale[low + 1])
    return "#%02x%02x%02x" % tuple(int(round(x + (y - x) * frac)) for x, y in zip(a, b))


def count_color(count: int, max_count: int) -> str:
    """The fill of a covered heatmap cell: ``count`` placed on :data:`SCALE` by
    ``log(count) / log(max_count)`` (the first stop when ``max_count`` <= 1)."""
    if max_count <= 1 or count <= 1:
        return scale_color(SCALE, 0.0 if max_count > 1 else 1.0)
    return scale_color(SCALE, math.log(count) / math.log(max_count))


def text_color(fill: str) -> str:
    """Dark or white text, whichever reads better on ``fill``."""
    r, g, b = hex_to_rgb(fill)
    return "#10202b" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#ffffff"


def css_variables(**more: str) -> Dict[str, str]:
    """The custom properties the packaged ``report.css`` reads (name without ``--``),
    plus ``more`` (a page's own colours; ``_`` in a name becomes ``-``)."""
    colors = {
        "bar": BAR_COLOR, "zero": ZERO_COLOR, "ramp": ",".join(SCALE),
        "missing": MISSING_COLOR, "missing-text": MISSING_TEXT, "low": LOW_COLOR, "low-text": LOW_TEXT,
        "hatch-light": HATCH_LIGHT, "hatch-dark": HATCH_DARK,
    }
    colors.update({name.replace("_", "-"): value for name, value in more.items()})
    return colors
