"""The dataset folder: per-scene PNG layers and the scene JSON record.

Layout of a dataset folder ``DIR`` (paths in records are relative to ``DIR``)::

    images/000000.png      RGB, 8-bit
    depth/000000.png       16-bit: depth in millimetres / depth_scale; 0 = no surface
    instances/000000.png   16-bit instance ids: 0 background, i + 1 = objects[i]
    parts/000000.png       8-bit part index within the pixel's object (1-based, the
                           ``part_id`` of the object's ``parts`` labels); 0 background
    semantic/000000.png    8-bit category ids: 0 background
    scenes/000000.json     the record: Scene, camera, files, labels (written last)

Every file is written to a temporary name in its folder, then renamed into place; a
scene's JSON record is written after its images, so a record on disk means the scene
is complete. The bytes depend only on the scene (PNG carries no timestamp).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import List

import numpy as np
from PIL import Image

from ..errors import DepthOverflowError
from ..fileio import atomic_write_bytes, dumps_json, read_json
from ..render import Frame
from ..scene import SCENE_SCHEMA_VERSION, Scene

LAYER_FOLDERS = {
    "rgb": "images",
    "depth": "depth",
    "instances": "instances",
    "parts": "parts",
    "semantic": "semantic",
}
RECORD_FOLDER = "scenes"
UINT16_MAX = np.iinfo(np.uint16).max


def scene_stem(index: int) -> str:
    """File stem of scene ``index``: six digits, zero padded."""
    return f"{index:06d}"


def record_path(root: str | Path, index: int) -> Path:
    return Path(root) / RECORD_FOLDER / f"{scene_stem(index)}.json"


def encode_png(array: np.ndarray, compress_level: int) -> bytes:
    """PNG bytes of an (H, W, 3) uint8, (H, W) uint8 or (H, W) uint16 array."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def depth_to_uint16(depth_m: np.ndarray, depth_scale: float) -> np.ndarray:
    """(H, W) float metres -> (H, W) uint16 with value * depth_scale = millimetres.

    Raises:
        DepthOverflowError: a depth does not fit 16 bits at this scale (never clipped).
    """
    scaled = np.rint(depth_m.astype(np.float64) * (1000.0 / depth_scale))
    deepest = float(scaled.max(initial=0.0))
    if deepest > UINT16_MAX:
        raise DepthOverflowError(
            f"depth {depth_m.max():.3f} m does not fit a 16-bit PNG at output.depth_scale="
            f"{depth_scale} (max {UINT16_MAX * depth_scale / 1000:.3f} m); raise output.depth_scale"
        )
    return scaled.astype(np.uint16)


def read_png(path: str | Path) -> np.ndarray:
    """Array of a PNG with its bit depth kept (16-bit PNGs come back as uint16)."""
    with Image.open(path) as image:
        array = np.asarray(image)
    if array.dtype == np.int32:  # PIL opens 16-bit greyscale as mode "I" on some versions
        array = array.astype(np.uint16)
    return array


def read_parts(path: str | Path) -> np.ndarray:
    """(H, W) uint8 part image (0 = background; else the 1-based part index)."""
    array = read_png(path)
    if array.dtype != np.uint8 or array.ndim != 2:
        raise ValueError(f"{path}: a part image is an 8-bit single-channel PNG, got {array.dtype} {array.shape}")
    return array


def read_depth(path: str | Path, depth_scale: float) -> np.ndarray:
    """(H, W) float32 depth in metres from a depth PNG (0 = no surface)."""
    return (read_png(path).astype(np.float64) * (depth_scale / 1000.0)).astype(np.float32)


def scene_record(scene: Scene, labels: List[dict], files: dict, depth_scale: float) -> dict:
    """The JSON record of one scene."""
    camera = scene.camera
    return {
        "schema_version": SCENE_SCHEMA_VERSION,
        "index": scene.index,
        "seed": scene.seed,
        "width": camera.width,
        "height": camera.height,
        "context": scene.context.name,
        "camera": {
            "K": camera.K.tolist(),
            "world_from_camera": camera.pose.tolist(),
            "width": camera.width,
            "height": camera.height,
        },
        "depth_scale": depth_scale,
        "files": files,
        "objects": labels,
        "scene": scene.to_dict(),
    }


def write_scene(root: str | Path, scene: Scene, frame: Frame, labels: List[dict], output_cfg) -> dict:
    """Write the layers of one scene, then its record (last); return the record.

    Args:
        root: dataset folder.
        output_cfg: ``cfg.output`` (depth_scale, png_compress_level).
    """
    root = Path(root)
    stem = scene_stem(scene.index)
    level = int(output_cfg.png_compress_level)
    layers = {
        "rgb": frame.rgb,
        "depth": depth_to_uint16(frame.depth, float(output_cfg.depth_scale)),
        "instances": frame.instances,
        "parts": frame.parts,
        "semantic": frame.semantic,
    }
    files = {}
    for name, array in layers.items():
        relative = f"{LAYER_FOLDERS[name]}/{stem}.png"
        atomic_write_bytes(root / relative, encode_png(array, level))
        files[name] = relative
    record = scene_record(scene, labels, files, float(output_cfg.depth_scale))
    atomic_write_bytes(record_path(root, scene.index), dumps_json(record).encode("utf-8"))
    return record


def read_record(root: str | Path, index: int) -> dict:
    return read_json(record_path(root, index))


def record_indices(root: str | Path) -> List[int]:
    """Sorted indices of the scene records present in a dataset folder."""
    folder = Path(root) / RECORD_FOLDER
    if not folder.is_dir():
        return []
    return sorted(int(p.stem) for p in folder.glob("[0-9]*.json") if p.stem.isdigit())
