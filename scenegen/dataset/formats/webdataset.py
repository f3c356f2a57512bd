"""WebDataset shards of a finished dataset folder.

Layout written by :func:`export_webdataset` next to the dataset (``DIR``)::

    shards/scenegen-000000.tar   scenes 0 .. shard_size-1
    shards/scenegen-000001.tar   the next shard_size scenes, ...

With a held-out split (``splits.json``, see :mod:`scenegen.design.splits`) the shards are per
split instead, each split's scenes in scene order, numbered from 0 in each split::

    shards/train-000000.tar      the first shard_size train scenes, then train-000001.tar, ...
    shards/test-000000.tar       the first shard_size test scenes, ...

One sample per scene, in scene order. Its key is the scene stem (``000000``: six digits,
no dots, so WebDataset's "key = name up to the first dot" rule keeps it whole) and its
members lie next to each other in this order::

    000000.rgb.png        images/000000.png, bytes as in the folder (RGB, 8-bit)
    000000.depth.png      depth/000000.png (uint16; value * depth_scale = millimetres)
    000000.instances.png  instances/000000.png (uint16 ids; 0 background)
    000000.semantic.png   semantic/000000.png (uint8 category ids)
    000000.parts.png      parts/000000.png (uint8 part indices)
    000000.normals.png    normals/000000.png (8-bit RGB camera-frame normals), when present
    000000.json           scenes/000000.json, the scene record

The shards are plain (uncompressed) POSIX ustar archives with fixed member metadata
(mtime 0, uid/gid 0, uname/gname "", mode 0o644), so the same dataset always gives
byte-identical shards. (``webdataset.TarWriter`` is not used: it sorts members by name
and, unless given ``mtime``, stamps the current time.) A tar member's bytes do not depend
on where it stands, so each sample's members are made once, with the scene
(:func:`sample_members`, Python's ``tarfile`` headers), and a shard is its samples' members
one after another and the end of the archive (:class:`ShardWriter`): the bytes
``tarfile`` writes for the same members. Each shard is written to a temporary file and
renamed into place; shards named ``scenegen-*.tar``, ``train-*.tar`` or ``test-*.tar``
left over from an earlier export (with more shards, or another layout) are removed.

Reading back with the ``webdataset`` library (``pip install webdataset``)::

    from scenegen.dataset.formats.webdataset import read_webdataset
    for sample in read_webdataset(sorted(glob("DIR/shards/*.tar"))):  # or "DIR/shards/train-*.tar"
        sample["rgb"]        # (H, W, 3) uint8
        sample["depth"]      # (H, W) float32 metres (0 = no surface); depth="uint16" keeps the PNG
        sample["instances"]  # (H, W) uint16, exact
        sample["semantic"], sample["parts"]  # (H, W) uint8
        sample["normals"]    # (H, W, 3) float32 unit normals, camera frame (0 = no surface)
        sample["record"]     # the scene record (dict)

or, inside your own pipeline, ``wds.WebDataset(urls, shardshuffle=False)
.decode(png_decoder).map(to_arrays)``. WebDataset's own image decoders
(``.decode("rgb8")``, ``"l8"``, ...) reduce 16-bit PNGs to 8 bits: do not use them for
depth or instances.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

from ...design.splits import SPLIT_NAMES
from ...errors import ConfigError, ScenegenError, positive_int
from ...fileio import HashingWriter, atomic_writer
from ..files import normals_from_uint8, read_png, record_path
from ..layout import (
    WEBDATASET_FOLDER,
    WEBDATASET_PREFIX,
    WEBDATASET_SPLIT_PREFIX,
    WEBDATASET_SUFFIX,
    scene_stem,
    webdataset_shard,
)
from ..read import finished_indices, read_splits

#: sample members in order: (member suffix, layer name in the record's ``files``)
MEMBERS = (
    ("rgb.png", "rgb"),
    ("depth.png", "depth"),
    ("instances.png", "instances"),
    ("semantic.png", "semantic"),
    ("parts.png", "parts"),
    ("normals.png", "normals"),  # only when the dataset has normals
)
RECORD_MEMBER = "json"
MEMBER_MODE = 0o644


def shard_groups(root: Path, indices: Sequence[int]) -> Dict[str, List[int]]:
    """Shard name prefix -> the scene indices its shards hold, in order: every scene
    under ``scenegen-``, or, when the dataset has a held-out split, each split's scenes
    under ``<split>-`` (``train-``, ``test-``)."""
    splits = read_splits(root, indices)
    if splits is None:
        return {WEBDATASET_PREFIX: list(indices)}
    return {WEBDATASET_SPLIT_PREFIX.format(split=name): scenes for name, scenes in splits.items()}


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = MEMBER_MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def tar_member(name: str, data: bytes) -> bytes:
    """One tar member as :mod:`tarfile` writes it (``TarFile.addfile`` of a USTAR
    archive): its header block, ``data``, and zeros up to the next block."""
    header = _tarinfo(name, len(data)).tobuf(tarfile.USTAR_FORMAT, tarfile.ENCODING, "surrogateescape")
    return header + data + tarfile.NUL * (-len(data) % tarfile.BLOCKSIZE)


def sample_members(record_bytes: bytes, record: dict, layers: Mapping[str, bytes]) -> bytes:
    """The tar members of one scene's sample, in :data:`MEMBERS` order then the record,
    as the bytes they take in a shard: a tar member's bytes do not depend on where it
    stands, so a shard is its samples' members one after another (:class:`ShardWriter`).

    Args:
        record_bytes: the scene record file's bytes; ``record``: the same, read.
        layers: layer name -> the bytes of its PNG file (those the record names).
    """
    key = scene_stem(int(record["index"]))
    members = [tar_member(f"{key}.{suffix}", layers[layer]) for suffix, layer in MEMBERS if layer in record["files"]]
    members.append(tar_member(f"{key}.{RECORD_MEMBER}", record_bytes))
    return b"".join(members)


def read_sample_members(root: Path, index: int) -> bytes:
    """:func:`sample_members` of scene ``index`` of the dataset folder ``root``, from its files."""
    record_bytes = record_path(root, index).read_bytes()
    record = json.loads(record_bytes)
    layers = {layer: (root / record["files"][layer]).read_bytes() for _, layer in MEMBERS if layer in record["files"]}
    return sample_members(record_bytes, record, layers)


class ShardWriter:
    """The shards of one name prefix (``scenegen-``, ``train-``, ...) in ``folder``,
    written sample by sample (:func:`sample_members`, in scene order), ``shard_size``
    samples a shard, each shard to a temporary file renamed into place when it is
    complete: the bytes of ``tarfile`` writing the same members. ``written``: called
    with each complete shard's path and sha256. :meth:`close` completes the last shard;
    :meth:`abort` drops a shard not complete (on an error)."""

    def __init__(self, folder: Path, prefix: str, shard_size: int, written: Callable[[Path, str], None]):
        self.folder, self.prefix, self.shard_size, self.written = Path(folder), prefix, int(shard_size), written
        self.number = 0  # the next shard's
        self._open: Optional[tuple] = None  # (path, its atomic writer, HashingWriter, samples, bytes)

    def add(self, members: bytes) -> None:
        if self._open is None:
            path = self.folder / webdataset_shard(self.number, self.prefix)
            writer = atomic_writer(path)
            self._open = [path, writer, HashingWriter(writer.__enter__()), 0, 0]
        shard = self._open
        shard[2].write(members)
        shard[3] += 1
        shard[4] += len(members)
        if shard[3] == self.shard_size:
            self._complete()

    def _complete(self) -> None:
        path, writer, out, _, size = self._open
        # the end of the archive as TarFile.close writes it: two zero blocks, then zeros
        # up to a whole record
        size += 2 * tarfile.BLOCKSIZE
        out.write(tarfile.NUL * (2 * tarfile.BLOCKSIZE + (-size % tarfile.RECORDSIZE)))
        self._open = None
        writer.__exit__(None, None, None)
        self.number += 1
        self.written(path, out.hexdigest)

    def close(self) -> None:
        if self._open is not None:
            self._complete()

    def abort(self) -> None:
        if self._open is not None:
            writer, self._open = self._open[1], None
            error = ScenegenError("shard abandoned")
            writer.__exit__(type(error), error, None)  # the atomic writer removes its temporary file


def remove_stale_shards(folder: Path, keep: Iterable[str]) -> None:
    """Remove the shards in ``folder`` (of every prefix scenegen writes) not named in
    ``keep``: those of an earlier export with more shards, or another layout."""
    keep = set(keep)
    for prefix in (WEBDATASET_PREFIX, *(WEBDATASET_SPLIT_PREFIX.format(split=name) for name in SPLIT_NAMES)):
        for stale in folder.glob(f"{prefix}[0-9]*{WEBDATASET_SUFFIX}"):
            if stale.name not in keep:
                stale.unlink()


def export_webdataset(root: str | Path, shard_size: int = 1000, n: Optional[int] = None) -> List[Path]:
    """Write the scenes of the finished dataset ``root`` as WebDataset shards.

    Args:
        root: dataset folder (with ``manifest.json``).
        n: scene count, for a folder whose manifest is not written yet (``finish``).
        shard_size: scenes per shard (the last shard may hold fewer).

    Returns:
        The paths of the shards written, in order: ``root/shards/scenegen-NNNNNN.tar``,
        or, when ``root`` has a held-out split, ``train-NNNNNN.tar`` then
        ``test-NNNNNN.tar`` (a split with no scene has no shard).

    Raises:
        ConfigError: ``shard_size`` is not a positive integer.
        ScenegenError: ``root`` is not a finished dataset.
    """
    shard_size = positive_int(shard_size, "shard_size", "scenes per shard")
    root = Path(root)
    indices = finished_indices(root, n)
    folder = root / WEBDATASET_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    written: List[Path] = []
    for prefix, scenes in shard_groups(root, indices).items():
        shards = ShardWriter(folder, prefix, shard_size, lambda path, _: written.append(path))
        try:
            for index in scenes:
                shards.add(read_sample_members(root, index))
            shards.close()
        except BaseException:
            shards.abort()
            raise
    remove_stale_shards(folder, (p.name for p in written))
    return written


# -- reading ---------------------------------------------------------------------------


def decode_png(data: bytes) -> np.ndarray:
    """Array of PNG bytes with the bit depth kept (16-bit -> uint16, RGB -> uint8)."""
    return read_png(io.BytesIO(data))


def png_decoder(key: str, data: bytes):
    """A WebDataset decoder handler (``.decode(png_decoder)``): every ``.png`` member to
    an array with its bit depth kept (uint16 stays uint16), ``.json`` to a dict; other
    members are left to WebDataset's default handlers."""
    extension = key.lower().rsplit(".", 1)[-1]
    if extension == "png":
        return decode_png(data)
    if extension == "json":
        return json.loads(data)
    return None


def to_arrays(sample: dict, depth: str = "metres") -> dict:
    """Rename a decoded sample's fields: ``rgb``, ``depth``, ``instances``, ``semantic``,
    ``parts``, ``record`` (plus ``__key__``, ``__url__``).

    Args:
        sample: a sample decoded with :func:`png_decoder`.
        depth: ``"metres"`` (float32 metres via the record's ``depth_scale``; 0 = no
            surface) or ``"uint16"`` (the PNG's values, exact).
    """
    if depth not in ("metres", "uint16"):
        raise ConfigError(f"depth must be 'metres' or 'uint16', got {depth!r}")
    record = sample[RECORD_MEMBER]
    out = {k: v for k, v in sample.items() if k.startswith("__")}
    for suffix, layer in MEMBERS:
        if suffix in sample:
            out[layer] = sample[suffix]
    if "normals" in out:
        out["normals"] = normals_from_uint8(out["normals"])
    if depth == "metres":
        out["depth"] = (out["depth"].astype(np.float64) * (float(record["depth_scale"]) / 1000.0)).astype(np.float32)
    out["record"] = record
    return out


def read_webdataset(urls: str | Iterable[str], depth: str = "metres"):
    """The samples of shards written by :func:`export_webdataset`, through the
    ``webdataset`` library, in shard and scene order.

    Args:
        urls: a shard path/URL, a brace pattern (``".../scenegen-{000000..000003}.tar"``)
            or a list of them.
        depth: see :func:`to_arrays`.

    Returns:
        An iterable ``webdataset.WebDataset`` pipeline of dicts with ``rgb`` (H, W, 3)
        uint8, ``depth``, ``instances`` (uint16), ``semantic`` and ``parts`` (uint8),
        ``record`` (dict), ``__key__`` and ``__url__``.
    """
    if depth not in ("metres", "uint16"):
        raise ConfigError(f"depth must be 'metres' or 'uint16', got {depth!r}")
    try:
        import webdataset as wds
    except ImportError as exc:  # optional dependency
        raise ImportError("reading WebDataset shards needs the webdataset package: pip install webdataset") from exc
    if not isinstance(urls, str):
        urls = [str(u) for u in urls]
    return wds.WebDataset(urls, shardshuffle=False).decode(png_decoder).map(lambda s: to_arrays(s, depth=depth))
