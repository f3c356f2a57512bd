"""End to end: the dataset folder, its labels checked against the written files, COCO,
coverage, the manifest, and byte-identical reruns whatever the worker count."""

import io
import os
import stat
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from scenegen import load_config
from scenegen.config.load import config_from_dict, config_to_dict
from scenegen.dataset.files import read_depth, read_parts, read_png
from scenegen.dataset.generate import generate
from scenegen.dataset.read import manifest_config
from scenegen.errors import DepthOverflowError, ScenegenError
from scenegen.fileio import read_json, sha256_file
from scenegen.labels.masks import rle_to_mask
from scenegen.scene.scene import SCENE_SCHEMA_VERSION, Scene
from scenegen.world.dictionary import ObjectDictionary
from scenegen.world.sampler import Sampler

pytestmark = pytest.mark.render
N = 8
OVERRIDES = [f"n={N}", "width=80", "height=60", "seed=3", "format=[webdataset,hf,bop]", "output.shard_size=5"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("dataset")
    cfg = load_config([*OVERRIDES, f"out={out}"])
    manifest = generate(cfg, progress=False)
    return out, cfg, manifest


def records(out: Path):
    return [read_json(out / "scenes" / f"{i:06d}.json") for i in range(N)]


def test_dataset_layout(dataset):
    out, cfg, manifest = dataset
    for name in ("coco.json", "coverage.json", "manifest.json"):
        assert (out / name).is_file()
    for record in records(out):
        assert record["schema_version"] == SCENE_SCHEMA_VERSION and record["seed"] == 3
        assert record["width"] == 80 and record["height"] == 60
        K = np.array(record["camera"]["K"])
        assert K.shape == (3, 3) and K[2].tolist() == [0, 0, 1]
        pose = np.array(record["camera"]["world_from_camera"])
        np.testing.assert_allclose(pose[:3, :3] @ pose[:3, :3].T, np.eye(3), atol=1e-9)
        for layer in ("rgb", "depth", "instances", "parts", "semantic"):
            assert (out / record["files"][layer]).is_file()
        assert record["files"]["parts"] == record["files"]["instances"].replace("instances/", "parts/")
        assert read_png(out / record["files"]["parts"]).dtype == np.uint8
        assert read_png(out / record["files"]["depth"]).dtype == np.uint16
        assert read_png(out / record["files"]["instances"]).dtype == np.uint16
        assert read_png(out / record["files"]["rgb"]).shape == (60, 80, 3)
        assert not list(out.rglob("*.tmp"))


def test_scene_in_record_is_the_sampled_scene(dataset):
    out, cfg, _ = dataset
    sampler = Sampler(cfg)
    for record in records(out):
        assert Scene.from_dict(record["scene"]) == sampler.sample(record["index"])


def test_boxes_counts_and_masks_match_the_instance_png(dataset):
    out, _, _ = dataset
    for record in records(out):
        instances = read_png(out / record["files"]["instances"])
        semantic = read_png(out / record["files"]["semantic"])
        for obj in record["objects"]:
            mask = instances == obj["instance_id"]
            assert obj["visible_pixels"] == int(mask.sum())
            if mask.any():
                rows, cols = np.nonzero(mask)
                assert obj["bbox"] == [cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1]
                assert np.all(semantic[mask] == obj["category_id"])
            else:
                assert obj["bbox"] == [0, 0, 0, 0]
            np.testing.assert_array_equal(rle_to_mask(obj["segmentation"]), mask)
            assert obj["amodal_pixels"] >= obj["visible_pixels"]
            assert 0.0 <= obj["visible_fraction"] <= 1.0
        parts = read_parts(out / record["files"]["parts"])
        np.testing.assert_array_equal(parts == 0, instances == 0)
        for obj in record["objects"]:
            mask = instances == obj["instance_id"]
            assert sum(p["pixels"] for p in obj["parts"]) == obj["visible_pixels"]
            for part in obj["parts"]:
                assert part["pixels"] == int((mask & (parts == part["part_id"])).sum())
        # visible pixels of all objects plus background cover the image exactly
        background = int((instances == 0).sum())
        assert background + sum(o["visible_pixels"] for o in record["objects"]) == 80 * 60


def test_depth_png_round_trips_within_half_a_millimetre(dataset, small_cfg, renderer):
    out, cfg, _ = dataset
    record = records(out)[2]
    frame = renderer.render(Scene.from_dict(record["scene"]))
    depth = read_depth(out / record["files"]["depth"], record["depth_scale"])
    assert np.abs(depth - frame.depth).max() <= 0.5e-3 * record["depth_scale"] + 1e-6
    np.testing.assert_array_equal(read_png(out / record["files"]["instances"]), frame.instances)
    np.testing.assert_array_equal(read_parts(out / record["files"]["parts"]), frame.parts)


def test_coco_loads_and_self_evaluates_to_ap_one(dataset, tmp_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    out, _, _ = dataset
    gt = COCO(str(out / "coco.json"))
    assert len(gt.getImgIds()) == N
    anns = gt.loadAnns(gt.getAnnIds())
    assert anns and all(a["area"] > 0 and a["iscrowd"] == 0 for a in anns)
    for image in gt.loadImgs(gt.getImgIds()):
        assert (out / image["file_name"]).is_file()
    detections = [{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"],
                   "segmentation": a["segmentation"], "score": 1.0} for a in anns]
    dt = gt.loadRes(detections)
    for iou_type in ("bbox", "segm"):
        evaluator = COCOeval(gt, dt, iou_type)
        evaluator.evaluate(), evaluator.accumulate(), evaluator.summarize()
        assert evaluator.stats[0] == pytest.approx(1.0)


def test_coverage_equals_a_recount_of_the_records(dataset):
    out, _, _ = dataset
    coverage = read_json(out / "coverage.json")
    recount = Counter(
        (o["factors"]["category"], o["factors"]["pose"], o["factors"]["context"])
        for r in records(out) for o in r["objects"]
    )
    counts = {(c["category"], c["pose"], c["context"]): c["count"] for c in coverage["counts"]}
    assert {k: v for k, v in counts.items() if v} == dict(recount)
    assert coverage["covered"] == len(recount)
    assert coverage["n_objects"] == sum(recount.values()) and coverage["n_scenes"] == N
    level_recount = Counter(o["factors"]["occlusion"] for r in records(out) for o in r["objects"])
    assert {k: v for k, v in coverage["level_counts"]["occlusion"].items() if v} == dict(level_recount)


def test_manifest_lists_every_file_with_its_hash(dataset):
    out, cfg, manifest = dataset
    assert read_json(out / "manifest.json") == manifest.to_dict()
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {"manifest.json"}
    work = {name for name in on_disk if name.startswith(".scenegen/")}  # the record of the work, not data
    assert work == {".scenegen/run.json", f".scenegen/shards/000000-{N:06d}.json"}
    assert set(manifest["files"]) == on_disk - work
    for name, digest in manifest["files"].items():
        assert sha256_file(out / name) == digest
    assert manifest["n"] == N and manifest["seed"] == 3 and manifest_config(out)["width"] == 80
    # the exported formats are part of the dataset
    assert {"metadata.jsonl", "shards/scenegen-000000.tar", "shards/scenegen-000001.tar",
            "bop/train/000000/scene_gt.json"} <= set(manifest["files"])


def test_manifest_config_rebuilds_the_same_dictionary(dataset):
    out, cfg, _ = dataset
    rebuilt = config_from_dict(manifest_config(out))
    run_keys = ("out", "workers", "progress")  # not stored: the manifest does not depend on them
    assert {k: v for k, v in config_to_dict(rebuilt).items() if k not in run_keys} == {
        k: v for k, v in config_to_dict(cfg).items() if k not in run_keys
    }
    for name in ("table", "chair", "lamp"):  # slot order names the styles
        assert ObjectDictionary(rebuilt)[name].styles == ObjectDictionary(cfg)[name].styles


def test_files_get_ordinary_permissions(dataset):
    out, _, _ = dataset
    umask = os.umask(0)
    os.umask(umask)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in out.rglob("*") if p.is_file()}
    assert modes == {0o666 & ~umask}


def test_rerun_and_two_workers_give_identical_bytes(dataset, tmp_path):
    _, _, manifest = dataset
    again = generate(load_config([*OVERRIDES, f"out={tmp_path / 'again'}"]), progress=False)
    parallel = generate(load_config([*OVERRIDES, f"out={tmp_path / 'par'}", "workers=2"]), progress=False)
    # whole manifests: files, hashes and the stored config
    assert again == manifest
    assert parallel == manifest
    assert (tmp_path / "par" / "manifest.json").read_bytes() == (tmp_path / "again" / "manifest.json").read_bytes()


def test_depth_overflow_is_refused_and_leaves_no_torn_scene(tmp_path):
    cfg = load_config(["n=1", "width=32", "height=24", f"out={tmp_path}", "output.depth_scale=0.01"])
    with pytest.raises(DepthOverflowError, match="output.depth_scale"):
        generate(cfg, progress=False)
    assert not (tmp_path / "scenes").exists()
    assert not (tmp_path / "manifest.json").exists()
    assert not list(tmp_path.rglob("*.tmp"))


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ScenegenError, match="not writable"):
        generate(load_config(["n=1", f"out={blocker / 'sub'}"]), progress=False)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal_and_when_enabled(tmp_path, monkeypatch):
    shown, hidden = _Terminal(), _Terminal()
    monkeypatch.setattr(sys, "stderr", shown)
    generate(load_config(["n=2", "width=32", "height=24", f"out={tmp_path / 'a'}"]))
    assert "2/2" in shown.getvalue() and "scene" in shown.getvalue()
    monkeypatch.setattr(sys, "stderr", hidden)
    generate(load_config(["n=2", "width=32", "height=24", f"out={tmp_path / 'b'}", "progress=false"]))
    assert hidden.getvalue() == ""


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("iou_type", ["bbox", "segm", "keypoints"])
def test_written_coco_scores_perfect_ap_against_itself(dataset, iou_type, tmp_path):
    """coco.json of a real dataset, box keypoints included, loads in pycocotools and
    evaluates to AP 1.0 against itself."""
    from test_coco import load, self_eval_ap

    out, _, _ = dataset
    coco_json = read_json(out / "coco.json")
    assert all(len(c["keypoints"]) == 9 and len(c["skeleton"]) == 12 for c in coco_json["categories"])
    assert all(len(a["keypoints"]) == 27 for a in coco_json["annotations"])
    assert self_eval_ap(load(tmp_path, coco_json), iou_type) == pytest.approx(1.0)
