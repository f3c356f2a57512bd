"""The names of a dataset's files and folders, and only here.

A dataset folder ``DIR`` as ``scenegen generate out=DIR`` leaves it (``NNNNNN``: a scene
index, :func:`scene_stem`; each line names the constant or function that gives it)::

    DIR/
      images/NNNNNN.png            layer_file("rgb", i): LAYER_FOLDERS, one folder a layer
      depth/NNNNNN.png             layer_file("depth", i)
      instances/NNNNNN.png         layer_file("instances", i)
      parts/NNNNNN.png             layer_file("parts", i)
      semantic/NNNNNN.png          layer_file("semantic", i)
      normals/NNNNNN.png           layer_file("normals", i)
      scenes/NNNNNN.json           record_file(i): RECORD_FOLDER; written after the layers
      coco.json                    COCO
      coverage.json                COVERAGE
      splits.json                  SPLITS                    } with a held-out split
      coco_train.json              COCO_SPLIT (train, test)  }
      coco_test.json
      metadata.jsonl               HF_METADATA               } format hf; with a held-out
      metadata_train.jsonl         HF_SPLIT_METADATA         } split the per-split files
      metadata_test.jsonl                                      instead of metadata.jsonl
      README.md                    HF_CARD, the dataset card (format hf)
      shards/scenegen-000000.tar   webdataset_shard(0): WEBDATASET_FOLDER, WEBDATASET_PREFIX
      shards/train-000000.tar      webdataset_shard(0, WEBDATASET_SPLIT_PREFIX...) with a
      shards/test-000000.tar         held-out split, instead of scenegen-*.tar
      bop/                         BOP_FOLDER (format bop); inside it, BOP's own names
        scenegen_models.json       BOP_MODELS_MAP: BOP model id -> scenegen entry, style, scale
        train/000000/...           BOP_SPLIT / BOP_SCENE_ID: every scene in one BOP scene
      manifest.json                MANIFEST, written last: the dataset is complete when it exists
      preview.png                  PREVIEW        } AFTER_MANIFEST: written into a finished
      coverage.html                COVERAGE_HTML  } dataset by 'scenegen preview DIR' and
                                                    'scenegen coverage DIR --format html'
      .scenegen/                   WORK_FOLDER: the record of the work, not of the data
        run.json                   RUN_RECORD: the data config the scenes are made with
        shards/SSSSSS-EEEEEE.json  shard_record_file(range(S, E)): SHARD_RECORD_FOLDER
        skipped/NNNNNN.json        skip_record_file(i): SKIP_RECORD_FOLDER (unplaceable scene i)
        fill-base.json             FILL_BASE: the manifest a fill tops up, while it runs
        exports/NNNNNN.json        export_piece_file(i): EXPORT_FOLDER; scene i's part of every
        exports/NNNNNN.bin           export format (export_blob_file(i): its bytes), made with
                                     its files, put together and removed by the finishing step

Every file is written to a temporary file in its folder, ``.NAME.XXXXXXXX.tmp``
(:data:`TEMPORARY_NAME`; :func:`scenegen.fileio.atomic_writer` makes them), then renamed
into place. The paths here are relative to ``DIR`` and in POSIX form, as the scene
records and the manifest hold them. This module imports nothing of scenegen: any module
may read the layout from it.

Names that are a format's own (the members of a WebDataset sample, the files inside a
BOP split: ``scene_gt.json``, ``rgb/``, ``mask_visib/``, ...) are the format's
specification, not scenegen's choice, and stay in that format's module.
"""

from __future__ import annotations

import re

# -- per-scene files ---------------------------------------------------------------------

LAYER_FOLDERS = {  # layer name (the key of a record's "files") -> its folder
    "rgb": "images",
    "depth": "depth",
    "instances": "instances",
    "parts": "parts",
    "semantic": "semantic",
    "normals": "normals",
}
LAYER_SUFFIX = ".png"
RECORD_FOLDER = "scenes"  # the scene records
RECORD_SUFFIX = ".json"
# the names of the scene records and skip records in their folders (glob); a name whose
# stem is not all digits is someone else's and is left alone
RECORD_GLOB = f"[0-9]*{RECORD_SUFFIX}"


def scene_stem(index: int) -> str:
    """File stem of scene ``index``: six digits, zero padded (more past 999999)."""
    return f"{index:06d}"


def layer_file(layer: str, index: int) -> str:
    """``images/NNNNNN.png``: the file of layer ``layer`` of scene ``index``."""
    return f"{LAYER_FOLDERS[layer]}/{scene_stem(index)}{LAYER_SUFFIX}"


def layer_glob(layer: str) -> str:
    """``images/*.png``: the files of layer ``layer`` of every scene (a glob pattern)."""
    return f"{LAYER_FOLDERS[layer]}/*{LAYER_SUFFIX}"


def record_file(index: int) -> str:
    """``scenes/NNNNNN.json``: the record of scene ``index``."""
    return f"{RECORD_FOLDER}/{scene_stem(index)}{RECORD_SUFFIX}"


# -- dataset files ---------------------------------------------------------------------

MANIFEST = "manifest.json"  # written last: the dataset is complete when it exists
COCO = "coco.json"
COVERAGE = "coverage.json"
SPLITS = "splits.json"  # the scene indices of each split of a held-out split
COCO_SPLIT = "coco_{split}.json"  # one per split name, with a held-out split

# format hf: the metadata of datasets' imagefolder loader, and the dataset card
HF_METADATA = "metadata.jsonl"
HF_SPLIT_METADATA = "metadata_{split}.jsonl"  # one per split name, instead of HF_METADATA
HF_CARD = "README.md"

# format webdataset: tar shards of whole scenes
WEBDATASET_FOLDER = "shards"
WEBDATASET_PREFIX = "scenegen-"
WEBDATASET_SPLIT_PREFIX = "{split}-"  # instead of WEBDATASET_PREFIX, with a held-out split
WEBDATASET_SUFFIX = ".tar"


def webdataset_shard(number: int, prefix: str = WEBDATASET_PREFIX) -> str:
    """``<prefix>NNNNNN.tar``: shard ``number`` (from 0) of the scenes named by ``prefix``,
    a name in :data:`WEBDATASET_FOLDER`."""
    return f"{prefix}{number:06d}{WEBDATASET_SUFFIX}"


# format bop: the folder and the names inside it that scenegen chooses (the rest is BOP's)
BOP_FOLDER = "bop"
BOP_MODELS_MAP = "scenegen_models.json"  # in BOP_FOLDER: obj_id -> entry, style, scale, category
BOP_SPLIT = "train"  # the default split folder (PNG images, as BOP expects outside *_pbr)
BOP_SCENE_ID = 0  # every scene of the dataset is one image of this BOP scene

# written into a finished dataset after its manifest: not part of it, and not listed
PREVIEW = "preview.png"  # 'scenegen preview DIR'
COVERAGE_HTML = "coverage.html"  # 'scenegen coverage DIR --format html'
AFTER_MANIFEST = (PREVIEW, COVERAGE_HTML)

# -- the record of the work --------------------------------------------------------------

WORK_FOLDER = ".scenegen"  # beside the data (like .git); the manifest does not list it
RUN_RECORD = f"{WORK_FOLDER}/run.json"  # the data config the folder's scenes are made with
SHARD_RECORD_FOLDER = f"{WORK_FOLDER}/shards"  # completion records of shards
SHARD_RECORD_GLOB = f"[0-9]*-[0-9]*{RECORD_SUFFIX}"
SKIP_RECORD_FOLDER = f"{WORK_FOLDER}/skipped"  # skip records of scenes that could not be placed
FILL_BASE = f"{WORK_FOLDER}/fill-base.json"  # the manifest being topped up, while a fill runs


EXPORT_FOLDER = f"{WORK_FOLDER}/exports"  # each scene's part of the exports, until they are written


def export_piece_file(index: int) -> str:
    """``.scenegen/exports/NNNNNN.json``: scene ``index``'s part of the exports (JSON)."""
    return f"{EXPORT_FOLDER}/{scene_stem(index)}{RECORD_SUFFIX}"


def export_blob_file(index: int) -> str:
    """``.scenegen/exports/NNNNNN.bin``: the bytes of scene ``index``'s part of the
    exports (its WebDataset sample, its BOP models), where its piece points."""
    return f"{EXPORT_FOLDER}/{scene_stem(index)}.bin"


def shard_record_file(scenes: range) -> str:
    """``.scenegen/shards/SSSSSS-EEEEEE.json``: the completion record of scenes ``S..E-1``."""
    return f"{SHARD_RECORD_FOLDER}/{scenes.start:06d}-{scenes.stop:06d}{RECORD_SUFFIX}"


def shard_record_scenes(stem: str) -> range:
    """The scenes of the completion record whose file stem is ``stem`` (``SSSSSS-EEEEEE``)."""
    start, stop = stem.split("-")
    return range(int(start), int(stop))


def skip_record_file(index: int) -> str:
    """``.scenegen/skipped/NNNNNN.json``: the skip record of scene ``index``."""
    return f"{SKIP_RECORD_FOLDER}/{scene_stem(index)}{RECORD_SUFFIX}"


# -- the folders scenegen writes, and its temporary files -----------------------------------

# the folders of a dataset that hold scenegen's files: its layers, records and exports
# (flat), and the folders that nest folders of their own (the work records, the BOP export)
DATASET_FOLDERS = (*LAYER_FOLDERS.values(), RECORD_FOLDER, WEBDATASET_FOLDER)
DEEP_FOLDERS = (WORK_FOLDER, BOP_FOLDER)
TEMPORARY_SUFFIX = ".tmp"
TEMPORARY_GLOB = f".*{TEMPORARY_SUFFIX}"
# .NAME.XXXXXXXX.tmp: 8 random characters (hex digits from scenegen.fileio.atomic_writer;
# earlier versions took tempfile.mkstemp's letters, digits and underscores)
TEMPORARY_NAME = re.compile(r"\..+\.[A-Za-z0-9_]{8}" + re.escape(TEMPORARY_SUFFIX))
