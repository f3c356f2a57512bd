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

import numpy as np
import trimesh
from omegaconf import OmegaConf

from . import resources
from .errors import ConfigError, choices
from .shapes import compose_parts, load_mesh_file, normalize_parts, primitive


@dataclass(frozen=True)
class Texture:
    """A procedural texture: ``pattern`` (see ``config.TEXTURE_PATTERNS``), ``repeats``
    periods across an object's largest extent (per metre on floors and walls), and
    ``contrast`` in [0, 1]."""

    pattern: str
    repeats: float
    contrast: float


@dataclass(frozen=True)
class Part:
    """A named part; ``mesh`` vertices (V, 3) are in the canonical frame (unitless).

    ``label`` is the part class shared across styles (e.g. ``"leg"``); ``index`` its
    1-based position in its variant (the value of its pixels in the part image).
    """

    name: str
    label: str
    index: int
    mesh: trimesh.Trimesh


@dataclass(frozen=True, eq=False)
class Variant:
    """One shape of an entry: the parts of one style per part slot, normalised jointly.

    Attributes:
        style: ``"slot=style,slot=style"`` in slot order; ``""`` for an entry without
            part rules.
        parts: the parts in order (fixed parts first, then each slot's style parts).
        extents: (3,) canonical bounding-box extents; ``max(extents) == 1``.
    """

    style: str
    parts: tuple[Part, ...]
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


@dataclass(frozen=True, eq=False)
class ObjectEntry:
    """One dictionary entry. Its shapes (variants) are built on first use.

    Attributes:
        name: key in ``cfg.objects``.
        category: category name; ``category_id`` is its 1-based id.
        source: ``"primitive"``, ``"parts"`` or ``"mesh"``.
        slots: ``((slot, ((style, weight), ...)), ...)`` part rules in config order.
        styles: every style string (one per variant), in slot-major order; ``("",)``
            for an entry without part rules.
        size: (min, max) metres, range of the object's largest extent in a scene.
        colors, materials, textures: names of the allowed appearance levels.
        symmetry: order of rotational symmetry about z (0 continuous; 1, 2, 4, 8).
        support: its flat top can hold other objects.
    """

    name: str
    category: str
    category_id: int
    source: str
    slots: tuple
    styles: tuple[str, ...]
    size: tuple[float, float]
    colors: tuple[str, ...]
    materials: tuple[str, ...]
    textures: tuple[str, ...]
    symmetry: int
    support: bool
    _build: object = field(repr=False)  # style -> [(name, label, mesh)] before normalising
    _variants: dict = field(default_factory=dict, init=False, repr=False)

    def variant(self, style: str = "") -> Variant:
        """The shape of ``style`` (``""``: the first style); built once, then shared.

        Raises:
            ConfigError: ``style`` is not one of :attr:`styles`.
        """
        style = style or self.styles[0]
        found = self._variants.get(style)
        if found is None:
            if style not in self.styles:
                raise ConfigError(
                    f"objects.{self.name} has no style {style!r}; valid: {choices(self.styles)}"
                )
            raw = self._build(style)
            labels = {name: label for name, label, _ in raw}
            normalised = normalize_parts([(name, mesh) for name, _, mesh in raw])
            parts = tuple(
                Part(name, labels[name], i + 1, mesh) for i, (name, mesh) in enumerate(normalised)
            )
            low = np.min([p.mesh.bounds[0] for p in parts], axis=0)
            high = np.max([p.mesh.bounds[1] for p in parts], axis=0)
            found = Variant(style, parts, tuple(float(v) for v in high - low))
            self._variants[style] = found
        return found

    def style_probabilities(self) -> np.ndarray:
        """(len(styles),) float probability of each style: the product of its slots'
        style weights, each normalised within its slot."""
        probabilities = np.ones(1)
        for _, styles in self.slots:
            weights = np.array([w for _, w in styles], dtype=float)
            probabilities = np.outer(probabilities, weights / weights.sum()).ravel()
        return probabilities

    def sample_style(self, rng: np.random.Generator) -> str:
        """One style string, each slot's style drawn by weight."""
        if not self.slots:
            return self.styles[0]
        chosen = []
        for slot, styles in self.slots:
            weights = np.array([w for _, w in styles], dtype=float)
            chosen.append(f"{slot}={styles[int(rng.choice(len(styles), p=weights / weights.sum()))][0]}")
        return ",".join(chosen)

    @property
    def max_extents(self) -> np.ndarray:
        """(3,) the largest canonical extents over every variant (x, y, height)."""
        return np.max([self.variant(style).extents for style in self.styles], axis=0)


def _mesh_path(relative: str) -> Path:
    path = Path(relative)
    return path if path.is_absolute() else resources.assets_dir() / path


def _part_list(parts) -> list:
    return [(str(p.name), str(p.label or p.name), p) for p in parts]


def _build_entry(name: str, entry, category_ids: dict[str, int]) -> ObjectEntry:
    key = f"objects.{name}"
    slots = tuple(
        (str(slot), tuple((str(style), float(cfg.weight)) for style, cfg in styles.items()))
        for slot, styles in entry.part_rules.items()
    )
    styles = [""]
    for slot, options in slots:
        styles = [f"{prefix},{slot}={style}".lstrip(",") for prefix in styles for style, _ in options]

    if entry.shape:
        source = "primitive"
        try:
            body = primitive(entry.shape, entry.params)
        except ConfigError as exc:
            raise ConfigError(f"{key}: {exc}") from None

        def build(style: str) -> list:
            return [("body", "body", body)]

    elif entry.mesh:
        source = "mesh"
        body = load_mesh_file(_mesh_path(entry.mesh))

        def build(style: str) -> list:
            return [("body", "body", body)]

    else:
        source = "parts"
        fixed = _part_list(entry.parts)
        style_parts = {
            (str(slot), str(style)): _part_list(cfg.parts)
            for slot, options in entry.part_rules.items()
            for style, cfg in options.items()
        }

        def build(style: str) -> list:
            chosen = list(fixed)
            for item in filter(None, style.split(",")):
                chosen.extend(style_parts[tuple(item.split("=", 1))])
            try:
                meshes = compose_parts([part for _, _, part in chosen])
            except ConfigError as exc:
                raise ConfigError(f"{key} style {style!r}: {exc}") from None
            return [(n, label, mesh) for (n, label, _), (_, mesh) in zip(chosen, meshes)]

    built = ObjectEntry(
        name=name,
        category=entry.category,
        category_id=category_ids[entry.category],
        source=source,
        slots=slots,
        styles=tuple(styles),
        size=(float(entry.size[0]), float(entry.size[1])),
        colors=tuple(entry.colors),
        materials=tuple(entry.materials),
        textures=tuple(entry.textures),
        symmetry=int(entry.symmetry),
        support=bool(entry.support),
        _build=build,
    )
    built.variant(built.styles[0])  # bad geometry fails at load, not mid-run
    return built


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
        self.textures = {
            str(name): Texture(str(t.pattern), float(t.repeats), float(t.contrast))
            for name, t in cfg.textures.items()
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
