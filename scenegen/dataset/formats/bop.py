"""BOP export of a finished dataset folder (https://github.com/thodan/bop_toolkit,
docs/bop_datasets_format.md).

Layout written by :func:`export_bop` under ``DIR/bop/`` (``SPLIT`` = ``train`` by
default: PNG images, as bop_toolkit expects outside ``*_pbr`` splits, which are JPEG;
all the dataset's scenes form one BOP scene, ``000000``; the BOP image id ``im_id`` is
the scenegen scene index)::

    camera.json                    cx, cy, fx, fy, width, height, depth_scale of scene 0
                                   (per-image intrinsics: scene_camera.json)
    models/obj_OOOOOO.ply          object models, millimetres (see "Models")
    models/models_info.json        {obj_id: {diameter, min_x, min_y, min_z, size_x,
                                   size_y, size_z}} (mm) + symmetries_continuous /
                                   symmetries_discrete for rotationally symmetric entries
    scenegen_models.json           {obj_id: {entry, style, scale, category, category_id}}
    SPLIT/000000/scene_camera.json {im_id: {cam_K (9), depth_scale, cam_R_w2c (9),
                                   cam_t_w2c (3, mm)}}
    SPLIT/000000/scene_gt.json     {im_id: [{obj_id, cam_R_m2c (9), cam_t_m2c (3, mm)}]}
    SPLIT/000000/scene_gt_info.json {im_id: [{bbox_obj, bbox_visib, px_count_all,
                                   px_count_valid, px_count_visib, visib_fract}]}
    SPLIT/000000/rgb/IIIIII.png    copy of images/IIIIII.png
    SPLIT/000000/depth/IIIIII.png  copy of depth/IIIIII.png: uint16, value * depth_scale
                                   = millimetres (scenegen's convention is BOP's)
    SPLIT/000000/mask/IIIIII_GGGGGG.png        amodal mask of ground truth GGGGGG, 0/255
    SPLIT/000000/mask_visib/IIIIII_GGGGGG.png  visible mask (instances == GGGGGG + 1)

Ground truth ``g`` of image ``i`` is object ``g`` of scene record ``i`` (instance id
``g + 1``); lists in scene_gt.json and scene_gt_info.json are in that order.

Models. An object's size is a continuous per-instance scale, and BOP poses carry no
scale, so a model is one distinct (entry, style, scale): the entry's variant mesh
(``ObjectDictionary[entry].variant(style).mesh()``) times ``scale * 1000``, in the
object's own frame (origin at the centre of its base, z up, front along +x). Model ids
(``obj_id``, from 1) are given in first-seen order over scenes and objects, so the same
dataset always gives the same ids; ``scenegen_models.json`` maps each back to its entry.
PLY files are binary little-endian with vertex normals, written by trimesh.

Poses. ``cam_R_m2c``, ``cam_t_m2c`` map model points (mm) to the camera frame (OpenCV:
x right, y down, z forward; mm): ``x_cam = R x_model + t``: the labels' own
``cam_R_m2c`` / ``cam_t_m2c``.

gt_info. ``bbox_obj`` is the box of the pixels whose centres lie within the extent of
the model's vertices projected with cam_K: the box of the full rasterised silhouette
(not clipped to the image unless the model straddles the camera plane, when
the amodal mask's box stands in). ``bbox_visib`` is the box of the visible mask. Boxes are ``[x, y, w, h]`` in
bop_toolkit's convention (``misc.calc_2d_bbox``: ``w = x_max - x_min``, one less than
the pixel count; scenegen's own ``bbox`` labels count pixels);
``[-1, -1, -1, -1]`` for an empty mask. ``px_count_all`` counts the amodal mask (in the
image), ``px_count_valid`` its pixels with depth > 0, ``px_count_visib`` the visible
mask; ``visib_fract = px_count_visib / px_count_all`` (0 when the mask is empty).

Masks come from the scene records: ``mask/`` decodes each object's
``amodal_segmentation`` (COCO RLE of its silhouette with nothing in front of it),
``mask_visib/`` is the stored ``instances/`` image's pixels of the object.

The whole ``bop/`` tree is built in a temporary folder next to it and swapped in at the
end, so a reader never sees a half-written export or files of an earlier one.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
from PIL import Image

from ...errors import ScenegenError
from ...fileio import FOLDER_MODE, dumps_json
from ...labels.masks import rle_to_mask
from ...world.compile import World
from ...world.dictionary import ObjectDictionary
from ..files import read_png, read_record
from ..layout import BOP_FOLDER, BOP_MODELS_MAP, BOP_SCENE_ID, BOP_SPLIT, TEMPORARY_SUFFIX
from ..read import dataset_config, finished_indices

EMPTY_BOX = [-1, -1, -1, -1]
# the names inside BOP_FOLDER below are the BOP format's own (bop_toolkit,
# docs/bop_datasets_format.md); BOP_FOLDER, BOP_MODELS_MAP, the split and the scene id
# are scenegen's choices (scenegen.dataset.layout)


def _bop_id(number: int) -> str:
    """A scene, image, ground-truth or object id in a BOP file name: six digits."""
    return f"{number:06d}"


def _png(mask: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def mask_bbox(mask: np.ndarray) -> list:
    """``[x, y, w, h]`` of the true pixels of ``mask`` in bop_toolkit's convention
    (``misc.calc_2d_bbox``: ``w = x_max - x_min``); ``[-1, -1, -1, -1]`` if none."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return list(EMPTY_BOX)
    x0, y0 = int(xs.min()), int(ys.min())
    return [x0, y0, int(xs.max()) - x0, int(ys.max()) - y0]


def project(K: np.ndarray, R: np.ndarray, t: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) pixel coordinates (u, v) of model points (N, 3) under pose (R, t), both in
    the same unit; pixel centres at integer coordinates."""
    cam = points @ np.asarray(R, dtype=float).T + np.asarray(t, dtype=float).reshape(1, 3)
    uvw = cam @ np.asarray(K, dtype=float).T
    return uvw[:, :2] / uvw[:, 2:3]


def projected_bbox(uv: np.ndarray) -> list:
    """``[x, y, w, h]`` of the pixels whose centres (integer coordinates) lie in the box
    of projected points ``uv`` (N, 2): columns ``ceil(min u) .. floor(max u)``, rows
    likewise, the pixels a rasteriser fills; in bop_toolkit's convention
    (``w = x_max - x_min``)."""
    low = np.ceil(uv.min(axis=0) - 1e-9)
    high = np.maximum(np.floor(uv.max(axis=0) + 1e-9), low)
    return [int(low[0]), int(low[1]), int(high[0] - low[0]), int(high[1] - low[1])]


def _symmetries(order: int) -> dict:
    """BOP symmetry keys for rotational symmetry of ``order`` about the model z axis."""
    if order == 0:
        return {"symmetries_continuous": [{"axis": [0, 0, 1], "offset": [0, 0, 0]}]}
    if order > 1:
        transforms = []
        for k in range(1, order):
            angle = 2 * np.pi * k / order
            matrix = np.eye(4)
            c, s = np.cos(angle), np.sin(angle)
            matrix[:2, :2] = [[c, -s], [s, c]]
            transforms.append([float(v) for v in np.round(matrix, 12).ravel()])
        return {"symmetries_discrete": transforms}
    return {}


class _Models:
    """Models keyed by (entry, style, scale), obj_id in first-seen order."""

    def __init__(self, dictionary):
        self.dictionary = dictionary
        self.ids: Dict[Tuple[str, str, float], int] = {}
        self.meshes: Dict[int, object] = {}
        self.meta: Dict[int, dict] = {}

    def obj_id(self, obj, label: dict) -> int:
        key = (obj.entry, obj.style, float(obj.scale))
        if key not in self.ids:
            obj_id = len(self.ids) + 1
            self.ids[key] = obj_id
            entry = self.dictionary[obj.entry]
            mesh = entry.variant(obj.style).mesh().copy()
            mesh.apply_scale(float(obj.scale) * 1000.0)
            self.meshes[obj_id] = mesh
            self.meta[obj_id] = {
                "entry": obj.entry,
                "style": obj.style,
                "scale": float(obj.scale),
                "category": label["category"],
                "category_id": int(label["category_id"]),
                "symmetry": int(entry.symmetry),
            }
        return self.ids[key]

    def vertices(self, obj_id: int) -> np.ndarray:
        return np.asarray(self.meshes[obj_id].vertices, dtype=float)

    def info(self, obj_id: int) -> dict:
        vertices = self.vertices(obj_id)
        low, high = vertices.min(axis=0), vertices.max(axis=0)
        hull = self.meshes[obj_id].convex_hull.vertices if len(vertices) > 3 else vertices
        hull = np.asarray(hull, dtype=float)
        diameter = float(np.sqrt(((hull[:, None, :] - hull[None, :, :]) ** 2).sum(-1)).max())
        info = {
            "diameter": diameter,
            "min_x": float(low[0]),
            "min_y": float(low[1]),
            "min_z": float(low[2]),
            "size_x": float(high[0] - low[0]),
            "size_y": float(high[1] - low[1]),
            "size_z": float(high[2] - low[2]),
        }
        info.update(_symmetries(self.meta[obj_id]["symmetry"]))
        return info

    def ply(self, obj_id: int) -> bytes:
        from trimesh.exchange.ply import export_ply

        return export_ply(self.meshes[obj_id], encoding="binary", vertex_normal=True, include_attributes=False)


def _dictionary_of(root: Path) -> ObjectDictionary:
    """The dictionary of the config saved in ``manifest.json``."""
    return World.of(dataset_config(root)).dictionary


def export_bop(
    root: str | Path,
    dictionary=None,
    split: str = BOP_SPLIT,
    n: Optional[int] = None,
) -> List[Path]:
    """Write the finished dataset ``root`` in the BOP format under ``root/bop/``.

    Args:
        root: a finished dataset folder (with ``manifest.json``).
        dictionary: the :class:`~scenegen.world.dictionary.ObjectDictionary` the dataset was
            made with; default: rebuilt from the config in ``manifest.json``.
        split: BOP split folder name (``train``, ``val``, ``test``; ``*_pbr`` splits expect JPEG).
        n: scene count, for a folder whose manifest is not written yet (``finish``).

    Returns:
        Every file written, as paths under ``root/bop/``, in writing order.

    Raises:
        ScenegenError: ``root`` is not a finished dataset.
    """
    from ...scene.scene import Scene

    root = Path(root)
    if not split or "/" in split or split.startswith("."):
        raise ScenegenError(f"split must be a plain folder name (e.g. 'train'), got {split!r}")
    indices = finished_indices(root, n)
    if dictionary is None:
        dictionary = _dictionary_of(root)

    final = root / BOP_FOLDER
    build = Path(tempfile.mkdtemp(prefix=f".{BOP_FOLDER}.", suffix=TEMPORARY_SUFFIX, dir=root))
    os.chmod(build, FOLDER_MODE)  # mkdtemp makes it 0700; it becomes bop/
    written: List[str] = []

    def write(relative: str, data: bytes) -> None:
        path = build / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(relative)

    try:
        models = _Models(dictionary)
        scene_dir = f"{split}/{_bop_id(BOP_SCENE_ID)}"
        scene_camera, scene_gt, scene_gt_info = {}, {}, {}
        first_camera = None
        for index in indices:
            record = read_record(root, index)
            scene = Scene.from_dict(record["scene"])
            stem = _bop_id(index)
            K = np.asarray(record["camera"]["K"], dtype=float)
            world_from_camera = np.asarray(record["camera"]["world_from_camera"], dtype=float)
            camera_from_world = np.linalg.inv(world_from_camera)
            depth_scale = float(record["depth_scale"])
            if first_camera is None:
                first_camera = {
                    "cx": float(K[0, 2]),
                    "cy": float(K[1, 2]),
                    "fx": float(K[0, 0]),
                    "fy": float(K[1, 1]),
                    "width": int(record["width"]),
                    "height": int(record["height"]),
                    "depth_scale": depth_scale,
                }
            scene_camera[str(index)] = {
                "cam_K": [float(v) for v in K.ravel()],
                "depth_scale": depth_scale,
                "cam_R_w2c": [float(v) for v in camera_from_world[:3, :3].ravel()],
                "cam_t_w2c": [float(v) for v in camera_from_world[:3, 3] * 1000.0],
            }
            write(f"{scene_dir}/rgb/{stem}.png", (root / record["files"]["rgb"]).read_bytes())
            write(f"{scene_dir}/depth/{stem}.png", (root / record["files"]["depth"]).read_bytes())

            instances = read_png(root / record["files"]["instances"])
            depth = read_png(root / record["files"]["depth"])

            gts, infos = [], []
            for g, obj in enumerate(scene.objects):
                obj_id = models.obj_id(obj, record["objects"][g])
                label = record["objects"][g]
                R = np.reshape(np.asarray(label["cam_R_m2c"], dtype=float), (3, 3))
                t = np.asarray(label["cam_t_m2c"], dtype=float)
                gts.append(
                    {
                        "obj_id": obj_id,
                        "cam_R_m2c": [float(v) for v in R.ravel()],
                        "cam_t_m2c": [float(v) for v in t],
                    }
                )
                visible = instances == g + 1
                amodal = rle_to_mask(record["objects"][g]["amodal_segmentation"])
                vertices = models.vertices(obj_id)
                in_front = (vertices @ R.T + t)[:, 2] > 1e-6
                if in_front.all():
                    bbox_obj = projected_bbox(project(K, R, t, vertices))
                else:  # straddles the camera plane: the projection is unbounded
                    bbox_obj = mask_bbox(amodal)
                px_all = int(amodal.sum())
                px_visib = int(visible.sum())
                infos.append(
                    {
                        "bbox_obj": bbox_obj,
                        "bbox_visib": mask_bbox(visible),
                        "px_count_all": px_all,
                        "px_count_valid": int((amodal & (depth > 0)).sum()),
                        "px_count_visib": px_visib,
                        "visib_fract": px_visib / px_all if px_all else 0.0,
                    }
                )
                gt_stem = f"{stem}_{_bop_id(g)}"
                write(f"{scene_dir}/mask/{gt_stem}.png", _png(amodal))
                write(f"{scene_dir}/mask_visib/{gt_stem}.png", _png(visible))
            scene_gt[str(index)] = gts
            scene_gt_info[str(index)] = infos

        write(f"{scene_dir}/scene_camera.json", dumps_json(scene_camera).encode("utf-8"))
        write(f"{scene_dir}/scene_gt.json", dumps_json(scene_gt).encode("utf-8"))
        write(f"{scene_dir}/scene_gt_info.json", dumps_json(scene_gt_info).encode("utf-8"))
        for obj_id in sorted(models.meshes):
            write(f"models/obj_{_bop_id(obj_id)}.ply", models.ply(obj_id))
        write(
            "models/models_info.json",
            dumps_json({str(i): models.info(i) for i in sorted(models.meshes)}).encode("utf-8"),
        )
        write(
            BOP_MODELS_MAP,
            dumps_json(
                {str(i): {k: v for k, v in models.meta[i].items() if k != "symmetry"} for i in sorted(models.meta)}
            ).encode("utf-8"),
        )
        if first_camera is not None:
            write("camera.json", dumps_json(first_camera).encode("utf-8"))

        # swap the finished tree in; on a failure the earlier tree is put back
        old: Optional[Path] = None
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{BOP_FOLDER}.old.", dir=root))
            os.replace(final, old / BOP_FOLDER)
        try:
            os.replace(build, final)
        except BaseException:
            if old is not None:
                os.replace(old / BOP_FOLDER, final)
                shutil.rmtree(old, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return [final / relative for relative in written]
