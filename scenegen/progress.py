"""Progress bars on stderr for long work (generation, probing)."""

from __future__ import annotations

import sys
from typing import Optional


def wanted(cfg, progress: Optional[bool]) -> bool:
    """``progress`` when given, else ``cfg.progress`` and only when stderr is a terminal."""
    if progress is not None:
        return bool(progress)
    return bool(cfg.progress) and sys.stderr.isatty()


def progress_bar(total: int, enabled: bool, desc: Optional[str] = None):
    """A tqdm bar counting scenes on stderr (a no-op bar when not ``enabled``)."""
    from tqdm import tqdm  # noqa: PLC0415 (only commands that show one need it)

    return tqdm(total=total, unit="scene", file=sys.stderr, disable=not enabled, dynamic_ncols=True, desc=desc)
