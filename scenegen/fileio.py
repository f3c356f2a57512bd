"""Atomic file writing and canonical JSON.

Every file scenegen writes goes through :func:`atomic_write_bytes`: it is written to a
temporary name in the same folder and moved into place with ``os.replace``, so a crash
never leaves a torn file under the final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


# permissions of ordinary new files and folders under the process umask (mkstemp's
# files are 0600 and mkdtemp's folders 0700)
_FILE_MODE = 0o666 & ~_umask()
FOLDER_MODE = 0o777 & ~_umask()


@contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file handle whose content appears at ``path`` only when the block ends
    without an error (temporary file in the same folder + ``os.replace``), with the
    permissions an ordinary new file gets; on an error nothing is left behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path) as handle:
        handle.write(data)


def to_plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples into plain JSON-able Python values."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def dumps_json(obj: Any) -> str:
    """Canonical JSON text: sorted keys, plain Python numbers, trailing newline."""
    return json.dumps(to_plain(obj), sort_keys=True, indent=1, allow_nan=False) + "\n"


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as canonical JSON, atomically."""
    atomic_write_bytes(path, dumps_json(obj).encode("utf-8"))


def read_json(path: str | os.PathLike) -> Any:
    with open(path, "r", encoding="utf-8") as handle:
        return json.load(handle)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
