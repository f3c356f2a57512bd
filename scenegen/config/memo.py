"""A content-keyed memo of validated configs, in this process and in the cache folder.

Composing the config tree with Hydra and typing it by the schema takes about 1.5 s, and
every process (each CLI call, each worker, each job-array shard) and every rebuild of a
config from a manifest or a worker message paid it again. A config is pure data: the
same inputs give the same read-only config. So it is kept, pickled, under a sha256 of
everything it is made from: the inputs (overrides or the config's data), the files of
``conf/``, the source of this package (schema, validation, composition) and the versions
of scenegen, Hydra and OmegaConf; in this process in memory, across processes in
``cache_dir()/configs/`` (written atomically, rebuilt when missing or unreadable). Each
call unpickles its own copy (about 15 ms), so a caller that makes its copy writable
changes no one else's. The folder keeps the :data:`KEPT_FILES` configs used last (each
read marks its file used; each write removes the least recently used beyond them): every
new ``out=`` is a new config, and the folder would otherwise grow by one file (about
350 kB) per command line for ever.

Inputs that read something else than those files are never kept: overrides of
``hydra.*`` (a search path adds folders) and interpolations (``${oc.env:...}``).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
import weakref
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from omegaconf import DictConfig, OmegaConf

from .._version import __version__
from ..fileio import atomic_write_bytes
from ..resources import cache_dir, conf_dir

_IN_PROCESS: dict[str, bytes] = {}  # key -> pickled config
_IN_PROCESS_MAX = 64  # configs kept in this process (each about 350 kB pickled)
KEPT_FILES = 128  # configs kept in the cache folder (about 45 MB), the least recently used removed


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """sha256 of what shapes a config besides its inputs: this package's source and the
    versions of scenegen, Hydra and OmegaConf (the same for the life of the process)."""
    from importlib.metadata import version  # noqa: PLC0415 (about 20 ms to import, only for this key)

    digest = hashlib.sha256()
    for part in (__version__, version("hydra-core"), version("omegaconf")):
        digest.update(part.encode() + b"\0")
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _conf_fingerprint() -> str:
    """sha256 of every file of ``conf/`` (names and bytes): read on every call, since
    a checkout's files may change while a process lives."""
    digest = hashlib.sha256()
    root = conf_dir()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def compose_key(overrides: Sequence[str], config_name: str) -> Optional[str]:
    """The memo key of composing ``config_name`` with ``overrides``; None when the
    result may depend on more than ``conf/`` (a ``hydra.*`` override, an interpolation)."""
    if any(o.lstrip("~+").startswith("hydra") or "${" in o for o in overrides):
        return None
    return _key(["compose", config_name, list(overrides), _conf_fingerprint()])


def data_key(data: dict) -> Optional[str]:
    """The memo key of a config rebuilt from plain ``data``; None when it holds an
    interpolation (resolved against the environment)."""
    text = json.dumps(data, sort_keys=True, default=str)
    return None if "${" in text else _key(["data", text])


def _key(parts: list) -> str:
    return hashlib.sha256(json.dumps([_code_fingerprint(), parts]).encode()).hexdigest()


def remembered(key: Optional[str], build: Callable[[], DictConfig]) -> DictConfig:
    """A copy of the config kept under ``key``, else ``build()`` (then kept; errors are
    not). Its values as plain containers are kept with it (:func:`plain_of`)."""
    if key is None:
        return build()
    data = _IN_PROCESS.get(key)
    if data is not None:
        return _with_plain(pickle.loads(data))
    path = cache_dir() / "configs" / f"{key[:32]}.pickle"
    try:
        data = path.read_bytes()
        found: Any = pickle.loads(data)
    except Exception:  # noqa: BLE001 - missing, torn or from another version: rebuilt below
        found = None
    if _kept_pair(found):
        _mark_used(path)
    else:
        cfg = build()
        found = (cfg, OmegaConf.to_container(cfg, resolve=True))
        data = pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            atomic_write_bytes(path, data)
            _mark_used(path)
            _keep_recent(path.parent, KEPT_FILES)
        except OSError:
            pass  # a read-only or full cache folder costs time, not correctness
    if len(_IN_PROCESS) >= _IN_PROCESS_MAX:
        _IN_PROCESS.pop(next(iter(_IN_PROCESS)))
    _IN_PROCESS[key] = data
    return _with_plain(found)


def _kept_pair(found: Any) -> bool:
    """Whether an unpickled file is what :func:`remembered` keeps: (config, its plain
    containers)."""
    return (isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], DictConfig)
            and isinstance(found[1], dict))


_PLAIN: dict[int, tuple] = {}  # id(config) -> (weak reference to it, its plain containers), while it lives


def _with_plain(pair: tuple) -> DictConfig:
    """The config of a kept (config, plain containers) pair, its plain containers noted
    for :func:`plain_of`."""
    cfg, plain = pair
    ident = id(cfg)
    _PLAIN[ident] = (weakref.ref(cfg, lambda _: _PLAIN.pop(ident, None)), plain)
    return cfg


def plain_of(cfg: DictConfig) -> Optional[dict]:
    """``OmegaConf.to_container(cfg, resolve=True)`` of a config this memo gave, kept
    with it (converting the whole config takes about 20 ms); None for any other config,
    and for one being changed (:func:`changing`). Shared: read it, never change it."""
    found = _PLAIN.get(id(cfg))
    return found[1] if found is not None and found[0]() is cfg else None


def changing(cfg: DictConfig) -> DictConfig:
    """Note that ``cfg``, a config this memo gave, is about to be unlocked and changed:
    its kept plain containers no longer describe it. Returns it."""
    if plain_of(cfg) is not None:
        del _PLAIN[id(cfg)]
    return cfg


def _mark_used(path: Path) -> None:
    """Set ``path``'s modification time to now, to the nanosecond (the file system's own
    clock may tick by milliseconds): :func:`_keep_recent` keeps it longer."""
    now = time.time_ns()
    try:
        os.utime(path, ns=(now, now))
    except OSError:
        pass  # read-only: it is removed sooner, a cost in time only


def _keep_recent(folder: Path, count: int) -> None:
    """Remove the configs of ``folder`` but the ``count`` used last (by modification
    time; a file another process removes meanwhile is skipped)."""
    found = []
    for path in folder.glob("*.pickle"):
        try:
            found.append((path.stat().st_mtime_ns, path.name, path))
        except OSError:
            continue
    found.sort(reverse=True)
    for _, _, path in found[count:]:
        path.unlink(missing_ok=True)


def forget() -> None:
    """Drop this process's memo (the cache folder's files stay)."""
    _IN_PROCESS.clear()
