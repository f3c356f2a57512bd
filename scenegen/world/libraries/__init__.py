"""Asset libraries: folders of mesh files in a known layout turned into dictionary
entries (``cfg.libraries``; see the README's "Asset libraries").

One module per layout turns a folder into :class:`~.common.Candidate` files
(:mod:`.generic`, :mod:`.gso`, :mod:`.shapenet`, :mod:`.objaverse`); :mod:`.index`
reads each file once and keeps what it learnt in a cache outside the library, reused
while the file is unchanged; :mod:`.asset` loads a file when a scene first uses it,
through the same steps as a dictionary ``mesh`` entry. Broken, empty, non-finite,
over-budget, missing and escaping files are skipped with a reason in the
:class:`~.report.LibraryReport`.

Entries are named ``<library>:<relative path>`` and join the built-in entries of their
category; an object's entry is drawn uniformly among the entries of its category, so a
library of 50 mugs makes library mugs 50 times as likely as the one built-in mug.

Size of an entry: the file's ``meta.yaml`` size (generic), else ``sizes[category]``,
else the file's own size where its layout is metric (generic, in ``units``; GSO), else
(Objaverse) the dictionary's default entry size; ShapeNet's normalised models need
``sizes``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...config.mesh_frame import DEFAULT_SIZE, UNIT_METRES
from ...errors import ConfigError, choices
from . import generic, gso, objaverse, shapenet
from .asset import LazyAppearance, LibraryAsset, load_body
from .common import Candidate, texture_folders
from .index import cache_dir, index_path, refresh
from .report import LibraryReport

ADAPTERS = {"generic": generic.scan, "gso": gso.scan, "shapenet": shapenet.scan, "objaverse": objaverse.scan}
METRIC = ("generic", "gso")  # layouts whose files keep their own size without a prior

__all__ = ["LibraryAsset", "LazyAppearance", "LibraryReport", "cache_dir", "index_path", "library_assets",
           "load_body", "load_library", "assets_used", "ADAPTERS"]


def library_assets(cfg, max_faces: int, simplify: bool = False) -> tuple[list, list]:
    """Every library of ``cfg.libraries``, in config order: (its assets, in each library's
    sorted path order; one :class:`LibraryReport` per library)."""
    assets, reports = [], []
    for name, library in (cfg.get("libraries", None) or {}).items():
        found, report = load_library(str(name), library, list(cfg.categories), max_faces, simplify)
        assets += found
        reports.append(report)
    return assets, reports


def load_library(name: str, library, categories: list, max_faces: int,
                 simplify: bool = False) -> tuple[list, LibraryReport]:
    """One library's assets and report. ``library`` is its config node (or a mapping with
    the same keys); ``max_faces`` the budget when the library sets none; ``simplify``
    whether files over it are decimated (``meshes.simplify``).

    Raises:
        ConfigError: a missing folder, an unknown layout, a mapping to an unknown
            category, a ShapeNet category without a size prior, an unreadable
            taxonomy or annotations file (naming the key).
    """
    key = f"libraries.{name}"
    layout = str(library.get("layout", None) or "generic")
    if layout not in ADAPTERS:
        raise ConfigError(f"{key}.layout is {layout!r}; valid: {choices(ADAPTERS)}")
    given = library.get("path", None)
    root = Path(str(given or "")).expanduser().resolve()
    if not given or not root.is_dir():
        raise ConfigError(f"{key}.path {str(given)!r} is not a folder; give the library's folder")
    mapping = {str(k): str(v) for k, v in (library.get("categories", None) or {}).items()}
    for source, target in mapping.items():
        if target not in categories:
            raise ConfigError(f"{key}.categories.{source} maps to {target!r}, not a category; valid: "
                              f"{choices(categories)} (add it to `categories`)")
    sizes = {str(k): tuple(float(v) for v in value) for k, value in (library.get("sizes", None) or {}).items()}
    for category in sizes:
        if category not in categories:
            raise ConfigError(f"{key}.sizes.{category}: not a category; valid: {choices(categories)}")
    budget = int(library.get("max_faces", None) or max_faces)
    scan = objaverse.scan(root, library, key) if layout == "objaverse" else ADAPTERS[layout](root, library)

    mapped = []
    report = LibraryReport(name, layout, root, index_path(root, layout, budget, simplify), skipped=dict(scan.skipped))
    for candidate in scan.candidates:
        target = _target(candidate, mapping, categories)
        if target is None:
            report.unmapped[candidate.source_category] = report.unmapped.get(candidate.source_category, 0) + 1
        else:
            mapped.append((candidate, target))
    records, report.index, report.read = refresh(root, layout, [c for c, _ in mapped], budget, scan.skipped,
                                                 simplify)

    assets = []
    for candidate, category in mapped:
        record = records[candidate.path]
        if record.get("reason"):
            report.skipped[candidate.path] = record["reason"]
            continue
        size = _size(candidate, category, record, sizes, layout, key)
        source = {"library": name, "layout": layout, "path": candidate.path, "category": category,
                  "name": candidate.name, "license": candidate.license, "attribution": candidate.attribution,
                  "non_commercial": bool(candidate.non_commercial), "sha256": record["sha256"]}
        extents = np.asarray(record["extents"], float)
        assets.append(LibraryAsset(f"{name}:{candidate.path}", category, size, candidate.symmetry, bool(record["look"]),
                                   source, root, candidate.up, candidate.front, budget,
                                   tuple(float(v) for v in extents / extents.max()), texture_folders(root, candidate),
                                   simplify))
        report.non_commercial += bool(candidate.non_commercial)
    report.entries = len(assets)
    return assets, report


def _target(candidate: Candidate, mapping: dict, categories: list):
    """The scenegen category of a candidate, or None (unmapped). Without a mapping a
    source category that is a scenegen category maps to itself."""
    names = candidate.extra.get("names") or (candidate.source_category,)
    if not mapping:
        return next((n for n in names if n in categories), None)
    return next((mapping[n] for n in names if n in mapping), None)


def _size(candidate: Candidate, category: str, record: dict, sizes: dict, layout: str, key: str) -> tuple:
    if candidate.size is not None:
        return tuple(candidate.size)
    if category in sizes:
        return sizes[category]
    if layout in METRIC and candidate.units:
        extent = record["extent"] * UNIT_METRES[candidate.units]
        return (extent, extent)
    if layout == "shapenet":
        raise ConfigError(f"{key}.sizes.{category} is not set: ShapeNet models are normalised, so each mapped "
                          f"category needs a size prior [min, max] metres (e.g. {key}.sizes.{category}=[0.8,1.1])")
    return tuple(DEFAULT_SIZE)


def assets_used(dictionary, entries) -> dict:
    """The library assets among entry names ``entries``: entry name -> its source
    (licence, attribution, ...), for the manifest's ``assets``."""
    found = getattr(dictionary, "library_assets", {}) or {}
    return {name: dict(found[name]) for name in sorted(set(entries)) if name in found}
