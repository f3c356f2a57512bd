"""Exports streamed: every output format made scene by scene, as the scenes are written.

Each scene's part of every export (its image and annotations in ``coco.json``, its
Hugging Face metadata line, its WebDataset sample, its BOP entries, image copies, masks
and models) is made by the worker that writes the scene, from what it holds in memory:
:meth:`PieceWriter.begin` right after the scene's record is made (the Python work: the
texts, the BOP masks and models), then :meth:`PendingPiece.write`, called by
:func:`scenegen.dataset.files.write_layers` with the encoded images, after the images and
before the record, so a scene whose record exists has its piece. The piece is a small
JSON file, ``.scenegen/exports/NNNNNN.json``, with the bytes it points to beside it
(``.bin``: the WebDataset sample and the BOP models' PLY); the BOP images and masks go
straight to ``bop/``, each file atomically.

The finishing step (:func:`write_exports`) reads the pieces in scene order, one at a
time, and streams every export file from them: it never reads a scene's images or record
again, and holds no more than one scene's part (plus what spans the dataset: the model
ids, and where each scene's entries of the BOP JSON files wait in an anonymous temporary
file, since those files order their keys as text). A piece that is missing, or that does
not match its scene (the sha256 of its record, the formats, the piece format), is made
again from the scene's files, which gives the same bytes: a folder written before pieces
existed, or one whose pieces were removed, still finishes. The pieces are removed once
the manifest is written (:func:`remove_pieces`).

The exports are the same bytes as each format's ``export_*`` function makes from the
finished folder (:mod:`scenegen.dataset.formats`), whatever the number of workers: a piece
depends only on its scene's files (the arrays it is made from are those the files hold),
and the finishing step takes the pieces in scene order.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..config.schema import category_ids
from ..config.validate import output_formats
from ..design.splits import SPLIT_NAMES, SplitCounter
from ..fileio import HashingWriter, atomic_write_bytes, atomic_writer
from ..labels.objects import KEYPOINT_NAMES, KEYPOINT_SKELETON
from .files import read_png
from .formats.bop import MODELS_KEPT, BopWriter, ModelShapes, bop_copies, bop_scene
from .formats.coco import CocoWriter, coco_category_ids, coco_header, coco_scene_texts
from .formats.hf import MetadataWriter, metadata_line, write_card
from .formats.webdataset import ShardWriter, remove_stale_shards, sample_members
from .layout import (
    BOP_FOLDER,
    BOP_SPLIT,
    COCO,
    COCO_SPLIT,
    EXPORT_FOLDER,
    HF_METADATA,
    HF_SPLIT_METADATA,
    WEBDATASET_FOLDER,
    WEBDATASET_PREFIX,
    WEBDATASET_SPLIT_PREFIX,
    export_blob_file,
    export_piece_file,
    record_file,
)
from .shards import read_scene_record

PIECE_VERSION = 1  # the layout of a piece; a piece of another is made again


class ExportSpec:
    """What a dataset's scenes are exported to: the formats besides COCO (``formats``,
    in :data:`scenegen.config.schema.FORMATS` order), the categories (COCO ids) and, for
    BOP, the object dictionary whose meshes are the models."""

    def __init__(self, formats: Sequence[str], categories: Sequence[str], dictionary=None):
        self.formats = tuple(f for f in formats if f != "coco")
        self.categories = list(categories)
        self.category_ids = coco_category_ids(self.categories)
        self.dictionary = dictionary
        self._models: Optional[ModelShapes] = None

    @classmethod
    def of(cls, world) -> "ExportSpec":
        """The spec of a :class:`scenegen.world.compile.World`'s config."""
        ids = category_ids(world.cfg)
        return cls(output_formats(world.cfg), sorted(ids, key=ids.get), world.dictionary)

    @property
    def models(self) -> ModelShapes:
        if self._models is None:
            self._models = ModelShapes(self.dictionary, keep=MODELS_KEPT)
        return self._models

    @property
    def needs_depth(self) -> bool:
        """Whether :meth:`part` reads the depth image's values (BOP counts the valid pixels)."""
        return "bop" in self.formats

    def part(self, record_bytes: bytes, instances: Optional[np.ndarray] = None, depth: Optional[np.ndarray] = None,
             layers: Optional[Mapping[str, bytes]] = None, record: Optional[dict] = None) -> "ScenePart":
        """What a scene's piece holds but for the bytes of its images (:meth:`complete`
        adds them): its texts of every format, its BOP masks and models. This is the
        work that holds Python's lock, done where the scene's record is made.

        Args:
            record_bytes: the bytes of the scene's record file.
            instances, depth: the ``instances`` and ``depth`` PNGs' values ((H, W)
                uint16); when None (and needed), decoded from ``layers``, layer name ->
                the bytes of its PNG file.
            record: the record ``record_bytes`` encode, where the caller has it made of
                plain JSON values (str keys; str, int, float, bool, None, lists and
                dicts: what ``json.loads(record_bytes)`` gives, keys in any order), so
                that it is not parsed again (0.35 ms a scene); not modified.
        """
        if record is None:
            record = json.loads(record_bytes)
        index = int(record["index"])
        part = ScenePart(record_bytes, record, {
            "version": PIECE_VERSION,
            "index": index,
            "formats": list(self.formats),
            "record_sha256": hashlib.sha256(record_bytes).hexdigest(),
            "summary": record_summary(record),
            "coco": coco_scene_texts(record, self.category_ids, len(KEYPOINT_NAMES)),
        })
        if "hf" in self.formats:
            part.piece["hf"] = metadata_line(record)
        if "bop" in self.formats:
            if instances is None:
                instances = read_png(io.BytesIO(layers["instances"]))
            if depth is None:
                depth = read_png(io.BytesIO(layers["depth"]))
            bop, files, plys = bop_scene(record, instances, depth, self.models, BOP_SPLIT)
            bop["plys"] = [part.keep(ply) for ply in plys]
            part.piece["bop"] = bop
            part.files.update({f"{BOP_FOLDER}/{relative}": data for relative, data in files.items()})
        return part

    def complete(self, part: "ScenePart", layers: Mapping[str, bytes]) -> Tuple[dict, bytes, Dict[str, bytes]]:
        """The scene's piece, from its :meth:`part` and ``layers`` (layer name -> the
        bytes of its PNG file, every layer the record names).

        Returns:
            ``(piece, blob, files)``: the piece (plain JSON values), the bytes it points
            to, and the files of the exports that belong to this scene alone (path
            relative to the dataset folder -> bytes: the BOP images and masks).
        """
        piece, files = part.piece, part.files
        if "webdataset" in self.formats:
            piece["webdataset"] = part.keep(sample_members(part.record_bytes, part.record, layers))
        if "bop" in self.formats:
            files.update({f"{BOP_FOLDER}/{relative}": data
                          for relative, data in bop_copies(piece["index"], layers, BOP_SPLIT).items()})
        piece["files"] = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
        blob = b"".join(part.blob)
        piece["blob_size"], piece["blob_sha256"] = len(blob), hashlib.sha256(blob).hexdigest()
        return piece, blob, files

    def piece(self, record_bytes: bytes, layers: Mapping[str, bytes]) -> Tuple[dict, bytes, Dict[str, bytes]]:
        """A scene's whole piece (:meth:`part`, then :meth:`complete`) from the bytes of
        its files."""
        return self.complete(self.part(record_bytes, layers=layers), layers)


class ScenePart:
    """A piece being made (:meth:`ExportSpec.part`): the record, the piece's values so
    far, the bytes it points to and the files of the scene's own."""

    def __init__(self, record_bytes: bytes, record: dict, piece: dict):
        self.record_bytes, self.record, self.piece = record_bytes, record, piece
        self.blob: List[bytes] = []
        self.files: Dict[str, bytes] = {}
        self._at = 0

    def keep(self, data: bytes) -> list:
        """Add ``data`` to the piece's bytes; returns ``[offset, size]``."""
        self.blob.append(data)
        self._at += len(data)
        return [self._at - len(data), len(data)]


def record_summary(record: Mapping[str, Any]) -> dict:
    """What the finishing step needs of a scene record besides the exports (coverage of
    the splits, the design's targets, the assets used): its ``index``, each object's
    ``instance_id``, ``entry`` and ``factors``, and the scene's ``target``, in the
    record's own shape."""
    return {
        "index": int(record["index"]),
        "objects": [{"instance_id": obj.get("instance_id"), "entry": obj["entry"], "factors": obj["factors"]}
                    for obj in record["objects"]],
        "scene": {"target": record["scene"].get("target", -1)},
    }


class PieceWriter:
    """Makes and writes each scene's piece beside its files: the worker's side. One per
    worker process: :meth:`begin` where the record is made (the Python work),
    :meth:`PendingPiece.write` where the scene's files are written."""

    def __init__(self, spec: ExportSpec):
        self.spec = spec
        self._lock = threading.Lock()  # the models kept are shared

    def begin(self, record_bytes: bytes, instances: Optional[np.ndarray] = None,
              depth: Optional[np.ndarray] = None, record: Optional[dict] = None) -> "PendingPiece":
        """The scene's :meth:`ExportSpec.part` (``depth``: when :attr:`ExportSpec.needs_depth`)."""
        with self._lock:
            return PendingPiece(self.spec, self.spec.part(record_bytes, instances, depth, record=record))


class PendingPiece:
    """A scene's piece waiting for the bytes of its images."""

    def __init__(self, spec: ExportSpec, part: ScenePart):
        self.spec, self.part = spec, part

    def write(self, root: str | Path, layers: Mapping[str, bytes]) -> None:
        """Write the exports' files of the scene and its piece (last), before its
        record; ``layers``: layer name -> the bytes of its PNG file."""
        root = Path(root)
        piece, blob, files = self.spec.complete(self.part, layers)
        for relative, data in files.items():
            atomic_write_bytes(root / relative, data)
        if blob:
            atomic_write_bytes(root / export_blob_file(piece["index"]), blob)
        atomic_write_bytes(root / export_piece_file(piece["index"]), _piece_bytes(piece))


def _piece_bytes(piece: dict) -> bytes:
    return json.dumps(piece, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def load_piece(root: Path, index: int, spec: ExportSpec, record_sha256: Optional[str]) -> Tuple[dict, bytes]:
    """The piece of scene ``index`` and its bytes: the one its worker wrote when it
    matches the scene (``record_sha256``: the record's, from the shard's completion
    record), else one made again from the scene's files (its BOP files written again
    too: the same bytes).

    Raises:
        DamagedFileError: the scene's record is damaged.
        OSError: a file of the scene cannot be read.
    """
    try:
        piece = json.loads((root / export_piece_file(index)).read_bytes())
        if (piece["version"] == PIECE_VERSION and piece["index"] == index and piece["formats"] == list(spec.formats)
                and record_sha256 is not None and piece["record_sha256"] == record_sha256):
            blob = (root / export_blob_file(index)).read_bytes() if piece["blob_size"] else b""
            if len(blob) == piece["blob_size"] and hashlib.sha256(blob).hexdigest() == piece["blob_sha256"]:
                return piece, blob
    except (OSError, ValueError, KeyError, TypeError):
        pass
    record = read_scene_record(root, index)  # checked: a damaged record says how to repair it
    record_bytes = (root / record_file(index)).read_bytes()
    layers = {layer: (root / path).read_bytes() for layer, path in record["files"].items()}
    piece, blob, files = spec.piece(record_bytes, layers)
    for relative, data in files.items():
        atomic_write_bytes(root / relative, data)
    return piece, blob


def piece_indices(root: str | Path) -> List[int]:
    """The scene indices of the pieces in a dataset folder."""
    folder = Path(root) / EXPORT_FOLDER
    if not folder.is_dir():
        return []
    return sorted({int(path.stem) for path in folder.iterdir() if path.stem.isdigit()})


def remove_pieces(root: str | Path) -> None:
    """Remove the pieces of a finished dataset (its exports are written)."""
    shutil.rmtree(Path(root) / EXPORT_FOLDER, ignore_errors=True)


def write_exports(root: Path, world, indices: Sequence[int], record_hashes: Mapping[str, str],
                  coco_info: Mapping[str, Any], held: Optional[Sequence[Mapping[str, str]]] = None,
                  each: Optional[Callable[[dict], None]] = None) -> Tuple[Dict[str, str], Optional[dict]]:
    """Write ``coco.json`` and the exports of ``world``'s config for the scenes
    ``indices`` (ascending) of the dataset folder ``root``, streamed from their pieces.

    Args:
        record_hashes: file name -> sha256 of the scenes' files (the shards' completion
            records): a piece must match its record's.
        coco_info: ``coco.json``'s ``info``.
        held: the held-out tuples of a split: the scenes are split
            (:class:`scenegen.design.splits.SplitCounter`), ``coco_<split>.json`` written
            too and the other formats written per split.
        each: called with each scene's :func:`record_summary`, in scene order.

    Returns:
        ``(files, split)``: every file written (name relative to ``root`` -> sha256) and
        the split's summary (:func:`scenegen.design.splits.split_summary`), or None.
    """
    spec = ExportSpec.of(world)
    formats = spec.formats
    written: Dict[str, str] = {}
    top = root.resolve()

    def report(path: Path, digest: str) -> None:
        written[Path(path).resolve().relative_to(top).as_posix()] = digest

    counter = SplitCounter(world, held) if held is not None else None
    header = coco_header(spec.categories, coco_info, KEYPOINT_NAMES, KEYPOINT_SKELETON)
    texts: Dict[str, HashingWriter] = {}  # file name -> its writer, for the files of the block

    with ExitStack() as stack:
        def text_file(name: str) -> HashingWriter:
            writer = texts[name] = HashingWriter(stack.enter_context(atomic_writer(root / name)))
            return writer

        coco = {None: CocoWriter(text_file(COCO).write, header)}
        if counter is not None:
            coco.update({name: CocoWriter(text_file(COCO_SPLIT.format(split=name)).write, header)
                         for name in SPLIT_NAMES})
        for writer in coco.values():
            stack.callback(writer.discard)
        metadata: Dict[str, MetadataWriter] = {}
        metadata_scenes: Dict[str, List[int]] = {}
        if "hf" in formats and counter is None:  # one file, whatever the scenes
            metadata[HF_METADATA], metadata_scenes["train"] = MetadataWriter(text_file(HF_METADATA).write), []
        shards: Dict[str, ShardWriter] = {}
        shard_names: List[str] = []

        def report_shard(path: Path, digest: str) -> None:
            shard_names.append(Path(path).name)
            report(path, digest)

        if "webdataset" in formats:
            (root / WEBDATASET_FOLDER).mkdir(parents=True, exist_ok=True)

            def abort_shards(kind, *_) -> bool:
                if kind is not None:  # an error: no shard half-written
                    for writer in shards.values():
                        writer.abort()
                return False

            stack.push(abort_shards)
        bop = None
        if "bop" in formats:
            bop = BopWriter(root / BOP_FOLDER, report, BOP_SPLIT)
            stack.callback(bop.discard)

        next_id = 1
        for index in indices:
            piece, blob = load_piece(root, index, spec, record_hashes.get(record_file(index)))
            summary = piece["summary"]
            split = counter.add(summary) if counter is not None else None
            if each is not None:
                each(summary)
            coco[None].add(piece["coco"], next_id)
            if split is not None:
                coco[split].add(piece["coco"], next_id)
            next_id += len(piece["coco"]["annotations"])
            if "hf" in formats:
                name = HF_METADATA if split is None else HF_SPLIT_METADATA.format(split=split)
                if name not in metadata:
                    metadata[name] = MetadataWriter(text_file(name).write)
                    metadata_scenes[split or "train"] = []
                metadata[name].add(piece["hf"])
                metadata_scenes[split or "train"].append(index)
            if "webdataset" in formats:
                prefix = WEBDATASET_PREFIX if split is None else WEBDATASET_SPLIT_PREFIX.format(split=split)
                if prefix not in shards:
                    shards[prefix] = ShardWriter(root / WEBDATASET_FOLDER, prefix, int(world.cfg.output.shard_size),
                                                 report_shard)
                start, size = piece["webdataset"]
                shards[prefix].add(blob[start:start + size])
            if bop is not None:
                plys = piece["bop"]["plys"]
                bop.add(piece["bop"], lambda g, blob=blob, plys=plys: blob[plys[g][0]:plys[g][0] + plys[g][1]])
                written.update(piece["files"])

        for writer in [*coco.values(), *metadata.values()]:
            writer.close()
        for writer in shards.values():
            writer.close()
        if bop is not None:
            bop.close()
    for name, writer in texts.items():  # in place now
        written[name] = writer.hexdigest

    if "webdataset" in formats:
        remove_stale_shards(root / WEBDATASET_FOLDER, shard_names)
    if "hf" in formats:
        splits = {split: (HF_METADATA if counter is None else HF_SPLIT_METADATA.format(split=split), scenes)
                  for split, scenes in metadata_scenes.items()}
        if counter is not None:  # in the split's order, as the card lists them
            splits = {name: splits[name] for name in SPLIT_NAMES if name in splits}
        card = write_card(root, splits, [root / name for name, _ in splits.values()])
        written[card.name] = hashlib.sha256(card.read_bytes()).hexdigest()
    return written, counter.summary() if counter is not None else None
