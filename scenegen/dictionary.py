"""The object dictionary: every ``cfg.objects`` entry built into canonical-frame meshes.

Canonical frame: the object's parts jointly scaled and translated so the whole object
has largest bounding-box extent 1, base on z = 0 and is centred in x and y; its front
faces local +x. Scenes scale it to a size (metres) drawn from ``ObjectEntry.size``.

Meshes are shared (entries are memoised per process): treat them as read-only and
``copy()`` before transforming.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import trimesh
from omegaconf import OmegaConf

from . import resources
from .errors import ConfigError, choices
from .shapes import compose_parts, load_mesh_file, normalize_parts, primitive


@dataclass(frozen=True)
class Part:
    """A named part; ``mesh`` vertices (V, 3) are in the canonical frame (unitless)."""

    name: str
    mesh: trimesh.Trimesh


@dataclass(frozen=True, eq=False)
class ObjectEntry:
    """One dictionary entry, built.

    Attributes:
        name: key in ``cfg.objects``.
        category: category name; ``category_id`` is its 1-based id.
        source: ``"primitive"``, ``"parts"`` or ``"mesh"``.
        parts: named parts in the canonical frame; a primitive or mesh entry has one
            part named ``"body"``.
        size: (min, max) metres, range of the object's largest extent in a scene.
        colors, materials: names of the allowed colours / materials.
        symmetry: order of rotational symmetry about z (0 continuous; 1, 2, 4, 8).
        support: its flat top can hold other objects.
        extents: (3,) canonical bounding-box extents; ``max(extents) == 1``.
    """

    name: str
    category: str
    category_id: int
    source: str
    parts: tuple[Part, ...]
    size: tuple[float, float]
    colors: tuple[str, ...]
    materials: tuple[str, ...]
    symmetry: int
    support: bool
    extents: tuple[float, float, float]
    _mesh: trimesh.Trimesh | None = field(default=None, init=False, repr=False)

    def mesh(self) -> trimesh.Trimesh:
        """All parts as one mesh in the canonical frame (built once, then shared)."""
        if self._mesh is None:
            meshes = [part.mesh for part in self.parts]
            merged = meshes[0].copy() if len(meshes) == 1 else trimesh.util.concatenate(meshes)
            object.__setattr__(self, "_mesh", merged)  # a cache, not state: frozen otherwise
        return self._mesh

    @property
    def top_height(self) -> float:
        """Canonical height of the object's top (max z; equals ``extents[2]``)."""
        return self.extents[2]


def _mesh_path(relative: str) -> Path:
    path = Path(relative)
    return path if path.is_absolute() else resources.assets_dir() / path


def _build_entry(name: str, entry, category_ids: dict[str, int]) -> ObjectEntry:
    key = f"objects.{name}"
    if entry.shape:
        source = "primitive"
        try:
            raw = [("body", primitive(entry.shape, entry.params))]
        except ConfigError as exc:
            raise ConfigError(f"{key}: {exc}") from None
    elif entry.parts:
        source = "parts"
        try:
            raw = compose_parts(entry.parts)
        except ConfigError as exc:
            raise ConfigError(f"{key}.parts: {exc}") from None
    else:
        source = "mesh"
        raw = [("body", load_mesh_file(_mesh_path(entry.mesh)))]
    parts = tuple(Part(part_name, mesh) for part_name, mesh in normalize_parts(raw))
    low = [min(part.mesh.bounds[0][i] for part in parts) for i in range(3)]
    high = [max(part.mesh.bounds[1][i] for part in parts) for i in range(3)]
    return ObjectEntry(
        name=name,
        category=entry.category,
        category_id=category_ids[entry.category],
        source=source,
        parts=parts,
        size=(float(entry.size[0]), float(entry.size[1])),
        colors=tuple(entry.colors),
        materials=tuple(entry.materials),
        symmetry=int(entry.symmetry),
        support=bool(entry.support),
        extents=tuple(float(h - l) for l, h in zip(low, high)),
    )


class ObjectDictionary:
    """Every object entry of a config, built eagerly, in config order.

    Args:
        cfg: the validated ``DictConfig`` from :func:`scenegen.config.load_config`.

    Raises:
        MeshError: a mesh file is missing or broken (the message names the file).
        ConfigError: bad primitive params (the message names the entry and param).
    """

    _memo: dict[str, "ObjectDictionary"] = {}  # see from_config

    def __init__(self, cfg) -> None:
        self._categories = tuple(str(c) for c in cfg.categories)
        ids = {category: i + 1 for i, category in enumerate(self._categories)}
        self._entries = {
            str(name): _build_entry(str(name), entry, ids) for name, entry in cfg.objects.items()
        }

    @classmethod
    def from_config(cls, cfg) -> "ObjectDictionary":
        """Like the constructor, but memoised per process on the categories, the
        objects sub-config and the size and mtime of each mesh file it names."""
        key = _memo_key(cfg)
        if key not in cls._memo:
            cls._memo[key] = cls(cfg)
        return cls._memo[key]

    def __getitem__(self, name: str) -> ObjectEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise ConfigError(
                f"unknown object entry {name!r}; valid: {choices(self._entries)}"
            ) from None

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name) -> bool:
        return name in self._entries

    @property
    def names(self) -> tuple[str, ...]:
        """Entry names in config order."""
        return tuple(self._entries)

    @property
    def categories(self) -> tuple[str, ...]:
        """Category names in id order (id = position + 1)."""
        return self._categories

    def category_id(self, category: str) -> int:
        """1-based id of ``category``; ConfigError naming the valid ones if unknown."""
        if category not in self._categories:
            raise ConfigError(f"unknown category {category!r}; valid: {choices(self._categories)}")
        return self._categories.index(category) + 1

    def entries_of(self, category: str) -> tuple[ObjectEntry, ...]:
        """The entries of ``category`` in config order (possibly none)."""
        self.category_id(category)  # validates the name
        return tuple(e for e in self._entries.values() if e.category == category)


def _memo_key(cfg) -> str:
    objects = OmegaConf.to_container(cfg.objects, resolve=True)
    files = {}
    for name, entry in objects.items():
        if entry.get("mesh"):
            path = _mesh_path(entry["mesh"])
            try:
                stat = path.stat()
                files[name] = [str(path), stat.st_size, stat.st_mtime_ns]
            except OSError:
                files[name] = [str(path), None, None]
    payload = {
        "categories": OmegaConf.to_container(cfg.categories, resolve=True),
        "objects": objects,
        "files": files,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
