"""What every layout adapter shares: a :class:`Candidate` (one mesh file found in a
library and what its layout says about it), the walk that finds files without leaving
the library's folder, and licence helpers."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..shapes import MESH_FORMATS


@dataclass(frozen=True)
class Candidate:
    """A mesh file of a library, before it is read.

    Attributes:
        path: POSIX path relative to the library's folder.
        source_category: the category its layout gives it (a folder name, a synset, an
            annotation), mapped through ``libraries.<name>.categories``.
        name: a readable name (the object's, or the file's stem).
        up, front: the file's axes (``scenegen.config.schema.MESH_AXES``).
        units: the file's length unit when its layout or meta data says it is metric
            (``m``, ``cm``, ``mm``), else None (then a size prior is needed).
        size: [min, max] metres from the file's meta data, or None.
        symmetry: order of rotational symmetry about up.
        license, attribution: as the library states them; ``non_commercial`` when the
            licence forbids commercial use.
    """

    path: str
    source_category: str
    name: str
    up: str
    front: str = "x"
    units: Optional[str] = None
    size: Optional[tuple] = None
    symmetry: int = 1
    license: str = "unknown"
    attribution: str = ""
    non_commercial: bool = False
    extra: dict = field(default_factory=dict, compare=False)


@dataclass
class Scan:
    """What an adapter found: the candidates, and the files it skipped with a reason
    (relative path -> reason)."""

    candidates: list = field(default_factory=list)
    skipped: dict = field(default_factory=dict)


ESCAPES = "leads outside the library's folder (a symbolic link); it is not read"


def texture_folders(root: Path, candidate: Candidate) -> tuple[Path, ...]:
    """Folders of the library at ``root`` where the files a candidate's mesh refers to
    (textures, materials) may lie besides its own folder: those its layout names in
    ``candidate.extra["textures"]`` (paths relative to the library)."""
    return tuple(root / folder for folder in candidate.extra.get("textures", ()))


def model_file(root: Path, folder: Path, mesh: Path, what: str, scan: Scan) -> Optional[Path]:
    """The mesh file ``folder / mesh`` of a layout's model folder, or None (recorded in
    ``scan.skipped`` with the reason) when the folder or the file leads outside ``root``
    or the file is missing; ``what`` names the folder in that reason ("a GSO object
    folder")."""
    path = folder / mesh
    rel = relative(root, path)
    if escapes(root, folder) or (path.exists() and escapes(root, path)):
        scan.skipped[rel] = "leads outside the library's folder (a symbolic link); it is not read"
        return None
    if not path.is_file():
        scan.skipped[rel] = f"missing: {what} holds {mesh.as_posix()}"
        return None
    return path


def escapes(root: Path, path: Path) -> bool:
    """Whether ``path`` (inside ``root``, resolved) resolves outside ``root``."""
    try:
        return not path.resolve().is_relative_to(root)
    except OSError:
        return True


def mesh_files(root: Path, folder: Path, scan: Scan, suffixes=MESH_FORMATS) -> list:
    """The mesh files below ``folder`` (inside the resolved library folder ``root``), sorted,
    as paths; symbolic links are not followed into folders, and a file or link that
    resolves outside ``root`` is recorded in ``scan.skipped``."""
    found = []
    for current, folders, files in os.walk(folder, followlinks=False):
        folders.sort()
        here = Path(current)
        for name in folders:
            if (here / name).is_symlink() and escapes(root, here / name):
                scan.skipped[relative(root, here / name)] = ESCAPES
        for name in sorted(files):
            path = here / name
            if path.suffix.lower().lstrip(".") not in suffixes:
                continue
            if escapes(root, path):
                scan.skipped[relative(root, path)] = ESCAPES
                continue
            found.append(path)
    return found


def relative(root: Path, path: Path) -> str:
    """``path`` relative to ``root``, POSIX, without resolving links."""
    return Path(os.path.relpath(path, root)).as_posix()


def non_commercial(license_text: str) -> bool:
    """Whether a licence name forbids commercial use: CC ``NC`` variants (``by-nc``,
    ``CC-BY-NC-SA 4.0``, "NonCommercial") and research-only terms."""
    text = license_text.lower()
    words = set(re.split(r"[^a-z0-9]+", text))
    return "nc" in words or "noncommercial" in text.replace("-", "").replace(" ", "") or "non-commercial" in text


def cc_license(code: str) -> str:
    """A readable name for an Objaverse/Sketchfab licence code (``by``, ``by-nc-sa``,
    ``cc0``); other text is kept as it is."""
    code = str(code).strip()
    lower = code.lower()
    if lower in ("cc0", "cc-0", "cc0-1.0"):
        return "CC0-1.0"
    if re.fullmatch(r"(cc-)?by(-(nc|sa|nd))*", lower):
        return "CC-" + lower.removeprefix("cc-").upper() + "-4.0"
    return code
