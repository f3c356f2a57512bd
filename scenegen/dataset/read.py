"""Reading a finished dataset folder, shared by the exporters (webdataset, hf, bop) and
the commands that read one (verify, coverage).

An exporter reads what :func:`scenegen.generate` wrote, never a renderer's in-memory
state, so its output depends only on the folder: the same dataset gives the same bytes
whatever the worker count that produced it.

The readers check what they read: a file scenegen wrote that is missing, not JSON or not
of its shape is *damaged* (:func:`damaged`: a fault of the run, exit status 1, with how to
repair it), never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..config.load import config_from_dict
from ..design.coverage import CoverageTracker
from ..design.splits import SPLIT_NAMES
from ..errors import (
    ConfigError,
    CoverageError,
    DamagedFileError,
    MeshError,
    ScenegenError,
)
from ..fileio import read_json
from .files import record_indices, record_path
from .layout import COVERAGE, MANIFEST, SPLITS
from .shards import read_skips

# the keys every manifest has, and the JSON type of each ("skipped" came later: optional)
_MANIFEST_KEYS = {"n": int, "files": dict, "config": str}
# checks the manifest's config is a YAML mapping (read_manifest) before OmegaConf, which
# fails on a scalar with a bare AssertionError; the C loader is 30x faster where built
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
               float: "a number", type(None): "null"}


def finished_indices(root: str | Path, n: Optional[int] = None) -> List[int]:
    """The scene indices of a dataset folder, ascending: 0..n-1 without the scenes
    skipped as unplaceable. The folder is a finished one (its ``manifest.json`` gives
    ``n`` and the skipped scenes), or, with ``n``, one whose scenes are written and which
    :func:`scenegen.dataset.pipeline.finish` is completing (the manifest comes last; the skip
    records in ``.scenegen/skipped/`` name the skipped scenes).

    Raises:
        ScenegenError: ``root`` is not a dataset folder, is unfinished (no manifest and
            no ``n``), its manifest is damaged, or a scene record is missing.
    """
    root = Path(root)
    if n is None:
        manifest = read_manifest(root)
        n, skipped = manifest["n"], {skip["index"] for skip in manifest["skipped"]}
    else:
        skipped = set(read_skips(root, range(n)))
    present = set(record_indices(root))
    indices = [i for i in range(n) if i not in skipped]
    missing = [i for i in indices if i not in present]
    if missing:
        raise ScenegenError(
            f"dataset {str(root)!r} is incomplete: {len(missing)} of {n} scene records are missing "
            f"(first: {record_path(root, missing[0])})"
        )
    return indices


def require_folder(root: str | Path) -> Path:
    """``root`` as a Path, if it is a folder.

    Raises:
        ConfigError: ``root`` does not exist or is a file (the argument must change).
    """
    root = Path(root)
    if not root.exists():
        raise ConfigError(f"dataset folder {str(root)!r} not found")
    if not root.is_dir():
        raise ConfigError(f"{str(root)!r} is a file, not a dataset folder")
    return root


def damaged(path: str | Path, detail: str, repair: str = "") -> DamagedFileError:
    """The error for a file scenegen wrote that is not what it wrote: "PATH is damaged:
    ``detail``", then ``repair``, how to repair it, when there is a way. A fault of the
    run (exit status 1)."""
    return DamagedFileError(f"{path} is damaged: {detail}" + (f"; {repair}" if repair else ""))


def rewrite(root: str | Path) -> str:
    """How to repair a damaged manifest.json or coverage.json of the dataset ``root``
    (finishing the dataset again writes both)."""
    return (f"rerun the 'scenegen generate' (or 'scenegen finish') command that wrote the dataset to rewrite it, "
            f"then check it with 'scenegen verify {root}'")


def json_type(value: Any) -> str:
    """The JSON name of ``value``'s type, with its article: "an object", "an array", ..."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def read_dataset_json(path: str | Path, repair: str = "") -> dict:
    """The JSON object in ``path``, a file scenegen wrote.

    Raises:
        DamagedFileError: the file is missing, not JSON or not an object (with
            ``repair``, see :func:`damaged`).
        ScenegenError: it cannot be read (permissions, I/O).
    """
    try:
        content = read_json(path)
    except FileNotFoundError:
        raise damaged(path, "it is missing", repair) from None
    except DamagedFileError as exc:  # not JSON: the message names the file
        raise DamagedFileError(f"{exc}; {repair}" if repair else str(exc)) from None
    except OSError as exc:
        raise ScenegenError(f"cannot read {path}: {exc.strerror}") from None
    if not isinstance(content, dict):
        raise damaged(path, f"it is {json_type(content)}, not a JSON object", repair)
    return content


def read_manifest(root: str | Path) -> dict:
    """The manifest of the finished dataset ``root``, its keys checked: ``n`` (an integer
    >= 0), ``files`` (path -> sha256 text), ``config`` (the text of a YAML mapping) and
    ``skipped`` (a list of objects with an integer ``index``; ``[]`` when absent).

    Raises:
        ScenegenError: no manifest (the dataset is unfinished), or a damaged one.
    """
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise ScenegenError(
            f"{str(root)!r} is not a finished scenegen dataset: {MANIFEST} is missing "
            f"(run 'scenegen generate out={root}' to completion first)"
        )
    manifest = read_dataset_json(path, rewrite(root))
    manifest.setdefault("skipped", [])
    problem = _manifest_problem(manifest)
    if problem:
        raise damaged(path, problem, rewrite(root))
    return manifest


def _manifest_problem(manifest: dict) -> Optional[str]:
    """What makes ``manifest`` (a JSON object) not a scenegen manifest, or None."""
    for key, kind in _MANIFEST_KEYS.items():
        if key not in manifest:
            return f"it has no {key!r}"
        if type(manifest[key]) is not kind:  # not isinstance: True is no n
            return f"{key!r} is {json_type(manifest[key])}, not {_JSON_TYPES[kind]}"
    if manifest["n"] < 0:
        return f"'n' is negative ({manifest['n']})"
    name = next((name for name, digest in manifest["files"].items() if not isinstance(digest, str)), None)
    if name is not None:
        return f"'files' gives {name!r} {json_type(manifest['files'][name])}, not a sha256"
    skipped = manifest["skipped"]
    if not isinstance(skipped, list) or not all(isinstance(s, dict) and type(s.get("index")) is int for s in skipped):
        return "'skipped' is not a list of objects with an integer 'index'"
    try:
        if not isinstance(yaml.load(manifest["config"], Loader=_YAML_LOADER), dict):
            return "its 'config' is not a YAML mapping"
    except yaml.YAMLError as exc:
        return f"its 'config' is not valid YAML: {_yaml_problem(exc)}"
    return None


def manifest_config(root: str | Path, manifest: Optional[dict] = None) -> dict:
    """The config the dataset was generated with, as a plain dict in the config's own key
    order (the manifest keeps it as YAML text: key order names part styles).
    ``manifest``: the dataset's manifest when already read (:func:`read_manifest`).

    Raises:
        ScenegenError: no manifest, or a damaged one.
    """
    manifest = read_manifest(root) if manifest is None else manifest
    try:
        return OmegaConf.to_container(OmegaConf.create(manifest["config"]))
    except (yaml.YAMLError, OmegaConfBaseException) as exc:  # OmegaConf's YAML loader is stricter
        raise _config_damaged(root, manifest, exc) from None


def dataset_config(root: str | Path, manifest: Optional[dict] = None):
    """The validated, read-only config of the dataset ``root`` (see :func:`manifest_config`).

    Raises:
        ScenegenError: no manifest, or one whose config this scenegen cannot load.
        MeshError: a mesh file the config names is missing or broken.
    """
    manifest = read_manifest(root) if manifest is None else manifest
    try:
        return config_from_dict(manifest_config(root, manifest))
    except MeshError:
        raise
    except (ConfigError, OmegaConfBaseException) as exc:
        raise _config_damaged(root, manifest, exc) from None


def _config_damaged(root: str | Path, manifest: dict, exc: Exception) -> ScenegenError:
    version = manifest.get("scenegen_version")
    written_by = f" (written by scenegen {version})" if version else ""
    return damaged(Path(root) / MANIFEST, f"its 'config'{written_by} does not load: {_yaml_problem(exc)}",
                   rewrite(root))


def read_coverage(root: str | Path) -> CoverageTracker:
    """The coverage tracker of the dataset ``root`` (its ``coverage.json``).

    Raises:
        ScenegenError: no coverage.json (and no manifest: not a dataset, or an unfinished
            one), or a damaged one (missing while the manifest exists, not JSON,
            malformed or inconsistent counts).
    """

    root = Path(root)
    path = root / COVERAGE
    if not path.is_file() and not (root / MANIFEST).is_file():
        raise ScenegenError(f"{path} not found: is {str(root)!r} a dataset written by 'scenegen generate'?")
    try:
        return CoverageTracker.from_dict(read_dataset_json(path, rewrite(root)))
    except CoverageError as exc:
        raise damaged(path, str(exc), rewrite(root)) from None


def _yaml_problem(exc: Exception) -> str:
    """A YAML parser error (or another error) in one line: what is wrong and where."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{getattr(exc, 'problem', None) or _one_line(exc)}{where}"


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def read_splits(root, indices: Sequence[int]) -> Optional[Dict[str, List[int]]]:
    """The held-out split of dataset folder ``root`` as the exports write it:
    ``{"train": [...], "test": [...]}`` (the keys in :data:`SPLIT_NAMES` order), the scene
    indices of each split among ``indices``, in the order of ``indices``; None when the
    dataset has no split (no ``splits.json``)."""
    path = Path(root) / SPLITS
    if not path.is_file():
        return None
    members = {name: set(scenes) for name, scenes in read_json(path).items()}
    return {name: [i for i in indices if i in members[name]] for name in SPLIT_NAMES}
