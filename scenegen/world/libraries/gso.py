"""``layout: gso``: Google Scanned Objects, one folder per object::

    <name>/meshes/model.obj (+ model.mtl)
    <name>/materials/textures/texture.png
    <name>/metadata.pbtxt

``metadata.pbtxt`` is a text protobuf (Gazebo Fuel's model metadata). Read with
:func:`parse_pbtxt`; the source category is the first of: a ``categories`` field (a
string, or a message whose ``first`` is one), an ``annotations`` entry with key
``category``, else the folder's name. ``name`` and ``license`` are read where present.
Assumptions (stated, not verified on the full dataset here): the meshes are in metres
and Z-up (the object keeps its scanned size unless ``sizes`` gives a prior), their front
is unknown (+x is used); the licence is CC-BY 4.0, attribution Google LLC.
"""

from __future__ import annotations

import re
from pathlib import Path

from .common import Candidate, Scan, escapes, model_file, non_commercial, relative

MESH = Path("meshes") / "model.obj"
METADATA = "metadata.pbtxt"
TEXTURES = Path("materials") / "textures"  # where its model.mtl's texture lies
LICENSE = "CC-BY-4.0"
ATTRIBUTION = "Google LLC, Google Scanned Objects (Downs et al., ICRA 2022)"
_TOKEN = re.compile(r'\s*(?:(#[^\n]*)|("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|([{}:<>;,\[\]])|([^\s{}:<>;,\[\]"\']+))')


def parse_pbtxt(text: str) -> dict:
    """A text-format protobuf message as a dict: field name -> list of values (a field
    may repeat), each value a string, a number-like string, or a nested dict.

    Raises:
        ValueError: unbalanced braces or a field without a value.
    """
    tokens = [t for t in _tokens(text)]
    message, at = _message(tokens, 0, top=True)
    return message


def _tokens(text: str):
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if not match or match.end() == at:
            if text[at:].strip():
                raise ValueError(f"unexpected text at offset {at}")
            return
        at = match.end()
        comment, quoted, punct, word = match.groups()
        if quoted is not None:
            yield ("str", bytes(quoted[1:-1], "utf-8").decode("unicode_escape", errors="replace"))
        elif punct is not None:
            yield ("p", punct)
        elif word is not None:
            yield ("w", word)


def _message(tokens: list, at: int, top: bool = False) -> tuple[dict, int]:
    message: dict = {}
    while at < len(tokens):
        kind, value = tokens[at]
        if kind == "p" and value in "}>":
            if top:
                raise ValueError("unbalanced '}'")
            return message, at + 1
        if kind == "p" and value in ";,":
            at += 1
            continue
        if kind != "w":
            raise ValueError(f"expected a field name, got {value!r}")
        name, at = value, at + 1
        if at < len(tokens) and tokens[at] == ("p", ":"):
            at += 1
        if at >= len(tokens):
            raise ValueError(f"field {name!r} has no value")
        kind, value = tokens[at]
        if kind == "p" and value in "{<":
            inner, at = _message(tokens, at + 1)
            message.setdefault(name, []).append(inner)
        elif kind in ("str", "w"):
            # adjacent strings concatenate, as in protobuf
            text, at = value, at + 1
            while kind == "str" and at < len(tokens) and tokens[at][0] == "str":
                text, at = text + tokens[at][1], at + 1
            message.setdefault(name, []).append(text)
        else:
            raise ValueError(f"field {name!r} has no value")
    if not top:
        raise ValueError("unbalanced '{'")
    return message, at


def _first_text(values) -> str:
    for value in values or ():
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, dict):
            inner = _first_text(value.get("first")) or _first_text(value.get("name"))
            if inner:
                return inner
    return ""


def metadata_category(meta: dict) -> str:
    """The category a parsed ``metadata.pbtxt`` gives ("" if none)."""
    found = _first_text(meta.get("categories")) or _first_text(meta.get("category"))
    if found:
        return found
    for note in meta.get("annotations", ()):
        if isinstance(note, dict) and _first_text(note.get("key")).lower() == "category":
            return _first_text(note.get("value"))
    return ""


def scan(root: Path, library) -> Scan:
    """The candidates of a GSO library at the resolved folder ``root``."""
    found = Scan()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        mesh = model_file(root, folder, MESH, "a GSO object folder", found)
        if mesh is None:
            continue
        rel = relative(root, mesh)
        meta, category, name, license_text = {}, folder.name, folder.name, LICENSE
        path = folder / METADATA
        if path.is_file() and not escapes(root, path):
            try:
                meta = parse_pbtxt(path.read_text())
            except (OSError, UnicodeError, ValueError) as exc:
                found.skipped[rel] = f"{folder.name}/{METADATA} could not be read: {exc}"
                continue
            category = metadata_category(meta) or category
            name = _first_text(meta.get("name")) or name
            license_text = _first_text(meta.get("license")) or license_text
        found.candidates.append(Candidate(
            path=rel, source_category=category, name=name, up="z", front="x", units="m",
            license=license_text, attribution=ATTRIBUTION, non_commercial=non_commercial(license_text),
            extra={"textures": [relative(root, folder / TEXTURES)]}))
    return found
