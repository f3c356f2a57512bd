"""WebDataset export: read back with the webdataset library, byte-stable shards."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from datasets_fixture import N_SCENES

from scenegen.dataset.files import read_depth, read_normals, read_png, read_record
from scenegen.dataset.formats.webdataset import (
    export_webdataset,
    png_decoder,
    read_webdataset,
    to_arrays,
)
from scenegen.errors import ConfigError, ScenegenError
from scenegen.fileio import read_json

wds = pytest.importorskip("webdataset")


def test_read_back_equals_folder(small_dataset):
    shards = export_webdataset(small_dataset)
    assert [p.name for p in shards] == ["scenegen-000000.tar"]
    samples = list(read_webdataset([str(p) for p in shards]))
    assert [s["__key__"] for s in samples] == [f"{i:06d}" for i in range(N_SCENES)]
    for i, sample in enumerate(samples):
        record = read_record(small_dataset, i)
        assert sample["record"] == record
        files = {k: Path(small_dataset) / v for k, v in record["files"].items()}
        assert sample["rgb"].dtype == np.uint8 and sample["rgb"].shape == (record["height"], record["width"], 3)
        np.testing.assert_array_equal(sample["rgb"], read_png(files["rgb"]))
        assert sample["instances"].dtype == np.uint16
        np.testing.assert_array_equal(sample["instances"], read_png(files["instances"]))
        assert sample["semantic"].dtype == np.uint8 and sample["parts"].dtype == np.uint8
        np.testing.assert_array_equal(sample["semantic"], read_png(files["semantic"]))
        np.testing.assert_array_equal(sample["parts"], read_png(files["parts"]))
        assert sample["depth"].dtype == np.float32
        np.testing.assert_array_equal(sample["depth"], read_depth(files["depth"], record["depth_scale"]))
        assert sample["depth"].max() > 0
        assert sample["normals"].dtype == np.float32
        np.testing.assert_array_equal(sample["normals"], read_normals(files["normals"]))


def test_uint16_depth_and_plain_pipeline(small_dataset):
    shards = [str(p) for p in export_webdataset(small_dataset)]
    exact = list(read_webdataset(shards, depth="uint16"))
    # the documented plain-library pipeline gives the same arrays
    plain = list(wds.WebDataset(shards, shardshuffle=False).decode(png_decoder).map(to_arrays))
    for i, (sample, other) in enumerate(zip(exact, plain)):
        record = read_record(small_dataset, i)
        depth = read_png(Path(small_dataset) / record["files"]["depth"])
        assert sample["depth"].dtype == np.uint16
        np.testing.assert_array_equal(sample["depth"], depth)
        np.testing.assert_array_equal(other["instances"], sample["instances"])
        assert other["record"] == record
    assert len(plain) == N_SCENES


def test_members_in_order_with_fixed_metadata(small_dataset):
    (shard,) = export_webdataset(small_dataset)
    with tarfile.open(shard) as tar:
        members = tar.getmembers()
    suffixes = ["rgb.png", "depth.png", "instances.png", "semantic.png", "parts.png", "normals.png", "json"]
    assert [m.name for m in members] == [f"{i:06d}.{s}" for i in range(N_SCENES) for s in suffixes]
    for m in members:
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) == (0, 0, 0, "", "", 0o644)
    with tarfile.open(shard) as tar:
        record = json.loads(tar.extractfile("000002.json").read())
    assert record == read_record(small_dataset, 2)


def test_byte_identical_exports(small_dataset, tmp_path):
    first = [p.read_bytes() for p in export_webdataset(small_dataset, shard_size=4)]
    copy = tmp_path / "copy"
    shutil.copytree(small_dataset, copy, ignore=shutil.ignore_patterns("shards"))
    second = [p.read_bytes() for p in export_webdataset(copy, shard_size=4)]
    assert first == second
    again = [p.read_bytes() for p in export_webdataset(small_dataset, shard_size=4)]
    assert again == first


def test_shard_size_splits_and_stale_shards_go(small_dataset):
    shards = export_webdataset(small_dataset, shard_size=4)
    assert [p.name for p in shards] == ["scenegen-000000.tar", "scenegen-000001.tar"]
    keys = [[s["__key__"] for s in read_webdataset(str(p))] for p in shards]
    assert keys == [["000000", "000001", "000002", "000003"], ["000004", "000005"]]
    export_webdataset(small_dataset, shard_size=1000)
    assert sorted(p.name for p in (Path(small_dataset) / "shards").iterdir()) == ["scenegen-000000.tar"]


@pytest.mark.parametrize("bad", [0, -1, 2.5, "4", True, None])
def test_bad_shard_size(small_dataset, bad):
    with pytest.raises(ConfigError, match="shard_size"):
        export_webdataset(small_dataset, shard_size=bad)


def shard_files(root) -> list:
    return sorted(name for name in read_json(Path(root) / "manifest.json")["files"] if name.startswith("shards/"))


def test_no_split_one_shard_set(every_format):
    assert shard_files(every_format) == ["shards/scenegen-000000.tar"]
    assert sorted(p.name for p in (Path(every_format) / "shards").iterdir()) == ["scenegen-000000.tar"]


def test_split_shards_hold_each_split(every_format_split):
    root = Path(every_format_split)
    splits = read_json(root / "splits.json")
    assert splits["train"] and splits["test"]
    assert shard_files(root) == ["shards/test-000000.tar", "shards/train-000000.tar"]
    for name in ("train", "test"):
        samples = list(read_webdataset(str(root / "shards" / f"{name}-000000.tar")))
        assert [s["__key__"] for s in samples] == [f"{i:06d}" for i in splits[name]], name
        assert [s["record"] for s in samples] == [read_record(root, i) for i in splits[name]]
        np.testing.assert_array_equal(samples[0]["rgb"], read_png(root / samples[0]["record"]["files"]["rgb"]))


def test_split_shards_byte_identical_and_layout_switch(every_format_split, tmp_path):
    copy = Path(shutil.copytree(every_format_split, tmp_path / "copy", ignore=shutil.ignore_patterns("shards")))
    shards = export_webdataset(copy)
    assert [p.name for p in shards] == ["train-000000.tar", "test-000000.tar"]
    for path in shards:  # the bytes generate wrote
        assert path.read_bytes() == (Path(every_format_split) / "shards" / path.name).read_bytes()
    splits = read_json(copy / "splits.json")
    small = export_webdataset(copy, shard_size=1)
    assert [p.name for p in small] == [f"{name}-{k:06d}.tar" for name in ("train", "test")
                                       for k in range(len(splits[name]))]
    (copy / "splits.json").unlink()  # no split: the shards of every scene, the split ones go
    assert [p.name for p in export_webdataset(copy)] == ["scenegen-000000.tar"]
    assert sorted(p.name for p in (copy / "shards").iterdir()) == ["scenegen-000000.tar"]


def test_unfinished_dataset_refused(tmp_path):
    with pytest.raises(ScenegenError, match="manifest.json"):
        export_webdataset(tmp_path)
