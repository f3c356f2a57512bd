"""The coverage report of a dataset folder: what ``scenegen coverage DIR`` prints (or,
as HTML, writes), as one call of the Python API (:func:`coverage_report`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence, Union

from ..dataset.layout import COVERAGE_HTML, MANIFEST
from ..dataset.read import dataset_config, read_coverage, read_manifest, require_folder
from ..errors import ConfigError
from .tway import format_report, format_split, tway_of, write_html_report

FORMATS = ("text", "md", "markdown", "json", "dict", "html")
DEFAULT_STRENGTH = 2  # of the t-way report, when a format other than text asks for one


def coverage_report(dataset: Union[str, Path], strength: Optional[int] = None,
                    factors: Union[str, Sequence[str], None] = None, min_count: int = 1, unit: str = "objects",
                    format: str = "text", out: Union[str, Path, None] = None,
                    details: Optional[dict] = None) -> Union[str, dict, Path]:
    """The coverage of the dataset folder ``dataset``, as ``scenegen coverage`` shows it.

    With ``format="text"`` and neither ``strength`` nor ``factors``: the summary table of
    its ``coverage.json`` (combinations, per-factor counts) and its held-out split.
    Otherwise the t-way coverage of ``factors`` (a list or ``"a,b"``; default: the
    dataset's ``design_factors``) of strength ``strength`` (default 2), counted in
    ``unit`` (``"objects"`` or ``"scenes"``), a tuple covered once ``min_count`` of them
    show it (:meth:`scenegen.design.coverage.CoverageTracker.tway`).

    Args:
        format: ``"text"``, ``"md"`` (or ``"markdown"``), ``"json"`` (the report as JSON
            text), ``"dict"`` (the report itself) or ``"html"`` (a self-contained page with
            thumbnails, written to ``out``, default ``DATASET/coverage.html``).
        details: when given, filled with the t-way report's dict (for ``"html"``: what the
            page shows).

    Returns:
        The report's text (without a final newline) or dict; for ``"html"`` the path
        written.

    Raises:
        ConfigError: no such folder, an unknown format, factor or unit, a strength outside
            1..len(factors), ``min_count`` < 1.
        ScenegenError: a folder that is not a dataset, or a damaged one.
    """
    if format not in FORMATS:
        raise ConfigError(f"format {format!r} is unknown; valid: {', '.join(map(repr, FORMATS))}")
    style = "md" if format == "markdown" else format
    root = require_folder(dataset)
    tracker = read_coverage(root)
    summary = strength is None and style == "text" and factors is None
    # the summary shows the split when there is a manifest; a t-way report needs its config
    manifest = read_manifest(root) if not summary or (root / MANIFEST).is_file() else None
    split = manifest.get("split") if manifest else None
    order = list(tracker.levels)
    if summary:
        return tracker.format_table() + (format_split(split, factor_order=order) if split else "")
    if isinstance(factors, str):
        factors = factors.split(",")
    strength = DEFAULT_STRENGTH if strength is None else strength
    report = tway_of(tracker, dataset_config(root, manifest), strength,
                     list(factors) if factors is not None else None, min_count, unit)
    if details is not None:
        details.update(report)
    if style == "dict":
        return {**report, "split": split} if split else report
    if style == "html":
        return Path(write_html_report(root, tracker, report, out if out is not None else root / COVERAGE_HTML, split))
    return format_report(report, style, split=split, factor_order=order)
