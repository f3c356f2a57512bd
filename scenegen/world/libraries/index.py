"""The index of a library: every file's size, mtime, sha256, face count, extent, whether
it carries a look, or why it is skipped; kept in a cache folder outside the library
(:func:`cache_dir`) and reused while a file's size and mtime are unchanged (only changed
or new files are read and hashed again)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ...config.schema import SYMMETRIES
from ...errors import ConfigError, MeshError
from ...fileio import read_json, sha256_file, write_json
from ...resources import cache_dir
from .asset import load_body
from .common import Candidate, texture_folders

INDEX_VERSION = 3  # 2: records hold the three extents; 3: textures found in the layout's folders


def index_path(root: Path, layout: str, max_faces: int, simplify: bool = False) -> Path:
    """The index file of a library: named by a hash of its resolved folder, layout and
    budget (and ``simplify`` when on)."""
    key = json.dumps([str(root), layout, int(max_faces), INDEX_VERSION, *(["simplify"] if simplify else [])])
    return cache_dir() / "libraries" / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"


def inspect_file(path: Path, candidate: Candidate, max_faces: int, root: Path, simplify: bool = False) -> dict:
    """Read one file: its sha256, faces, look, largest extent and (3,) extents along the
    object frame's axes (file units, after its axes are turned), or the reason it cannot
    be used."""
    record = {"sha256": sha256_file(path)}
    try:
        if candidate.symmetry not in SYMMETRIES:
            raise ConfigError(f"symmetry {candidate.symmetry} is not one of {list(SYMMETRIES)}")
        body, look = load_body(path, candidate.up, candidate.front, max_faces, candidate.path,
                               texture_folders(root, candidate), simplify)
    except (MeshError, ConfigError) as exc:
        return {**record, "reason": str(exc)}
    extents = np.ptp(body.vertices, axis=0)
    extent = float(extents.max())
    if not extent > 0:
        return {**record, "reason": "it has no extent (all vertices at one point)"}
    return {**record, "reason": None, "faces": int(len(body.faces)), "look": look is not None, "extent": extent,
            "extents": [float(v) for v in extents]}


def refresh(root: Path, layout: str, candidates: list, max_faces: int,
            skipped: dict | None = None, simplify: bool = False) -> tuple[dict, Path, int]:
    """The index records of ``candidates`` (relative path -> record), reusing those of the
    cached index whose file, size, mtime and settings are unchanged, and writing the
    index (atomically, with the ``skipped`` files of the scan) when something changed. Returns (records, index path, files read)."""
    path = index_path(root, layout, max_faces, simplify)
    try:
        cached = read_json(path) if path.is_file() else {}
    except (OSError, ValueError):
        cached = {}
    old = cached.get("files", {}) if cached.get("version") == INDEX_VERSION else {}
    records, read = {}, 0
    for candidate in candidates:
        file = root / candidate.path
        stat = file.stat()
        settings = [candidate.up, candidate.front, candidate.symmetry]
        record = old.get(candidate.path)
        if not (record and record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns
                and record.get("settings") == settings):
            read += 1
            record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "settings": settings,
                      **inspect_file(file, candidate, max_faces, root, simplify)}
        records[candidate.path] = record
    skipped = dict(sorted((skipped or {}).items()))
    if records != old or skipped != cached.get("skipped") or not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, {"version": INDEX_VERSION, "root": str(root), "layout": layout, "max_faces": int(max_faces),
                          "files": records, "skipped": skipped})
    return records, path, read
