"""The HTML page kit: what every self-contained report page shares.

A page is one ``.html`` file that needs nothing else: no network access at all (no
external CSS, scripts, fonts or images; a Content-Security-Policy meta tag forbids
them), no JavaScript, the packaged ``templates/report.css`` inline with the page's
colours as CSS custom properties (:func:`scenegen.reports.palette.css_variables`), and
images as base64 ``data:`` URIs, each embedded once as a CSS class however many
elements show it. Pages extend ``templates/base.html`` (head, styles, thumbnails,
footer) and use the macros of ``templates/kit.html`` (navigation, summary cards, bars,
heatmap cards, tuple cells); the Python of a page only prepares its data. Templates are
autoescaped, and a page depends only on its inputs, so the same inputs give the same
bytes.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any, Iterable, List, Mapping, Sequence, Tuple

from PIL import Image

from ..fileio import atomic_write_bytes


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


def embedded_thumbnails(prefix: str, ids: Iterable[int], thumbnails: Mapping[int, bytes]) -> List[Tuple[str, str]]:
    """``(CSS class, base64 PNG)`` for each of ``ids`` that has a thumbnail, in id
    order; the class is ``prefix`` and the id (``s12``)."""
    return [(f"{prefix}{i}", base64.b64encode(bytes(thumbnails[i])).decode("ascii"))
            for i in sorted(set(ids)) if i in thumbnails]


def int_keys(thumbnails: Mapping[Any, bytes]) -> dict:
    """``thumbnails`` with integer keys."""
    return {int(k): v for k, v in thumbnails.items()}


def plain_tuple(t: Mapping) -> dict:
    """A ``{factor: level}`` tuple with text keys."""
    return {str(k): v for k, v in t.items()}


def tuple_columns(factors: Sequence, tuples: Iterable[Mapping]) -> List[str]:
    """The factors that occur in ``tuples``: those of ``factors`` first, in its order,
    then the others as met."""
    seen: dict = {}
    for t in tuples:
        for key in t:
            seen.setdefault(str(key), None)
    ordered = [str(f) for f in factors if str(f) in seen]
    return ordered + [k for k in seen if k not in ordered]


def write_page(path, page: str) -> Path:
    """Write ``page`` to ``path`` as UTF-8, atomically (temporary file + rename);
    returns ``path`` as a :class:`~pathlib.Path`."""
    path = Path(os.fspath(path))
    atomic_write_bytes(path, page.encode("utf-8"))
    return path
