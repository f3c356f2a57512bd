"""The config's schema: the typed dataclasses behind the YAML tree in ``conf/``, each key
declared with its default, one line of help and the values it may take.

A leaf: it imports nothing of scenegen, so any module can read the schema and its
constants. OmegaConf checks a config's keys and types against these classes;
:func:`scenegen.config.validate.check_fields` checks the rules declared with each key;
``scenegen generate --help`` lists the keys from here (:mod:`scenegen.config.keys`).

Every field is made by :func:`setting`. Its rules (in ``field.metadata``):

- ``choices``: the valid values (a tuple), or one of :data:`VOCABULARIES` (the factor
  names of :mod:`scenegen.scene.factors`); for a list, of each item.
- ``ge``, ``gt``, ``le``, ``lt``: bounds of a number (of each end of a ``pair``, of each
  value with ``each``); ``None`` passes (an optional key left at null).
- ``pair``: a ``[min, max]`` list with min <= max. ``rgb``: 3 numbers in [0, 1].
- ``each``: the rules apply to each value of the list or mapping, not to the whole.
- ``nonempty``, ``distinct``, ``max_items``: of a list or mapping.
- ``unit``: the word after a bound, in messages and help ("pixels").
- ``entry``: what one entry of a mapping is called ("context"), for messages such as
  ``unknown context 'rom'``.
- ``message``: a message of the key's own for a broken rule (``{key}``, ``{value}``).

Units: metres for lengths, degrees for angles (code converts to radians), colours as
linear RGB in [0, 1].
"""

from __future__ import annotations

import copy
import threading
from dataclasses import MISSING as _NO_DEFAULT
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from omegaconf import MISSING

PRIMITIVE_SHAPES = ("box", "cylinder", "sphere", "cone", "capsule", "torus", "vessel")
TEXTURE_PATTERNS = ("plain", "checker", "stripes", "noise")
FORMATS = ("coco", "webdataset", "hf", "bop")  # dataset formats (scenegen.dataset.formats)
STRATEGIES = ("random", "covering", "fill")  # how generate chooses its scenes
EXECUTORS = ("local", "dask")
PROBE_TASKS = ("classification", "detection")
PROBE_STRATEGIES = ("covering", "random", "adaptive")
PROBE_INPUTS = ("crop", "image")
PROBE_SCORES = ("auto", "probabilities", "logits")
REST_WEIGHTINGS = ("uniform", "probability")  # rest.weighting
RENDER_ENGINES = ("raster", "pathtraced")  # render.engine (scenegen.render.engines)
REST_LEVELS = ("upright", "upside-down", "on-front", "on-back", "on-side", "tilted")  # scenegen.world.rest.LEVELS
SYMMETRIES = (0, 1, 2, 4, 8)  # orders of rotational symmetry about the up axis (0: continuous)
MESH_AXES = ("z", "-z", "y", "-y", "x", "-x")  # a mesh file's up and front axes (objects.<name>.up, .front)
MESH_UNITS = ("m", "cm", "mm")  # a mesh file's length unit (objects.<name>.units)
LIBRARY_LAYOUTS = ("generic", "gso", "shapenet", "objaverse")
# the material classes of texture sets (scenegen.world.texture_sets), surfaces.classes' values
MATERIAL_CLASSES = ("wood", "metal", "plastic", "ceramic", "fabric", "paper", "rubber", "stone", "glass")  # libraries.<name>.layout (scenegen.world.libraries)
# choices named rather than listed: the factor names of scenegen.scene.factors
# (FACTOR_NAMES, DIRECTIVE_FACTORS), resolved where the rules are checked
VOCABULARIES = ("factors", "directive factors")
# the config groups of conf/, a file each: group -> (default file, what it holds, the
# top-level keys its files set)
CONFIG_GROUPS = {
    "dictionary": ("builtin", "object dictionary", ("categories", "objects", "colors", "materials", "textures")),
    "contexts": ("builtin", "the contexts (settings) of the scenes", ("contexts",)),
    "grammar": ("builtin", "placement grammar", ("grammar",)),
    "preset": ("flat", "the look: flat (the lights on plain colours, fastest) or realistic (environment maps, "
                       "texture sets, ambient occlusion, tone mapping, camera effects)", ()),
}

MAX_IMAGE_SIDE = 8192  # below every GL driver's renderbuffer limit we target
MAX_PART_VARIANTS = 4096  # shapes one entry's part rules may make
MAX_OBJECTS = 64  # most objects a scene may have (placement.objects)
MAX_MESH_FACES = 200_000  # default meshes.max_faces
MAX_CATEGORIES = 255  # the semantic PNG is 8-bit
SCENES_PER_SHARD = 100  # scenes per shard when num_shards is 0

RULES = ("choices", "ge", "gt", "le", "lt", "pair", "rgb", "each", "nonempty", "distinct", "max_items",
         "unit", "entry", "message")


def setting(default: Any = MISSING, help: str = "", **rules: Any):
    """A schema field: its default (a list or dict is copied for each config), one line
    of ``help`` and its rules (see the module docstring)."""
    unknown = sorted(set(rules) - set(RULES))
    if unknown:
        raise TypeError(f"unknown rules {unknown}; valid: {RULES}")
    if isinstance(rules.get("choices"), str) and rules["choices"] not in VOCABULARIES:
        raise TypeError(f"choices {rules['choices']!r} is not one of {VOCABULARIES}")
    metadata = {"help": help, **rules}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    if isinstance(default, type):  # a nested section: its dataclass
        return field(default_factory=default, metadata=metadata)
    return field(default=default, metadata=metadata)


def field_default(schema_field) -> Any:
    """A dataclass field's default value (``MISSING`` when it has none)."""
    if schema_field.default is not _NO_DEFAULT:
        return schema_field.default
    if schema_field.default_factory is not _NO_DEFAULT:
        return schema_field.default_factory()
    return MISSING


@dataclass
class PartConfig:
    """One named part of a part-composed object, in the object's canonical frame."""

    name: str = setting(MISSING, "part name, unique within its object")
    shape: str = setting(MISSING, "primitive shape", choices=PRIMITIVE_SHAPES)
    params: Dict[str, float] = setting({}, "primitive parameters, metres")
    position: List[float] = setting([0.0, 0.0, 0.0], "part centre [x, y, z], metres")
    rotation: List[float] = setting([0.0, 0.0, 0.0], "xyz Euler angles, degrees")
    label: Optional[str] = setting(None, "part class shared across styles (e.g. leg); null: the name")
    color: Optional[str] = setting(None, "a colour of `colors` the part always wears, untextured; null: the object's")
    material: Optional[str] = setting(None, "a material of `materials` the part always has; null: the object's")


@dataclass
class PartStyleConfig:
    """One style of a part slot: the parts it adds, and its relative weight."""

    weight: float = setting(1.0, "relative weight of the style")
    parts: List[PartConfig] = setting([], "the parts the style adds")


@dataclass
class ObjectEntryConfig:
    """A dictionary entry: exactly one of ``shape`` (primitive), ``parts`` or ``mesh``.

    The geometry is normalised so its largest extent is 1 and its base sits on z = 0;
    ``size`` is then the range of the object's largest extent in metres. The object's
    front faces its local +x axis; ``symmetry`` is the order of its rotational symmetry
    about the up axis (1: none, 2: half turn, 4: quarter turn, 0: continuous).
    """

    category: str = setting(MISSING, "its category, one of `categories`")
    shape: Optional[str] = setting(None, "a primitive shape", choices=PRIMITIVE_SHAPES)
    params: Dict[str, float] = setting({}, "the primitive's parameters, metres")
    parts: List[PartConfig] = setting([], "named primitive parts")
    mesh: Optional[str] = setting(None, "mesh file, relative to asset_paths or assets/")
    appearance: Optional[str] = setting(
        None, "a mesh file's look: file (its material, textures, vertex colours) or dictionary (colors, "
        "materials, textures); unset: file when the file carries one", choices=("file", "dictionary"))
    # mesh files only: how the file's coordinates map into the object frame (see
    # scenegen.config.mesh_frame): `transform` (or `rotation` + `translation`) first, then
    # the `up` axis turned to +z and `front` to +x, then `units` (null: scaled by `size`)
    up: Optional[str] = setting(None, "the mesh file's up axis (null: y for .glb/.gltf, z otherwise)",
                                choices=MESH_AXES)
    front: Optional[str] = setting(None, "the mesh file's front axis, perpendicular to up (null: x)",
                                   choices=MESH_AXES)
    transform: Optional[List[Any]] = setting(
        None, "4x4 matrix applied to the mesh file's coordinates first (rotation and uniform scale)")
    rotation: Optional[List[float]] = setting(None, "instead of transform: xyz Euler angles applied first",
                                              unit="degrees")
    translation: Optional[List[float]] = setting(None, "instead of transform: [x, y, z] added after `rotation`, "
                                                 "in the file's units")
    units: Optional[str] = setting(None, "the mesh file's length unit: the object keeps its size "
                                   "(null: scaled to `size`)", choices=MESH_UNITS)
    # part rules: slot -> style -> parts; each slot contributes the parts of one style,
    # drawn by weight, added to ``parts`` (so one entry has many shapes)
    part_rules: Dict[str, Dict[str, PartStyleConfig]] = setting(
        {}, "slot -> style -> parts: each slot adds the parts of one style, drawn by weight", entry="slot")
    size: List[float] = setting([0.3, 0.6], "range of its largest extent", pair=True, gt=0, unit="metres")
    colors: List[str] = setting([], "its colours, names in `colors` (empty: every colour)")
    materials: List[str] = setting([], "its materials, names in `materials` (empty: every material)")
    textures: List[str] = setting(["plain"], "its textures, names in `textures`")
    symmetry: int = setting(1, "order of rotational symmetry about up (0: continuous)", choices=SYMMETRIES)
    support: bool = setting(False, "its flat top can hold other objects")


@dataclass
class MeshesConfig:
    """Limits on the mesh files of dictionary entries (``objects.<name>.mesh``), checked
    from the file's header before it is read where its format allows."""

    max_faces: int = setting(MAX_MESH_FACES, "most triangles a mesh file may have (and 3x as many vertices)",
                             ge=1, unit="triangles",
                             message="{key} must be a positive integer (triangles a mesh file may have), got {value!r}")
    simplify: bool = setting(False, "decimate a mesh file over max_faces (up to 20x) to max_faces instead of refusing "
                                    "it (pip install 'scenegen[simplify]'); not files with texture coordinates or colours")


@dataclass
class LibraryConfig:
    """An asset library: a folder of mesh files in one of :data:`LIBRARY_LAYOUTS`, indexed
    once (see :mod:`scenegen.world.libraries`); its files become dictionary entries."""

    path: str = setting(MISSING, "the library's folder")
    layout: str = setting("generic", "how the folder is laid out", choices=LIBRARY_LAYOUTS)
    categories: Dict[str, str] = setting({}, "source category -> scenegen category (empty: the same names)",
                                         entry="source category")
    sizes: Dict[str, List[float]] = setting({}, "scenegen category -> [min, max] largest extent (size prior)",
                                            each=True, pair=True, gt=0, unit="metres", entry="category")
    annotations: Optional[str] = setting(None, "objaverse: JSON file uid -> {category, license, author, name}")
    max_faces: Optional[int] = setting(None, "most triangles per file; larger ones are skipped "
                                       "(null: meshes.max_faces)", ge=1, unit="triangles")


@dataclass
class MaterialConfig:
    metallic: float = setting(0.0, "PBR metallic", ge=0, le=1)
    roughness: float = setting(0.5, "PBR roughness", ge=0, le=1)


@dataclass
class TextureConfig:
    """A procedural texture (made with numpy), modulating the base colour."""

    pattern: str = setting("plain", "procedural pattern", choices=TEXTURE_PATTERNS)
    # pattern periods across an object's largest extent; per metre on floors and walls
    repeats: float = setting(4.0, "periods across an object (per metre on floors and walls)", gt=0)
    contrast: float = setting(0.5, "0: flat colour; 1: the dark phase is black", ge=0, le=1)


@dataclass
class ContextConfig:
    """A setting for the objects: its look and its weights over categories."""

    weight: float = setting(1.0, "relative probability of choosing this context", ge=0)
    background: List[float] = setting([0.8, 0.8, 0.8], "background colour, RGB", rgb=True)
    floor_color: List[float] = setting([0.6, 0.6, 0.6], "floor colour, RGB", rgb=True)
    floor_size: float = setting(12.0, "side of the square floor", gt=0, unit="metres")
    walls: bool = setting(False, "a room's walls around the floor")
    wall_color: List[float] = setting([0.9, 0.9, 0.85], "wall colour, RGB", rgb=True)
    wall_height: float = setting(2.5, "wall height", gt=0, unit="metres")
    floor_texture: str = setting("plain", "floor texture, a name in `textures`")
    wall_texture: str = setting("plain", "wall texture, a name in `textures`")
    ambient: float = setting(0.3, "ambient light level", ge=0, le=1)
    default_weight: float = setting(1.0, "weight of a category not listed in `weights`", ge=0)
    weights: Dict[str, float] = setting({}, "category -> weight (0: never here)", each=True, ge=0)


@dataclass
class PlacementConfig:
    objects: List[int] = setting([2, 5], "objects per scene (inclusive range)", pair=True, ge=1, le=MAX_OBJECTS)
    area: float = setting(0.8, "half side of the square where ground objects stand", gt=0, unit="metres")
    gap: float = setting(0.02, "least clearance between footprints", unit="metres")
    attempts_per_object: int = setting(40, "bounded retries to place one object", ge=1)
    attempts_per_scene: int = setting(10, "bounded retries of the whole layout", ge=1)


FRAMING_OBJECTS = ("target", "all")  # camera.framing.objects


@dataclass
class FramingConfig:
    """Object-centric framing (:meth:`scenegen.world.sampler.Sampler._fit_camera`): the
    camera comes nearer (and, when the near plane stops it, narrows its field of view
    within ``camera.fov``) until the target's projected box, clipped to the image, is at
    least this large; the drawn azimuth and elevation are kept. Both 0: off."""

    target_fraction: float = setting(0.0, "least fraction of the image area the target's box covers (0: off)",
                                     ge=0, le=1,
                                     message="{key} must be a fraction in (0, 1] of the image area (0: off), "
                                             "got {value!r}")
    min_pixels: int = setting(0, "least side of the target's box, below the image size (0: off)", ge=0,
                              unit="pixels",
                              message="{key} must be a number of pixels >= 1 and below the image size "
                                      "(0: off), got {value!r}")
    objects: str = setting("target", "target: the directive's target (else the first object), framed; "
                           "all: every object, as far as all stay in view", choices=FRAMING_OBJECTS)


@dataclass
class EffectsConfig:
    """A camera-effects profile (``camera.effects.<name>``): the range each effect's
    strength is drawn from per scene; [0, 0] (6500 for the temperature) leaves it off."""

    weight: float = setting(1.0, "relative probability of drawing this profile", ge=0)
    noise: List[float] = setting([0.0, 0.0], "range of the sensor noise's standard deviation at mid-grey, "
                                             "linear [0, 1] units", pair=True, ge=0, le=0.5)
    temperature: List[float] = setting([6500.0, 6500.0], "range of the colour temperature the white balance "
                                                         "tints the image to (6500: neutral)", pair=True,
                                       ge=1700, le=15000, unit="kelvin")
    jpeg_quality: List[int] = setting([0, 0], "range of the JPEG quality 1..100 (0: no compression)",
                                      pair=True, ge=0, le=100)
    aperture: List[float] = setting([0.0, 0.0], "range of the lens aperture's diameter (0: all in focus); "
                                                "focused on the camera's target", pair=True, ge=0, le=0.2,
                                    unit="metres")
    motion_blur: List[float] = setting([0.0, 0.0], "range of the motion blur's length", pair=True, ge=0, le=64,
                                       unit="pixels")
    vignetting: List[float] = setting([0.0, 0.0], "range of the light lost at the image corners (fraction)",
                                      pair=True, ge=0, lt=1)


@dataclass
class CameraConfig:
    # multiples of the distance at which the objects' bounding sphere just fills the view
    distance: List[float] = setting([1.0, 1.3], "range, in multiples of the distance that just fits the objects",
                                    pair=True, ge=1)
    azimuth: List[float] = setting([0.0, 360.0], "range, degrees", pair=True)
    elevation: List[float] = setting([10.0, 60.0], "range above the horizon, degrees", pair=True, ge=1, le=89)
    fov: List[float] = setting([40.0, 60.0], "range of the vertical field of view, degrees", pair=True, ge=5, le=150)
    znear: float = setting(0.05, "near clipping plane (0 < znear < zfar)", gt=0, unit="metres")
    zfar: float = setting(100.0, "far clipping plane", unit="metres")
    framing: FramingConfig = setting(FramingConfig, "object-centric framing: least size of the target's box")
    effects: Dict[str, EffectsConfig] = setting({}, "camera-effects profiles, one drawn per scene by weight "
                                                    "(empty: no effects)", entry="effects profile")


@dataclass
class LightsConfig:
    count: List[int] = setting([1, 2], "directional lights per scene (inclusive range)", pair=True, ge=0, le=8)
    intensity: List[float] = setting([1.0, 2.5], "range of each light's intensity, W/m^2 (pyrender)", pair=True, ge=0)
    azimuth: List[float] = setting([0.0, 360.0], "range, degrees", pair=True)
    elevation: List[float] = setting([25.0, 80.0], "range, degrees", pair=True, ge=0, le=90)
    tints: List[List[float]] = setting([[1.0, 1.0, 1.0], [1.0, 0.93, 0.82], [0.85, 0.9, 1.0]],
                                       "light colours (RGB), one drawn per light", nonempty=True, each=True, rgb=True,
                                       entry="colour")
    shadows: bool = setting(True, "the lights cast shadows (objects, floor, walls)")


ENVIRONMENT_CHOICES = ("none", "random")  # lighting.environment besides a map's name


@dataclass
class BackgroundConfig:
    """Photographs behind the scenes (:mod:`scenegen.world.backgrounds`)."""

    images: str = setting("", "a folder of .jpg/.png/.webp photographs (+ meta.yaml levels and weights), one drawn "
                              "per scene by weight and seen where no floor, wall or object is; empty: none")
    weight: float = setting(1.0, "the chance that a scene has a photograph behind it (else its context's or "
                                 "environment's background)", ge=0, le=1)


@dataclass
class SurfacesConfig:
    """PBR texture sets (base-colour detail, roughness, metallic, normal map) on objects,
    floors and walls, by material class (:mod:`scenegen.world.texture_sets`)."""

    sets: str = setting("none", "none; builtin (17 procedural sets); or a folder of <class>/<set>/ image folders "
                                "(ambientCG, Poly Haven)")
    classes: Dict[str, str] = setting({}, "entry or category -> material class; a plain-textured object of it wears "
                                          "a set of that class (names not in the dictionary are ignored)",
                                      choices=MATERIAL_CLASSES, each=True, entry="entry or category")
    context_textures: Dict[str, str] = setting({}, "a floor or wall texture -> the set floors and walls of it wear",
                                               entry="texture")


@dataclass
class LightingConfig:
    """Image-based lighting (:mod:`scenegen.render.environment`): an environment map
    around each scene lights it, its key light casts the shadows, it is seen behind."""

    environment: str = setting("none", "none (the lights alone); random (a map of `environments` per scene, by "
                                       "weight, among those its context allows); or one map's name")
    environments: str = setting("builtin", "the maps: builtin (procedural skies, a studio, an interior) or a "
                                           "folder of .hdr/.exr maps (with an optional meta.yaml)")
    rotation: List[float] = setting([0.0, 360.0], "range of the map's turn about the vertical, degrees", pair=True)
    intensity: List[float] = setting([1.5, 5.0], "range of the irradiance of an upward-facing surface, W/m^2 "
                                                 "(as the lights')", pair=True, gt=0)
    exposure: float = setting(0.0, "exposure compensation, stops (EV)", ge=-10, le=10)
    background: bool = setting(True, "the map is seen behind the scene where no floor or wall is")
    shadows: bool = setting(True, "the map's key light (sun, softbox, window) casts shadows")
    occlusion: float = setting(0.9, "strength of the ambient occlusion of the map's light (0: off)", ge=0, le=1)
    contexts: Dict[str, List[str]] = setting({}, "environment=random: context -> the environment levels drawn "
                                                 "there (a context not listed, or none of whose levels the maps "
                                                 "have: any)", entry="context")


@dataclass
class RestConfig:
    """Rest states (scenegen.world.rest): objects lying on a side, upside down or tilted,
    on stable poses worked out from their shapes. An object that carries others stays
    upright; the others lie in a drawn level with chance ``chance``."""

    chance: float = setting(0.0, "chance that an object (carrying nothing) lies in a drawn rest level instead of "
                                 "standing upright (0: off, every object upright; rest is then no factor)",
                            ge=0, le=1)
    weighting: str = setting("uniform", "weights of an entry's levels: uniform, or probability (how likely the "
                                        "object lands in each when dropped)", choices=REST_WEIGHTINGS)
    levels: Dict[str, Dict[str, Any]] = setting({}, "entry or category -> {level: weight}: the levels it may "
                                                      "lie in and their weights (others: 0); an entry's name wins "
                                                      "over its category's", entry="entry or category")


@dataclass
class RenderConfig:
    """Which engine draws each scene's colour image: the rasterizer (pyrender), or a path
    tracer (Mitsuba 3: pip install 'scenegen[pathtraced]'); every label layer comes from
    the raster passes either way, so labels are the same."""

    engine: str = setting("raster", "the engine of every scene (unless engine_mix)", choices=RENDER_ENGINES)
    engine_mix: Dict[str, Any] = setting({}, "engine -> weight: each scene's engine drawn by weight (a tracked "
                                              "factor, engine); empty: every scene `engine`", entry="engine")
    spp: int = setting(16, "path tracer: samples per pixel", ge=1, le=65536)
    max_depth: int = setting(8, "path tracer: longest light path, in bounces (1: direct light only)", ge=1, le=64)
    denoise: bool = setting(True, "path tracer: run Mitsuba's denoiser where the machine has one (OptiX, CUDA); "
                                  "each scene records whether it ran")


@dataclass
class PhysicsConfig:
    """The simulation that settles the grammar's piles (arrange: pile; scenegen.world.piles),
    with PyBullet: pip install 'scenegen[physics]'."""

    seconds: float = setting(2.0, "most simulated time of a settle (it stops once every object is at rest)",
                             gt=0, le=60, unit="seconds")
    time_step: float = setting(1 / 120, "simulated time per step", gt=0, le=0.05, unit="seconds")
    friction: float = setting(0.6, "Coulomb friction of every contact", ge=0, le=10)


@dataclass
class FactorsConfig:
    """The factors of the coverage universe (see scenegen.scene.factors): how continuous
    values are binned into levels, which factors are tracked, and which combinations
    are declared impossible."""

    # visible-fraction thresholds of the occlusion levels: >= none_min is "none",
    # >= partial_min is "partial", below is "heavy"
    occlusion_none_min: float = setting(0.95, "visible fraction from which occlusion is 'none'")
    occlusion_partial_min: float = setting(0.5, "visible fraction from which occlusion is 'partial' (else 'heavy')")
    # camera elevation seen from the object, degrees: ascending upper bin edges, and one
    # level name per bin (len(edges) + 1)
    elevation_edges: List[float] = setting([20.0, 40.0], "ascending upper bin edges of the camera elevation, degrees")
    elevation_levels: List[str] = setting(["low", "mid", "high"], "one level name per elevation bin")
    # total intensity of the scene's directional lights, W/m^2: upper bin edges and names
    light_edges: List[float] = setting([2.0, 3.5], "ascending upper bin edges of the total light intensity, W/m^2")
    light_levels: List[str] = setting(["dim", "medium", "bright"], "one level name per light bin")
    tracked: List[str] = setting(
        ["category", "pose", "elevation", "context", "occlusion", "light", "color", "material", "texture"],
        "the factors coverage.json counts, in order", choices="factors", nonempty=True, distinct=True)
    # combinations declared impossible besides those the dictionary and contexts imply,
    # each a partial assignment {factor: level}: not counted as missing, never asked for
    # by a design; any a random scene still shows is reported as unexpected
    exclude: List[Dict[str, str]] = setting([], "combinations declared impossible, each {factor: level, ...}")


@dataclass
class SplitConfig:
    """Held-out combinations: the train split never shows them, the test split shows
    each, and every (t-1)-sub-tuple of each still appears in train (see scenegen.design.splits)."""

    held_out: List[Dict[str, str]] = setting([], "t-tuples {factor: level} held out of train, all of one size t")
    # drawn with the root seed (only tuples whose sub-tuples can still be trained on)
    fraction: float = setting(0.0, "or hold out this fraction of the feasible strength-tuples", ge=0, lt=1)
    strength: int = setting(2, "tuple size t of split.fraction")


@dataclass
class OutputConfig:
    depth_scale: float = setting(1.0, "depth PNG value * depth_scale = millimetres", gt=0)
    # at 1 the 8-bit colour layers are written by fpng (see README)
    png_compress_level: int = setting(1, "zlib level of the PNGs (at 1, fpng writes the 8-bit colour layers)",
                                      ge=0, le=9)
    shard_size: int = setting(1000, "scenes per WebDataset shard (format=webdataset)", ge=1, unit="scenes")


@dataclass
class ProductionConfig:
    """One alternative of a grammar rule; exactly one of ``object``, ``relation`` or
    ``repeat`` says what it produces (checked by :mod:`scenegen.world.grammar`).

    object: a selector: a category, a set of ``grammar.sets``, ``any``, or a list of them.
    relation: a relation name (or a list, one chosen uniformly) placing ``other``
        relative to ``anchor``; both are items: a rule name or a selector.
    repeat: an item produced ``count`` [min, max] times, arranged ``free``, in a
        ``row`` (each beside the previous) or a ``cluster`` (each near the first).
    weight: a number, or a mapping context -> number with an optional ``default``.
    """

    weight: Any = setting(1.0, "a number, or context -> number with an optional default")
    object: Any = setting(None, "a selector: a category, a set of grammar.sets, any, or a list")
    relation: Any = setting(None, "a relation (or a list) placing `other` relative to `anchor`")
    anchor: Any = setting(None, "a rule name or a selector")
    other: Any = setting(None, "a rule name or a selector")
    repeat: Any = setting(None, "an item produced `count` times")
    count: List[int] = setting([1, 1], "repeat: [min, max] times")
    arrange: str = setting("free", "repeat: free, row (each beside the previous) or cluster (near the first)")


@dataclass
class GrammarConfig:
    start: str = setting("scene", "the rule a scene expands from")
    max_depth: int = setting(8, "most nested rule expansions in one scene")
    # probability that an object is drawn against its context's weights (from the
    # categories the context never shows); such objects and scenes are labelled
    out_of_context: float = setting(0.0, "probability that an object ignores its context's weights")
    near: float = setting(0.25, "largest clearance between related objects (beside, near)", unit="metres")
    sets: Dict[str, List[str]] = setting({}, "named category sets", entry="set")
    rules: Dict[str, List[ProductionConfig]] = setting(MISSING, "rule -> its alternatives", entry="rule")


@dataclass
class DaskConfig:
    """executor=dask: the cluster that runs the scenes (install with pip install 'scenegen[dask]')."""

    address: Optional[str] = setting(None, "scheduler address (tcp://host:8786); null: a local cluster")


@dataclass
class ProbeConfig:
    """``scenegen probe``: search the scene space for the combinations of factor levels
    where a model does worst (see scenegen.probe)."""

    model: str = setting("", "package.module:function (or file.py:function); model= on the CLI")
    task: str = setting("classification", "what the model does", choices=PROBE_TASKS)
    strategy: str = setting("adaptive", "how trials are chosen", choices=PROBE_STRATEGIES)
    budget: int = setting(300, "rendered scenes, all phases together", ge=1)
    strength: int = setting(2, "largest tuple size t reported (and covered by the covering sweep)")
    factors: List[str] = setting(["category", "pose", "context", "occlusion"], "the factors searched",
                                 choices="directive factors", nonempty=True, distinct=True)
    batch: int = setting(16, "images per model call", ge=1)
    # the model runs on a worker thread of the probe's; null: no limit, it runs on the
    # caller's thread
    timeout: Optional[float] = setting(300.0, "seconds one model call may take (null: no limit)",
                                       gt=0, le=threading.TIMEOUT_MAX,
                                       message="{key} must be a number of seconds > 0 (null: no limit), got {value}")
    # classification input: "crop" (a square around the target's amodal box, `crop_margin`
    # of its longer side added on each side, resized to crop_size) or "image" (whole)
    input: str = setting("crop", "classification input: a crop around the target, or the image",
                         choices=PROBE_INPUTS)
    # null: the model's `crop_margin` / `input_size` attribute, else 0.5 / 64 (an
    # ImageNet network wants input_size 224; see scenegen.probe.model)
    crop_margin: Optional[float] = setting(None, "margin added to the crop (null: the model's, else 0.5)",
                                           ge=0, le=10)
    crop_size: Optional[int] = setting(None, "side of the crop, pixels (null: the model's input_size, else 64)",
                                       ge=1)
    # "auto": the model's `scores` attribute, else probabilities when every score of a
    # batch lies in [0, 1], logits otherwise
    scores: str = setting("auto", "how an (N, C) score array is read", choices=PROBE_SCORES)
    iou: float = setting(0.5, "detection: IoU a detection needs to match the target", ge=0, le=1)
    score_threshold: float = setting(0.0, "detection: detections scoring below are ignored", ge=0, le=1)
    confidence: float = setting(0.95, "level of the accuracy intervals", ge=0.5, lt=1)
    local_fraction: float = setting(0.2, "adaptive: share of the budget for the local search", ge=0, le=0.9)
    failures: int = setting(24, "failure thumbnails kept for the report", ge=0)
    first_index: int = setting(1_000_000, "scene indices start here (away from a dataset's 0..n-1)", ge=0)
    out: str = setting("scenegen_probe", "report folder: probe.json, probe.html, trials.jsonl")


@dataclass
class SceneGenConfig:
    out: str = setting("scenegen_out", "dataset folder")
    n: int = setting(20, "number of scenes", ge=0)
    seed: int = setting(0, "root seed", ge=0)
    workers: int = setting(1, "processes (or Dask workers); the data is the same for any value", ge=1)
    # work units: the scene indices 0..n-1 are grouped in `num_shards` contiguous shards;
    # a shard records its completion last
    num_shards: int = setting(0, f"shards of the scene indices (0: one per {SCENES_PER_SHARD} scenes)", ge=0,
                              message=f"{{key}} must be >= 0 (0: one shard per {SCENES_PER_SHARD} scenes), got {{value}}")
    # its range depends on num_shards and n: checked by validate._check_shard
    shard: int = setting(-1, "run only this shard, 0..num_shards-1 (a cluster job array); -1: all")
    executor: str = setting("local", "local (processes on this machine) or dask", choices=EXECUTORS,
                            message="{key} {value!r} is unknown; valid: 'local', 'dask'")
    dask: DaskConfig = setting(DaskConfig, "executor=dask: the cluster")
    width: int = setting(256, "image width", ge=16, le=MAX_IMAGE_SIDE, unit="pixels")
    height: int = setting(256, "image height", ge=16, le=MAX_IMAGE_SIDE, unit="pixels")
    progress: bool = setting(True, "progress bar on stderr (only when it is a terminal)")
    asset_paths: List[str] = setting([], "folders searched for relative mesh paths, before assets/")
    meshes: MeshesConfig = setting(MeshesConfig, "limits on mesh files")
    libraries: Dict[str, LibraryConfig] = setting({}, "asset libraries: name -> folder, layout, category mapping",
                                                  entry="library")
    categories: List[str] = setting(MISSING, "category names; category id = position + 1",
                                    nonempty=True, distinct=True, max_items=MAX_CATEGORIES, entry="category")
    objects: Dict[str, ObjectEntryConfig] = setting(MISSING, "dictionary entries by name", nonempty=True,
                                                    entry="object")
    colors: Dict[str, List[float]] = setting(MISSING, "colour name -> RGB", each=True, rgb=True, entry="colour")
    materials: Dict[str, MaterialConfig] = setting(MISSING, "material name -> PBR parameters", entry="material")
    textures: Dict[str, TextureConfig] = setting(MISSING, "texture name -> pattern", entry="texture")
    contexts: Dict[str, ContextConfig] = setting(MISSING, "context name -> look and category weights",
                                                 nonempty=True, entry="context")
    grammar: GrammarConfig = setting(MISSING, "placement grammar")
    directive: Dict[str, str] = setting({}, "wanted factor levels of a target object: directive={category:chair}",
                                        entry="factor")
    placement: PlacementConfig = setting(PlacementConfig, "object count and placement")
    camera: CameraConfig = setting(CameraConfig, "camera ranges")
    lights: LightsConfig = setting(LightsConfig, "light ranges")
    lighting: LightingConfig = setting(LightingConfig, "environment-map lighting (lighting.environment=none: off)")
    surfaces: SurfacesConfig = setting(SurfacesConfig, "texture sets on objects, floors and walls (sets=none: off)")
    rest: RestConfig = setting(RestConfig, "rest states: objects lying, tipped, upside down (chance 0: off)")
    physics: PhysicsConfig = setting(PhysicsConfig, "the simulation that settles piles (arrange: pile)")
    render: RenderConfig = setting(RenderConfig, "the engine of the colour images (raster, or path traced)")
    background: BackgroundConfig = setting(BackgroundConfig, "photographs behind the scenes (images empty: none)")
    factors: FactorsConfig = setting(FactorsConfig, "coverage factors: bins, tracked, excluded")
    split: SplitConfig = setting(SplitConfig, "held-out combinations")
    output: OutputConfig = setting(OutputConfig, "output files")
    format: Any = setting("coco", "formats besides coco.json, one or a list: format=[hf,bop]", choices=FORMATS,
                          message="{key} {value!r} is unknown; valid: 'bop', 'coco', 'hf', 'webdataset' "
                                  "(several: format=[coco,bop])")
    # random: n scenes drawn from the grammar; covering: one directed scene per row of a
    # covering array of strength `strength` over `design_factors` (n is then the number
    # of rows); fill: top up the dataset in `out` with directed scenes for the t-tuples
    # its labels miss, until all are covered or `budget` scenes were added
    strategy: str = setting("random", "which scenes: random, a covering array, or fill the missing tuples",
                            choices=STRATEGIES)
    strength: int = setting(2, "t of the covering array / fill")
    budget: int = setting(100, "most scenes strategy=fill adds", ge=0, unit="scenes")
    design_factors: List[str] = setting(["category", "pose", "context", "occlusion"], "factors of the design",
                                        choices="directive factors", nonempty=True, distinct=True)
    probe: ProbeConfig = setting(ProbeConfig, "scenegen probe")


def shard_count(cfg) -> int:
    """The number of shards of ``cfg``'s scenes: ``num_shards``, or one per
    ``SCENES_PER_SHARD`` scenes (at least one)."""
    if int(cfg.num_shards) > 0:
        return int(cfg.num_shards)
    return max(1, -(-int(cfg.n) // SCENES_PER_SHARD))


def category_ids(cfg) -> Dict[str, int]:
    """Category name -> id; ids start at 1 in the order of ``cfg.categories`` (COCO)."""
    return {name: i + 1 for i, name in enumerate(cfg.categories)}
