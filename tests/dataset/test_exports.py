"""Exports streamed (scenegen/dataset/exports.py): each scene's part of every format is
made by the worker that writes the scene, and the finishing step puts the parts
together in scene order. The files must be the bytes of the exports made from the
finished files, whatever the worker count, split, seed or interruption."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from crash import Killed, fail_replace_after

import scenegen
from scenegen import load_config
from scenegen.dataset import exports
from scenegen.dataset.files import read_record
from scenegen.dataset.formats.bop import diameter, export_bop, hull_vertices
from scenegen.dataset.formats.coco import build_coco, coco_subset
from scenegen.dataset.formats.hf import export_hf
from scenegen.dataset.formats.webdataset import MEMBERS, ShardWriter, export_webdataset, tar_member
from scenegen.dataset.layout import EXPORT_FOLDER, export_piece_file
from scenegen.dataset.read import finished_indices, read_splits
from scenegen.fileio import HashingWriter, JsonDict, JsonList, dumps_json, nested_json, read_json
from scenegen.labels.objects import KEYPOINT_NAMES, KEYPOINT_SKELETON

EVERY = ("format=[webdataset,hf,bop]", "output.shard_size=3")
SIZE = ("width=48", "height=32", "progress=false")
HELD_OUT = "split.held_out=[{context: room}]"


def _generate(out, *overrides):
    return scenegen.generate(load_config([f"out={out}", *SIZE, *EVERY, *overrides]), progress=False)


def _files(root: Path) -> dict:
    """Every file of a dataset folder (its work folder aside): path -> bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".scenegen" not in p.relative_to(root).parts}


def _export_files(files: dict) -> dict:
    """The exports among a dataset's files (the scenes' own files and the manifest aside)."""
    own = ("images/", "depth/", "instances/", "semantic/", "parts/", "normals/", "scenes/")
    return {name: data for name, data in files.items()
            if not name.startswith(own) and name not in ("manifest.json", "coverage.json", "splits.json")}


def _reference_shards(root: Path, indices, shard_size: int) -> list:
    """WebDataset shards as the exporter wrote them before exports were streamed: Python's
    tarfile over the folder's files."""
    shards = []
    for start in range(0, len(indices), shard_size):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for index in indices[start:start + shard_size]:
                record_bytes = (root / f"scenes/{index:06d}.json").read_bytes()
                record = json.loads(record_bytes)
                members = [(f"{index:06d}.{suffix}", (root / record["files"][layer]).read_bytes())
                           for suffix, layer in MEMBERS if layer in record["files"]]
                for name, data in [*members, (f"{index:06d}.json", record_bytes)]:
                    info = tarfile.TarInfo(name)
                    info.size, info.mtime, info.mode, info.uid, info.gid = len(data), 0, 0o644, 0, 0
                    info.uname = info.gname = ""
                    tar.addfile(info, io.BytesIO(data))
        shards.append(buffer.getvalue())
    return shards


def _check_against_the_files(root: Path, tmp_path: Path) -> None:
    """The streamed exports of the finished dataset ``root`` equal (1) each format's
    exporter run on a copy of the finished files and (2) references built without the
    streaming code: COCO from build_coco over every record, shards from tarfile, and every
    JSON file in the canonical form of dumps_json."""
    streamed = _files(root)
    copy = Path(shutil.copytree(root, tmp_path / "copy"))
    for name in _export_files(streamed):
        if name != "coco.json" and not name.startswith("coco_"):
            (copy / name).unlink()
    export_webdataset(copy, shard_size=3)
    export_hf(copy)
    export_bop(copy)
    assert _export_files(_files(copy)) == _export_files(streamed)

    indices = finished_indices(root)
    records = [read_record(root, i) for i in indices]
    categories = [c["name"] for c in read_json(root / "coco.json")["categories"]]
    coco = build_coco(records, categories, info=read_json(root / "coco.json")["info"],
                      keypoint_names=KEYPOINT_NAMES, skeleton=KEYPOINT_SKELETON)
    assert streamed["coco.json"] == dumps_json(coco).encode()
    splits = read_splits(root, indices)
    groups = {"scenegen": indices} if splits is None else splits
    for name, scenes in (splits or {}).items():
        assert streamed[f"coco_{name}.json"] == dumps_json(coco_subset(coco, scenes)).encode()
    for prefix, scenes in groups.items():
        shards = [streamed[f"shards/{prefix}-{k:06d}.tar"] for k in range(-(-len(scenes) // 3))]
        assert shards == _reference_shards(root, scenes, 3)
    for name, data in streamed.items():
        if name.endswith(".json"):
            assert dumps_json(json.loads(data)).encode() == data, name
    for name, data in streamed.items():
        if name.endswith(".jsonl"):
            rows = [json.loads(line) for line in data.decode().splitlines()]
            assert data == b"".join(json.dumps(row, sort_keys=True).encode() + b"\n" for row in rows)


@pytest.mark.render
@pytest.mark.parametrize("overrides", [("seed=0", "n=7"), ("seed=5", "n=6", "workers=2", "num_shards=3"),
                                       ("seed=2", "n=6", HELD_OUT)])
def test_streamed_exports_equal_the_exports_made_from_the_files(tmp_path, overrides):
    out = tmp_path / "d"
    _generate(out, *overrides)
    assert not (out / EXPORT_FOLDER).exists()  # the pieces go with the finishing step
    _check_against_the_files(out, tmp_path)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Every file of a 6-scene dataset with every format and a split, made in one run."""
    out = tmp_path_factory.mktemp("reference") / "d"
    _generate(out, "n=6", "num_shards=2", HELD_OUT)
    return _files(out)


@pytest.mark.render
def test_worker_counts_and_job_arrays_give_the_same_bytes(tmp_path, reference):
    _generate(tmp_path / "two", "n=6", "num_shards=2", HELD_OUT, "workers=2")
    assert _files(tmp_path / "two") == reference
    jobs = tmp_path / "jobs"
    for shard in (1, 0):
        _generate(jobs, "n=6", "num_shards=2", HELD_OUT, f"shard={shard}")
    assert sorted(p.name for p in (jobs / EXPORT_FOLDER).glob("*.json")) == [f"{i:06d}.json" for i in range(6)]
    scenegen.finish_dataset(load_config([f"out={jobs}", *SIZE, *EVERY, "n=6", "num_shards=2", HELD_OUT]))
    assert _files(jobs) == reference


@pytest.mark.render
def test_finishing_reads_the_pieces_not_the_scenes(tmp_path, reference, monkeypatch):
    """With every piece in place the finishing step reads no scene file again: making a
    piece from the files fails here, and the dataset is still the reference's."""
    out = tmp_path / "d"
    cfg = load_config([f"out={out}", *SIZE, *EVERY, "n=6", "num_shards=2", HELD_OUT, "shard=0"])
    scenegen.generate(cfg, progress=False)
    scenegen.generate(load_config([f"out={out}", *SIZE, *EVERY, "n=6", "num_shards=2", HELD_OUT, "shard=1"]),
                      progress=False)

    def refuse(*_):
        raise AssertionError("a scene's files were read again")

    monkeypatch.setattr(exports, "read_scene_record", refuse)
    scenegen.finish_dataset(load_config([f"out={out}", *SIZE, *EVERY, "n=6", "num_shards=2", HELD_OUT]))
    assert _files(out) == reference


@pytest.mark.render
def test_missing_damaged_or_stale_pieces_are_made_again_from_the_files(tmp_path, reference):
    out = tmp_path / "d"
    for shard in (0, 1):
        _generate(out, "n=6", "num_shards=2", HELD_OUT, f"shard={shard}")
    (out / export_piece_file(0)).unlink()  # a folder written before pieces existed
    (out / export_piece_file(1)).write_text("{not json")
    stale = json.loads((out / export_piece_file(2)).read_text())
    stale["coco"]["image"] = stale["coco"]["image"].replace('"license": 1', '"license": 2')
    stale["record_sha256"] = "0" * 64  # the piece of another record
    (out / export_piece_file(2)).write_text(json.dumps(stale))
    blob = out / EXPORT_FOLDER / "000003.bin"
    blob.write_bytes(blob.read_bytes()[:-10])  # its bytes cut short
    for mask in (out / "bop").rglob("000000_*.png"):  # the BOP files of a scene made again come back
        mask.unlink()
    scenegen.finish_dataset(load_config([f"out={out}", *SIZE, *EVERY, "n=6", "num_shards=2", HELD_OUT]))
    assert _files(out) == reference


@pytest.mark.render
@pytest.mark.parametrize("writes_before_kill", [0, 12, 24, 30, 36])  # of 37 writes (the last: the manifest)
def test_a_kill_while_finishing_leaves_no_half_written_export(tmp_path, reference, monkeypatch, writes_before_kill):
    """Killed inside the finishing step (before its k-th file write), the folder holds
    no temporary file, no manifest and no export file that is not whole; the same
    command then completes it with the reference's bytes."""
    out = tmp_path / "d"
    for shard in (0, 1):
        _generate(out, "n=6", "num_shards=2", HELD_OUT, f"shard={shard}")
    fail_replace_after(monkeypatch, writes_before_kill)
    with pytest.raises(Killed):
        scenegen.finish_dataset(load_config([f"out={out}", *SIZE, *EVERY, "n=6", "num_shards=2", HELD_OUT]))
    monkeypatch.undo()
    assert not list(out.rglob("*.tmp")) and not (out / "manifest.json").exists()
    for name, data in _export_files(_files(out)).items():
        assert data == reference[name], f"{name} is not whole"
    _generate(out, "n=6", "num_shards=2", HELD_OUT)
    assert _files(out) == reference


@pytest.mark.render
@pytest.mark.parametrize("writes_before_kill", [5, 17, 33])
def test_a_kill_between_a_scenes_files_resumes_to_the_same_bytes(tmp_path, reference, monkeypatch,
                                                                  writes_before_kill):
    """A kill among a scene's writes (its layers, its BOP files, its piece, its record),
    then the same command: the reference's bytes."""
    out = tmp_path / "d"
    fail_replace_after(monkeypatch, writes_before_kill)
    with pytest.raises(Killed):
        _generate(out, "n=6", "num_shards=2", HELD_OUT)
    monkeypatch.undo()
    assert not list(out.rglob("*.tmp"))
    _generate(out, "n=6", "num_shards=2", HELD_OUT)
    assert _files(out) == reference


# -- the pieces of canonical JSON and of tar archives ---------------------------------------


def _random_value(rng, depth=0):
    kind = int(rng.integers(0, 7 if depth < 3 else 4))
    if kind == 0:
        return int(rng.integers(-5, 1000))
    if kind == 1:
        return float(rng.normal() * 10 ** int(rng.integers(-3, 6)))
    if kind == 2:
        return rng.choice(["", "a", 'q"uote', "new\nline", "ünï", "\\"])
    if kind == 3:
        return [None, True, False][int(rng.integers(0, 3))]
    if kind in (4, 5):
        return [_random_value(rng, depth + 1) for _ in range(int(rng.integers(0, 4)))]
    return {f"k{int(rng.integers(0, 30))}": _random_value(rng, depth + 1) for _ in range(int(rng.integers(0, 4)))}


def test_json_written_in_pieces_is_the_json_of_the_whole():
    rng = np.random.default_rng(7)
    for _ in range(300):
        items = [_random_value(rng) for _ in range(int(rng.integers(0, 5)))]
        keyed = {str(int(rng.integers(0, 200))): _random_value(rng) for _ in range(int(rng.integers(0, 5)))}
        whole = {"a": items, "b": keyed, "c": _random_value(rng)}
        out = []
        out.append('{\n "a": ')
        listed = JsonList(out.append, 1)
        for item in items:
            listed.add(nested_json(item, 2))
        listed.close()
        out.append(',\n "b": ')
        mapped = JsonDict(out.append, 1)
        for key in sorted(keyed):
            mapped.add_item(key, nested_json(keyed[key], 2))
        mapped.close()
        out.append(',\n "c": ' + nested_json(whole["c"], 1) + "\n}\n")
        assert "".join(out) == dumps_json(whole)


def test_shards_written_sample_by_sample_are_tarfiles_bytes(tmp_path):
    rng = np.random.default_rng(3)
    samples = [[(f"{i:06d}.{k}.png", rng.bytes(int(rng.integers(0, 3000)))) for k in range(3)] for i in range(7)]
    for size in (1, 3, 7, 10):
        written = []
        shards = ShardWriter(tmp_path, "x-", size, lambda path, digest, out=written: out.append((path, digest)))
        for sample in samples:
            shards.add(b"".join(tar_member(name, data) for name, data in sample))
        shards.close()
        assert len(written) == -(-len(samples) // size)
        for number, (path, digest) in enumerate(written):
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
                for sample in samples[number * size:(number + 1) * size]:
                    for name, data in sample:
                        info = tarfile.TarInfo(name)
                        info.size, info.mtime, info.mode, info.uid, info.gid = len(data), 0, 0o644, 0, 0
                        info.uname = info.gname = ""
                        tar.addfile(info, io.BytesIO(data))
            assert path.read_bytes() == buffer.getvalue()
            hashed = HashingWriter(io.BytesIO())
            hashed.write(buffer.getvalue())
            assert digest == hashed.hexdigest
            path.unlink()


def test_an_abandoned_shard_leaves_nothing(tmp_path):
    shards = ShardWriter(tmp_path, "x-", 5, lambda *_: None)
    shards.add(tar_member("000000.a.png", b"abc"))
    shards.abort()
    assert list(tmp_path.iterdir()) == []


def test_the_model_diameter_is_the_all_pairs_maximum_to_the_last_bit():
    rng = np.random.default_rng(11)

    def every_pair(points):
        return float(np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)).max())

    for k in range(600):
        count = int(rng.integers(1, 400))
        shape = k % 5
        if shape == 0:
            points = rng.normal(size=(count, 3)) * rng.uniform(1e-3, 1e4)
        elif shape == 1:  # a sphere: many pairs near the largest distance
            points = rng.normal(size=(count, 3))
            points = points / np.linalg.norm(points, axis=1, keepdims=True) * rng.uniform(0.1, 1e3)
        elif shape == 2:  # a grid: exact ties
            points = np.round(rng.uniform(-5, 5, size=(count, 3)))
        elif shape == 3:  # far from the origin
            points = rng.normal(size=(count, 3)) + rng.uniform(-1e5, 1e5, size=3)
        else:  # flat: points on a line
            points = np.zeros((count, 3))
            points[:, 0] = rng.uniform(0, 1, count)
        assert diameter(points) == every_pair(points), k


def test_the_hull_vertices_are_trimeshs(dictionary):
    """The models' info takes the diameter over the vertices of the convex hull as trimesh
    makes it: every built-in shape, at a few scales, gives trimesh's rows in its order."""
    rng = np.random.default_rng(2)
    for name in dictionary.names:
        entry = dictionary[name]
        for style in entry.styles:
            for scale in rng.uniform(0.05, 3.0, size=2):
                mesh = entry.variant(style).mesh().copy()
                mesh.apply_scale(float(scale) * 1000.0)
                assert np.array_equal(hull_vertices(mesh.vertices), mesh.convex_hull.vertices), (name, style, scale)


def _same_json_values(a, b) -> bool:
    """Whether ``a`` and ``b`` are the same JSON values, type for type (an int is not a
    float, a tuple not a list; dict keys str, in any order)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return (all(type(key) is str for key in a) and a.keys() == b.keys()
                and all(_same_json_values(a[key], b[key]) for key in a))
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_json_values(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)


@pytest.mark.render
@pytest.mark.parametrize("overrides", [(), ("preset=realistic",), ("grammar=piles",),
                                       ("directive={occlusion: heavy}",)])
def test_the_record_the_exports_get_is_the_one_its_file_holds(tmp_path, monkeypatch, overrides):
    """The worker hands the exports its record as made (not parsed again from the
    file's bytes): it must be what parsing them gives."""
    seen = []
    begin = exports.PieceWriter.begin

    def spying(self, record_bytes, instances=None, depth=None, record=None):
        seen.append((record_bytes, record))
        return begin(self, record_bytes, instances, depth, record)

    monkeypatch.setattr(exports.PieceWriter, "begin", spying)
    scenegen.generate(load_config([f"out={tmp_path / 'd'}", *SIZE, *EVERY, "n=5", *overrides]), progress=False)
    assert len(seen) == 5
    for record_bytes, record in seen:
        assert record is not None and _same_json_values(record, json.loads(record_bytes))
