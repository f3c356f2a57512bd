"""The manifest of a finished dataset, typed: :class:`Manifest`.

``manifest.json`` (:data:`scenegen.dataset.layout.MANIFEST`) is written last by
:func:`scenegen.dataset.pipeline.finish`, so it exists only for a complete dataset; it
lists every file of the dataset with its sha256 and says how the dataset was made::

    {"scenegen_version": "0.1.0",        # the scenegen that wrote it
     "seed": 0, "n": 100,                # root seed; scenes 0..n-1 (skipped ones included)
     "config": "...",                    # the data config as YAML text (its key order kept)
     "files": {"coco.json": "<sha256>", "images/000000.png": ..., ...},
     "skipped": [{"index", "directive", "context", "rejections", "reason"}, ...],
     "split": {...},                     # only with a held-out split (scenegen.design.splits)
     "design": {...},                    # only for a covering plan or a fill
     "assets": {"<library>:<path>": {"library", "layout", "path", "category", "name",
                "license", "attribution", "non_commercial", "sha256"}}}
                                         # only when scenes used files of asset libraries

:meth:`Manifest.read` checks what it reads and names a damaged manifest with how to
repair it (:mod:`scenegen.dataset.damage`). :meth:`Manifest.to_dict` gives the JSON
object written, key for key, so ``Manifest.read(root).to_dict()`` equals the file's
content (with ``skipped`` added as ``[]`` where a manifest from before skipped scenes
lacks it). A Manifest is also a read-only mapping of those keys (``manifest["n"]``,
``manifest.get("split")``), as the dict :func:`scenegen.generate` returned before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterator, List, Optional

import yaml

from ..errors import ScenegenError
from ..fileio import write_json
from .damage import damaged, json_type, json_type_of, read_dataset_json, rewrite, yaml_problem
from .layout import MANIFEST

# the keys every manifest has and the JSON type of each, in the order they are checked
# (the first three first: their messages came first)
_REQUIRED = {"n": int, "files": dict, "config": str, "scenegen_version": str, "seed": int}
_OPTIONAL = ("split", "design", "assets")  # JSON objects, present only when there is one
# the keys in the order of the JSON object (written with sorted keys, so for reading only)
_KEYS = ("scenegen_version", "seed", "n", "config", "files", "skipped", *_OPTIONAL)
# checks the config is a YAML mapping before OmegaConf, which fails on a scalar with a
# bare AssertionError; the C loader is 30x faster where it is built
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Manifest(Mapping):
    """The manifest of a finished dataset (see the module docstring for the JSON).

    Attributes:
        scenegen_version: the version of scenegen that wrote the dataset.
        seed: the root seed.
        n: the number of scene indices, 0..n-1, the skipped ones included.
        config: the data config, YAML text (keys of the run, such as ``out`` and
            ``workers``, are left out); :func:`scenegen.dataset.read.manifest_config`
            loads it.
        files: every file of the dataset (POSIX paths relative to its folder) -> sha256.
        skipped: the scenes that could not be placed, in index order, one JSON object
            each: ``{"index", "directive", "context", "rejections", "reason"}``.
        split: the held-out split (tuples and guarantees), or None.
        design: the plan of a covering design or fill and the coverage it reached, or None.
        assets: the asset-library files the scenes used (entry name -> licence,
            attribution, non_commercial, ...), or None when they used none.

    The constructor takes the values as they are; :meth:`from_dict` and :meth:`read`
    check them.
    """

    scenegen_version: str
    seed: int
    n: int
    config: str
    files: Dict[str, str]
    skipped: List[dict] = field(default_factory=list)
    split: Optional[dict] = None
    design: Optional[dict] = None
    assets: Optional[dict] = None

    # -- JSON ---------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The JSON object of ``manifest.json`` (``split`` and ``design`` only when set).
        The values are the manifest's own, not copies."""
        return {key: getattr(self, key) for key in self._keys()}

    @classmethod
    def from_dict(cls, data: Any, path: str | Path = MANIFEST, repair: str = "") -> "Manifest":
        """The manifest of the JSON value ``data`` (the content of ``path``), checked.

        Raises:
            DamagedFileError: ``data`` is not a manifest: "PATH is damaged: what is
                wrong", then ``repair`` (how to repair it) when given.
        """
        if not isinstance(data, Mapping):
            raise damaged(path, f"it is {json_type(data)}, not a JSON object", repair)
        data = {"skipped": [], **data}  # absent from manifests written before skipped scenes
        problem = manifest_problem(data)
        if problem:
            raise damaged(path, problem, repair)
        return cls(**{key: data[key] for key in _KEYS if key in data})

    @classmethod
    def read(cls, root: str | Path) -> "Manifest":
        """The manifest of the finished dataset ``root``, checked: ``n`` (an integer >= 0),
        ``files`` (path -> sha256 text), ``config`` (the text of a YAML mapping),
        ``scenegen_version``, ``seed``, ``skipped`` (a list of objects with an integer
        ``index``; ``[]`` when absent), ``split`` and ``design`` (objects, when present).

        Raises:
            ScenegenError: no manifest (the dataset is unfinished), or a damaged one
                (:class:`scenegen.errors.DamagedFileError`, naming it and the repair).
        """
        path = Path(root) / MANIFEST
        if not path.is_file():
            raise ScenegenError(
                f"{str(root)!r} is not a finished scenegen dataset: {MANIFEST} is missing "
                f"(run 'scenegen generate out={root}' to completion first)"
            )
        return cls.from_dict(read_dataset_json(path, rewrite(root)), path, rewrite(root))

    def write(self, root: str | Path) -> Path:
        """Write ``root/manifest.json`` (canonical JSON, atomically); returns its path."""
        path = Path(root) / MANIFEST
        write_json(path, self.to_dict())
        return path

    # -- the scenes ---------------------------------------------------------------------

    @property
    def skipped_indices(self) -> FrozenSet[int]:
        """The indices of the scenes that could not be placed (they have no files)."""
        return frozenset(skip["index"] for skip in self.skipped)

    @property
    def scenes_written(self) -> int:
        """How many scenes the dataset holds: ``n`` less the skipped ones."""
        return self.n - len(self.skipped_indices)

    def indices(self) -> List[int]:
        """The indices of the scenes the dataset holds, ascending: 0..n-1 without the
        skipped ones."""
        skipped = self.skipped_indices
        return [i for i in range(self.n) if i not in skipped]

    # -- a read-only mapping of the JSON keys -----------------------------------------------

    def _keys(self) -> List[str]:
        return [key for key in _KEYS if key not in _OPTIONAL or getattr(self, key) is not None]

    def __getitem__(self, key: str) -> Any:
        if key in self._keys():
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


def manifest_problem(data: dict) -> Optional[str]:
    """What makes ``data`` (a JSON object, ``skipped`` defaulted) not a scenegen
    manifest, or None."""
    for key, kind in _REQUIRED.items():
        if key not in data:
            return f"it has no {key!r}"
        if type(data[key]) is not kind:  # not isinstance: True is no n
            return f"{key!r} is {json_type(data[key])}, not {json_type_of(kind)}"
    if data["n"] < 0:
        return f"'n' is negative ({data['n']})"
    name = next((name for name, digest in data["files"].items() if not isinstance(digest, str)), None)
    if name is not None:
        return f"'files' gives {name!r} {json_type(data['files'][name])}, not a sha256"
    skipped = data["skipped"]
    if not isinstance(skipped, list) or not all(isinstance(s, dict) and type(s.get("index")) is int for s in skipped):
        return "'skipped' is not a list of objects with an integer 'index'"
    for key in _OPTIONAL:
        if key in data and not isinstance(data[key], dict):
            return f"{key!r} is {json_type(data[key])}, not an object"
    unknown = sorted(str(key) for key in data if key not in _KEYS)
    if unknown:
        return f"it has keys a scenegen manifest does not have: {', '.join(map(repr, unknown))}"
    try:
        if not isinstance(yaml.load(data["config"], Loader=_YAML_LOADER), dict):
            return "its 'config' is not a YAML mapping"
    except yaml.YAMLError as exc:
        return f"its 'config' is not valid YAML: {yaml_problem(exc)}"
    return None
