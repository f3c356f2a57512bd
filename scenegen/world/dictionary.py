"""The object dictionary: every ``cfg.objects`` entry and the shapes it can take.

An entry's geometry is one of: a primitive (``shape``), a mesh file (``mesh``), or
parts (fixed ``parts`` plus ``part_rules``). Part rules make one category take many
shapes: each rule slot contributes the parts of one of its styles, drawn by weight. A
*style* string names one choice per slot in config order, ``"back=slats,legs=splayed"``
(``""`` for an entry without part rules); :attr:`ObjectEntry.styles` lists them all (the
product of the slot sizes) and :meth:`ObjectEntry.variant` builds the shape of one, a
:class:`Variant`, on first use and then shares it.

Canonical frame (per variant): the variant's parts jointly scaled and translated so the
whole shape has largest bounding-box extent 1, base on z = 0 and is centred in x and y;
its front faces local +x. Scenes scale it to a size (metres) drawn from
``ObjectEntry.size``, the range of the largest extent, whatever the style.

Relative mesh paths are looked up in each folder of ``cfg.asset_paths`` in order, then
in the built-in ``assets/`` folder, and must stay inside the folder they are found in
(``..`` and symbolic links included); absolute paths are used as they are. A mesh file
may have at most ``cfg.meshes.max_faces`` triangles.

Meshes are shared (entries are memoised per process): treat them as read-only and
``copy()`` before transforming.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from .. import cache, resources
from ..config.mesh_frame import file_to_object
from ..config.schema import MAX_MESH_FACES
from ..errors import ConfigError, MeshError, choices
from ..lazy import ConvexHull, trimesh
from ..streams import cumulative, draw_index
from .appearance import FILE_LEVEL, FileAppearance, read_appearance, resolve_appearance, split_creases_keeping
from .libraries import library_assets
from .shapes import (
    compose_parts,
    load_mesh_file,
    normalize_parts,
    primitive,
    split_creases,
)

STYLE_SEPARATOR = ","  # between the slots of a style string
STYLE_ASSIGN = "="  # between a slot and its style


@dataclass(frozen=True)
class Texture:
    """A procedural texture: ``pattern`` (see ``config.TEXTURE_PATTERNS``), ``repeats``
    periods across an object's largest extent (per metre on floors and walls), and
    ``contrast`` in [0, 1]."""

    pattern: str
    repeats: float
    contrast: float


@dataclass(frozen=True, eq=False)
class Part:
    """A named part; ``mesh`` vertices (V, 3) are in the canonical frame (unitless), and
    its ``vertex_normals`` (V, 3) are those it is shaded with (see :mod:`scenegen.world.shapes`).

    ``label`` is the part class shared across styles (e.g. ``"leg"``); ``index`` its
    1-based position in its variant (the value of its pixels in the part image).
    Primitive and mesh entries have one part, ``"body"``.
    """

    name: str
    label: str
    index: int
    mesh: trimesh.Trimesh
    look: "PartLook | None" = None  # a look of its own, whatever the object's


@dataclass(frozen=True)
class PartLook:
    """What a part always wears, whatever colour and material the object draws: ``rgb``
    (3 linear floats in [0, 1]; the part is then untextured) and ``finish``
    (metallic, roughness); None keeps the object's."""

    rgb: tuple[float, float, float] | None = None
    finish: tuple[float, float] | None = None


@dataclass(frozen=True, eq=False)
class Variant:
    """One shape of an entry: the parts of one style per part slot, normalised jointly.

    Attributes:
        style: ``"slot=style,slot=style"`` in slot order; ``""`` for an entry without
            part rules.
        parts: the parts in order (fixed parts first, then each slot's style parts in
            slot order); ``parts[i].index == i + 1``.
        extents: (3,) canonical bounding-box extents; ``max(extents) == 1``.
    """

    style: str
    parts: tuple[Part, ...]
    extents: tuple[float, float, float]
    _mesh: trimesh.Trimesh | None = field(default=None, init=False, repr=False)
    _top: np.ndarray | None = field(default=None, init=False, repr=False)

    def mesh(self) -> trimesh.Trimesh:
        """All parts as one mesh in the canonical frame (built once, then shared)."""
        if self._mesh is None:
            meshes = [part.mesh for part in self.parts]
            # both keep the parts' vertex normals (see scenegen.world.shapes)
            merged = meshes[0].copy(include_cache=True) if len(meshes) == 1 else trimesh.util.concatenate(meshes)
            object.__setattr__(self, "_mesh", merged)  # a cache, not state: frozen otherwise
        return self._mesh

    @property
    def top_outline(self) -> np.ndarray:
        """(K, 2) counter-clockwise convex outline of the top face in the canonical frame:
        the hull of the vertices within 1e-6 of the top. Objects stand inside it."""
        if self._top is None:
            vertices = self.mesh().vertices
            top = vertices[vertices[:, 2] >= self.extents[2] - 1e-6][:, :2]
            outline = top[ConvexHull(top).vertices]  # counter-clockwise in 2-D
            object.__setattr__(self, "_top", outline)
        return self._top

    @property
    def top_height(self) -> float:
        """Canonical height of the object's top (max z; equals ``extents[2]``)."""
        return self.extents[2]


@dataclass(frozen=True)
class PartOutline:
    """What drawing needs of a :class:`Part` but its mesh: its ``name``, ``label``,
    ``index`` and ``look``."""

    name: str
    label: str
    index: int
    look: "PartLook | None" = None


@dataclass(frozen=True)
class VariantOutline:
    """What drawing needs of a :class:`Variant` but its meshes: ``style``, ``parts``
    (:class:`PartOutline`, in order) and ``extents``."""

    style: str
    parts: tuple[PartOutline, ...]
    extents: tuple[float, float, float]


@dataclass(frozen=True, eq=False)
class ObjectEntry:
    """One dictionary entry. Its shapes (variants) are built on first use.

    Attributes:
        name: key in ``cfg.objects``.
        category: category name; ``category_id`` is its 1-based id.
        source: ``"primitive"``, ``"parts"`` or ``"mesh"``.
        slots: ``((slot, ((style, weight), ...)), ...)`` part rules in config order;
            ``()`` without part rules.
        styles: every style string (one per variant), slot-major (the last slot varies
            fastest); ``("",)`` for an entry without part rules.
        size: (min, max) metres, range of the object's largest extent in a scene.
        colors, materials, textures: names of the allowed appearance levels.
        symmetry: order of rotational symmetry about z (0 continuous; 1, 2, 4, 8),
            shared by every variant.
        support: its flat top can hold other objects (in every variant).
        file_appearance: the mesh file's look (its per-vertex data follow the canonical
            mesh's vertices) when the entry wears it, else None; then ``colors``,
            ``materials`` and ``textures`` are ``("file",)``.
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
    _build: object = field(repr=False)  # style -> [(name, label, mesh, PartLook or None)] before normalising
    _variants: dict = field(default_factory=dict, init=False, repr=False)
    _slot_sums: tuple | None = field(default=None, init=False, repr=False)  # see sample_style
    file_appearance: FileAppearance | None = field(default=None, repr=False)
    # (3,) normalised extents known without building the shape (a library file's, from
    # its index), so that checking a grammar does not read every file of a library
    known_extents: tuple[float, float, float] | None = field(default=None, repr=False)
    # style -> (3,) extents of its shape, known without building it (kept by an earlier
    # process for the same config, mesh files and source: see ObjectDictionary.from_config)
    style_extents: dict = field(default_factory=dict, repr=False)
    # style -> its parts' PartOutline, known without building the shape (as style_extents)
    style_parts: dict = field(default_factory=dict, repr=False)
    # style -> (K, 2) read-only top outline of a support's shape, known without building
    # it (as style_extents): placing objects on a support needs no mesh library
    style_tops: dict = field(default_factory=dict, repr=False)

    def extents(self, style: str = "") -> tuple[float, float, float]:
        """(3,) extents of ``style``'s shape along x, y, z, largest 1 (unitless: times the
        entry's size gives metres); not building it where they are known."""
        return self.known_extents if self.known_extents is not None else self.shape_extents(style)

    def outline(self, style: str = "") -> VariantOutline:
        """``style``'s shape but its meshes (the renderer's graph needs no more), without
        building it where an earlier process of this config kept it (:attr:`style_parts`,
        :attr:`style_extents`).

        Raises:
            ConfigError: ``style`` is not one of :attr:`styles`.
        """
        style = style or self.styles[0]
        parts, extents = self.style_parts.get(style), self.style_extents.get(style)
        if parts is None or extents is None:
            variant = self.variant(style)
            parts = tuple(PartOutline(p.name, p.label, p.index, p.look) for p in variant.parts)
            extents = variant.extents
        return VariantOutline(style, parts, extents)

    def shape_extents(self, style: str = "") -> tuple[float, float, float]:
        """``self.variant(style).extents`` bit for bit, without building the shape where an
        earlier process of this config kept them (:attr:`style_extents`): what placing
        an object needs of its shape."""
        known = self.style_extents.get(style or self.styles[0])
        return known if known is not None else self.variant(style).extents

    def top_outline(self, style: str = "") -> np.ndarray:
        """``self.variant(style).top_outline`` bit for bit, without building the shape
        (nor loading trimesh and SciPy) where an earlier process of this config kept it
        (:attr:`style_tops`)."""
        known = self.style_tops.get(style or self.styles[0])
        return known if known is not None else self.variant(style).top_outline

    def variant(self, style: str = "") -> Variant:
        """The shape of ``style`` (``""``: the first style); built once, then shared.

        Raises:
            ConfigError: ``style`` is not one of :attr:`styles` (the message lists them).
        """
        style = style or self.styles[0]
        found = self._variants.get(style)
        if found is None:
            if style not in self.styles:
                raise ConfigError(
                    f"objects.{self.name} has no style {style!r}; valid: {choices(self.styles)}"
                )
            raw = self._build(style)  # (name, label, mesh, PartLook or None) per part
            normalised = normalize_parts([(name, mesh) for name, _, mesh, _ in raw])
            parts = tuple(
                Part(name, label, i + 1, mesh, look)
                for i, ((_, label, _, look), (name, mesh)) in enumerate(zip(raw, normalised))
            )
            low = np.min([p.mesh.bounds[0] for p in parts], axis=0)
            high = np.max([p.mesh.bounds[1] for p in parts], axis=0)
            found = Variant(style, parts, tuple(float(v) for v in high - low))
            self._variants[style] = found
        return found

    def style_probabilities(self) -> np.ndarray:
        """(len(styles),) float probability of each style, in :attr:`styles` order: the
        product of its slots' style weights, each normalised within its slot."""
        probabilities = np.ones(1)
        for _, styles in self.slots:
            weights = np.array([w for _, w in styles], dtype=float)
            probabilities = np.outer(probabilities, weights / weights.sum()).ravel()
        return probabilities

    def sample_style(self, rng: np.random.Generator) -> str:
        """One style string, each slot's style drawn by weight (one draw per slot)."""
        if not self.slots:
            return self.styles[0]
        if self._slot_sums is None:  # each slot's cumulative(weights / their sum)
            sums = []
            for _, styles in self.slots:
                weights = np.array([w for _, w in styles], dtype=float)
                sums.append(cumulative(weights / weights.sum()))
            object.__setattr__(self, "_slot_sums", tuple(sums))  # a cache: frozen otherwise
        chosen = []
        for (slot, styles), sums in zip(self.slots, self._slot_sums):
            pick = draw_index(rng, sums)  # rng.choice(len(styles), p=weights / weights.sum())
            chosen.append(f"{slot}{STYLE_ASSIGN}{styles[pick][0]}")
        return STYLE_SEPARATOR.join(chosen)

    @property
    def max_extents(self) -> np.ndarray:
        """(3,) the largest canonical extents over every variant (x, y, height); builds
        every variant."""
        return np.max([self.variant(style).extents for style in self.styles], axis=0)


def _search_folders(asset_paths) -> list[Path]:
    """The folders searched for a relative mesh path, in order: each of ``asset_paths``
    (made absolute against the working directory), then the built-in assets."""
    return [Path(folder).expanduser().absolute() for folder in asset_paths] + [
        resources.assets_dir()
    ]


def find_mesh_file(relative: str, asset_paths=()) -> Path:
    """Where the mesh file ``relative`` is: an absolute path as it is; a relative one in
    the first folder of ``asset_paths`` (then the built-in ``assets/``) that holds it,
    inside that folder.

    Raises:
        MeshError: a relative path that climbs out of its folder (``..``), one found in
            no folder (the message names every folder searched), or one whose file lies
            outside the folder it was found in (through a symbolic link).
    """
    path = Path(relative).expanduser()
    if path.is_absolute():
        return path
    if os.path.normpath(path).split(os.sep)[0] == os.pardir:
        raise MeshError(
            f"mesh path {str(relative)!r} climbs out of its asset folder ('..'); a relative mesh "
            f"path must stay inside a folder of asset_paths or scenegen's assets/ (or give an absolute path)"
        )
    folders = _search_folders(asset_paths)
    for folder in folders:
        if (folder / path).is_file():
            return _inside(folder, path, relative)
    raise MeshError(
        f"mesh file {str(relative)!r} does not exist in any asset folder; searched, in "
        f"order: {', '.join(repr(str(f)) for f in folders)} (add its folder to asset_paths)"
    )


def _inside(folder: Path, path: Path, relative: str) -> Path:
    """``folder / path`` if the file it resolves to (symbolic links followed) is inside
    ``folder`` (resolved too), else a MeshError naming both."""
    found, root = (folder / path).resolve(), folder.resolve()
    if not found.is_relative_to(root):
        raise MeshError(
            f"mesh path {str(relative)!r} found in asset folder {str(folder)!r} resolves to "
            f"{str(found)!r}, outside that folder (through a symbolic link); add the folder the "
            f"file is in to asset_paths, or give its absolute path"
        )
    return folder / path


def mesh_face_budget(cfg) -> int:
    """``cfg.meshes.max_faces``, or its default for a config built without the schema."""
    return int(_get(cfg.get("meshes", None) or {}, "max_faces", MAX_MESH_FACES))


def mesh_simplify(cfg) -> bool:
    """``cfg.meshes.simplify`` (False for a config built without the schema)."""
    return bool(_get(cfg.get("meshes", None) or {}, "simplify", False))


def _get(node, key: str, default=None):
    """``node.key``, or ``default`` when absent or null: works on schema-typed nodes and
    on plain ones (a config built with ``OmegaConf.create``, without the schema's
    defaults)."""
    value = node.get(key, None) if hasattr(node, "get") else getattr(node, key, None)
    return default if value is None else value


def _part_list(parts, tables: "Tables", where: str) -> list:
    """(name, label, part config, PartLook or None) of each part config."""
    return [(str(p.name), str(_get(p, "label") or p.name), p, _part_look(p, tables, f"{where}.{p.name}"))
            for p in parts]


@dataclass(frozen=True)
class Tables:
    """The config's colours (name -> (3,) linear RGB) and materials (name -> (metallic,
    roughness)): an entry without colours or materials takes every name."""

    colors: dict
    materials: dict


def _part_look(part, tables: Tables, where: str) -> "PartLook | None":
    """The PartLook of a part config's ``color`` and ``material`` names, or None.

    Raises:
        ConfigError: a name that is not in ``colors`` or ``materials`` (listing them).
    """
    color, material = _get(part, "color"), _get(part, "material")
    if color is None and material is None:
        return None
    if color is not None and str(color) not in tables.colors:
        raise ConfigError(f"{where}.color: unknown colour {str(color)!r}; valid: {choices(tables.colors)}")
    if material is not None and str(material) not in tables.materials:
        raise ConfigError(f"{where}.material: unknown material {str(material)!r}; "
                          f"valid: {choices(tables.materials)}")
    return PartLook(rgb=None if color is None else tables.colors[str(color)],
                    finish=None if material is None else tables.materials[str(material)])


def _check_name(name: str, what: str, key: str) -> None:
    if not name or STYLE_SEPARATOR in name or STYLE_ASSIGN in name:
        raise ConfigError(
            f"{key}: {what} name {name!r} must be non-empty and contain no "
            f"{STYLE_SEPARATOR!r} or {STYLE_ASSIGN!r}"
        )


def _build_entry(name: str, entry, category_ids: dict[str, int], asset_paths, max_faces: int,
                 tables: Tables, simplify: bool = False, known: dict | None = None) -> ObjectEntry:
    """The entry ``name`` of ``cfg.objects``. Its mesh file is read and its parts built
    here, unless ``known`` (its facts, :meth:`ObjectDictionary._facts`, from a load of the
    same config, files and source) says what the load would find (its size, the extents
    of its styles, and that it does not wear its file's look): then on the first use of
    a shape, since the checks they make passed in that load."""
    key = f"objects.{name}"
    for slot, options in entry.part_rules.items():
        _check_name(str(slot), "part slot", f"{key}.part_rules")
        for style in options:
            _check_name(str(style), "style", f"{key}.part_rules.{slot}")
    slots = tuple(
        (str(slot), tuple((str(style), float(_get(cfg, "weight", 1.0))) for style, cfg in styles.items()))
        for slot, styles in entry.part_rules.items()
    )
    size = (float(entry.size[0]), float(entry.size[1]))
    styles = [""]
    for slot, options in slots:
        styles = [
            f"{prefix}{STYLE_SEPARATOR if prefix else ''}{slot}{STYLE_ASSIGN}{style}"
            for prefix in styles
            for style, _ in options
        ]

    if _get(entry, "appearance") == "file" and not entry.mesh:
        raise ConfigError(f"{key}.appearance is 'file' but the entry has no mesh file; "
                          f"only mesh entries can wear their file's look")
    if entry.shape:
        source = "primitive"

        def shape() -> tuple:
            try:
                body = primitive(entry.shape, entry.params)
            except ConfigError as exc:
                raise ConfigError(f"{key}: {exc}") from None

            def build(style: str) -> list:
                return [("body", "body", body, None)]

            return build, size, None

    elif entry.mesh:
        source = "mesh"
        # the file's coordinates into the object frame's axes (see config.mesh_frame); a
        # proper rotation and a positive scale keep the faces' winding
        matrix, metres = file_to_object(entry, key)
        path = find_mesh_file(entry.mesh, asset_paths)
        digest = cache.file_digest(path) if known is not None else None  # the bytes the facts are of

        def shape() -> tuple:
            if digest is not None and cache.file_digest(path) != digest:
                raise MeshError(f"mesh file {str(path)!r} of {key} changed after its dictionary was loaded; "
                                f"load the config again")
            body = load_mesh_file(path, max_faces, simplify=simplify)
            if not np.array_equal(matrix, np.eye(4)):
                body.apply_transform(matrix)
            file_look = resolve_appearance(_get(entry, "appearance"), read_appearance(body), key)
            if file_look is None:
                body = split_creases(body)
            else:  # the file's texture coordinates and colours follow the split vertices
                body, file_look = split_creases_keeping(body, file_look)
            # the file's own size, in metres
            found = size if metres is None else (float(np.ptp(body.vertices, axis=0).max()),) * 2

            def build(style: str) -> list:
                return [("body", "body", body, None)]

            return build, found, file_look

    else:
        source = "parts"
        # every part of every style is built (and its params checked) once, at load (at
        # the first use of a shape when its facts are known); a variant only picks and
        # normalises them
        fixed = _part_list(entry.parts, tables, f"{key}.parts")
        groups = {(): fixed}
        for slot, options in entry.part_rules.items():
            for style, cfg in options.items():
                groups[(str(slot), str(style))] = _part_list(_get(cfg, "parts", []), tables,
                                                            f"{key}.part_rules.{slot}.{style}.parts")

        def shape() -> tuple:
            built_groups = {}
            for group, parts in groups.items():
                where = f"{key} style {STYLE_ASSIGN.join(group)!r}" if group else key
                try:
                    meshes = compose_parts([part for _, _, part, _ in parts])
                except ConfigError as exc:
                    raise ConfigError(f"{where}: {exc}") from None
                built_groups[group] = [(n, label, mesh, look) for (n, label, _, look), (_, mesh) in zip(parts, meshes)]

            def build(style: str) -> list:
                chosen = list(built_groups[()])
                for item in filter(None, style.split(STYLE_SEPARATOR)):
                    chosen.extend(built_groups[tuple(item.split(STYLE_ASSIGN, 1))])
                names = [n for n, _, _, _ in chosen]
                if len(set(names)) != len(names):
                    repeated = sorted({n for n in names if names.count(n) > 1})
                    raise ConfigError(f"{key} style {style!r} has parts with the same name: {repeated}")
                return chosen

            return build, size, None

    if known is not None and not known["file_look"] and tuple(known["styles"]) == tuple(styles):
        build, size, file_look = _on_first_use(shape), (float(known["size"][0]), float(known["size"][1])), None
        style_extents = {style: tuple(float(v) for v in extents) for style, extents in known["extents"].items()}
        style_parts = {style: tuple(_part_outline(part) for part in parts) for style, parts in known.get("parts", {}).items()}
        style_tops = {style: _kept_outline(outline) for style, outline in known.get("tops", {}).items()}
    else:
        (build, size, file_look), style_extents, style_parts, style_tops = shape(), {}, {}, {}

    return ObjectEntry(
        name=name,
        category=entry.category,
        category_id=category_ids[entry.category],
        source=source,
        slots=slots,
        styles=tuple(styles),
        size=size,
        colors=(FILE_LEVEL,) if file_look else tuple(entry.colors) or tuple(tables.colors),
        materials=(FILE_LEVEL,) if file_look else tuple(entry.materials) or tuple(tables.materials),
        textures=(FILE_LEVEL,) if file_look else tuple(entry.textures),
        symmetry=int(entry.symmetry),
        support=bool(entry.support),
        _build=build,
        file_appearance=file_look,
        style_extents=style_extents,
        style_parts=style_parts,
        style_tops=style_tops,
    )


def _kept_outline(kept: list) -> np.ndarray:
    """The (K, 2) read-only float64 outline of ``[[x, y], ...]`` (as
    :meth:`ObjectDictionary._facts` keeps a support's top: JSON keeps floats exactly)."""
    outline = np.array(kept, dtype=np.float64).reshape(-1, 2)
    outline.flags.writeable = False
    return outline


def _part_outline(kept: list) -> PartOutline:
    """The PartOutline of ``[name, label, index, rgb or None, finish or None]`` (as
    :meth:`ObjectDictionary._facts` keeps it)."""
    name, label, index, rgb, finish = kept
    look = None if rgb is None and finish is None else PartLook(
        rgb=None if rgb is None else tuple(float(v) for v in rgb),
        finish=None if finish is None else tuple(float(v) for v in finish))
    return PartOutline(str(name), str(label), int(index), look)


def _kept_part(part) -> list:
    """``[name, label, index, rgb or None, finish or None]`` of a Part (JSON)."""
    look = part.look
    rgb = None if look is None or look.rgb is None else [float(v) for v in look.rgb]
    finish = None if look is None or look.finish is None else [float(v) for v in look.finish]
    return [part.name, part.label, part.index, rgb, finish]


def _on_first_use(shape):
    """``build(style)`` of the ``(build, size, file look)`` that ``shape()`` makes, made
    on the first call (once, whichever thread calls first)."""
    lock = threading.Lock()
    made: list = []

    def build(style: str) -> list:
        with lock:
            if not made:
                made.append(shape()[0])
        return made[0](style)

    return build


def _library_entry(asset, category_ids: dict[str, int], cfg, tables: Tables) -> ObjectEntry:
    """The entry of a library asset: one body read from its file on first use, wearing the
    file's look when it has one, else any colour and material of the palette, plain."""
    textures = ("plain",) if "plain" in cfg.textures else (str(next(iter(cfg.textures))),)
    return ObjectEntry(
        name=asset.name, category=asset.category, category_id=category_ids[asset.category], source="mesh",
        slots=(), styles=("",), size=(float(asset.size[0]), float(asset.size[1])),
        colors=(FILE_LEVEL,) if asset.has_look else tuple(tables.colors),
        materials=(FILE_LEVEL,) if asset.has_look else tuple(tables.materials),
        textures=(FILE_LEVEL,) if asset.has_look else textures,
        symmetry=int(asset.symmetry), support=False, _build=asset.build, file_appearance=asset.appearance(),
        known_extents=asset.extents,
    )


class ObjectDictionary:
    """Every object entry of a config, in config order. Mesh files are read and part
    params checked when it is built (on the first use of a shape where
    :meth:`from_config` knows the entry's facts); each entry's variants are built on
    first use.

    Args:
        cfg: the validated ``DictConfig`` from :func:`scenegen.config.load.load_config`.

    Attributes:
        library_reports: one :class:`scenegen.world.libraries.LibraryReport` per library.
        library_assets: library entry name -> its source (licence, attribution, ...).
        asset_paths: ``cfg.asset_paths``, the folders searched (in order, before the
            built-in ``assets/``) for relative mesh paths.
        max_faces: ``cfg.meshes.max_faces``, the most triangles a mesh file may have.
        simplify: ``cfg.meshes.simplify``, whether a file over the budget is decimated.
        textures: texture name -> :class:`Texture`.

    Raises:
        MeshError: a mesh file is missing, broken, over ``meshes.max_faces`` or outside
            its asset folder (the message names the file, or for a missing relative path
            every folder searched).
        ConfigError: bad primitive or part params (the message names the entry and
            param), or a part slot or style name holding ``,`` or ``=``.
    """

    _memo: dict[str, "ObjectDictionary"] = {}  # see from_config

    # the key of what the dictionary is made of (scenegen.cache.content_key: its
    # sub-configs, the bytes of its mesh files, scenegen's source) when it has one
    # (from_config, no asset libraries): what is made of its shapes may be kept under it
    content_key: str | None = None

    def __init__(self, cfg, known: dict | None = None) -> None:
        self._categories = tuple(str(c) for c in cfg.categories)
        ids = {category: i + 1 for i, category in enumerate(self._categories)}
        asset_paths = tuple(str(p) for p in cfg.get("asset_paths", None) or ())
        self.asset_paths = asset_paths
        self.max_faces = mesh_face_budget(cfg)
        self.simplify = mesh_simplify(cfg)
        tables = Tables(
            colors={str(n): tuple(float(v) for v in rgb) for n, rgb in cfg.colors.items()},
            materials={str(n): (float(m.metallic), float(m.roughness)) for n, m in cfg.materials.items()},
        )
        known = known or {}  # entry name -> its facts (see from_config)
        self._entries = {
            str(name): _build_entry(str(name), entry, ids, asset_paths, self.max_faces, tables, self.simplify,
                                    known.get(str(name)))
            for name, entry in cfg.objects.items()
        }
        self.textures = {
            str(name): Texture(str(t.pattern), float(t.repeats), float(t.contrast))
            for name, t in cfg.textures.items()
        }
        # asset libraries (scenegen.world.libraries): their files join as entries, loaded on first use
        assets, self.library_reports = library_assets(cfg, self.max_faces, self.simplify)
        self.library_assets = {asset.name: asset.source for asset in assets}
        for asset in assets:
            if asset.name in self._entries:
                raise ConfigError(f"objects.{asset.name}: the name of a library entry; rename the object")
            self._entries[asset.name] = _library_entry(asset, ids, cfg, tables)

    @classmethod
    def from_config(cls, cfg) -> "ObjectDictionary":
        """Like the constructor, but memoised per process on the categories, the
        objects, textures, colours and materials sub-configs, ``asset_paths``,
        ``meshes.max_faces`` and ``meshes.simplify``, and the resolved path, size and mtime
        of each mesh file an entry names.

        Across processes, the facts of its entries (sizes, the extents of every style,
        whether an entry wears its file's look) are kept in ``cache.kind_dir("dictionary")``
        under the same sub-configs, the bytes of the mesh files and scenegen's source
        (:mod:`scenegen.cache`); with them, an entry reads its file and builds its parts
        on the first use of a shape rather than here (the same shapes: what is kept was
        made by a load that passed every check)."""
        payload = _memo_payload(cfg)
        key = _hash(payload)
        if key not in cls._memo:
            facts_key = _facts_key(payload)
            facts = cache.load_json(FACTS_CACHE, facts_key) if facts_key else None
            dictionary = cls(cfg, known=(facts or {}).get("entries"))
            dictionary.content_key = facts_key
            if facts_key and facts is None:
                found = dictionary._facts(cfg)
                if found is not None:
                    cache.store_json(FACTS_CACHE, facts_key, {"entries": found})
            cls._memo[key] = dictionary
        return cls._memo[key]

    def _facts(self, cfg) -> dict | None:
        """Entry name -> ``{"styles", "size", "file_look", "extents": {style: (3,)}, "parts":
        {style: [[name, label, index, rgb, finish], ...]}, "tops": {style: [[x, y], ...]}}``
        (tops of supports only) of
        every entry of ``cfg.objects`` (building every shape), or None when some shape
        cannot be built (its error is then raised where it is used, as without facts)."""
        facts = {}
        try:
            for name in cfg.objects:
                entry = self._entries[str(name)]
                facts[entry.name] = {
                    "styles": list(entry.styles),
                    "size": list(entry.size),
                    "file_look": entry.file_appearance is not None,
                    "extents": {style: list(entry.variant(style).extents) for style in entry.styles},
                    "parts": {style: [_kept_part(part) for part in entry.variant(style).parts] for style in entry.styles},
                    "tops": {style: entry.variant(style).top_outline.tolist() for style in entry.styles}
                    if entry.support else {},
                }
        except Exception:  # noqa: BLE001 - any failure: nothing kept, the error comes at the shape's use
            return None
        return facts

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


FACTS_CACHE = "dictionary"  # the cache folder (scenegen.cache.kind_dir) holding the facts of dictionaries


def _memo_key(cfg, data: dict | None = None) -> str:
    """The in-process memo key of ``cfg``'s dictionary (see :meth:`ObjectDictionary.from_config`);
    ``data``: the whole of ``cfg`` as plain containers, when the caller has it."""
    return _hash(_memo_payload(cfg, data))


def _hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _facts_key(payload: dict) -> str | None:
    """The cache key of the facts of the dictionary of :func:`_memo_payload` ``payload``:
    the payload with each mesh file's sha256 for its size and mtime, and scenegen's
    source; None where a file cannot be read, or where asset libraries join (their own
    index keeps what they know)."""
    if "libraries" in payload:
        return None
    files = {}
    for name, (path, size, _) in payload["files"].items():
        if size is None:
            return None
        try:
            files[name] = [path, cache.file_digest(path)]
        except OSError:
            return None
    return cache.content_key(FACTS_CACHE, {**payload, "files": files})


_SECTIONS: dict[int, tuple] = {}  # id of a live read-only config -> (weak reference to it, _sections of it)


def _sections(cfg, data: dict | None = None) -> dict:
    """The sub-configs a dictionary reads, as plain containers (``data``'s, when the
    caller has the whole config as plain containers); worked out once per read-only
    config object while it lives (a read-only config does not change)."""
    locked = isinstance(cfg, DictConfig) and OmegaConf.is_readonly(cfg)
    if locked:
        found = _SECTIONS.get(id(cfg))
        if found is not None and found[0]() is cfg:
            return found[1]
    names = ["categories", "objects", "textures", "colors", "materials"]  # colours, materials: the parts' own looks
    if cfg.get("libraries", None):  # their files are checked by their index, reused when unchanged
        names.append("libraries")
    sections = {name: data[name] if data is not None else OmegaConf.to_container(cfg[name], resolve=True)
                for name in names}
    if locked:
        ident = id(cfg)
        _SECTIONS[ident] = (weakref.ref(cfg, lambda _: _SECTIONS.pop(ident, None)), sections)
    return sections


def _memo_payload(cfg, data: dict | None = None) -> dict:
    """What a dictionary is made of: the sub-configs it reads (:func:`_sections`) and the
    resolved path, size and mtime of each mesh file an entry names (read on every call)."""
    sections = _sections(cfg, data)
    objects = sections["objects"]
    asset_paths = [str(p) for p in cfg.get("asset_paths", None) or ()]
    files = {}
    for name, entry in objects.items():
        if entry.get("mesh"):
            try:
                path = find_mesh_file(entry["mesh"], asset_paths)
                stat = path.stat()
                files[name] = [str(path), stat.st_size, stat.st_mtime_ns]
            except (MeshError, OSError):
                files[name] = [str(entry["mesh"]), None, None]
    return {
        **sections,
        "asset_paths": [str(f) for f in _search_folders(asset_paths)],
        "max_faces": mesh_face_budget(cfg),
        "simplify": mesh_simplify(cfg),
        "files": files,
    }
