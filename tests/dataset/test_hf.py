"""Hugging Face export: load with `datasets` (offline) from folders that hold every
format, and compare with the scene records."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from scenegen.dataset.files import read_png, read_record
from scenegen.dataset.formats.hf import COLUMNS, OBJECT_FIELDS, export_hf
from scenegen.dataset.read import finished_indices
from scenegen.errors import ScenegenError
from scenegen.fileio import read_json, sha256_file

datasets = pytest.importorskip("datasets")


def load_offline(root, cache_dir):
    """``datasets.load_dataset(root)``, the way a dataset repository is loaded, offline."""
    old = os.environ.get("HF_DATASETS_OFFLINE")
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    try:
        return datasets.load_dataset(str(root), cache_dir=str(cache_dir))
    finally:
        if old is None:
            os.environ.pop("HF_DATASETS_OFFLINE", None)
        else:
            os.environ["HF_DATASETS_OFFLINE"] = old


@pytest.fixture(scope="module")
def loaded(every_format, tmp_path_factory):
    """The dataset without a split, as `datasets` loads it beside shards/ and bop/."""
    return load_offline(every_format, tmp_path_factory.mktemp("hf_cache"))


@pytest.fixture(scope="module")
def loaded_split(every_format_split, tmp_path_factory):
    """The dataset with a held-out split, beside shards/, bop/ and coco_*.json."""
    return load_offline(every_format_split, tmp_path_factory.mktemp("hf_cache"))


def assert_rows_equal_records(rows, root):
    for row in rows:
        record = read_record(root, row["index"])
        assert row["seed"] == record["seed"] and row["context"] == record["context"]
        assert (row["width"], row["height"]) == (record["width"], record["height"])
        assert row["depth_scale"] == record["depth_scale"]
        assert row["camera_K"] == record["camera"]["K"]
        assert row["layers"] == {k: v for k, v in record["files"].items() if k != "rgb"}
        assert set(row["layers"]) == {"depth", "instances", "semantic", "parts", "normals"}
        for name, _ in OBJECT_FIELDS:
            assert row["objects"][name] == [o[name] for o in record["objects"]], name
        assert row["objects"]["instance_id"] == list(range(1, len(record["objects"]) + 1))
        expected = read_png(Path(root) / record["files"]["rgb"])
        np.testing.assert_array_equal(np.asarray(row["image"].convert("RGB")), expected)


def test_one_train_row_per_scene_beside_every_format(loaded, every_format):
    assert (Path(every_format) / "bop" / "train").is_dir() and (Path(every_format) / "shards").is_dir()
    assert list(loaded) == ["train"]  # not the BOP export's train/ folder
    train = loaded["train"]
    assert train["index"] == finished_indices(every_format)
    assert sorted(train.column_names) == sorted(COLUMNS)  # no "label" from folder names
    assert_rows_equal_records(train, every_format)


def test_16_bit_layers_stay_strings(loaded, every_format):
    layers = loaded["train"].features["layers"]
    assert {name: feature.dtype for name, feature in layers.items()} == dict.fromkeys(
        ["depth", "instances", "semantic", "parts", "normals"], "string")
    depth = read_png(Path(every_format) / loaded["train"][0]["layers"]["depth"])
    assert depth.dtype == np.uint16


def test_split_loads_as_train_and_test(loaded_split, every_format_split):
    splits = read_json(Path(every_format_split) / "splits.json")
    assert list(loaded_split) == ["train", "test"]
    assert splits["train"] and splits["test"]
    for name in ("train", "test"):
        assert loaded_split[name]["index"] == splits[name], name
        assert sorted(loaded_split[name].column_names) == sorted(COLUMNS)
        assert_rows_equal_records(loaded_split[name], every_format_split)


def card_header(root) -> dict:
    text = (Path(root) / "README.md").read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


@pytest.mark.parametrize("split", [False, True])
def test_card_and_metadata_listed_in_manifest(every_format, every_format_split, split):
    root = Path(every_format_split if split else every_format)
    metadata = {name: f"metadata_{name}.jsonl" for name in ("train", "test")} if split else {"train": "metadata.jsonl"}
    files = read_json(root / "manifest.json")["files"]
    for name in ["README.md", *metadata.values()]:
        assert files[name] == sha256_file(root / name), name
    assert not (root / ("metadata.jsonl" if split else "metadata_train.jsonl")).exists()
    (config,) = card_header(root)["configs"]
    assert config["data_files"] == [{"split": name, "path": [file, "images/*.png"]}
                                    for name, file in metadata.items()]
    assert config["metadata_filenames"] == list(metadata.values())
    assert card_header(root)["license"] == "cc0-1.0"


def test_export_is_deterministic_and_replaces_the_other_layout(every_format_split, tmp_path):
    copy = Path(shutil.copytree(every_format_split, tmp_path / "copy"))
    written = export_hf(copy)
    assert [p.name for p in written] == ["metadata_train.jsonl", "metadata_test.jsonl", "README.md"]
    for path in written:  # the same bytes as the export generate made
        assert path.read_bytes() == (Path(every_format_split) / path.name).read_bytes(), path.name
    (copy / "splits.json").unlink()
    assert [p.name for p in export_hf(copy)] == ["metadata.jsonl", "README.md"]
    assert not (copy / "metadata_train.jsonl").exists() and not (copy / "metadata_test.jsonl").exists()
    rows = [json.loads(line) for line in (copy / "metadata.jsonl").read_text().splitlines()]
    assert [r["file_name"] for r in rows] == [f"images/{i:06d}.png" for i in finished_indices(copy)]


def test_unfinished_dataset_refused(tmp_path):
    with pytest.raises(ScenegenError, match="manifest.json"):
        export_hf(tmp_path)
