"""Hugging Face ``imagefolder`` metadata for a finished dataset folder.

:func:`export_hf` writes ``DIR/metadata.jsonl``, one JSON line per scene in scene
order, so that::

    import datasets
    ds = datasets.load_dataset("imagefolder", data_dir=DIR)["train"]

loads the RGB images (``image``, a PIL image) with their scene and object labels::

    {"file_name": "images/000000.png",    # relative to DIR
     "index": 0, "seed": ..., "context": "room", "width": 640, "height": 480,
     "depth_scale": 1.0,
     "camera_K": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]],
     "layers": {"depth": "depth/000000.png", "instances": ..., "semantic": ..., "parts": ...,
                "normals": ...},
     "objects": {"instance_id": [1, 2, ...], "category": [...], "category_id": [...],
                 "entry": [...], "style": [...], "bbox": [[x, y, w, h], ...],
                 "visible_pixels": [...], "amodal_pixels": [...],
                 "visible_fraction": [...], "scale": [...]}}

``objects`` is a dict of equal-length lists, one item per object in instance order
(``objects.*[i]`` is instance ``i + 1`` of ``instances/``), the form the ``datasets``
object-detection examples use; values are those of the scene record's ``objects``.
``layers`` names the other layers' PNGs (relative to ``DIR``) as plain strings: they
are not loaded as images (``datasets``' image decoding would reduce 16-bit depth and
instances to 8 bits).

What ``imagefolder`` does with the other PNGs (checked with ``datasets`` 5.2): it lists
every image under ``data_dir`` (depth/, instances/, semantic/, parts/, and a bop/ or
shards/ export next to them), but with a ``metadata.jsonl`` it yields only the images
the metadata names, so the split has exactly one row per scene, and no ``label``
column is inferred from folder names. The tests check the row count with every other
layer present.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

from ..fileio import atomic_write_bytes
from ._dataset import finished_indices
from .files import read_record

METADATA = "metadata.jsonl"
#: record object keys copied into ``objects`` (as lists), with their types
OBJECT_FIELDS = (
    ("instance_id", int),
    ("category", str),
    ("category_id", int),
    ("entry", str),
    ("style", str),
    ("bbox", lambda box: [int(v) for v in box]),
    ("visible_pixels", int),
    ("amodal_pixels", int),
    ("visible_fraction", float),
    ("scale", float),
)
LAYERS = ("depth", "instances", "semantic", "parts", "normals")  # those the record has


def metadata_row(record: dict) -> dict:
    """The ``metadata.jsonl`` row of one scene record."""
    objects = record["objects"]
    return {
        "file_name": record["files"]["rgb"],
        "index": int(record["index"]),
        "seed": int(record["seed"]),
        "context": record["context"],
        "width": int(record["width"]),
        "height": int(record["height"]),
        "depth_scale": float(record["depth_scale"]),
        "camera_K": [[float(v) for v in row] for row in record["camera"]["K"]],
        "layers": {layer: record["files"][layer] for layer in LAYERS if layer in record["files"]},
        "objects": {name: [convert(o[name]) for o in objects] for name, convert in OBJECT_FIELDS},
    }


def export_hf(root: str | Path, n: Optional[int] = None) -> List[Path]:
    """Write ``root/metadata.jsonl`` for ``datasets.load_dataset("imagefolder",
    data_dir=root)``.

    Args:
        root: a finished dataset folder (with ``manifest.json``).
        n: scene count, for a folder whose manifest is not written yet (``finish``).

    Returns:
        ``[root/metadata.jsonl]``.

    Raises:
        ScenegenError: ``root`` is not a finished dataset.
    """
    root = Path(root)
    lines = [
        json.dumps(metadata_row(read_record(root, i)), sort_keys=True, allow_nan=False) for i in finished_indices(root, n)
    ]
    path = root / METADATA
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return [path]
