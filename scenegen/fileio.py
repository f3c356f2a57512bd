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
import math
import os
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


# permissions of ordinary new folders under the process umask (mkdtemp's are 0700)
FOLDER_MODE = 0o777 & ~_umask()

_IN_FLIGHT: set = set()  # this process's temporary files not yet moved into place or removed
_IN_FLIGHT_LOCK = threading.Lock()  # held for good by abandon_writes: no temporary file starts after it


# flags of a new temporary file, as tempfile.mkstemp opens one (but write-only); its
# permissions are an ordinary new file's (0o666 under the umask or the folder's ACL)
_TEMPORARY_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_TEMPORARY_TRIES = 100


def _temporary_beside(path: str) -> tuple[int, str]:
    """A new temporary file in ``path``'s folder, ``.NAME.XXXXXXXX.tmp`` (8 random hex
    digits, :data:`scenegen.dataset.layout.TEMPORARY_NAME`), registered as in flight:
    (fd, its path). Made here, not by ``tempfile.mkstemp`` (same name pattern and open
    flags): mkstemp's Python took 25 of the 65 us a small file's whole atomic write took.

    Raises:
        FileNotFoundError: the folder does not exist.
    """
    folder, name = os.path.split(path)
    with _IN_FLIGHT_LOCK:
        for _ in range(_TEMPORARY_TRIES):
            tmp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
            try:
                fd = os.open(tmp, _TEMPORARY_FLAGS, 0o666)
            except FileExistsError:
                continue
            _IN_FLIGHT.add(tmp)
            return fd, tmp
    raise FileExistsError(f"no unused temporary name beside {path} in {_TEMPORARY_TRIES} tries")


def _temporary_in_folder(path: str) -> tuple[int, str]:
    """:func:`_temporary_beside`, making ``path``'s folder (and its parents) first where it
    is missing (tried after the file: the folder is there for all but a dataset's first
    file of each kind)."""
    try:
        return _temporary_beside(path)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return _temporary_beside(path)


def _discard(tmp: str) -> None:
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT.discard(tmp)


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
def _moved_into_place(path: str) -> Iterator[int]:
    """The descriptor of a new temporary file beside ``path`` (the block closes it): moved
    to ``path`` when the block ends without an error, else removed."""
    fd, tmp = _temporary_in_folder(path)
    try:
        yield fd
        os.replace(tmp, path)
    except BaseException:
        _remove_if_there(tmp)
        raise
    finally:
        _discard(tmp)


@contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file handle whose content appears at ``path`` only when the block ends
    without an error (temporary file in the same folder + ``os.replace``), with the
    permissions an ordinary new file gets; on an error nothing is left behind."""
    with _moved_into_place(os.fspath(path)) as fd, os.fdopen(fd, "wb") as handle:
        yield handle


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (as :func:`atomic_writer` does; with
    ``os.write`` in place of a file object: a scene's files are written here)."""
    with _moved_into_place(os.fspath(path)) as fd:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)


def to_plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples into plain JSON-able Python values."""
    cls = type(value)
    if cls is str or cls is float or cls is int or cls is bool or value is None:
        return value
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
    """Canonical JSON text: sorted keys, plain Python numbers, trailing newline (the text
    of ``json.dumps(to_plain(obj), sort_keys=True, indent=1, allow_nan=False)``)."""
    out: list = []
    _encode(obj, "\n", out)
    out.append("\n")
    return "".join(out)


def nested_json(obj: Any, level: int) -> str:
    """The text :func:`dumps_json` gives ``obj`` where it stands nested ``level`` deep in
    a larger value (a value of a top-level key: 1; an item of that list: 2), without the
    indentation before its first line. Pieces of canonical JSON made one at a time (a
    scene's annotations, say) and written one after another give the bytes of
    ``dumps_json`` of the whole (:class:`JsonList`)."""
    out: list = []
    _encode(obj, "\n" + " " * level, out)
    return "".join(out)


_encode_str = json.encoder.encode_basestring_ascii  # json's own (ensure_ascii)
_int_text = int.__repr__
_float_text = float.__repr__
_isfinite = math.isfinite


def _encode(value: Any, newline: str, out: list) -> None:
    """Append to ``out`` the pieces of the text ``json.dumps(to_plain(value),
    sort_keys=True, indent=1, allow_nan=False)`` gives ``value``, with ``newline`` (a
    newline and the indentation of ``value``'s level) starting each line after its first.

    Plain values (str, int, float, bool, None, and dicts with str keys, lists and tuples
    of them) are written as they are, the scalars among a container's items without a
    call; anything else goes through :func:`to_plain` and json's rules for what it gives
    (a ``float`` or ``int`` subclass as its number, a ``str`` subclass as its text, other
    types refused), so the text is json's for every value."""
    cls = type(value)
    if cls is dict:
        if not value:
            out.append("{}")
            return
        if not all(type(key) is str for key in value):
            _encode(to_plain(value), newline, out)
            return
        inner = newline + " "
        separator = "{" + inner
        for key in sorted(value):
            item = value[key]
            kind = type(item)
            if kind is float and _isfinite(item):
                out.append(f"{separator}{_encode_str(key)}: {_float_text(item)}")
            elif kind is str:
                out.append(f"{separator}{_encode_str(key)}: {_encode_str(item)}")
            elif kind is int:
                out.append(f"{separator}{_encode_str(key)}: {_int_text(item)}")
            else:
                out.append(f"{separator}{_encode_str(key)}: ")
                _encode(item, inner, out)
            separator = "," + inner
        out.append(newline + "}")
    elif cls is list or cls is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + " "
        separator = "[" + inner
        for item in value:
            kind = type(item)
            if kind is float and _isfinite(item):
                out.append(separator + _float_text(item))
            elif kind is int:
                out.append(separator + _int_text(item))
            elif kind is str:
                out.append(separator + _encode_str(item))
            else:
                out.append(separator)
                _encode(item, inner, out)
            separator = "," + inner
        out.append(newline + "]")
    elif cls is str:
        out.append(_encode_str(value))
    elif cls is int:
        out.append(_int_text(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif cls is float:
        if not _isfinite(value):
            raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
        out.append(_float_text(value))
    else:
        plain = to_plain(value)  # a numpy value, a dict, list or tuple subclass: converted
        if plain is not value:
            _encode(plain, newline, out)
        elif isinstance(value, str):
            out.append(_encode_str(value))
        elif isinstance(value, int):
            out.append(_int_text(value))
        elif isinstance(value, float):
            _encode(float(value), newline, out)
        else:
            raise TypeError(f"Object of type {cls.__name__} is not JSON serializable")


class JsonList:
    """Writes a JSON list one item at a time, as :func:`dumps_json` writes it, to
    ``write`` (a function taking text): the list stands ``level`` deep (the value of a
    top-level key: 1) and each item comes as its :func:`nested_json` at ``level + 1``.
    :meth:`close` writes the end (``[]`` for no item)."""

    def __init__(self, write, level: int):
        self.write, self.level, self.count = write, int(level), 0
        self._before = "[\n" + " " * (self.level + 1)
        self._between = ",\n" + " " * (self.level + 1)

    def add(self, text: str) -> None:
        self.write((self._between if self.count else self._before) + text)
        self.count += 1

    def close(self) -> None:
        self.write("\n" + " " * self.level + "]" if self.count else "[]")


class JsonDict(JsonList):
    """Like :class:`JsonList`, for a dict given key by key, keys in the order
    :func:`dumps_json` sorts them (the caller's to keep) and each value as its
    :func:`nested_json` at ``level + 1``."""

    def __init__(self, write, level: int):
        super().__init__(write, level)
        self._before = "{\n" + " " * (self.level + 1)

    def add_item(self, key: str, text: str) -> None:
        self.add(json.dumps(str(key)) + ": " + text)

    def close(self) -> None:
        self.write("\n" + " " * self.level + "}" if self.count else "{}")


class HashingWriter:
    """``write(text or bytes)`` into a binary ``handle`` (text as UTF-8), keeping the
    sha256 of everything written (:attr:`hexdigest`), so that a file written once need
    not be read again to be listed in a manifest."""

    def __init__(self, handle: BinaryIO):
        self.handle, self._digest = handle, hashlib.sha256()

    def write(self, data) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._digest.update(data)
        self.handle.write(data)

    @property
    def hexdigest(self) -> str:
        return self._digest.hexdigest()


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
