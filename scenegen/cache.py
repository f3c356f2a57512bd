"""Pure data kept across processes in ``cache_dir()``, under a sha256 of what it is made of.

Every command starts by compiling the same things again: the object dictionary (its
shapes' extents), the coverage universe of a config (about a thousand directive checks)
and the feasible tuples of that universe (a search). They are pure functions of the
config's values, the bytes of the mesh files it names and scenegen's own source, so
their results are kept here, keyed by exactly those (:func:`content_key`): a change of
any of them gives another key, and the result is worked out again. Nothing is ever
trusted beyond its key: an unreadable, torn or malformed file counts as missing.

A file is JSON (``load_json``/``store_json``), text checked by its sha256
(``load_text``/``store_text``) or raw bytes (``load_bytes``/``store_bytes``; arrays packed by ``pack_arrays``/``unpack_arrays``, and ``kept_arrays`` for
the whole read-else-make-and-keep), written atomically; a folder that cannot be written
costs time, not correctness.

Every key holds scenegen's source (:func:`source_fingerprint`), so a new version (or an
edited checkout) never reads what an older one kept. The files of one source live
together in a *generation* folder, ``cache_dir()/src-<fingerprint>/<kind>/``
(:func:`kind_dir`), and a process stamps its generation when it first uses it: the
:data:`GENERATIONS_KEPT` generations used last stay, older ones (and the kind folders of
the layout before generations) are removed then (:func:`prune_generations`), so the
folder does not grow by a full set of files per upgrade for ever.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from ._version import __version__
from .fileio import atomic_write_bytes
from .resources import cache_dir

_PACKAGE = Path(__file__).resolve().parent
# the libraries whose numbers a kept result may hold (shapes, hulls, sums)
_LIBRARIES = ("numpy", "scipy", "trimesh")
GENERATIONS_KEPT = 3  # source generations kept: the one in use and the two used last before it
GENERATION_PREFIX = "src-"  # then the first 16 hex digits of the source fingerprint
STAMP = "last-used"  # the file of a generation folder whose modification time is its last first use
# the kind folders kept directly in cache_dir() before generations (never read again)
LEGACY_KINDS = ("dictionary", "primitives", "composed", "geometry", "environments", "environment-sky",
                "texture-sets", "universes", "feasible-tuples", "config-yaml")


@lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """sha256 of scenegen's version, the names and bytes of every ``.py`` file of the
    package and the versions of the numeric libraries (the same for the life of the
    process): a kept result is one of this code."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 (only for a key)

    digest = hashlib.sha256(__version__.encode() + b"\0")
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={version(name)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=none\0".encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def content_key(kind: str, *parts: Any) -> str:
    """The key of a result of ``kind`` made of ``parts`` (JSON-able, keys sorted) by this
    source (:func:`source_fingerprint`)."""
    text = json.dumps([kind, source_fingerprint(), parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def array_digest(*arrays) -> str:
    """sha256 of ``arrays`` (any number, each made C-contiguous): each one's dtype, shape
    and bytes in turn, so equal bytes of another dtype or shape are another digest."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array)  # its buffer, C-contiguous: no copy
    return digest.hexdigest()


_DIGESTS: dict = {}  # (path, size, mtime_ns) -> sha256 of the file's bytes


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of the bytes of the file at ``path`` (read once per process while its size
    and mtime stay the same)."""
    path = Path(path)
    stat = path.stat()
    ident = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    found = _DIGESTS.get(ident)
    if found is None:
        found = _DIGESTS[ident] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


_OPENED: dict[Path, Path] = {}  # cache folder -> this source's generation in it (stamped, pruned)


def kind_dir(kind: str) -> Path:
    """The folder of ``kind``'s files kept by this source: ``cache_dir()/src-<its
    fingerprint>/kind`` (the first call of a process for a cache folder stamps the
    generation and prunes the others: see :func:`prune_generations`)."""
    root = cache_dir()
    generation = _OPENED.get(root)
    if generation is None:
        generation = _OPENED[root] = root / f"{GENERATION_PREFIX}{source_fingerprint()[:16]}"
        _open_generation(root, generation)
    return generation / kind


def _open_generation(root: Path, generation: Path) -> None:
    """Stamp ``generation`` as used now, then prune ``root``'s generations."""
    try:
        generation.mkdir(parents=True, exist_ok=True)
        stamp = generation / STAMP
        stamp.touch()
        now = time.time_ns()  # to the nanosecond: the file system's clock may tick by milliseconds
        os.utime(stamp, ns=(now, now))
    except OSError:
        return  # a read-only cache folder: nothing is kept, nothing removed
    prune_generations(root)


def prune_generations(root: Path, keep: int = GENERATIONS_KEPT) -> list[Path]:
    """Remove the generation folders of the cache folder ``root`` but the ``keep`` used
    last (by their stamp's time, else the folder's), and the kind folders of the layout
    before generations (:data:`LEGACY_KINDS`); returns the folders removed. A process
    still using a removed generation works its results out again (a read finds nothing,
    a write that fails is skipped): time, not correctness."""
    found = []
    for path in root.glob(f"{GENERATION_PREFIX}*"):
        try:
            used = (path / STAMP).stat().st_mtime_ns if (path / STAMP).exists() else path.stat().st_mtime_ns
        except OSError:
            continue  # removed meanwhile
        found.append((used, path.name, path))
    found.sort(reverse=True)
    removed = [path for _, _, path in found[keep:]] + [root / name for name in LEGACY_KINDS if (root / name).is_dir()]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


def _path(kind: str, key: str, suffix: str) -> Path:
    return kind_dir(kind) / f"{key[:40]}{suffix}"


def load_bytes(kind: str, key: str) -> Optional[bytes]:
    """The bytes kept under ``key`` in ``kind_dir(kind)``, or None."""
    try:
        data = _path(kind, key, ".bin").read_bytes()
    except OSError:
        return None
    head = key.encode() + b"\n"
    return data[len(head):] if data.startswith(head) else None


def store_bytes(kind: str, key: str, data: bytes) -> None:
    """Keep ``data`` under ``key`` in ``kind_dir(kind)`` (atomically)."""
    try:
        atomic_write_bytes(_path(kind, key, ".bin"), key.encode() + b"\n" + data)  # the key first, checked when read
    except OSError:
        pass  # a read-only or full cache folder costs time, not correctness


def load_text(kind: str, key: str) -> Optional[str]:
    """The text kept by :func:`store_text` under ``key`` in ``kind_dir(kind)``, or None
    (missing, or torn or changed: its sha256 no longer matches)."""
    kept = load_bytes(kind, key)
    if kept is None:
        return None
    digest, _, data = kept.partition(b"\n")
    if digest != hashlib.sha256(data).hexdigest().encode():
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


def store_text(kind: str, key: str, text: str) -> None:
    """Keep ``text`` under ``key`` in ``kind_dir(kind)`` (atomically), after its
    sha256, which :func:`load_text` checks."""
    data = text.encode()
    store_bytes(kind, key, hashlib.sha256(data).hexdigest().encode() + b"\n" + data)


def load_json(kind: str, key: str) -> Any:
    """The JSON value kept under ``key`` in ``kind_dir(kind)``, or None (missing or
    unreadable)."""
    try:
        found = json.loads(_path(kind, key, ".json").read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("key") == key else None


def store_json(kind: str, key: str, value: dict) -> None:
    """Keep the JSON mapping ``value`` under ``key`` in ``kind_dir(kind)`` (atomically;
    the key is stored in it too, and checked when read)."""
    try:
        atomic_write_bytes(_path(kind, key, ".json"), json.dumps({**value, "key": key}, sort_keys=True).encode())
    except (OSError, TypeError, ValueError):
        pass


_ARRAYS_MAGIC = b"scenegen-arrays-1\n"  # then the header's length (4 bytes, little-endian), its JSON, the data
_ALIGN = 64  # bytes: each array's data starts at a multiple of it


def pack_arrays(**arrays: np.ndarray) -> bytes:
    """``arrays`` as bytes (for :func:`store_bytes`): a JSON header of each array's name,
    dtype, shape and offset and the data's length, then their data, C order. (Read back by
    :func:`unpack_arrays` with one parse and no copy per array, where an ``.npz`` parses
    a zip entry and a Python-literal header per array: about 0.15 ms each.)"""
    entries, chunks, offset = [], [], 0
    for name, array in arrays.items():
        array = np.asarray(array)
        if array.dtype.hasobject:
            raise TypeError(f"array {name!r} holds Python objects: only plain dtypes are kept")
        entries.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape), "offset": offset})
        data = array.tobytes(order="C")
        padding = -len(data) % _ALIGN
        chunks.append(data + b"\0" * padding)
        offset += len(data) + padding
    header = json.dumps({"arrays": entries, "size": offset}).encode()
    header += b" " * (-(len(_ARRAYS_MAGIC) + 4 + len(header)) % _ALIGN)
    return b"".join([_ARRAYS_MAGIC, len(header).to_bytes(4, "little"), header, *chunks])


def unpack_arrays(data: Optional[bytes], names: tuple[str, ...]) -> Optional[tuple[np.ndarray, ...]]:
    """The arrays ``names`` of :func:`pack_arrays`'s ``data`` (writable, sharing one
    buffer), or None when there is no data or it is not such a file (torn, foreign):
    then the caller works them out."""
    if data is None or not data.startswith(_ARRAYS_MAGIC):
        return None
    start = len(_ARRAYS_MAGIC) + 4
    try:
        size = int.from_bytes(data[len(_ARRAYS_MAGIC):start], "little")
        header = json.loads(data[start:start + size])
        if len(data) != start + size + header["size"]:  # torn (or more than was written)
            return None
        entries = {entry["name"]: entry for entry in header["arrays"]}
        buffer = bytearray(memoryview(data)[start + size:])  # one copy, writable
        found = []
        for name in names:
            entry = entries[name]
            dtype, shape = np.dtype(entry["dtype"]), tuple(int(n) for n in entry["shape"])
            count = int(np.prod(shape, dtype=np.int64))
            if dtype.hasobject or entry["offset"] < 0 or entry["offset"] + count * dtype.itemsize > len(buffer):
                return None
            found.append(np.frombuffer(buffer, dtype=dtype, count=count, offset=entry["offset"]).reshape(shape))
        return tuple(found)
    except (ValueError, KeyError, TypeError):
        return None


def kept_arrays(kind: str, key: str, names: tuple[str, ...], make: Callable[[], dict[str, np.ndarray]],
                fits: Callable[[tuple[np.ndarray, ...]], bool] = lambda arrays: True) -> tuple[np.ndarray, ...]:
    """The arrays ``names`` kept under ``key`` in ``kind``'s folder when the file is there,
    readable and ``fits(arrays)`` (the shapes and dtypes the caller expects), else those
    of ``make()`` (a dict by name), which are then kept."""
    kept = unpack_arrays(load_bytes(kind, key), names)
    if kept is not None and fits(kept):
        return kept
    made = make()
    store_bytes(kind, key, pack_arrays(**made))
    return tuple(made[name] for name in names)
