"""Atomic file writing, canonical JSON, and reading users' small YAML files.

Every file scenegen writes goes through :func:`atomic_write_bytes`: it is written to a
temporary name in the same folder and moved into place with ``os.replace``, so a crash
never leaves a torn file under the final name. The process keeps a register of its
temporary files in flight, so that a worker told to stop at once (its coordinator died)
removes them before it ends (:func:`abandon_writes`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np
import yaml

from .errors import ConfigError, DamagedFileError


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


# permissions of ordinary new files and folders under the process umask (mkstemp's
# files are 0600 and mkdtemp's folders 0700)
_FILE_MODE = 0o666 & ~_umask()
FOLDER_MODE = 0o777 & ~_umask()

_IN_FLIGHT: set = set()  # this process's temporary files not yet moved into place or removed
_IN_FLIGHT_LOCK = threading.Lock()  # held for good by abandon_writes: no temporary file starts after it


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new temporary file in ``path``'s folder, registered as in flight: (fd, its path)."""
    with _IN_FLIGHT_LOCK:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        _IN_FLIGHT.add(tmp)
    return fd, tmp


def abandon_writes() -> None:
    """Remove this process's temporary files in flight and block every writer from
    starting another or leaving its register (the lock is never released): for a
    process that ends with ``os._exit`` right after, called from a thread that writes
    nothing (not from a signal handler: the code it interrupts may hold the lock). A
    writer moving its file into place meanwhile either finishes (a whole file) or finds
    its temporary file gone; either way no partial file stays."""
    _IN_FLIGHT_LOCK.acquire()
    for tmp in _IN_FLIGHT:
        _remove_if_there(tmp)


def _remove_if_there(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


@contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file handle whose content appears at ``path`` only when the block ends
    without an error (temporary file in the same folder + ``os.replace``), with the
    permissions an ordinary new file gets; on an error nothing is left behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary_beside(path)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        _remove_if_there(tmp)
        raise
    finally:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.discard(tmp)


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
    """The JSON value in ``path``.

    Raises:
        DamagedFileError: the file is not valid UTF-8 JSON (naming the file).
        OSError: it cannot be read.
    """
    with open(path, "r", encoding="utf-8") as handle:
        try:
            return json.load(handle)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
            raise DamagedFileError(f"{os.fspath(path)} is damaged: it is not valid JSON ({exc})") from exc


def read_yaml(path: str | os.PathLike) -> Any:
    """The YAML document of the file ``path`` (``yaml.safe_load``): None when there is no
    such file or it is empty.

    Raises:
        ConfigError: the file is not valid YAML (or not text), naming it.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        return yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
