"""Reading a finished dataset folder, shared by the exporters (webdataset, hf, bop) and
the commands that read one (verify, coverage).

An exporter run on a finished folder (``export_webdataset``, ...) reads what
:func:`scenegen.generate` wrote, so its output depends only on the folder: the same
dataset gives the same bytes whatever the worker count that produced it. (``generate``
itself makes each scene's part of the exports as it writes the scene, from the same
bytes: :mod:`scenegen.dataset.exports`.)

The readers check what they read: a file scenegen wrote that is missing, not JSON or not
of its shape is *damaged* (:func:`scenegen.dataset.damage.damaged`: a fault of the run, exit status 1, with how to
repair it), never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..config.load import config_from_dict
from ..design.coverage import CoverageTracker
from ..design.splits import SPLIT_NAMES
from ..errors import ConfigError, CoverageError, MeshError, ScenegenError
from ..fileio import read_json
from .damage import damaged, read_dataset_json, rewrite, yaml_problem
from .files import record_indices, record_path
from .layout import COVERAGE, MANIFEST, SPLITS
from .manifest import Manifest
from .shards import read_skips


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
        manifest = Manifest.read(root)
        n, indices = manifest.n, manifest.indices()
    else:
        skipped = read_skips(root, range(n))
        indices = [i for i in range(n) if i not in skipped]
    present = set(record_indices(root))
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


def read_manifest(root: str | Path) -> Manifest:
    """The manifest of the finished dataset ``root``, checked: :meth:`Manifest.read`.

    Raises:
        ScenegenError: no manifest (the dataset is unfinished), or a damaged one.
    """
    return Manifest.read(root)


def manifest_config(root: str | Path, manifest: Optional[Manifest] = None) -> dict:
    """The config the dataset was generated with, as a plain dict in the config's own key
    order (the manifest keeps it as YAML text: key order names part styles).
    ``manifest``: the dataset's manifest when already read (:meth:`Manifest.read`).

    Raises:
        ScenegenError: no manifest, or a damaged one.
    """
    manifest = Manifest.read(root) if manifest is None else manifest
    try:
        return OmegaConf.to_container(OmegaConf.create(manifest.config))
    except (yaml.YAMLError, OmegaConfBaseException) as exc:  # OmegaConf's YAML loader is stricter
        raise _config_damaged(root, manifest, exc) from None


def dataset_config(root: str | Path, manifest: Optional[Manifest] = None):
    """The validated, read-only config of the dataset ``root`` (see :func:`manifest_config`).

    Raises:
        ScenegenError: no manifest, or one whose config this scenegen cannot load.
        MeshError: a mesh file the config names is missing or broken.
    """
    manifest = Manifest.read(root) if manifest is None else manifest
    try:
        return config_from_dict(manifest_config(root, manifest))
    except MeshError:
        raise
    except (ConfigError, OmegaConfBaseException) as exc:
        raise _config_damaged(root, manifest, exc) from None


def _config_damaged(root: str | Path, manifest: Manifest, exc: Exception) -> ScenegenError:
    version = manifest.scenegen_version
    written_by = f" (written by scenegen {version})" if version else ""
    return damaged(Path(root) / MANIFEST, f"its 'config'{written_by} does not load: {yaml_problem(exc)}",
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
