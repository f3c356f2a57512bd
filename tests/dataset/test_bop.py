"""BOP export: read the JSON, PNGs and PLY models back and check them against the
dataset folder, a fresh render, and each other."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh
from datasets_fixture import N_SCENES

from scenegen.dataset.files import read_png, read_record
from scenegen.dataset.formats.bop import export_bop
from scenegen.errors import ScenegenError
from scenegen.scene.scene import Scene


@pytest.fixture(scope="module")
def bop(small_dataset):
    written = export_bop(small_dataset)
    root = Path(small_dataset) / "bop"
    scene = root / "train" / "000000"

    def load(name):
        return json.loads((scene / name).read_text())

    return {
        "written": written,
        "root": root,
        "scene": scene,
        "camera": load("scene_camera.json"),
        "gt": load("scene_gt.json"),
        "info": load("scene_gt_info.json"),
        "models_info": json.loads((root / "models" / "models_info.json").read_text()),
        "models": json.loads((root / "scenegen_models.json").read_text()),
    }


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _ply(bop, obj_id) -> np.ndarray:
    mesh = trimesh.load(bop["root"] / "models" / f"obj_{obj_id:06d}.ply", process=False)
    return np.asarray(mesh.vertices, dtype=float)


def test_layout_and_copies(bop, small_dataset):
    assert all(p.is_file() for p in bop["written"])
    assert sorted(_tree(bop["root"])) == sorted(str(p.relative_to(bop["root"])) for p in bop["written"])
    assert sorted(bop["camera"], key=int) == [str(i) for i in range(N_SCENES)]
    for i in range(N_SCENES):
        record = read_record(small_dataset, i)
        stem = f"{i:06d}"
        for layer, folder in (("rgb", "rgb"), ("depth", "depth")):
            assert (bop["scene"] / folder / f"{stem}.png").read_bytes() == (
                Path(small_dataset) / record["files"][layer]
            ).read_bytes()
        cam = bop["camera"][str(i)]
        assert cam["cam_K"] == [v for row in record["camera"]["K"] for v in row]
        assert cam["depth_scale"] == record["depth_scale"]
        camera_from_world = np.linalg.inv(np.asarray(record["camera"]["world_from_camera"]))
        np.testing.assert_allclose(np.reshape(cam["cam_R_w2c"], (3, 3)), camera_from_world[:3, :3], atol=1e-12)
        np.testing.assert_allclose(cam["cam_t_w2c"], camera_from_world[:3, 3] * 1000, atol=1e-9)
        assert len(bop["gt"][str(i)]) == len(bop["info"][str(i)]) == len(record["objects"])


def test_masks(bop, small_dataset, renderer):
    for i in range(N_SCENES):
        record = read_record(small_dataset, i)
        instances = read_png(Path(small_dataset) / record["files"]["instances"])
        depth = read_png(Path(small_dataset) / record["files"]["depth"])
        frame = renderer.render(Scene.from_dict(record["scene"]))
        for g, info in enumerate(bop["info"][str(i)]):
            stem = f"{i:06d}_{g:06d}"
            visib = read_png(bop["scene"] / "mask_visib" / f"{stem}.png")
            amodal = read_png(bop["scene"] / "mask" / f"{stem}.png")
            assert visib.dtype == np.uint8 and set(np.unique(visib)) <= {0, 255}
            np.testing.assert_array_equal(visib > 0, instances == g + 1)
            np.testing.assert_array_equal(amodal > 0, frame.amodal[g] | (instances == g + 1))
            assert not np.any((visib > 0) & (amodal == 0))
            assert info["px_count_visib"] == int((visib > 0).sum()) == record["objects"][g]["visible_pixels"]
            assert info["px_count_all"] == int((amodal > 0).sum())
            assert info["px_count_valid"] == int(((amodal > 0) & (depth > 0)).sum())
            assert info["visib_fract"] == pytest.approx(info["px_count_visib"] / info["px_count_all"], abs=0)
            ys, xs = np.nonzero(visib)
            if xs.size == 0:  # wholly hidden (a small object behind another): no box
                assert info["bbox_visib"] == [-1, -1, -1, -1]
                continue
            # bop_toolkit's calc_2d_bbox: w = x_max - x_min; scenegen's bbox counts pixels
            assert info["bbox_visib"] == [xs.min(), ys.min(), xs.max() - xs.min(), ys.max() - ys.min()]
            x, y, w, h = record["objects"][g]["bbox"]
            assert info["bbox_visib"] == [x, y, w - 1, h - 1]


def test_models_and_poses_project_into_bbox_obj(bop, small_dataset):
    checked = 0
    for i in range(N_SCENES):
        record = read_record(small_dataset, i)
        K = np.reshape(bop["camera"][str(i)]["cam_K"], (3, 3))
        height, width = record["height"], record["width"]
        for g, (gt, info) in enumerate(zip(bop["gt"][str(i)], bop["info"][str(i)])):
            R = np.reshape(gt["cam_R_m2c"], (3, 3))
            t = np.asarray(gt["cam_t_m2c"], dtype=float)
            np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
            assert np.linalg.det(R) == pytest.approx(1.0)
            # the pose is the record's object pose seen from its camera, in mm
            camera_from_object = np.linalg.inv(np.asarray(record["camera"]["world_from_camera"])) @ np.asarray(
                record["objects"][g]["world_from_object"]
            )
            np.testing.assert_allclose(R, camera_from_object[:3, :3], atol=1e-12)
            np.testing.assert_allclose(t, camera_from_object[:3, 3] * 1000, atol=1e-9)

            vertices = _ply(bop, gt["obj_id"])
            cam = vertices @ R.T + t
            assert (cam[:, 2] > 0).all()
            uv = cam @ K.T
            uv = uv[:, :2] / uv[:, 2:]
            x, y, w, h = info["bbox_obj"]
            # pixel centres within the projected points' box (bop_toolkit: w = x_max - x_min)
            assert (uv[:, 0] > x - 1).all() and (uv[:, 0] < x + w + 1).all()
            assert (uv[:, 1] > y - 1).all() and (uv[:, 1] < y + h + 1).all()
            assert x - 1 < uv[:, 0].min() <= x and x + w <= uv[:, 0].max() < x + w + 1
            assert y - 1 < uv[:, 1].min() <= y and y + h <= uv[:, 1].max() < y + h + 1
            # and the rendered full silhouette's box, where it lies inside the image
            amodal = read_png(bop["scene"] / "mask" / f"{i:06d}_{g:06d}.png") > 0
            ys, xs = np.nonzero(amodal)
            if xs.min() > 0 and ys.min() > 0 and xs.max() < width - 1 and ys.max() < height - 1:
                assert abs(xs.min() - x) <= 1 and abs(xs.max() - (x + w)) <= 1
                assert abs(ys.min() - y) <= 1 and abs(ys.max() - (y + h)) <= 1
                checked += 1
    assert checked >= N_SCENES


def test_models_info_and_mapping(bop, small_dataset, dictionary):
    seen = {}
    for i in range(N_SCENES):
        record = read_record(small_dataset, i)
        for gt, label in zip(bop["gt"][str(i)], record["objects"]):
            key = (label["entry"], label["style"], label["scale"])
            assert seen.setdefault(key, gt["obj_id"]) == gt["obj_id"]
            meta = bop["models"][str(gt["obj_id"])]
            assert (meta["entry"], meta["style"], meta["scale"]) == key
            assert (meta["category"], meta["category_id"]) == (label["category"], label["category_id"])
    # ids from 1 in first-seen order, one per distinct (entry, style, scale)
    assert sorted(seen.values()) == list(range(1, len(seen) + 1))
    assert [seen[k] for k in seen] == list(range(1, len(seen) + 1))
    assert sorted(bop["models_info"], key=int) == [str(i) for i in range(1, len(seen) + 1)]
    for (entry, style, scale), obj_id in seen.items():
        vertices = _ply(bop, obj_id)
        variant = dictionary[entry].variant(style)
        size = vertices.max(0) - vertices.min(0)
        np.testing.assert_allclose(size, np.asarray(variant.extents) * scale * 1000, rtol=1e-5)
        info = bop["models_info"][str(obj_id)]
        np.testing.assert_allclose([info["min_x"], info["min_y"], info["min_z"]], vertices.min(0), atol=1e-3)
        np.testing.assert_allclose([info["size_x"], info["size_y"], info["size_z"]], size, atol=1e-3)
        assert info["min_z"] == pytest.approx(0.0, abs=1e-6)  # origin at the base
        far = np.sqrt(((vertices[:, None] - vertices[None]) ** 2).sum(-1)).max()
        assert info["diameter"] == pytest.approx(far, rel=1e-6)


def test_deterministic_and_explicit_dictionary(bop, small_dataset, dictionary):
    first = _tree(bop["root"])
    export_bop(small_dataset, dictionary=dictionary)
    assert _tree(bop["root"]) == first
    assert not [p for p in Path(small_dataset).iterdir() if p.name.startswith(".bop")]


def test_refusals(tmp_path, small_dataset):
    with pytest.raises(ScenegenError, match="manifest.json"):
        export_bop(tmp_path)
    with pytest.raises(ScenegenError, match="split"):
        export_bop(small_dataset, split="../x")
