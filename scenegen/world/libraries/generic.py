"""``layout: generic``: one folder per source category, holding mesh files (any format
scenegen reads, in the folder or below it), with an optional ``meta.yaml`` per category
folder::

    chairs/meta.yaml:
      size: [0.8, 1.1]        # metres, range of the largest extent (else: the file's own size, in `units`)
      units: m                # the files' length unit (default m); ignored with a size
      up: y                   # default: y for .glb/.gltf, z otherwise
      front: x
      symmetry: 1
      license: CC-BY-4.0
      attribution: "Jane Doe"
      non_commercial: false   # default: from the licence name (an NC licence)
      files:                  # per-file keys, by file name (relative to the folder)
        stool.obj: {symmetry: 4, size: [0.4, 0.5]}

A file directly in the library's folder (in no category folder) is skipped."""

from __future__ import annotations

from pathlib import Path

import yaml

from ...config.mesh_frame import default_up
from .common import Candidate, Scan, escapes, mesh_files, non_commercial, relative

META = "meta.yaml"
KEYS = ("size", "units", "up", "front", "symmetry", "license", "attribution", "non_commercial")


def scan(root: Path, library) -> Scan:
    """The candidates of a generic library at the resolved folder ``root``."""
    found = Scan()
    for path in mesh_files(root, root, found):
        if path.parent == root:
            found.skipped[relative(root, path)] = "not in a category folder (generic layout: <category>/<file>)"
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not escapes(root, p)):
        meta, problem = _meta(folder)
        files = meta.pop("files", None) or {}
        for path in mesh_files(root, folder, found):
            rel = relative(root, path)
            if problem:
                found.skipped[rel] = problem
                continue
            own = {**meta, **(files.get(relative(folder, path)) or {})}
            unknown = sorted(set(own) - set(KEYS))
            if unknown:
                found.skipped[rel] = f"{folder.name}/{META} has unknown keys {unknown}; valid: {list(KEYS)}"
                continue
            license_text = str(own.get("license", "unknown"))
            found.candidates.append(Candidate(
                path=rel, source_category=folder.name, name=path.stem,
                up=str(own.get("up") or default_up(path)), front=str(own.get("front") or "x"),
                units=None if own.get("size") else str(own.get("units") or "m"),
                size=tuple(float(v) for v in own["size"]) if own.get("size") else None,
                symmetry=int(own.get("symmetry", 1)), license=license_text,
                attribution=str(own.get("attribution", "")),
                non_commercial=bool(own.get("non_commercial", non_commercial(license_text))),
            ))
    return found


def _meta(folder: Path) -> tuple[dict, str]:
    """The folder's ``meta.yaml`` as a mapping ({} without one), and a problem ("" if none)."""
    path = folder / META
    if not path.is_file():
        return {}, ""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, UnicodeError, yaml.YAMLError) as exc:
        return {}, f"{folder.name}/{META} could not be read: {' '.join(str(exc).split())[:200]}"
    if not isinstance(data, dict):
        return {}, f"{folder.name}/{META} is not a mapping"
    return data, ""
