"""Render an HTML report in headless Chromium and check that the screenshot is not blank.

    python benchmarks/check_html_report.py coverage.html shot.png
    python benchmarks/check_html_report.py coverage.html shot.png --size 1200,2000

Finds ``chromium``, ``chromium-browser``, ``google-chrome`` or ``google-chrome-stable``
on PATH, takes a screenshot of the page (``file://`` URL, a throw-away profile, no
network-related background services), then prints the screenshot size and its number
of distinct colours. Exit status: 0 when fine, 2 when no browser is found, 1 when the
browser fails or the screenshot is missing or blank (fewer than ``--min-colors``
distinct colours).

The helpers :func:`find_browser`, :func:`screenshot` and :func:`distinct_colors` are
also used by ``tests/reports/test_report_html.py``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
from PIL import Image

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> Optional[str]:
    """The path of the first headless-capable Chromium found on PATH, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(browser: str, html_path, png_path, size: Tuple[int, int] = (1200, 2000),
               timeout: float = 60.0) -> Path:
    """Screenshot ``html_path`` at ``size`` (width, height) into ``png_path``.

    Raises:
        RuntimeError: the browser failed, timed out, or wrote no screenshot.
    """
    html_path, png_path = Path(html_path).resolve(), Path(png_path).resolve()
    png_path.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="scenegen-chromium-") as profile:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", "--force-color-profile=srgb", "--force-device-scale-factor=1",
            f"--user-data-dir={profile}", f"--screenshot={png_path}", f"--window-size={size[0]},{size[1]}",
            html_path.as_uri(),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"{browser} timed out after {timeout} s") from exc
    if not png_path.is_file():
        raise RuntimeError(f"{browser} wrote no screenshot (exit {result.returncode}): {result.stderr[-2000:]}")
    return png_path


def distinct_colors(png_path) -> int:
    """The number of distinct RGB colours in the image at ``png_path``."""
    with Image.open(png_path) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return int(np.unique(packed).size)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the HTML file to render")
    parser.add_argument("png", type=Path, help="where to write the screenshot")
    parser.add_argument("--size", default="1200,2000", help="window WIDTH,HEIGHT (default 1200,2000)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the browser")
    parser.add_argument("--min-colors", type=int, default=16, help="fewer distinct colours count as blank")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split(","))
    browser = find_browser()
    if browser is None:
        print(f"no headless browser found (looked for {', '.join(BROWSERS)})", file=sys.stderr)
        return 2
    if not args.html.is_file():
        print(f"no such file: {args.html}", file=sys.stderr)
        return 1
    try:
        png = screenshot(browser, args.html, args.png, (width, height), args.timeout)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    with Image.open(png) as image:
        shot_size = image.size
    colors = distinct_colors(png)
    print(f"screenshot {png}: {shot_size[0]}x{shot_size[1]} px, {colors} distinct colours")
    if colors < args.min_colors:
        print(f"blank: fewer than {args.min_colors} distinct colours", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
