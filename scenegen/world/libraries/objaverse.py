"""``layout: objaverse``: a folder of ``<uid>.glb`` files (at any depth, e.g.
``glbs/000-000/<uid>.glb``) and an annotations JSON file (``libraries.<name>.annotations``,
relative to the library's folder or absolute) mapping each uid to
``{"category", "license", "attribution" (or "author"), "name"}``. A file without an
annotation is skipped. Licence codes such as ``by``, ``by-nc``, ``cc0`` are written out
(``CC-BY-NC-4.0``); an NC licence is flagged non-commercial. Files are glTF: Y-up, front
unknown (+x used); their units are arbitrary, so the size comes from ``sizes`` (default:
the dictionary's default entry size)."""

from __future__ import annotations

import json
from pathlib import Path

from ...errors import ConfigError
from .common import Candidate, Scan, cc_license, mesh_files, non_commercial, relative


def read_annotations(root: Path, library, key: str) -> dict:
    """uid -> its annotation (a dict)."""
    given = library.get("annotations", None)
    if not given:
        raise ConfigError(f"{key}.annotations is not set: layout objaverse needs a JSON file mapping each uid to "
                          f"{{category, license, attribution, name}}")
    path = Path(str(given)).expanduser()
    path = path if path.is_absolute() else root / path
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeError, ValueError) as exc:
        raise ConfigError(f"{key}.annotations: {str(path)!r} could not be read as JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{key}.annotations: {str(path)!r} must hold a JSON object uid -> annotation")
    return data


def scan(root: Path, library, key: str = "libraries") -> Scan:
    """The candidates of an Objaverse-style library at the resolved folder ``root``."""
    notes = read_annotations(root, library, key)
    found = Scan()
    for path in mesh_files(root, root, found, suffixes=("glb",)):
        rel = relative(root, path)
        note = notes.get(path.stem)
        if not isinstance(note, dict) or not note.get("category"):
            found.skipped[rel] = f"no annotation with a category for uid {path.stem!r}"
            continue
        license_text = cc_license(note.get("license", "unknown"))
        author = note.get("attribution") or note.get("author") or ""
        if isinstance(author, dict):
            author = author.get("username") or author.get("name") or ""
        found.candidates.append(Candidate(
            path=rel, source_category=str(note["category"]), name=str(note.get("name") or path.stem), up="y",
            front="x", license=license_text, attribution=str(author), non_commercial=non_commercial(license_text)))
    return found
