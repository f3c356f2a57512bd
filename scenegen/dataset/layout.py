"""The file and folder names of a dataset, in one place.

A dataset folder ``DIR`` holds the per-scene files (layers in :data:`LAYER_FOLDERS`,
records in :data:`RECORD_FOLDER`), the dataset files (:data:`COCO`,
:data:`COVERAGE`, :data:`SPLITS`, the exports' files) and, written last,
:data:`MANIFEST`. The record of the work lies in :data:`WORK_FOLDER`, beside the data.
"""

from __future__ import annotations

MANIFEST = "manifest.json"  # written last: the dataset is complete when it exists
COCO = "coco.json"
COVERAGE = "coverage.json"
SPLITS = "splits.json"  # the scene indices of each split of a held-out split
