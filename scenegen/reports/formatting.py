"""Numbers and words as the reports print them; the templates use them as filters."""

from __future__ import annotations

from typing import Any


def num(value: Any) -> str:
    """An integer with thousands separators: ``12,345``."""
    return f"{int(value):,}"


def fixed(value: Any, digits: int = 1) -> str:
    """``value`` with ``digits`` decimals (coordinates, widths in %)."""
    return f"{float(value):.{digits}f}"


def fraction(part: int, whole: int) -> float:
    """``part / whole``; 1.0 when ``whole`` is 0 (nothing to cover is all covered)."""
    return part / whole if whole else 1.0


def pct(value: float, complete: bool) -> str:
    """A fraction as a percentage with one decimal; never "100.0%" unless ``complete``."""
    text = f"{100.0 * value:.1f}%"
    if text == "100.0%" and not complete:
        text = "99.9%"
    return text


def unit_word(unit: str, n: int) -> str:
    """``"objects"``/``"scenes"`` for ``n``, singular when ``n`` is 1."""
    unit = str(unit)
    return unit[:-1] if n == 1 and unit.endswith("s") else unit


def plural(n: int, word: str) -> str:
    """``word`` with an ``s`` unless ``n`` is 1."""
    return word if n == 1 else word + "s"


def truncate(text: Any, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when cut."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
