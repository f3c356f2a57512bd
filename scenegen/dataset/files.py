"""The dataset folder: per-scene PNG layers and the scene JSON record.

The files of one scene in a dataset folder ``DIR`` (paths in records are relative to
``DIR``; the names are :mod:`scenegen.dataset.layout`'s)::

    images/000000.png      RGB, 8-bit
    depth/000000.png       16-bit: depth in millimetres / depth_scale; 0 = no surface
    instances/000000.png   16-bit instance ids: 0 background, i + 1 = objects[i]
    parts/000000.png       8-bit part index within the pixel's object (1-based, the
                           ``part_id`` of the object's ``parts`` labels); 0 background
    semantic/000000.png    8-bit category ids: 0 background
    normals/000000.png     8-bit RGB surface normals in the camera frame (OpenCV axes):
                           value = round((n + 1) * 127.5) per axis; (0, 0, 0) = no
                           surface (see :func:`read_normals`)
    scenes/000000.json     the record: Scene, camera, files, labels (written last)

Every file is written to a temporary name in its folder, then renamed into place; a
scene's JSON record is written after its images, so a record on disk means the scene
is complete. The bytes depend only on the scene (PNG carries no timestamp) and on the
encoder of the 8-bit colour layers (images, normals): fpng where it is installed (a
dependency where it has wheels), else scenegen's own (see :func:`encode_layer`).
"""

from __future__ import annotations

import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Union

import numpy as np
from PIL import Image

from ..errors import DepthOverflowError
from ..fileio import atomic_write_bytes, dumps_json, read_json
from ..labels.scene_graph import scene_relations
from ..lazy import lazy_module
from ..runs import byte_columns, on_runs
from ..scene.frame import Frame
from ..scene.scene import SCENE_SCHEMA_VERSION, Scene
from .layout import LAYER_FOLDERS, RECORD_FOLDER, RECORD_GLOB, layer_file, record_file

# a dependency where it has wheels (pyproject.toml); elsewhere encode_png does the work. Imported on
# first use (false where it is not installed; the tests hide it by setting it to None)
fpng = lazy_module("fpng", optional=True)

# PNG row filter of each layer: the difference to the row above for smooth layers (about
# 10-25% smaller files at zlib level 1), none for renders and flat label images
LAYER_PNG_FILTERS = {
    "rgb": "none",
    "depth": "up",
    "instances": "none",
    "parts": "none",
    "semantic": "none",
    "normals": "up",
}
UINT16_MAX = np.iinfo(np.uint16).max


def record_path(root: str | Path, index: int) -> Path:
    """The path of the record of scene ``index`` in the dataset folder ``root``."""
    return Path(root) / record_file(index)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_FILTERS = {"none": 0, "sub": 1, "up": 2}  # PNG filter types (one for every row)
_PNG_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type: greyscale, RGB, RGBA


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)))


def encode_png(array: np.ndarray, compress_level: int, png_filter: str = "up") -> bytes:
    """PNG bytes of an (H, W, 3) uint8, (H, W) uint8 or (H, W) uint16 array (also
    (H, W, 4) uint8: RGBA).

    The same filter for every row (``png_filter``: ``none``, ``sub`` or ``up``; the
    previous row's difference suits smooth layers such as depth and normals, none
    suits flat label images and renders), then zlib at ``compress_level`` (0..9). Any
    PNG reader reads it; the bytes depend only on the array and the arguments. numpy and
    zlib do the work without holding the GIL, so a writer thread can encode while
    another thread renders.
    """
    array = np.ascontiguousarray(array)
    if array.dtype not in (np.uint8, np.uint16) or array.ndim not in (2, 3) or (
        array.ndim == 3 and (array.shape[2] not in (3, 4) or array.dtype != np.uint8)
    ):
        raise ValueError(f"a PNG layer is (H, W) uint8/uint16 or (H, W, 3|4) uint8, got {array.dtype} {array.shape}")
    height, width = array.shape[:2]
    bits = 8 * array.dtype.itemsize
    colour_type = _PNG_COLOUR_TYPES[1 if array.ndim == 2 else array.shape[2]]
    rows = array.astype(array.dtype.newbyteorder(">"), copy=False).view(np.uint8).reshape(height, -1)
    step = rows.shape[1] // max(width, 1)  # bytes a pixel
    filtered = np.empty((height, rows.shape[1] + 1), dtype=np.uint8)
    kind = PNG_FILTERS[png_filter]
    filtered[:, 0] = kind
    if kind == 0:
        filtered[:, 1:] = rows
    elif kind == 1:  # sub: minus the pixel to the left (modulo 256)
        filtered[:, 1 : 1 + step] = rows[:, :step]
        np.subtract(rows[:, step:], rows[:, :-step], out=filtered[:, 1 + step :])
    else:  # up: minus the pixel above (modulo 256)
        filtered[:1, 1:] = rows[:1]
        np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    header = struct.pack(">IIBBBBB", width, height, bits, colour_type, 0, 0, 0)
    return b"".join((
        PNG_SIGNATURE,
        _png_chunk(b"IHDR", header),
        _png_chunk(b"IDAT", zlib.compress(filtered, int(compress_level))),
        _png_chunk(b"IEND", b""),
    ))


# the output.png_compress_level at which 8-bit colour layers go to fpng (its only
# setting); any other level asks for zlib at that level
FPNG_COMPRESS_LEVEL = 1


def encode_layer(array: np.ndarray, compress_level: int, png_filter: str = "up") -> bytes:
    """PNG bytes of a layer as the dataset writer encodes it.

    An (H, W, 3) or (H, W, 4) uint8 array at ``compress_level`` 1 (the default) goes to
    fpng when it is installed: 4-9x faster than :func:`encode_png` on renders, files
    17-20% larger on RGB renders and the same size on normals (benchmarks/bench_png.py),
    lossless; fpng holds the GIL while it encodes (about 0.2 ms an RGB image at 256x256,
    1 ms at 640x480). Everything else (other levels, 16-bit and single-channel layers,
    no fpng) is ``encode_png(array, compress_level, png_filter)``. Either way the bytes depend only on the array, the
    arguments and which encoder ran (fpng's files carry its private ``fdEC`` chunk).
    """
    if fpng and compress_level == FPNG_COMPRESS_LEVEL and _is_colour(array):
        data = fpng.from_ndarray(np.ascontiguousarray(array))
        if data:  # fpng's binding returns no bytes (rather than raising) when it fails
            return data
    return encode_png(array, compress_level, png_filter)


def _is_colour(array: np.ndarray) -> bool:
    """Whether ``array`` is (H, W, 3|4) uint8 with at least one pixel."""
    return array.dtype == np.uint8 and array.ndim == 3 and array.shape[2] in (3, 4) and array.size > 0


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


def normals_to_uint8(normals: np.ndarray) -> np.ndarray:
    """(H, W, 3) float unit normals (0 = no surface) -> (H, W, 3) uint8 with value =
    round((n + 1) * 127.5); pixels without a surface are (0, 0, 0), which no unit
    vector encodes to. (Computed in float64, once per run of equal pixels:
    :func:`scenegen.runs.on_runs`.)"""
    normals = np.asarray(normals)
    height, width = normals.shape[:2]
    pixels = normals.reshape(height * width, 3)
    return on_runs(_normal_pixels_to_uint8, byte_columns(pixels), pixels).reshape(height, width, 3)


def _normal_pixels_to_uint8(pixels: np.ndarray) -> np.ndarray:
    """(K, 3) float normals -> (K, 3) uint8, as :func:`normals_to_uint8`."""
    work = np.add(pixels, 1.0, dtype=np.float64)
    work *= 127.5
    np.rint(work, out=work)
    np.clip(work, 0, 255, out=work)
    encoded = work.astype(np.uint8)
    encoded[~(pixels != 0).any(axis=1)] = 0
    return encoded


def read_normals(path: str | Path) -> np.ndarray:
    """(H, W, 3) float32 unit normals in the camera frame from a normals PNG (0 where
    there is no surface); quantisation error below 0.5 degree."""
    array = read_png(path)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"{path}: a normals image is an 8-bit RGB PNG, got {array.dtype} {array.shape}")
    return normals_from_uint8(array)


def normals_from_uint8(array: np.ndarray) -> np.ndarray:
    """Inverse of :func:`normals_to_uint8`: (H, W, 3) uint8 -> float32 unit normals."""
    normals = array.astype(np.float64) / 127.5 - 1.0
    length = np.linalg.norm(normals, axis=-1, keepdims=True)
    surface = np.any(array != 0, axis=-1, keepdims=True)
    return np.where(surface, normals / np.maximum(length, 1e-12), 0.0).astype(np.float32)


def read_depth(path: str | Path, depth_scale: float) -> np.ndarray:
    """(H, W) float32 depth in metres from a depth PNG (0 = no surface)."""
    return (read_png(path).astype(np.float64) * (depth_scale / 1000.0)).astype(np.float32)


def scene_record(scene: Scene, labels: List[dict], files: dict, depth_scale: float) -> dict:
    """The JSON record of one scene.

    ``relations`` is the scene graph of :func:`scenegen.labels.scene_graph.scene_relations`,
    from the objects' box centres (the mean of the labels' ``box3d_world``; their base
    centres when the labels carry no boxes).
    """
    camera = scene.camera
    centres = None
    if labels and len(labels) == len(scene.objects) and all("box3d_world" in label for label in labels):
        centres = np.array([np.mean(label["box3d_world"], axis=0) for label in labels])
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
        "relations": scene_relations(scene, centres),
        "scene": scene.to_dict(),
    }


def scene_files(scene: Scene, frame: Frame, normals: Optional[bool] = None) -> dict:
    """Layer name -> file path (relative to the dataset folder) of one scene's layers
    (``normals``: whether there is a normals layer; default: whether the frame has one)."""
    normals = frame.normals is not None if normals is None else normals
    names = [name for name in LAYER_FOLDERS if name != "normals" or normals]
    return {name: layer_file(name, scene.index) for name in names}


@dataclass(frozen=True)
class LayerOptions:
    """``cfg.output``'s values that writing a scene's layers reads, as plain values (an
    attribute of a config costs tens of microseconds a read). :func:`write_layers` and
    :func:`write_scene` take this or ``cfg.output`` itself.

    Attributes:
        depth_scale: millimetres per unit of the depth PNG.
        png_compress_level: zlib level of the PNGs (1: colour layers through fpng).
    """

    depth_scale: float
    png_compress_level: int

    @classmethod
    def of(cls, output_cfg) -> "LayerOptions":
        return cls(float(output_cfg.depth_scale), int(output_cfg.png_compress_level))


def write_scene(
    root: str | Path, scene: Scene, frame: Frame, labels: List[dict], output_cfg, timings: Optional[dict] = None
) -> dict:
    """Write the layers of one scene, then its record (last); return the record.
    (``normals`` is written when the frame has them; the Renderer's frames always do.)

    Args:
        root: dataset folder.
        output_cfg: ``cfg.output`` (depth_scale, png_compress_level), or its :class:`LayerOptions`.
        timings: when given, seconds are added under ``"encode"`` (PNG and JSON
            encoding) and ``"write"`` (files) (for benchmarks).
    """
    start = time.perf_counter()
    record = scene_record(scene, labels, scene_files(scene, frame), float(output_cfg.depth_scale))
    record_bytes = dumps_json(record).encode("utf-8")
    if timings is not None:
        timings["encode"] = timings.get("encode", 0.0) + time.perf_counter() - start
    write_layers(root, scene, frame, record_bytes, output_cfg, timings)
    return record


def write_layers(
    root: str | Path, scene: Scene, frame: Frame, record_bytes: bytes, output_cfg, timings: Optional[dict] = None,
    normals: Union[np.ndarray, Callable[[], np.ndarray], None] = None, exports=None,
    colour: Optional[Callable[[], np.ndarray]] = None,
) -> None:
    """Encode and write the layers of one scene (the files of :func:`scene_files`),
    then, with ``exports`` (a :class:`scenegen.dataset.exports.PendingPiece`), the
    scene's part of the dataset's exports, completed with the encoded layers, then its
    record, ``record_bytes`` (the JSON of :func:`scene_record`), last.

    ``normals``: the normals layer when the frame has none ((H, W, 3) float, as
    ``Frame.normals``), or a function of ``then`` returning it with the per-pixel
    function ``then`` applied (as ``PendingFrame.normals`` does), so that a writer
    thread decodes them and, given the PNG's encoding, encodes them once per run of equal
    pixels. ``colour``: a function returning the colour layer in place of ``frame.rgb``
    (so that a writer thread applies the camera effects: see
    ``PendingFrame.camera_colour``). Layers are encoded by :func:`encode_layer`. The work is numpy, zlib, fpng
    and file writing: it holds the GIL only briefly (fpng holds it while it encodes a
    colour layer, under a millisecond), so it can run on a thread beside rendering.
    ``timings``: as :func:`write_scene`'s.
    """
    root = Path(root)
    level = int(output_cfg.png_compress_level)
    start = time.perf_counter()
    layers = {
        "rgb": frame.rgb if colour is None else colour(),
        "depth": depth_to_uint16(frame.depth, float(output_cfg.depth_scale)),
        "instances": frame.instances,
        "parts": frame.parts,
        "semantic": frame.semantic,
    }
    if normals is None:
        normals = frame.normals
    if callable(normals):  # decoded and encoded in one pass over runs of equal pixels
        layers["normals"] = normals(then=_normal_pixels_to_uint8)
    elif normals is not None:
        layers["normals"] = normals_to_uint8(normals)
    files = scene_files(scene, frame, normals is not None)
    encoded = {files[name]: encode_layer(array, level, LAYER_PNG_FILTERS[name]) for name, array in layers.items()}
    encoded_at = time.perf_counter()
    for relative, data in encoded.items():
        atomic_write_bytes(root / relative, data)
    if exports is not None:
        exports.write(root, {name: encoded[relative] for name, relative in files.items()})
    atomic_write_bytes(record_path(root, scene.index), record_bytes)  # last: the scene is complete
    if timings is not None:
        timings["encode"] = timings.get("encode", 0.0) + encoded_at - start
        timings["write"] = timings.get("write", 0.0) + time.perf_counter() - encoded_at


def read_record(root: str | Path, index: int) -> dict:
    return read_json(record_path(root, index))


def record_indices(root: str | Path) -> List[int]:
    """Sorted indices of the scene records present in a dataset folder."""
    folder = Path(root) / RECORD_FOLDER
    if not folder.is_dir():
        return []
    return sorted(int(p.stem) for p in folder.glob(RECORD_GLOB) if p.stem.isdigit())
