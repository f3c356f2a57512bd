"""``layout: shapenet``: ShapeNetCore v2::

    taxonomy.json                                      [{synsetId, name, children, ...}]
    <synsetId>/<modelId>/models/model_normalized.obj   (+ .mtl, ../images/ textures)

The source category of a model is its synset: ``libraries.<name>.categories`` may name it
by its id (``"03001627"``), its full name (``"chair"``) or the first word of its name
(``"chair"`` of ``"chair,seat"``); unmapped models are counted under that first word.
ShapeNetCore v2's OBJ files are documented as aligned with up +Y and front -Z, and
normalised (unit bounding-box diagonal): every mapped category needs a size prior in
``libraries.<name>.sizes``. Licence: the ShapeNet terms of use (non-commercial research
and education), so every entry is flagged non-commercial.
"""

from __future__ import annotations

import json
from pathlib import Path

from ...errors import ConfigError
from .common import Candidate, Scan, escapes, model_file, relative

TAXONOMY = "taxonomy.json"
MODEL = Path("models") / "model_normalized.obj"
LICENSE = "ShapeNet terms of use (non-commercial research and education only)"
ATTRIBUTION = "ShapeNet (Chang et al. 2015, shapenet.org)"


def synset_names(root: Path) -> dict:
    """synsetId -> its taxonomy name ("" for a synset folder not in taxonomy.json)."""
    path = root / TAXONOMY
    if not path.is_file():
        raise ConfigError(f"ShapeNet library {str(root)!r} has no {TAXONOMY}; layout: shapenet expects "
                          f"{TAXONOMY} and <synsetId>/<modelId>/{MODEL.as_posix()}")
    try:
        taxonomy = json.loads(path.read_text())
    except (OSError, UnicodeError, ValueError) as exc:
        raise ConfigError(f"{str(path)!r} could not be read as JSON: {exc}") from None
    return {str(item.get("synsetId")): str(item.get("name", "")) for item in taxonomy if isinstance(item, dict)}


def source_names(synset: str, name: str) -> tuple[str, ...]:
    """The names a mapping may use for a synset, most specific first."""
    first = name.split(",")[0].strip()
    return tuple(dict.fromkeys(n for n in (synset, name, first) if n))


def scan(root: Path, library) -> Scan:
    """The candidates of a ShapeNetCore v2 library at the resolved folder ``root``; a
    candidate's ``source_category`` is the first word of its synset's name, and its
    ``extra["names"]`` every name a mapping may use."""
    names = synset_names(root)
    found = Scan()
    for synset in sorted(p for p in root.iterdir() if p.is_dir()):
        if escapes(root, synset):
            found.skipped[relative(root, synset)] = "leads outside the library's folder (a symbolic link)"
            continue
        options = source_names(synset.name, names.get(synset.name, ""))
        for model in sorted(p for p in synset.iterdir() if p.is_dir()):
            mesh = model_file(root, model, MODEL, "a ShapeNet model folder", found)
            if mesh is None:
                continue
            rel = relative(root, mesh)
            found.candidates.append(Candidate(
                path=rel, source_category=options[-1], name=f"{synset.name}/{model.name}", up="y", front="-z",
                license=LICENSE, attribution=ATTRIBUTION, non_commercial=True,
                extra={"names": options, "textures": [relative(root, model / "images")]}))
    return found
