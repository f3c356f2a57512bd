"""Typed configuration: Hydra structured-config schema and the one place configs are built.

The schema dataclasses below back the YAML tree in ``conf/``; OmegaConf rejects unknown
keys and wrong types against them. :func:`compose_config` composes the tree with Hydra's
compose API, so the CLI, Python scripts and tests all get exactly the same config, and
then checks what a schema cannot express (cross references, ranges).

Units: metres for lengths, degrees for angles (code converts to radians), colours as
linear RGB in [0, 1].
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import yaml
from omegaconf import MISSING, DictConfig, OmegaConf

from ..errors import ConfigError, choices, positive_int
from ..resources import conf_dir
from ..scene.factors import DIRECTIVE_FACTORS, FACTOR_NAMES, universe

PRIMITIVE_SHAPES = ("box", "cylinder", "sphere", "cone", "capsule", "torus")
MAX_IMAGE_SIDE = 8192  # below every GL driver's renderbuffer limit we target
MAX_PART_VARIANTS = 4096  # shapes one entry's part rules may make
MAX_OBJECTS = 64  # most objects a scene may have (placement.objects)
MAX_MESH_FACES = 200_000  # default meshes.max_faces


@dataclass
class PartConfig:
    """One named part of a part-composed object, in the object's canonical frame."""

    name: str = MISSING
    shape: str = MISSING  # one of PRIMITIVE_SHAPES
    params: Dict[str, float] = field(default_factory=dict)  # primitive parameters, metres
    position: List[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # part centre, metres
    rotation: List[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # xyz Euler, degrees
    label: Optional[str] = None  # part class shared across styles (e.g. "leg"); default: name


@dataclass
class PartStyleConfig:
    """One style of a part slot: the parts it adds, and its relative weight."""

    weight: float = 1.0
    parts: List[PartConfig] = field(default_factory=list)


@dataclass
class ObjectEntryConfig:
    """A dictionary entry: exactly one of ``shape`` (primitive), ``parts`` or ``mesh``.

    The geometry is normalised so its largest extent is 1 and its base sits on z = 0;
    ``size`` is then the range of the object's largest extent in metres. The object's
    front faces its local +x axis; ``symmetry`` is the order of its rotational symmetry
    about the up axis (1: none, 2: half turn, 4: quarter turn, 0: continuous).
    """

    category: str = MISSING
    shape: Optional[str] = None
    params: Dict[str, float] = field(default_factory=dict)
    parts: List[PartConfig] = field(default_factory=list)
    mesh: Optional[str] = None  # path relative to assets/
    # part rules: slot -> style -> parts; each slot contributes the parts of one style,
    # drawn by weight, added to ``parts`` (so one entry has many shapes)
    part_rules: Dict[str, Dict[str, PartStyleConfig]] = field(default_factory=dict)
    size: List[float] = field(default_factory=lambda: [0.3, 0.6])
    colors: List[str] = field(default_factory=list)
    materials: List[str] = field(default_factory=list)
    textures: List[str] = field(default_factory=lambda: ["plain"])
    symmetry: int = 1
    support: bool = False  # its flat top can hold other objects


@dataclass
class MeshesConfig:
    """Limits on the mesh files of dictionary entries (``objects.<name>.mesh``), checked
    from the file's header before it is read where its format allows."""

    # most triangles one mesh file may have (and at most three times as many vertices)
    max_faces: int = MAX_MESH_FACES


@dataclass
class MaterialConfig:
    metallic: float = 0.0  # [0, 1]
    roughness: float = 0.5  # [0, 1]


TEXTURE_PATTERNS = ("plain", "checker", "stripes", "noise")
FORMATS = ("coco", "webdataset", "hf", "bop")  # dataset formats (scenegen.dataset.formats)
STRATEGIES = ("random", "covering", "fill")  # how generate chooses its scenes


@dataclass
class TextureConfig:
    """A procedural texture (made with numpy), modulating the base colour."""

    pattern: str = "plain"  # one of TEXTURE_PATTERNS
    # pattern periods across an object's largest extent; per metre on floors and walls
    repeats: float = 4.0
    contrast: float = 0.5  # 0: flat colour; 1: the dark phase is black


@dataclass
class ContextConfig:
    """A setting for the objects: its look and its weights over categories."""

    weight: float = 1.0  # relative probability of choosing this context
    background: List[float] = field(default_factory=lambda: [0.8, 0.8, 0.8])
    floor_color: List[float] = field(default_factory=lambda: [0.6, 0.6, 0.6])
    floor_size: float = 12.0  # metres, side of the square floor
    walls: bool = False
    wall_color: List[float] = field(default_factory=lambda: [0.9, 0.9, 0.85])
    wall_height: float = 2.5  # metres
    floor_texture: str = "plain"  # a key of ``textures``
    wall_texture: str = "plain"  # a key of ``textures``
    ambient: float = 0.3  # ambient light level, [0, 1]
    default_weight: float = 1.0  # weight of a category not listed in ``weights``
    weights: Dict[str, float] = field(default_factory=dict)  # category -> weight (0 = never)


@dataclass
class PlacementConfig:
    objects: List[int] = field(default_factory=lambda: [2, 5])  # inclusive count range
    area: float = 0.8  # half side, metres, of the square where ground objects stand
    gap: float = 0.02  # minimum clearance between footprints, metres
    attempts_per_object: int = 40  # bounded retries to place one object
    attempts_per_scene: int = 10  # bounded retries of the whole layout


@dataclass
class CameraConfig:
    # multiples of the distance at which the objects' bounding sphere just fills the view
    distance: List[float] = field(default_factory=lambda: [1.0, 1.3])
    azimuth: List[float] = field(default_factory=lambda: [0.0, 360.0])  # degrees
    elevation: List[float] = field(default_factory=lambda: [10.0, 60.0])  # degrees above horizon
    fov: List[float] = field(default_factory=lambda: [40.0, 60.0])  # vertical field of view, degrees
    znear: float = 0.05  # metres
    zfar: float = 100.0  # metres


@dataclass
class LightsConfig:
    count: List[int] = field(default_factory=lambda: [1, 2])  # inclusive range
    intensity: List[float] = field(default_factory=lambda: [1.0, 2.5])  # directional, W/m^2 (pyrender)
    azimuth: List[float] = field(default_factory=lambda: [0.0, 360.0])  # degrees
    elevation: List[float] = field(default_factory=lambda: [25.0, 80.0])  # degrees
    tints: List[List[float]] = field(
        default_factory=lambda: [[1.0, 1.0, 1.0], [1.0, 0.93, 0.82], [0.85, 0.9, 1.0]]
    )
    # whether the lights cast shadows (objects onto each other, the floor and the walls)
    shadows: bool = True


@dataclass
class FactorsConfig:
    """The factors of the coverage universe (see scenegen.scene.factors): how continuous
    values are binned into levels, which factors are tracked, and which combinations
    are declared impossible."""

    # visible-fraction thresholds of the occlusion levels: >= none_min is "none",
    # >= partial_min is "partial", below is "heavy"
    occlusion_none_min: float = 0.95
    occlusion_partial_min: float = 0.5
    # camera elevation seen from the object, degrees: ascending upper bin edges, and one
    # level name per bin (len(edges) + 1)
    elevation_edges: List[float] = field(default_factory=lambda: [20.0, 40.0])
    elevation_levels: List[str] = field(default_factory=lambda: ["low", "mid", "high"])
    # total intensity of the scene's directional lights, W/m^2: upper bin edges and names
    light_edges: List[float] = field(default_factory=lambda: [2.0, 3.5])
    light_levels: List[str] = field(default_factory=lambda: ["dim", "medium", "bright"])
    # the factors coverage.json counts, in order; any of scenegen.scene.factors.FACTOR_NAMES
    tracked: List[str] = field(
        default_factory=lambda: ["category", "pose", "elevation", "context", "occlusion", "light",
                                 "color", "material", "texture"]
    )
    # combinations declared impossible besides those the dictionary and contexts imply,
    # each a partial assignment {factor: level}: not counted as missing, never asked for
    # by a design; any a random scene still shows is reported as unexpected
    exclude: List[Dict[str, str]] = field(default_factory=list)


@dataclass
class SplitConfig:
    """Held-out combinations: the train split never shows them, the test split shows
    each, and every (t-1)-sub-tuple of each still appears in train (see scenegen.design.splits)."""

    # t-tuples {factor: level} of design factors, all of the same size t
    held_out: List[Dict[str, str]] = field(default_factory=list)
    # or hold out this fraction of the feasible `strength`-tuples of design_factors,
    # drawn with the root seed (only tuples whose sub-tuples can still be trained on)
    fraction: float = 0.0
    strength: int = 2


@dataclass
class OutputConfig:
    depth_scale: float = 1.0  # depth PNG value * depth_scale = millimetres
    png_compress_level: int = 1  # zlib level 0..9 of the PNGs; at 1 the 8-bit colour layers are written by fpng (see README)
    shard_size: int = 1000  # scenes per WebDataset shard (format=webdataset)


@dataclass
class ProductionConfig:
    """One alternative of a grammar rule; exactly one of ``object``, ``relation`` or
    ``repeat`` says what it produces.

    object: a selector: a category, a set of ``grammar.sets``, ``any``, or a list of them.
    relation: a relation name (or a list, one chosen uniformly) placing ``other``
        relative to ``anchor``; both are items: a rule name or a selector.
    repeat: an item produced ``count`` [min, max] times, arranged ``free``, in a
        ``row`` (each beside the previous) or a ``cluster`` (each near the first).
    weight: a number, or a mapping context -> number with an optional ``default``.
    """

    weight: Any = 1.0
    object: Any = None
    relation: Any = None
    anchor: Any = None  # a rule name or a selector (a string or a list)
    other: Any = None
    repeat: Any = None
    count: List[int] = field(default_factory=lambda: [1, 1])
    arrange: str = "free"


@dataclass
class GrammarConfig:
    start: str = "scene"  # the rule a scene expands from
    max_depth: int = 8  # most nested rule expansions in one scene
    # probability that an object is drawn against its context's weights (from the
    # categories the context never shows); such objects and scenes are labelled
    out_of_context: float = 0.0
    near: float = 0.25  # metres: largest clearance between related objects (beside, near)
    sets: Dict[str, List[str]] = field(default_factory=dict)  # named category sets
    rules: Dict[str, List[ProductionConfig]] = MISSING


@dataclass
class DaskConfig:
    """executor=dask: the cluster that runs the scenes (install with pip install 'scenegen[dask]')."""

    # scheduler address (tcp://host:8786); null: a local cluster of `workers` processes
    address: Optional[str] = None


@dataclass
class ProbeConfig:
    """``scenegen probe``: search the scene space for the combinations of factor levels
    where a model does worst (see scenegen.probe)."""

    model: str = ""  # package.module:function (or file.py:function); `model=` on the CLI
    task: str = "classification"  # or "detection"
    strategy: str = "adaptive"  # "covering", "random" or "adaptive"
    budget: int = 300  # rendered scenes, all phases together
    strength: int = 2  # largest tuple size t reported (and covered by the covering sweep)
    factors: List[str] = field(default_factory=lambda: ["category", "pose", "context", "occlusion"])
    batch: int = 16  # images per model call
    # seconds one model call may take before the probe stops; the model runs on a worker
    # thread of the probe's. null: no limit, the model runs on the caller's thread
    timeout: Optional[float] = 300.0
    # classification input: "crop" (a square around the target's amodal box, `crop_margin`
    # of its longer side added on each side, resized to crop_size) or "image" (whole)
    input: str = "crop"
    # null: the model's `crop_margin` / `input_size` attribute, else 0.5 / 64 (an
    # ImageNet network wants input_size 224; see scenegen.probe.model)
    crop_margin: Optional[float] = None
    crop_size: Optional[int] = None
    # how an (N, C) score array is read: "probabilities" (rows renormalized), "logits"
    # (softmax) or "auto" (the model's `scores` attribute, else probabilities when every
    # score of a batch lies in [0, 1], logits otherwise)
    scores: str = "auto"
    iou: float = 0.5  # detection: IoU a detection needs to match the target
    score_threshold: float = 0.0  # detection: detections scoring below are ignored
    confidence: float = 0.95  # level of the accuracy intervals
    local_fraction: float = 0.2  # adaptive: share of the budget for the local search
    failures: int = 24  # failure thumbnails kept for the report
    first_index: int = 1_000_000  # scene indices start here (away from a dataset's 0..n-1)
    out: str = "scenegen_probe"  # report folder: probe.json, probe.html, trials.jsonl


@dataclass
class SceneGenConfig:
    out: str = "scenegen_out"  # dataset folder
    n: int = 20  # number of scenes
    seed: int = 0  # root seed
    workers: int = 1  # processes (or Dask workers of a local cluster); the data is the same for any value
    # work units: the scene indices 0..n-1 are grouped in `num_shards` contiguous shards
    # (0: one per SCENES_PER_SHARD scenes); a shard records its completion last
    num_shards: int = 0
    shard: int = -1  # run only this shard, 0..num_shards-1 (a cluster job array); -1: all
    executor: str = "local"  # "local" (processes on this machine) or "dask"
    dask: DaskConfig = field(default_factory=lambda: DaskConfig())
    width: int = 256  # pixels
    height: int = 256  # pixels
    progress: bool = True  # progress bar on stderr (only when it is a terminal)
    # folders searched for relative mesh paths, before the built-in assets/ folder
    asset_paths: List[str] = field(default_factory=list)
    meshes: MeshesConfig = field(default_factory=MeshesConfig)
    categories: List[str] = MISSING  # category names; category id = position + 1
    objects: Dict[str, ObjectEntryConfig] = MISSING  # dictionary entries by name
    colors: Dict[str, List[float]] = MISSING  # colour name -> RGB in [0, 1]
    materials: Dict[str, MaterialConfig] = MISSING  # material name -> PBR parameters
    textures: Dict[str, TextureConfig] = MISSING  # texture name -> pattern
    contexts: Dict[str, ContextConfig] = MISSING
    grammar: GrammarConfig = MISSING
    # wanted factor levels (category, pose, context, occlusion, material, color,
    # texture) for a target object; empty: no directive
    directive: Dict[str, str] = field(default_factory=dict)
    placement: PlacementConfig = field(default_factory=PlacementConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    lights: LightsConfig = field(default_factory=LightsConfig)
    factors: FactorsConfig = field(default_factory=FactorsConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    # formats written besides the per-scene files: one name or a list (format=[hf,bop])
    # from FORMATS; COCO (coco.json) is always written
    format: Any = "coco"
    # which scenes: "random" (n scenes drawn from the grammar) or "covering" (one
    # directed scene per row of a covering array of strength `strength` over
    # `design_factors`; n is then the number of rows)
    # "fill" tops up the existing dataset in `out` with directed scenes for the
    # t-tuples its labels miss, until all are covered or `budget` scenes were added
    strategy: str = "random"
    strength: int = 2
    budget: int = 100
    design_factors: List[str] = field(default_factory=lambda: ["category", "pose", "context", "occlusion"])
    probe: ProbeConfig = field(default_factory=ProbeConfig)


EXECUTORS = ("local", "dask")
SCENES_PER_SHARD = 100  # scenes per shard when num_shards is 0


def shard_count(cfg) -> int:
    """The number of shards of ``cfg``'s scenes: ``num_shards``, or one per
    ``SCENES_PER_SHARD`` scenes (at least one)."""
    if int(cfg.num_shards) > 0:
        return int(cfg.num_shards)
    return max(1, -(-int(cfg.n) // SCENES_PER_SHARD))


_SCHEMA_NAME = "scenegen_schema"


def _register_schema() -> None:
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=_SCHEMA_NAME, node=SceneGenConfig)


def compose_config(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose the config tree with Hydra and validate its values (the dictionary and the
    grammar are checked against each other by :func:`scenegen.world.compile.load_config`).

    Args:
        overrides: Hydra override strings, e.g. ``["n=10", "width=512"]``.
        config_name: top-level config file in ``conf/`` (without ``.yaml``).

    Returns:
        A read-only, fully resolved ``DictConfig`` typed by :class:`SceneGenConfig`.

    Raises:
        ConfigError: an unknown key, a wrong type, or an inconsistent value; the message
            names the key.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException


    _register_schema()
    GlobalHydra.instance().clear()
    try:
        # the directive is a free mapping of factor -> level: parsed here, checked later
        directive = [o for o in overrides if o.startswith("directive=")]
        overrides = [o for o in overrides if not o.startswith("directive=")]
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            cfg = compose(config_name=config_name, overrides=list(overrides))
        data = OmegaConf.to_container(cfg)
        if directive:
            data["directive"] = _parse_directive(directive[-1])
        # An appended key (``+foo=1``) slips past compose; merging into the schema
        # rejects anything the schema does not declare.
        cfg = OmegaConf.merge(OmegaConf.structured(SceneGenConfig), data)
        OmegaConf.resolve(cfg)
        missing = sorted(OmegaConf.missing_keys(cfg))
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        raise ConfigError(_clean_hydra_message(exc)) from None
    except yaml.YAMLError as exc:  # a config file found through hydra.searchpath
        raise ConfigError(_yaml_message(exc)) from None
    finally:
        GlobalHydra.instance().clear()
    if missing:
        raise ConfigError(f"config keys without a value: {', '.join(missing)}")
    _fill_nested_defaults(cfg)
    validate_config(cfg)
    OmegaConf.set_readonly(cfg, True)
    return cfg


def _parse_directive(override: str) -> dict:
    """``directive={category:chair,pose:back}`` -> ``{"category": "chair", "pose": "back"}``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    value = OverridesParser.create().parse_override(override).value()
    if value in ("", None):
        return {}
    if not isinstance(value, dict):
        raise ConfigError(
            f"directive must be a mapping such as directive={{category:chair,pose:back}}, got {value!r}"
        )
    return {str(k): str(v) for k, v in value.items()}


def _fill_nested_defaults(cfg: DictConfig) -> None:
    """Give structured configs nested in containers of containers their defaults.

    OmegaConf types but does not fill such nodes (``grammar.rules.<rule>[i]``,
    ``objects.<name>.part_rules.<slot>.<style>``), so they are merged into their schema.
    """
    for name, alternatives in cfg.grammar.rules.items():
        for i, alternative in enumerate(alternatives):
            alternatives[i] = OmegaConf.merge(OmegaConf.structured(ProductionConfig), alternative)
    for entry in cfg.objects.values():
        for slot, styles in entry.part_rules.items():
            for style in list(styles.keys()):
                styles[style] = OmegaConf.merge(OmegaConf.structured(PartStyleConfig), styles[style])


def _yaml_message(exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: the file, where, and what the parser expected."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return f"a config file is not valid YAML: {' '.join(str(exc).split())}"
    where = f"config file {mark.name!r} is not valid YAML at line {mark.line + 1}, column {mark.column + 1}"
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and start is not None:
        context = f"{context} started at line {start.line + 1}, column {start.column + 1}"
    return f"{where}: {exc.problem}" + (f" ({context})" if context else "")


def _clean_hydra_message(exc: BaseException) -> str:
    """One line from Hydra/OmegaConf's chained errors: what failed, and the key."""
    parts, full_key = [], None
    while exc is not None:
        for line in str(exc).strip().splitlines():
            line = line.strip()
            if line.startswith("full_key:"):
                full_key = full_key or line.split(":", 1)[1].strip()
            elif line and line != "None" and "$VALUE" not in line and not line.startswith(
                ("object_type", "reference_type", "To append", "invalid literal")
            ):
                if line not in parts:
                    parts.append(line)
        exc = exc.__cause__ or exc.__context__
    prefix = f"invalid config key {full_key!r}: " if full_key else "invalid config: "
    return prefix + " ".join(parts[:6])


def _range(cfg_value, key: str, low=None, high=None, integer=False) -> tuple:
    values = list(cfg_value)
    if len(values) != 2:
        raise ConfigError(f"{key} must be a [min, max] pair, got {values}")
    lo, hi = values
    if lo > hi:
        raise ConfigError(f"{key} must have min <= max, got [{lo}, {hi}]")
    if low is not None and lo < low:
        raise ConfigError(f"{key} must be >= {low}, got {lo}")
    if high is not None and hi > high:
        raise ConfigError(f"{key} must be <= {high}, got {hi}")
    return lo, hi


def _rgb(value, key: str) -> None:
    values = list(value)
    if len(values) != 3 or not all(0.0 <= float(v) <= 1.0 for v in values):
        raise ConfigError(f"{key} must be 3 numbers in [0, 1], got {values}")


def validate_config(cfg: DictConfig) -> None:
    """Check what the schema cannot: ranges, cross references between sections.

    Raises:
        ConfigError: naming the key and the valid choices.
    """
    for key in ("width", "height"):
        side = cfg[key]
        if not 16 <= side <= MAX_IMAGE_SIDE:
            raise ConfigError(f"{key} must be between 16 and {MAX_IMAGE_SIDE} pixels, got {side}")
    if cfg.n < 0:
        raise ConfigError(f"n must be >= 0, got {cfg.n}")
    if cfg.workers < 1:
        raise ConfigError(f"workers must be >= 1, got {cfg.workers}")
    if cfg.num_shards < 0:
        raise ConfigError(f"num_shards must be >= 0 (0: one shard per {SCENES_PER_SHARD} scenes), got {cfg.num_shards}")
    if cfg.shard != -1 and not 0 <= cfg.shard < shard_count(cfg):
        raise ConfigError(f"shard must be between 0 and {shard_count(cfg) - 1} (num_shards is {shard_count(cfg)}), "
                          f"or -1 for all shards; got {cfg.shard}")
    if cfg.executor not in EXECUTORS:
        raise ConfigError(f"executor {cfg.executor!r} is unknown; valid: {', '.join(map(repr, EXECUTORS))}")
    if cfg.seed < 0:
        raise ConfigError(f"seed must be >= 0, got {cfg.seed}")

    categories = list(cfg.categories)
    if not categories:
        raise ConfigError("categories must list at least one category")
    if len(set(categories)) != len(categories):
        raise ConfigError(f"categories has duplicates: {categories}")
    if len(categories) > 255:
        raise ConfigError("at most 255 categories are supported (semantic PNG is 8-bit)")

    for name, rgb in cfg.colors.items():
        _rgb(rgb, f"colors.{name}")
    for name, material in cfg.materials.items():
        for attr in ("metallic", "roughness"):
            if not 0.0 <= material[attr] <= 1.0:
                raise ConfigError(f"materials.{name}.{attr} must be in [0, 1], got {material[attr]}")

    for name, texture in cfg.textures.items():
        key = f"textures.{name}"
        if texture.pattern not in TEXTURE_PATTERNS:
            raise ConfigError(f"{key}.pattern is {texture.pattern!r}; valid: {choices(TEXTURE_PATTERNS)}")
        if not texture.repeats > 0:
            raise ConfigError(f"{key}.repeats must be > 0, got {texture.repeats}")
        if not 0.0 <= texture.contrast <= 1.0:
            raise ConfigError(f"{key}.contrast must be in [0, 1], got {texture.contrast}")

    if not cfg.objects:
        raise ConfigError("objects (the dictionary) is empty")
    positive_int(cfg.meshes.max_faces, "meshes.max_faces", "triangles a mesh file may have")
    used_categories = set()
    for name, entry in cfg.objects.items():
        _validate_entry(name, entry, cfg)
        used_categories.add(entry.category)

    if not cfg.contexts:
        raise ConfigError("contexts is empty: at least one context is needed")
    for name, context in cfg.contexts.items():
        key = f"contexts.{name}"
        if context.weight < 0:
            raise ConfigError(f"{key}.weight must be >= 0, got {context.weight}")
        for color_key in ("background", "floor_color", "wall_color"):
            _rgb(context[color_key], f"{key}.{color_key}")
        for texture_key in ("floor_texture", "wall_texture"):
            if context[texture_key] not in cfg.textures:
                raise ConfigError(
                    f"{key}.{texture_key} is {context[texture_key]!r}, not a known texture; "
                    f"valid: {choices(cfg.textures.keys())}"
                )
        for category, weight in context.weights.items():
            if category not in categories:
                raise ConfigError(
                    f"{key}.weights names unknown category {category!r}; valid: {choices(categories)}"
                )
            if weight < 0:
                raise ConfigError(f"{key}.weights.{category} must be >= 0, got {weight}")
        if not any(_context_weight(context, c) > 0 for c in used_categories):
            raise ConfigError(f"{key} gives weight 0 to every category in the dictionary")
    if sum(c.weight for c in cfg.contexts.values()) <= 0:
        raise ConfigError("every context has weight 0")

    placement = cfg.placement
    _range(placement.objects, "placement.objects", low=1, high=MAX_OBJECTS)
    if placement.area <= 0:
        raise ConfigError(f"placement.area must be > 0, got {placement.area}")
    if placement.attempts_per_object < 1 or placement.attempts_per_scene < 1:
        raise ConfigError("placement.attempts_per_object and attempts_per_scene must be >= 1")

    camera = cfg.camera
    _range(camera.distance, "camera.distance", low=1.0)
    _range(camera.elevation, "camera.elevation", low=1.0, high=89.0)
    _range(camera.azimuth, "camera.azimuth")
    _range(camera.fov, "camera.fov", low=5.0, high=150.0)
    if not 0 < camera.znear < camera.zfar:
        raise ConfigError("camera.znear and camera.zfar must satisfy 0 < znear < zfar")

    lights = cfg.lights
    _range(lights.count, "lights.count", low=0, high=8)
    _range(lights.intensity, "lights.intensity", low=0.0)
    _range(lights.elevation, "lights.elevation", low=0.0, high=90.0)
    _range(lights.azimuth, "lights.azimuth")
    if not lights.tints:
        raise ConfigError("lights.tints must list at least one colour")
    for i, tint in enumerate(lights.tints):
        _rgb(tint, f"lights.tints[{i}]")

    factors = cfg.factors
    if not 0.0 < factors.occlusion_partial_min < factors.occlusion_none_min <= 1.0:
        raise ConfigError(
            "factors must satisfy 0 < occlusion_partial_min < occlusion_none_min <= 1"
        )
    _bins(factors.elevation_edges, factors.elevation_levels, "factors.elevation", low=-90.0, high=90.0)
    _bins(factors.light_edges, factors.light_levels, "factors.light", low=0.0)
    _check_factor_declarations(cfg)

    if cfg.output.depth_scale <= 0:
        raise ConfigError(f"output.depth_scale must be > 0, got {cfg.output.depth_scale}")
    if not 0 <= cfg.output.png_compress_level <= 9:
        raise ConfigError("output.png_compress_level must be in 0..9")
    if cfg.strategy not in STRATEGIES:
        raise ConfigError(f"strategy is {cfg.strategy!r}; valid: {choices(STRATEGIES)}")
    unknown = [f for f in cfg.design_factors if f not in DIRECTIVE_FACTORS]
    if unknown or len(set(cfg.design_factors)) != len(cfg.design_factors) or not cfg.design_factors:
        raise ConfigError(
            f"design_factors must list distinct factors a directive can set, got {list(cfg.design_factors)}; "
            f"valid: {choices(DIRECTIVE_FACTORS)}"
        )
    if not 1 <= cfg.strength <= len(cfg.design_factors):
        raise ConfigError(f"strength must be between 1 and {len(cfg.design_factors)} (the number of design_factors), got {cfg.strength}")
    if not 0.0 <= cfg.split.fraction < 1.0:
        raise ConfigError(f"split.fraction must be in [0, 1), got {cfg.split.fraction}")
    if cfg.split.held_out and cfg.split.fraction > 0:
        raise ConfigError("give split.held_out or split.fraction, not both")
    if cfg.budget < 0:
        raise ConfigError(f"budget must be >= 0 scenes, got {cfg.budget}")
    if cfg.output.shard_size < 1:
        raise ConfigError(f"output.shard_size must be >= 1 scenes, got {cfg.output.shard_size}")
    output_formats(cfg)
    _check_probe(cfg.probe)


PROBE_TASKS = ("classification", "detection")
PROBE_STRATEGIES = ("covering", "random", "adaptive")
PROBE_INPUTS = ("crop", "image")
PROBE_SCORES = ("auto", "probabilities", "logits")


def _check_probe(probe) -> None:
    """The ``probe`` section: known choices, factors a directive can set, ranges."""
    for key, value, valid in (("task", probe.task, PROBE_TASKS), ("strategy", probe.strategy, PROBE_STRATEGIES),
                              ("input", probe.input, PROBE_INPUTS), ("scores", probe.scores, PROBE_SCORES)):
        if value not in valid:
            raise ConfigError(f"probe.{key} is {value!r}; valid: {choices(valid)}")
    factors = list(probe.factors)
    if not factors or len(set(factors)) != len(factors) or any(f not in DIRECTIVE_FACTORS for f in factors):
        raise ConfigError(f"probe.factors must list distinct factors a directive can set, got {factors}; "
                          f"valid: {choices(DIRECTIVE_FACTORS)}")
    if not 1 <= probe.strength <= len(factors):
        raise ConfigError(f"probe.strength must be between 1 and {len(factors)} (the number of probe.factors), "
                          f"got {probe.strength}")
    for key in ("budget", "batch", "crop_size"):
        if probe[key] is not None and probe[key] < 1:
            raise ConfigError(f"probe.{key} must be >= 1, got {probe[key]}")
    for key, low, high in (("crop_margin", 0.0, 10.0), ("iou", 0.0, 1.0), ("score_threshold", 0.0, 1.0),
                           ("local_fraction", 0.0, 0.9)):
        if probe[key] is not None and not low <= probe[key] <= high:
            raise ConfigError(f"probe.{key} must be in [{low}, {high}], got {probe[key]}")
    if not 0.5 <= probe.confidence < 1.0:
        raise ConfigError(f"probe.confidence must be in [0.5, 1), got {probe.confidence}")
    if probe.failures < 0 or probe.first_index < 0:
        raise ConfigError("probe.failures and probe.first_index must be >= 0")
    if probe.timeout is not None and not 0.0 < probe.timeout <= threading.TIMEOUT_MAX:
        raise ConfigError(f"probe.timeout must be a number of seconds > 0 (null: no limit), got {probe.timeout}")


def _bins(edges, names, key: str, low: float, high: float = math.inf) -> None:
    """Bin edges must ascend strictly inside [low, high] and name one level per bin."""
    edges, names = list(edges), list(names)
    if any(not low <= e <= high for e in edges) or any(a >= b for a, b in zip(edges, edges[1:])):
        raise ConfigError(f"{key}_edges must ascend strictly within [{low}, {high}], got {edges}")
    if len(names) != len(edges) + 1 or len(set(names)) != len(names):
        raise ConfigError(f"{key}_levels must name {len(edges) + 1} distinct levels (one per bin of "
                          f"{key}_edges {edges}), got {names}")


def _check_factor_declarations(cfg) -> None:
    """factors.tracked names known factors once each; factors.exclude gives known levels."""

    tracked = list(cfg.factors.tracked)
    bad = [f for f in tracked if f not in FACTOR_NAMES]
    if bad or not tracked or len(set(tracked)) != len(tracked):
        raise ConfigError(f"factors.tracked must list distinct factors, got {tracked}; valid: {choices(FACTOR_NAMES)}")
    levels, _ = universe(cfg)
    for i, item in enumerate(cfg.factors.exclude):
        if not item:
            raise ConfigError(f"factors.exclude[{i}] is empty; give {{factor: level, ...}}")
        for factor, level in item.items():
            if factor not in tracked:
                raise ConfigError(f"factors.exclude[{i}] names factor {factor!r}, which is not tracked; "
                                  f"valid: {choices(tracked)}")
            if level not in levels[factor]:
                raise ConfigError(f"factors.exclude[{i}]: {level!r} is not a level of {factor!r}; "
                                  f"valid: {choices(levels[factor])}")


def _context_weight(context, category: str) -> float:
    return float(context.weights.get(category, context.default_weight))


def _check_levels(levels, palette, key: str, what: str) -> None:
    """``levels`` is a non-empty list of names defined in ``palette``."""
    if not levels:
        raise ConfigError(f"{key} is empty; valid: {choices(palette.keys())}")
    for level in levels:
        if level not in palette:
            raise ConfigError(f"{key} has unknown {what} {level!r}; valid: {choices(palette.keys())}")


def _validate_entry(name: str, entry, cfg: DictConfig) -> None:
    key = f"objects.{name}"
    categories = list(cfg.categories)
    if entry.category not in categories:
        raise ConfigError(
            f"{key}.category is {entry.category!r}, which is not a known category; "
            f"valid: {choices(categories)}"
        )
    sources = [s for s in ("shape", "parts", "mesh") if entry[s]]
    if entry.part_rules and "parts" not in sources and not sources:
        sources = ["parts"]  # an entry may be made of part rules alone
    if len(sources) != 1:
        raise ConfigError(
            f"{key} must have exactly one of 'shape', 'parts' (with or without "
            f"'part_rules') or 'mesh'; it has {sources or 'none'}"
        )
    if entry.shape and entry.shape not in PRIMITIVE_SHAPES:
        raise ConfigError(f"{key}.shape is {entry.shape!r}; valid: {choices(PRIMITIVE_SHAPES)}")
    if entry.part_rules and (entry.shape or entry.mesh):
        raise ConfigError(f"{key}.part_rules needs a part-composed entry (no 'shape' or 'mesh')")
    fixed = set(_check_parts(entry.parts, f"{key}.parts"))
    variants = 1
    for slot, styles in entry.part_rules.items():
        slot_key = f"{key}.part_rules.{slot}"
        if not styles:
            raise ConfigError(f"{slot_key} has no styles")
        for style, style_cfg in styles.items():
            style_key = f"{slot_key}.{style}"
            if not style_cfg.weight > 0:
                raise ConfigError(f"{style_key}.weight must be > 0, got {style_cfg.weight}")
            if not style_cfg.parts:
                raise ConfigError(f"{style_key}.parts is empty")
            clash = fixed & set(_check_parts(style_cfg.parts, f"{style_key}.parts"))
            if clash:
                raise ConfigError(f"{style_key}.parts reuses part names of {key}.parts: {sorted(clash)}")
        variants *= len(styles)
    if variants > MAX_PART_VARIANTS:
        raise ConfigError(f"{key}.part_rules make {variants} shapes; at most {MAX_PART_VARIANTS} are supported")
    _check_levels(entry.textures, cfg.textures, f"{key}.textures", "texture")
    lo, _ = _range(entry.size, f"{key}.size")
    if lo <= 0:
        raise ConfigError(f"{key}.size must be > 0 metres, got {list(entry.size)}")
    _check_levels(entry.colors, cfg.colors, f"{key}.colors", "colour")
    _check_levels(entry.materials, cfg.materials, f"{key}.materials", "material")
    if entry.symmetry < 0 or (entry.symmetry > 0 and 8 % entry.symmetry != 0):
        raise ConfigError(
            f"{key}.symmetry is {entry.symmetry}; valid: 0 (continuous), 1, 2, 4, 8"
        )


def _check_parts(parts, key: str) -> List[str]:
    names = []
    for i, part in enumerate(parts):
        if part.shape not in PRIMITIVE_SHAPES:
            raise ConfigError(f"{key}[{i}].shape is {part.shape!r}; valid: {choices(PRIMITIVE_SHAPES)}")
        if part.name in names:
            raise ConfigError(f"{key} has two parts named {part.name!r}")
        names.append(part.name)
        if len(part.position) != 3 or len(part.rotation) != 3:
            raise ConfigError(f"{key}[{i}] position and rotation need 3 numbers each")
    return names


def config_from_dict(data: dict) -> DictConfig:
    """Rebuild a validated, read-only config from :func:`config_to_dict` output (used to
    hand a config to worker processes)."""
    cfg = OmegaConf.merge(OmegaConf.structured(SceneGenConfig), data)
    _fill_nested_defaults(cfg)
    validate_config(cfg)
    OmegaConf.set_readonly(cfg, True)
    return cfg


def output_formats(cfg: DictConfig) -> List[str]:
    """The formats ``cfg.format`` asks for, in :data:`FORMATS` order (``coco`` always).

    Raises:
        ConfigError: an unknown format name.
    """
    value = cfg.format
    if isinstance(value, str):
        names = [value]
    elif OmegaConf.is_list(value) or isinstance(value, (list, tuple)):
        names = [str(v) for v in value]
    else:
        raise ConfigError(f"format must be a format name or a list of them, got {value!r}; valid: {choices(FORMATS)}")
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise ConfigError(f"format {unknown[0]!r} is unknown; valid: {choices(FORMATS)} (several: format=[coco,bop])")
    return [f for f in FORMATS if f in names or f == "coco"]


def category_ids(cfg: DictConfig) -> Dict[str, int]:
    """Category name -> id; ids start at 1 in the order of ``cfg.categories`` (COCO)."""
    return {name: i + 1 for i, name in enumerate(cfg.categories)}


def config_to_dict(cfg: DictConfig) -> dict:
    """The resolved config as plain Python containers (for manifests and hashing)."""
    return OmegaConf.to_container(cfg, resolve=True)
