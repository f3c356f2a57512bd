"""Where the shipped data lives.

In an installed wheel, ``conf/`` and ``assets/`` sit inside the package
(``scenegen/conf``, ``scenegen/assets``); in a source checkout they sit at the
repository root beside the package. Every lookup of shipped data goes through here.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"scenegen's {name}/ folder is missing: looked in {_PACKAGE_DIR / name} and "
        f"{_PACKAGE_DIR.parent / name}; reinstall scenegen"
    )


def conf_dir() -> Path:
    """Absolute path of the Hydra config tree."""
    return _data_dir("conf")


def assets_dir() -> Path:
    """Absolute path of the shipped assets (meshes, dictionary data)."""
    return _data_dir("assets")


def cache_dir() -> Path:
    """Where scenegen keeps what it can rebuild (library indexes, composed configs):
    ``$SCENEGEN_CACHE``, else ``$XDG_CACHE_HOME/scenegen``, else ``~/.cache/scenegen``."""
    if os.environ.get("SCENEGEN_CACHE"):
        return Path(os.environ["SCENEGEN_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "scenegen"
