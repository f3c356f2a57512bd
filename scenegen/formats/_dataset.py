"""Reading a finished dataset folder, shared by the exporters (webdataset, hf, bop).

An exporter reads what :func:`scenegen.generate` wrote, never a renderer's in-memory
state, so its output depends only on the folder: the same dataset gives the same bytes
whatever the worker count that produced it.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from omegaconf import OmegaConf

from ..errors import ScenegenError
from ..fileio import read_json
from ..shards import read_skips
from .files import record_indices, record_path

MANIFEST = "manifest.json"


def finished_indices(root: str | Path, n: Optional[int] = None) -> List[int]:
    """The scene indices of a dataset folder, ascending: 0..n-1 without the scenes
    skipped as unplaceable. The folder is a finished one (its ``manifest.json`` gives
    ``n`` and the skipped scenes), or, with ``n``, one whose scenes are written and which
    :func:`scenegen.pipeline.finish` is completing (the manifest comes last; the skip
    records in ``.scenegen/skipped/`` name the skipped scenes).

    Raises:
        ScenegenError: ``root`` is not a dataset folder, is unfinished (no manifest and
            no ``n``), or a scene record is missing.
    """
    root = Path(root)
    if n is None:
        manifest = root / MANIFEST
        if not manifest.is_file():
            raise ScenegenError(
                f"{str(root)!r} is not a finished scenegen dataset: {MANIFEST} is missing "
                f"(run 'scenegen generate out={root}' to completion first)"
            )
        content = read_json(manifest)
        n, skipped = int(content["n"]), {int(skip["index"]) for skip in content.get("skipped", ())}
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


def manifest_config(root: str | Path) -> dict:
    """The config the dataset was generated with, as a plain dict in the config's own key
    order (the manifest keeps it as YAML text: key order names part styles)."""
    return OmegaConf.to_container(OmegaConf.create(read_json(Path(root) / MANIFEST)["config"]))
