"""Hugging Face ``imagefolder`` export of a finished dataset folder: metadata and a
dataset card.

:func:`export_hf` writes, next to the dataset (``DIR``)::

    metadata.jsonl        one JSON line per scene, in scene order
    README.md             the dataset card: what the data is, how to load it, its columns,
                          and in its YAML header the data files of each split

With a held-out split (``splits.json``, see :mod:`scenegen.design.splits`) the scenes are
written per split instead, ``metadata_train.jsonl`` and ``metadata_test.jsonl`` (a split
with no scene has no file), and the card declares them as the ``train`` and ``test``
splits. Either way::

    import datasets
    ds = datasets.load_dataset(DIR)      # DatasetDict: "train" (and "test" with a split)

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

Why a card (checked with ``datasets`` 5.2): without one, ``imagefolder`` infers splits
from folder and file names anywhere below ``DIR``, so the BOP export's ``bop/train/``
(or a ``train-*.tar`` shard, ``coco_train.json``) becomes the train split and the
metadata is ignored. The card's ``configs`` list the data files of each split: the
metadata file and ``images/*.png`` (the images only make ``datasets`` pick the
``imagefolder`` builder; the rows are the metadata's, one per scene). Its
``metadata_filenames`` names the per-split metadata files, which needs a ``datasets``
that reads that option (tested with 5.2). ``load_dataset("imagefolder", data_dir=DIR)``
does not read a card: use the folder path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from omegaconf import OmegaConf

from ...design.splits import SPLIT_NAMES
from ...fileio import atomic_write_bytes, atomic_writer
from ..files import read_record
from ..layout import (
    BOP_FOLDER,
    BOP_SPLIT,
    COCO,
    HF_CARD,
    HF_METADATA,
    HF_SPLIT_METADATA,
    MANIFEST,
    RECORD_FOLDER,
    SPLITS,
    layer_glob,
)
from ..read import finished_indices, read_splits
from .coco import LICENSES

IMAGES = layer_glob("rgb")  # the images of every scene, in each split's data files
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
#: the loaded dataset's columns, as the card documents them
COLUMNS = {
    "image": "the RGB image (PIL, 8-bit), from `file_name` in the metadata",
    "index": f"scene index; `{RECORD_FOLDER}/NNNNNN.json` is the scene's full record",
    "seed": "root seed of the dataset",
    "context": "context name (`studio`, `room`, `outdoor` or one of your own)",
    "width": "image width, pixels",
    "height": "image height, pixels",
    "depth_scale": "depth PNG value × depth_scale = millimetres",
    "camera_K": "3×3 intrinsics, pixels (OpenCV convention)",
    "layers": "paths (relative to the folder) of the `depth`, `instances` (16-bit), `semantic`, "
              "`parts` and `normals` PNGs, as strings",
    "objects": "a dict of equal-length lists, one item per object in instance order (item i is instance "
               "i + 1 of `instances`): `instance_id`, `category`, `category_id`, `entry`, `style`, `bbox` "
               "[x, y, w, h] of the visible pixels, `visible_pixels`, `amodal_pixels`, `visible_fraction`, `scale`",
}
#: Hugging Face ``size_categories`` by scene count: (upper bound, category)
SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"))


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


def hf_splits(root: Path, indices: Sequence[int]) -> Dict[str, Tuple[str, List[int]]]:
    """Split name -> (its metadata file name, its scene indices in order): ``{"train":
    ("metadata.jsonl", every scene)}``, or, when ``root`` has a held-out split, one
    ``metadata_<split>.jsonl`` per split that has scenes."""
    splits = read_splits(root, indices)
    if splits is None:
        return {"train": (HF_METADATA, list(indices))}
    return {name: (HF_SPLIT_METADATA.format(split=name), scenes) for name, scenes in splits.items() if scenes}


def metadata_line(record: dict) -> str:
    """The ``metadata.jsonl`` line of one scene record (without its newline)."""
    return json.dumps(metadata_row(record), sort_keys=True, allow_nan=False)


class MetadataWriter:
    """A metadata file written line by line (:func:`metadata_line`, in scene order) to
    ``write`` (a function taking text); :meth:`close` ends it (a file of no scene holds
    one empty line)."""

    def __init__(self, write):
        self.write, self.count = write, 0

    def add(self, line: str) -> None:
        self.write(line + "\n")
        self.count += 1

    def close(self) -> None:
        if not self.count:
            self.write("\n")


def _write_metadata(path: Path, root: Path, indices: Sequence[int]) -> None:
    with atomic_writer(path) as handle:
        writer = MetadataWriter(lambda text: handle.write(text.encode("utf-8")))
        for index in indices:
            writer.add(metadata_line(read_record(root, index)))
        writer.close()


def size_category(n: int) -> str:
    """The Hugging Face ``size_categories`` value of ``n`` rows."""
    return next((name for bound, name in SIZE_CATEGORIES if n < bound), "10M<n<100M")


def card_header(splits: Dict[str, Tuple[str, List[int]]]) -> str:
    """The dataset card's YAML header (without the ``---`` lines): the ``default``
    config's data files per split (``splits`` as :func:`hf_splits` gives them), and the
    license, tasks and size."""
    config = {
        "config_name": "default",
        "data_files": [{"split": name, "path": [metadata, IMAGES]} for name, (metadata, _) in splits.items()],
        "metadata_filenames": [metadata for metadata, _ in splits.values()],
    }
    meta = {
        "configs": [config],
        "license": LICENSES[0]["name"].lower(),
        "pretty_name": "scenegen synthetic scenes",
        "size_categories": [size_category(sum(len(scenes) for _, scenes in splits.values()))],
        "tags": ["synthetic", "scenegen"],
        "task_categories": ["object-detection", "image-segmentation", "depth-estimation"],
    }
    return OmegaConf.to_yaml(OmegaConf.create(meta), sort_keys=True)


def dataset_card(splits: Dict[str, Tuple[str, List[int]]]) -> str:
    """The text of ``README.md``, the dataset card (Markdown with a YAML header)."""
    n = sum(len(scenes) for _, scenes in splits.values())
    listing = "\n".join(f"- `{name}`: {len(scenes)} scenes (`{file}`)" for name, (file, scenes) in splits.items())
    held_out = ("\nThe `test` scenes show the combinations of factor levels held out of `train` (listed in\n"
                f"`{MANIFEST}`, `split`; the scene indices are in `{SPLITS}`).\n") if "test" in splits else ""
    columns = "\n".join(f"| `{name}` | {text} |" for name, text in COLUMNS.items())
    return f"""---
{card_header(splits)}---

# scenegen synthetic scenes

{n} procedurally generated 3D scenes rendered by scenegen, with exact ground truth: per
scene an RGB image, the labels of its objects, the camera and the paths of its other
image layers.

## Splits

{listing}
{held_out}
## Load

```python
import datasets

ds = datasets.load_dataset("path/to/this/folder")
```

The header of this card declares each split's files. `datasets.load_dataset("imagefolder",
data_dir=...)` does not read it and takes folders of the other exports (`{BOP_FOLDER}/{BOP_SPLIT}/`, ...)
for splits: load the folder path as above.

## Columns

| column | content |
| --- | --- |
{columns}

The 16-bit layers are paths, not images, so that nothing decodes them to 8 bits: read
them with Pillow (`numpy.asarray(PIL.Image.open(path))` gives `uint16`) or
`scenegen.dataset.files.read_png`. The folder also holds every scene's full record
(`{RECORD_FOLDER}/`), COCO annotations (`{COCO}`) and `{MANIFEST}`, which lists every file
with its sha256.
"""


def export_hf(root: str | Path, n: Optional[int] = None) -> List[Path]:
    """Write the metadata and the dataset card of ``root`` for
    ``datasets.load_dataset(root)``.

    Args:
        root: a finished dataset folder (with ``manifest.json``).
        n: scene count, for a folder whose manifest is not written yet (``finish``).

    Returns:
        The paths written: ``root/metadata.jsonl`` (or, with a held-out split,
        ``metadata_train.jsonl`` and ``metadata_test.jsonl``), then ``root/README.md``.

    Raises:
        ScenegenError: ``root`` is not a finished dataset.
    """
    root = Path(root)
    splits = hf_splits(root, finished_indices(root, n))
    written = []
    for metadata, indices in splits.values():
        _write_metadata(root / metadata, root, indices)
        written.append(root / metadata)
    return written + [write_card(root, splits, written)]


def write_card(root: Path, splits: Dict[str, Tuple[str, List[int]]], written: Sequence[Path]) -> Path:
    """Remove the metadata files of another layout (with or without a split) than the
    ``written`` ones, and write the dataset card of ``splits`` (as :func:`hf_splits`
    gives them); returns its path."""
    stale = {HF_METADATA, *(HF_SPLIT_METADATA.format(split=name) for name in SPLIT_NAMES)} - {p.name for p in written}
    for name in stale:
        (root / name).unlink(missing_ok=True)  # left by an export with(out) a split
    card = root / HF_CARD
    atomic_write_bytes(card, dataset_card(splits).encode("utf-8"))
    return card
