"""Hugging Face imagefolder export: load with `datasets` (offline) and compare."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scenegen.errors import ScenegenError
from scenegen.formats.files import read_png, read_record
from scenegen.formats.hf import OBJECT_FIELDS, export_hf

from datasets_fixture import N_SCENES, small_dataset  # noqa: F401  (fixture)

datasets = pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def loaded(small_dataset, tmp_path_factory):
    """The dataset as `datasets` loads it, with a WebDataset export beside it too."""
    import os

    from scenegen.formats.webdataset import export_webdataset

    export_webdataset(small_dataset)  # extra files under data_dir must not add rows
    (path,) = export_hf(small_dataset)
    assert path == Path(small_dataset) / "metadata.jsonl"
    old = os.environ.get("HF_DATASETS_OFFLINE")
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    try:
        ds = datasets.load_dataset(
            "imagefolder", data_dir=small_dataset, cache_dir=str(tmp_path_factory.mktemp("hf_cache"))
        )
    finally:
        if old is None:
            os.environ.pop("HF_DATASETS_OFFLINE", None)
        else:
            os.environ["HF_DATASETS_OFFLINE"] = old
    return ds


def test_one_row_per_scene_only_rgb(loaded):
    assert list(loaded) == ["train"]
    train = loaded["train"]
    assert train.num_rows == N_SCENES  # depth/, instances/, ... PNGs are not rows
    assert "label" not in train.column_names  # no label inferred from folder names
    assert sorted(train.column_names) == sorted(
        ["image", "index", "seed", "context", "width", "height", "depth_scale", "camera_K", "layers", "objects"]
    )


def test_rows_equal_records(loaded, small_dataset):
    train = loaded["train"]
    for row in train:
        record = read_record(small_dataset, row["index"])
        assert row["seed"] == record["seed"] and row["context"] == record["context"]
        assert (row["width"], row["height"]) == (record["width"], record["height"])
        assert row["depth_scale"] == record["depth_scale"]
        assert row["camera_K"] == record["camera"]["K"]
        assert row["layers"] == {k: v for k, v in record["files"].items() if k != "rgb"}
        assert set(row["layers"]) == {"depth", "instances", "semantic", "parts", "normals"}
        for name, _ in OBJECT_FIELDS:
            assert row["objects"][name] == [o[name] for o in record["objects"]], name
        assert row["objects"]["instance_id"] == list(range(1, len(record["objects"]) + 1))
        expected = read_png(Path(small_dataset) / record["files"]["rgb"])
        image = np.asarray(row["image"].convert("RGB"))
        np.testing.assert_array_equal(image, expected)
    assert sorted(train["index"]) == list(range(N_SCENES))


def test_metadata_file_deterministic(small_dataset):
    (path,) = export_hf(small_dataset)
    first = path.read_bytes()
    assert export_hf(small_dataset)[0].read_bytes() == first
    rows = [json.loads(line) for line in first.decode().splitlines()]
    assert [r["file_name"] for r in rows] == [f"images/{i:06d}.png" for i in range(N_SCENES)]


def test_unfinished_dataset_refused(tmp_path):
    with pytest.raises(ScenegenError, match="manifest.json"):
        export_hf(tmp_path)
