"""``scenegen verify DIR``: is a dataset complete, and is every file the one its manifest
names?

Checks, in order: the manifest exists (else the dataset is incomplete, and the shards'
completion records say how far it got) and is a scenegen manifest; every file it lists
lies inside the folder (a path that leaves it, ``../x``, ``/x`` or a link to outside, is
refused and never read), exists and has its sha256; every other file in the folder is
reported as unlisted, except the record of the work (``.scenegen/``) and the two files
scenegen writes into a finished dataset (``preview.png``, ``coverage.html``); every scene
0..n-1 has its record, except the scenes the manifest lists as skipped (unplaceable),
which have none; every file a record names is listed; no scene record lies beyond n.

Reading is streamed: files are hashed in chunks, the folder is walked one directory at a
time and each scene record is read once, so memory stays flat on large datasets.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator, List, Optional

from ..errors import DamagedFileError, ScenegenError
from ..fileio import sha256_file
from .damage import damaged, json_type, read_dataset_json
from .files import record_indices
from .layout import AFTER_MANIFEST, MANIFEST, RUN_RECORD, WORK_FOLDER, record_file
from .manifest import Manifest
from .read import require_folder
from .shards import completed, marker_path


def verify_dataset(root: str | Path, on_file: Optional[Callable[[str], None]] = None) -> List[str]:
    """The problems of the dataset in ``root``, one line each; empty when it is
    complete, holds nothing else and every hash matches. ``on_file`` is called with each
    listed file checked."""
    root = Path(root)
    try:
        require_folder(root)
        if not (root / MANIFEST).is_file():
            return [_incomplete(root)]
        manifest = Manifest.read(root)
    except ScenegenError as exc:
        return [str(exc)]
    folder = _Folder(root)
    return [
        *_listed_problems(folder, manifest.files, on_file),
        *_unlisted_problems(folder, manifest.files),
        *_record_problems(folder, manifest),
    ]


class _Folder:
    """The dataset folder, its files named by their POSIX paths relative to it (string
    operations: verify handles every file of a large dataset)."""

    def __init__(self, root: Path):
        self.root = root
        self._prefix = os.path.join(root, "")
        self._real = os.path.join(os.path.realpath(root), "")

    def path(self, name: str) -> str:
        return self._prefix + name

    def outside(self, name: str) -> str:
        """Why ``name`` leaves the folder, or "": it is absolute, goes up (``..``), is
        not in plain form (``./x``, ``x//y``), or resolves (links followed) to a place
        outside."""
        if not name or any(part in ("", ".", "..") for part in name.split("/")):
            return "not a path inside the dataset folder"
        real = os.path.realpath(self._prefix + name)
        return "" if real.startswith(self._real) else f"a link to {real}, outside the dataset folder"


def _listed_problems(folder: _Folder, files: dict, on_file) -> Iterator[str]:
    """Files the manifest lists that leave the folder, are missing or changed."""
    for name, digest in sorted(files.items()):
        outside = folder.outside(name)
        if outside:
            yield f"refused: {name!r}, {outside} (not read)"
        elif not os.path.isfile(folder.path(name)):
            yield f"missing: {name}"
        elif sha256_file(folder.path(name)) != digest:
            yield f"changed: {name} (sha256 differs from the manifest)"
        if on_file is not None:
            on_file(name)


def _unlisted_problems(folder: _Folder, files: dict) -> Iterator[str]:
    """Files (and links) in the folder that the manifest does not list."""
    for path, dirs, names in os.walk(folder.root):
        top = Path(path) == folder.root
        dirs[:] = sorted(d for d in dirs if not (top and d == WORK_FOLDER))  # in place: os.walk enters these
        # os.walk does not enter linked folders: a link is one entry, like a file
        links = [d for d in dirs if os.path.islink(os.path.join(path, d))]
        prefix = "" if top else Path(path).relative_to(folder.root).as_posix() + "/"
        for entry in sorted([*names, *links]):
            name = prefix + entry
            if name not in files and not (top and entry in (MANIFEST, *AFTER_MANIFEST)):
                outside = folder.outside(name)
                yield f"unlisted: {name} (not in the manifest{'; ' + outside if outside else ''})"


def _record_problems(folder: _Folder, manifest: Manifest) -> Iterator[str]:
    """Scene records missing, present for skipped scenes or beyond n, damaged, or naming
    files the manifest does not list."""
    n, files, skipped = manifest.n, manifest.files, manifest.skipped_indices
    missing, first_missing = 0, None
    for index in range(n):
        name = record_file(index)
        if index in skipped or folder.outside(name):
            continue  # a record outside the folder is refused or reported above, and not read
        if os.path.isfile(folder.path(name)):
            yield from _record_file_problems(folder, files, name, index)
        else:
            missing, first_missing = missing + 1, index if first_missing is None else first_missing
    if missing:
        yield f"{missing} of {n - len(skipped)} scene records are missing (first: scene {first_missing})"
    unexpected = sorted(i for i in skipped if os.path.isfile(folder.path(record_file(i))))
    if unexpected:
        yield f"{len(unexpected)} scenes the manifest lists as skipped have a record (first: scene {unexpected[0]})"
    extra = [i for i in record_indices(folder.root) if i >= n]
    if extra:
        yield f"{len(extra)} scene records beyond the manifest's n={n} (first: scene {extra[0]})"


def _record_file_problems(folder: _Folder, files: dict, name: str, index: int) -> Iterator[str]:
    """A damaged record ``name`` of scene ``index``, or the files it names that the
    manifest does not list."""
    try:
        record = read_dataset_json(folder.path(name))
        problem = _record_problem(record, index)
        if problem:
            raise damaged(folder.path(name), problem)
    except DamagedFileError as exc:
        yield f"{exc}; {_record_repair(folder.root, index)}"
        return
    for layer in record["files"].values():
        if layer not in files:
            outside = folder.outside(layer)
            exists = "" if outside or os.path.isfile(folder.path(layer)) else " (and which does not exist)"
            yield f"{name} names {layer!r}, which the manifest does not list{exists}{'; ' + outside if outside else ''}"


def _record_problem(record: dict, index: int) -> str:
    """What makes ``record`` (a JSON object) not the record of scene ``index``, or ""."""
    layers = record.get("files")
    if record.get("index") != index:
        return f"'index' is {record.get('index')!r}"
    if not isinstance(layers, dict):
        return f"'files' is {json_type(layers)}, not an object"
    bad = [path for path in layers.values() if not isinstance(path, str)]
    return f"'files' holds {json_type(bad[0])}, not a path" if bad else ""


def _record_repair(root: Path, index: int) -> str:
    """How to write scene ``index`` again: without its record and its shard's completion
    record, a resumed run writes the scene anew."""
    shard = next((marker_path(root, scenes) for scenes in completed(root) if index in scenes), None)
    also = f" and {shard.relative_to(root).as_posix()}" if shard else ""
    return f"delete it{also}, then rerun the 'scenegen generate' command that wrote the dataset to write the scene again"


def _incomplete(root: Path) -> str:
    """The problem of a folder without a manifest: not a dataset, or an unfinished one."""
    if not (root / RUN_RECORD).is_file():
        return f"{str(root)!r} is not a scenegen dataset: it has neither {MANIFEST} nor {RUN_RECORD}"
    try:
        config = read_dataset_json(root / RUN_RECORD).get("config")
    except DamagedFileError as exc:
        return f"incomplete: no {MANIFEST} yet, and {exc}"
    n = config.get("n") if isinstance(config, dict) else "?"
    done = sorted(completed(root), key=lambda r: r.start)
    scenes = sum(len(r) for r in done)
    return (f"incomplete: no {MANIFEST} yet; {len(done)} shard(s) complete ({scenes} of the n={n} "
            f"scenes asked for); run the same 'scenegen generate' command again to resume, or 'scenegen finish' once the shards of a job array are all written")


def file_count(root: str | Path) -> int:
    """How many files the manifest of ``root`` lists (0 without a manifest)."""
    return len(Manifest.read(root).files) if (Path(root) / MANIFEST).is_file() else 0
