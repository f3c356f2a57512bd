"""A folder of named files that are levels of a factor: environment maps, background
photographs (:class:`LevelledFolder`), and a set of such items (:class:`LevelledSet`).

Each file directly in the folder whose extension is one of the kind's is an item named
by its file name without the extension; an optional ``meta.yaml`` maps an item's name
to ``{level: <factor level>, weight: <number >= 0>}`` (default: the name, weight 1), so
several files can share a level ("outdoor") and some be drawn more often.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, choices
from ..fileio import read_yaml

META_FILE = "meta.yaml"
META_KEYS = ("level", "weight")
MAX_LEVEL_LENGTH = 64
LEVEL_FORBIDDEN = ("=", ",", ":")


def check_level(level, where: str) -> str:
    """``level`` if it is a valid factor level, else a ConfigError naming ``where``."""
    if (not isinstance(level, str) or not level or len(level) > MAX_LEVEL_LENGTH or level != level.strip()
            or any(mark in level for mark in LEVEL_FORBIDDEN)):
        raise ConfigError(f"{where}: {level!r} is not a valid factor level; valid: a string of 1 to "
                          f"{MAX_LEVEL_LENGTH} characters without {choices(LEVEL_FORBIDDEN)} and no spaces at its ends")
    return level


def _check_weight(weight, where: str) -> float:
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not math.isfinite(weight) or weight < 0:
        raise ConfigError(f"{where}: weight {weight!r} is not valid; valid: a finite number >= 0")
    return float(weight)


def named_files(folder: Path, suffixes: tuple[str, ...], what: str, kind: str = "", instead: str = "") -> dict[str, Path]:
    """Stem -> path of the files directly in ``folder`` with one of ``suffixes``
    (lower-case, with the dot), sorted by stem; ``what`` names one item in errors,
    ``kind`` the folder's items (default ``what``), ``instead`` what else the key may be
    ("'builtin' or ").

    Raises:
        ConfigError: the folder is missing or holds no such file, or two files share a stem.
    """
    if not folder.is_dir():
        raise ConfigError(f"{kind or what}s folder {str(folder)!r} does not exist; valid: {instead}a folder of "
                          f"{choices(suffixes)} files")
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in suffixes:
            continue
        if path.stem in files:
            raise ConfigError(f"{folder}: two {what}s named {path.stem!r} ({files[path.stem].name}, {path.name}); "
                              f"a {what}'s name is its file name without the extension, so rename one")
        files[path.stem] = path
    if not files:
        raise ConfigError(f"{kind or what}s folder {str(folder)!r} holds no {what} file; valid: {choices(suffixes)}")
    return dict(sorted(files.items()))


def read_meta(folder: Path, names, what: str) -> dict[str, dict]:
    """Name -> its ``meta.yaml`` entry (``level``, ``weight``), checked; {} without one.

    Raises:
        ConfigError: naming ``meta.yaml``: not YAML, not a mapping, an unknown name or
            key, a level or weight of the wrong type.
    """
    path = folder / META_FILE
    meta = read_yaml(path)
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ConfigError(f"{path}: must map {what} names to {{level, weight}}, got a {type(meta).__name__}")
    entries = {}
    for key, entry in meta.items():
        name = str(key) if isinstance(key, int) and not isinstance(key, bool) else key
        if name not in names:
            raise ConfigError(f"{path}: names {key!r}, not a {what} of {str(folder)!r}; valid: {choices(names)}")
        if entry is None:
            entry = {}
        if not isinstance(entry, dict) or not set(entry) <= set(META_KEYS):
            raise ConfigError(f"{path}: {name!r} must be a mapping of {choices(META_KEYS)}, got {entry!r}")
        entries[name] = {"level": check_level(entry.get("level", name), f"{path}: {name!r}"),
                         "weight": _check_weight(entry.get("weight", 1.0), f"{path}: {name!r}")}
    return entries


class LevelledSet:
    """Named items of one source, each with a factor level and a weight (a subclass says
    what an item is, :attr:`what`, and holds its pixels).

    Attributes:
        source: where the items come from, as configured.
        names: the items' names, in order.
    """

    what = "item"

    def __init__(self, source: str, levels: dict[str, str], weights: dict[str, float]):
        self.source = source
        self.names: tuple[str, ...] = tuple(levels)
        self._levels, self._weights = levels, weights

    def _known(self, name: str) -> str:
        if name not in self._levels:
            raise ConfigError(f"{self.what} {name!r} is not in {self.source!r}; valid: {choices(self.names)}")
        return name

    def level(self, name: str) -> str:
        """The factor level of item ``name``."""
        return self._levels[self._known(name)]

    def weight(self, name: str) -> float:
        """The relative weight (>= 0) of item ``name`` in a random choice."""
        return self._weights[self._known(name)]

    @property
    def levels(self) -> tuple[str, ...]:
        """The distinct levels, in the order of :attr:`names`."""
        return tuple(dict.fromkeys(self._levels[name] for name in self.names))


@dataclass(frozen=True)
class LevelledFolder:
    """The items of a folder: name -> file, factor level and weight, in name order."""

    files: dict[str, Path]
    levels: dict[str, str]
    weights: dict[str, float]

    @classmethod
    def load(cls, folder: Path, suffixes: tuple[str, ...], what: str, kind: str = "",
             instead: str = "") -> LevelledFolder:
        """The ``what`` files of ``folder`` with ``suffixes`` and their ``meta.yaml``
        (``kind``, ``instead``: see :func:`named_files`).

        Raises:
            ConfigError: as :func:`named_files` and :func:`read_meta`, or a file name
                that is not a valid level and has none in ``meta.yaml``.
        """
        files = named_files(folder, suffixes, what, kind, instead)
        meta = read_meta(folder, tuple(files), what)
        levels, weights = {}, {}
        for name, path in files.items():
            entry = meta.get(name)
            levels[name] = entry["level"] if entry else check_level(name, f"{path} (its name is its level)")
            weights[name] = entry["weight"] if entry else 1.0
        return cls(files, levels, weights)
