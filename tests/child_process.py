"""A second Python process for the cache tests: what one process keeps in the cache
folder, another reads."""

import os
import subprocess
import sys
from pathlib import Path


def python_output(code: str, cache_root: Path) -> str:
    """The stripped output of ``python -c code`` in a new process whose cache folder
    (``SCENEGEN_CACHE``) is ``cache_root``. It starts in ``cache_root``, outside the
    checkout, so it imports the scenegen this process imported (the installed one in CI),
    whose source keys the cache."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                          env={**os.environ, "SCENEGEN_CACHE": str(cache_root)}, cwd=cache_root)
    return done.stdout.strip()


def in_process_output(code: str) -> str:
    """What ``code`` prints when run in this process (its ``print`` calls collected)."""
    printed: list = []
    exec(code, {"print": lambda *values: printed.append(" ".join(map(str, values)))})
    return "\n".join(printed)
