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

:func:`export_bop` builds the whole ``bop/`` tree in a temporary folder next to it and
swaps it in at the end, so a reader never sees a half-written export or files of an
earlier one. ``scenegen generate`` makes the same files scene by scene instead
(:mod:`scenegen.dataset.exports`): each scene's images, masks and models as the scene is
written (:func:`bop_scene`), then the files that span the scenes (:class:`BopWriter`), every
file atomically; the dataset is complete once its manifest is written.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
from PIL import Image

from ...errors import ScenegenError
from ...fileio import FOLDER_MODE, HashingWriter, JsonDict, atomic_write_bytes, atomic_writer, dumps_json, nested_json
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


def diameter(points: np.ndarray) -> float:
    """The largest distance between two of ``points`` (N, 3): exactly (to the last bit)
    ``sqrt(((p[:, None] - p[None]) ** 2).sum(-1)).max()``, without computing all N^2
    distances. The distances from two far points give a lower bound ``low``; the
    points are put in the cells of a grid, and a point is paired only with the cells
    that could hold a point at least ``low`` away from it (its distance to the cell's
    centre plus the cell's radius, less a margin far above the rounding error); those
    pairs are computed the exact way. (The square root and the maximum commute: the
    square root is monotone and correctly rounded.)"""
    points = np.asarray(points, dtype=float)
    count = len(points)
    if count < _DIAMETER_BRUTE:
        return float(np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)).max())

    def from_point(i: int) -> np.ndarray:
        return ((points[np.full(count, i)] - points) ** 2).sum(-1)

    first = from_point(int(np.argmax(((points - points.mean(axis=0)) ** 2).sum(-1))))
    second = from_point(int(np.argmax(first)))
    low = max(float(first.max()), float(second.max()))
    # which cell of a g x g x g grid over the points' box each point falls in
    lower, upper = points.min(axis=0), points.max(axis=0)
    span = np.where(upper > lower, upper - lower, 1.0)
    cells = np.minimum(((points - lower) / span * _DIAMETER_GRID).astype(np.int64), _DIAMETER_GRID - 1)
    cell = (cells[:, 0] * _DIAMETER_GRID + cells[:, 1]) * _DIAMETER_GRID + cells[:, 2]
    order = np.argsort(cell, kind="stable")
    occupied, starts, sizes = np.unique(cell[order], return_index=True, return_counts=True)
    centres = np.add.reduceat(points[order], starts, axis=0) / sizes[:, None]
    radii = np.maximum.reduceat(np.sqrt(((points[order] - np.repeat(centres, sizes, axis=0)) ** 2).sum(-1)), starts)
    reach = np.sqrt(((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)) + radii[None, :]
    margin = 1e-9 * (4.0 * float(np.abs(points).max()) + float(np.sqrt(low)))
    near, far = np.nonzero(reach >= np.sqrt(low) - margin)
    pairs = sizes[far]
    within = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    partners = order[np.repeat(starts[far], pairs) + within]
    exact = ((points[np.repeat(near, pairs)] - points[partners]) ** 2).sum(-1)
    return float(np.sqrt(max(low, float(exact.max()) if len(exact) else 0.0)))


_DIAMETER_BRUTE = 64  # fewer points: every pair
_DIAMETER_GRID = 6  # cells along each axis


def hull_vertices(points: np.ndarray) -> np.ndarray:
    """The vertices of trimesh's convex hull of ``points`` (N, 3), the same rows in the
    same order as ``trimesh.convex.convex_hull(points).vertices``, without building and
    repairing the hull mesh (about 40% of its time): qhull's vertices with the options
    trimesh gives it, those of the faces whose normal is defined, merged as trimesh
    merges vertices. (tests/dataset/test_exports.py holds it to trimesh's hull.)"""
    from scipy.spatial import ConvexHull, QhullError  # noqa: PLC0415
    from trimesh import grouping, triangles, util  # noqa: PLC0415
    from trimesh.constants import tol  # noqa: PLC0415

    points = np.asarray(points, dtype=np.float64)
    try:
        hull = ConvexHull(points, qhull_options="Qt QbB Pp")  # trimesh.convex.QHULL_DEFAULT
    except QhullError:
        hull = ConvexHull(points, qhull_options="QJ")
    used = np.sort(hull.vertices)
    renumber = np.zeros(len(hull.points), dtype=np.int64)
    renumber[used] = np.arange(len(used))
    faces = renumber[hull.simplices]
    vertices = hull.points[used]
    _, valid = util.unitize(triangles.cross(vertices[faces]), check_valid=True)
    referenced = np.zeros(len(vertices), dtype=bool)
    referenced[faces[valid]] = True
    rounded = (vertices * (10 ** util.decimal_to_digits(tol.merge))).round().astype(np.int64)
    unique, _ = grouping.unique_rows(rounded[referenced], keep_order=True)
    return vertices[np.nonzero(referenced)[0][unique]]


class ModelShape:
    """The BOP model of one (entry, style, scale): the entry's variant mesh in
    millimetres (``mesh``), its ``meta`` (entry, style, scale, category, category_id,
    symmetry), vertices, ``models_info.json`` entry and PLY bytes, each made once."""

    def __init__(self, mesh, meta: dict):
        self.mesh, self.meta = mesh, meta
        self._vertices: Optional[np.ndarray] = None
        self._info: Optional[dict] = None
        self._ply: Optional[bytes] = None

    @property
    def vertices(self) -> np.ndarray:
        if self._vertices is None:
            self._vertices = np.asarray(self.mesh.vertices, dtype=float)
        return self._vertices

    def info(self) -> dict:
        """``{diameter, min_x, min_y, min_z, size_x, size_y, size_z}`` (mm) and the
        symmetries (:func:`_symmetries`)."""
        if self._info is None:
            vertices = self.vertices
            low, high = vertices.min(axis=0), vertices.max(axis=0)
            hull = hull_vertices(vertices) if len(vertices) > 3 else vertices
            info = {
                "diameter": diameter(hull),
                "min_x": float(low[0]),
                "min_y": float(low[1]),
                "min_z": float(low[2]),
                "size_x": float(high[0] - low[0]),
                "size_y": float(high[1] - low[1]),
                "size_z": float(high[2] - low[2]),
            }
            info.update(_symmetries(self.meta["symmetry"]))
            self._info = info
        return self._info

    def ply(self) -> bytes:
        """The model as binary little-endian PLY with vertex normals (trimesh)."""
        if self._ply is None:
            from trimesh.exchange.ply import export_ply

            self._ply = export_ply(self.mesh, encoding="binary", vertex_normal=True, include_attributes=False)
        return self._ply

    def complete(self) -> "ModelShape":
        """Make the vertices, the info and the PLY, then let the mesh (and its caches:
        its convex hull, normals, ...) go. Returns itself."""
        if self.mesh is not None:
            self.info()
            self.ply()
            _ = self.vertices
            self.mesh = None
        return self


class ModelShapes:
    """The :class:`ModelShape` of each (entry, style, scale) of ``dictionary``, made on
    first use and kept: all of them, or the last ``keep`` used."""

    def __init__(self, dictionary, keep: Optional[int] = None):
        self.dictionary, self.keep = dictionary, keep
        self._shapes: "OrderedDict[tuple, ModelShape]" = OrderedDict()

    def get(self, obj, label: dict) -> ModelShape:
        """The model of ``obj`` (a :class:`scenegen.scene.scene.SceneObject`), whose label is
        ``label`` (its category)."""
        key = model_key(obj)
        shape = self._shapes.get(key)
        if shape is None:
            entry = self.dictionary[obj.entry]
            mesh = entry.variant(obj.style).mesh().copy()
            mesh.apply_scale(float(obj.scale) * 1000.0)
            shape = ModelShape(mesh, {
                "entry": obj.entry,
                "style": obj.style,
                "scale": float(obj.scale),
                "category": label["category"],
                "category_id": int(label["category_id"]),
                "symmetry": int(entry.symmetry),
            })
            self._shapes[key] = shape
            if self.keep is not None and len(self._shapes) > self.keep:
                self._shapes.popitem(last=False)
        else:
            self._shapes.move_to_end(key)
        return shape


def model_key(obj) -> tuple:
    """What makes a BOP model: (entry, style, scale)."""
    return (obj.entry, obj.style, float(obj.scale))


def _placeholder_split(text: str, key: str, level: int) -> list:
    """``[head, tail]`` of the :func:`nested_json` ``text`` of a dict ``level`` deep
    whose ``key`` is 0: the text reads ``head + str(value) + tail`` for its value."""
    marker = "\n" + " " * (level + 1) + f'"{key}": '
    head, found, tail = text.partition(marker + "0")
    if not found or marker in tail:
        raise ValueError(f"no single {key!r} in {text[:80]!r}")
    return [head + marker, tail]


def bop_scene(record: dict, instances: np.ndarray, depth: np.ndarray,
              models: ModelShapes, split: str = BOP_SPLIT) -> Tuple[dict, Dict[str, bytes], List[bytes]]:
    """The BOP export of one scene, from its record and its images, but for the copies
    of its colour and depth images (:func:`bop_copies`).

    Args:
        record: the scene record (as read from its file).
        instances: (H, W) the instance ids (the ``instances`` PNG's values).
        depth: (H, W) uint16 the ``depth`` PNG's values.
        models: the models made so far.
        split: the BOP split folder.

    Returns:
        ``(part, files, plys)``: ``part`` the scene's entries of the BOP JSON files as
        :class:`BopWriter` takes them (texts; the model ids, given in first-seen order
        over the whole dataset, are left open); ``files``: its masks, path under
        ``bop/`` -> bytes; ``plys``: each object's model as PLY bytes.
    """
    from ...scene.scene import Scene  # noqa: PLC0415

    index = int(record["index"])
    scene = Scene.from_dict(record["scene"])
    stem = _bop_id(index)
    scene_dir = f"{split}/{_bop_id(BOP_SCENE_ID)}"
    K = np.asarray(record["camera"]["K"], dtype=float)
    world_from_camera = np.asarray(record["camera"]["world_from_camera"], dtype=float)
    camera_from_world = np.linalg.inv(world_from_camera)
    depth_scale = float(record["depth_scale"])
    first_camera = {
        "cx": float(K[0, 2]),
        "cy": float(K[1, 2]),
        "fx": float(K[0, 0]),
        "fy": float(K[1, 1]),
        "width": int(record["width"]),
        "height": int(record["height"]),
        "depth_scale": depth_scale,
    }
    camera = {
        "cam_K": [float(v) for v in K.ravel()],
        "depth_scale": depth_scale,
        "cam_R_w2c": [float(v) for v in camera_from_world[:3, :3].ravel()],
        "cam_t_w2c": [float(v) for v in camera_from_world[:3, 3] * 1000.0],
    }
    files: Dict[str, bytes] = {}
    gts, infos, plys = [], [], []
    for g, obj in enumerate(scene.objects):
        label = record["objects"][g]
        model = models.get(obj, label).complete()
        R = np.reshape(np.asarray(label["cam_R_m2c"], dtype=float), (3, 3))
        t = np.asarray(label["cam_t_m2c"], dtype=float)
        gt = {"obj_id": 0, "cam_R_m2c": [float(v) for v in R.ravel()], "cam_t_m2c": [float(v) for v in t]}
        gts.append({
            "key": list(model_key(obj)),
            "gt": _placeholder_split(nested_json(gt, 2), "obj_id", 2),
            "info": nested_json(model.info(), 1),
            "meta": nested_json({k: v for k, v in model.meta.items() if k != "symmetry"}, 1),
        })
        plys.append(model.ply())
        visible = instances == g + 1
        amodal = rle_to_mask(label["amodal_segmentation"])
        vertices = model.vertices
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
        files[f"{scene_dir}/mask/{gt_stem}.png"] = _png(amodal)
        files[f"{scene_dir}/mask_visib/{gt_stem}.png"] = _png(visible)
    part = {
        "index": index,
        "first_camera": first_camera,
        "camera": nested_json(camera, 1),
        "gt_info": nested_json(infos, 1),
        "objects": gts,
    }
    return part, files, plys


def bop_copies(index: int, layers: Dict[str, bytes], split: str = BOP_SPLIT) -> Dict[str, bytes]:
    """The BOP files of scene ``index`` that copy its images: path under ``bop/`` ->
    bytes, from ``layers`` (``{"rgb", "depth"}`` -> the bytes of those PNG files)."""
    scene_dir, stem = f"{split}/{_bop_id(BOP_SCENE_ID)}", _bop_id(index)
    return {f"{scene_dir}/rgb/{stem}.png": layers["rgb"], f"{scene_dir}/depth/{stem}.png": layers["depth"]}


def read_bop_scene(root: Path, index: int, models: ModelShapes, split: str = BOP_SPLIT):
    """:func:`bop_scene` of scene ``index`` of the dataset folder ``root``, from its
    files, with its :func:`bop_copies` among the files."""
    record = read_record(root, index)
    layers = {layer: (root / record["files"][layer]).read_bytes() for layer in ("rgb", "depth")}
    instances = read_png(root / record["files"]["instances"])
    depth = read_png(io.BytesIO(layers["depth"]))
    part, files, plys = bop_scene(record, instances, depth, models, split)
    return part, {**bop_copies(index, layers, split), **files}, plys


class BopWriter:
    """The files of the BOP export that span scenes, written from the scenes'
    :func:`bop_scene` parts given in scene order (:meth:`add`), under ``folder`` (the
    ``bop/`` tree being built): the model PLYs as models are first seen (ids from 1 in
    that order), then, at :meth:`close`, ``scene_camera.json``, ``scene_gt.json``,
    ``scene_gt_info.json``, ``models/models_info.json``, the models map and
    ``camera.json``, each as :func:`scenegen.fileio.dumps_json` writes the whole dict
    (keys in the order of their text). The scenes' entries wait in an anonymous
    temporary file meanwhile, so no more than one scene is held. ``written`` is called
    with each file's path and sha256."""

    def __init__(self, folder: Path, written: Callable[[Path, str], None], split: str = BOP_SPLIT):
        self.folder, self.written, self.split = Path(folder), written, split
        self.ids: Dict[tuple, int] = {}
        self.first_camera: Optional[dict] = None
        self._spool = tempfile.TemporaryFile()
        self._at: Dict[str, Dict[int, Tuple[int, int]]] = {name: {} for name in _SPOOLED}

    def _keep(self, name: str, key: int, text: str) -> None:
        data = text.encode("utf-8")
        self._at[name][key] = (self._spool.tell(), len(data))
        self._spool.write(data)

    def write_file(self, relative: str, data: bytes) -> None:
        """Write ``data`` to ``relative`` (under the folder), reporting it to ``written``."""
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
        self.written(path, hashlib.sha256(data).hexdigest())

    def add(self, part: dict, ply: Callable[[int], bytes]) -> None:
        """One scene's part (scenes in index order); ``ply(g)``: the PLY bytes of its
        object ``g``'s model (read only for a model not seen before)."""
        index = int(part["index"])
        if self.first_camera is None:
            self.first_camera = part["first_camera"]
        gts = []
        for g, obj in enumerate(part["objects"]):
            key = tuple(obj["key"])
            obj_id = self.ids.get(key)
            if obj_id is None:
                obj_id = self.ids[key] = len(self.ids) + 1
                self.write_file(f"models/obj_{_bop_id(obj_id)}.ply", ply(g))
                self._keep("models_info", obj_id, obj["info"])
                self._keep("models", obj_id, obj["meta"])
            head, tail = obj["gt"]
            gts.append(f"{head}{obj_id}{tail}")
        self._keep("scene_camera", index, part["camera"])
        self._keep("scene_gt", index, "[\n  " + ",\n  ".join(gts) + "\n ]" if gts else "[]")
        self._keep("scene_gt_info", index, part["gt_info"])

    def close(self) -> None:
        scene_dir = f"{self.split}/{_bop_id(BOP_SCENE_ID)}"
        for name in _SPOOLED:
            relative = {"models_info": "models/models_info.json", "models": BOP_MODELS_MAP}.get(
                name, f"{scene_dir}/{name}.json")
            path = self.folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_writer(path) as handle:
                out = HashingWriter(handle)
                entries = JsonDict(out.write, 0)
                at = self._at[name]
                for key in sorted(at, key=str):  # dumps_json's order: the keys' text
                    offset, size = at[key]
                    self._spool.seek(offset)
                    entries.add_item(str(key), self._spool.read(size).decode("utf-8"))
                entries.close()
                out.write("\n")
            self.written(path, out.hexdigest)
        self._spool.close()
        if self.first_camera is not None:
            self.write_file("camera.json", dumps_json(self.first_camera).encode("utf-8"))

    def discard(self) -> None:
        """Drop the entries waiting (on an error)."""
        self._spool.close()


# the files BopWriter puts together from the scenes' parts, in the order it writes them
_SPOOLED = ("scene_camera", "scene_gt", "scene_gt_info", "models_info", "models")


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
        n: scene count, for a folder whose manifest is not written yet.

    Returns:
        Every file written, as paths under ``root/bop/``, in writing order.

    Raises:
        ScenegenError: ``root`` is not a finished dataset.
    """
    root = Path(root)
    check_split(split)
    indices = finished_indices(root, n)
    if dictionary is None:
        dictionary = _dictionary_of(root)

    final = root / BOP_FOLDER
    build = Path(tempfile.mkdtemp(prefix=f".{BOP_FOLDER}.", suffix=TEMPORARY_SUFFIX, dir=root))
    os.chmod(build, FOLDER_MODE)  # mkdtemp makes it 0700; it becomes bop/
    written: List[Path] = []
    writer = BopWriter(build, lambda path, _: written.append(path), split)
    try:
        models = ModelShapes(dictionary, keep=MODELS_KEPT)
        for index in indices:
            part, files, plys = read_bop_scene(root, index, models, split)
            for relative, data in files.items():
                writer.write_file(relative, data)
            writer.add(part, plys.__getitem__)
        writer.close()
        swap_in(build, final)
    except BaseException:
        writer.discard()
        shutil.rmtree(build, ignore_errors=True)
        raise
    return [final / path.relative_to(build) for path in written]


MODELS_KEPT = 32  # models a ModelShapes keeps for the scenes to come (few repeat: scales differ)


def check_split(split: str) -> None:
    """Refuse a BOP split name that is not a plain folder name."""
    if not split or "/" in split or split.startswith("."):
        raise ScenegenError(f"split must be a plain folder name (e.g. 'train'), got {split!r}")


def swap_in(build: Path, final: Path) -> None:
    """Move the finished tree ``build`` to ``final``; an earlier tree there is removed,
    and put back if the move fails."""
    old: Optional[Path] = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{BOP_FOLDER}.old.", dir=final.parent))
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
