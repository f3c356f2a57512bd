"""Validating a config: the rules declared with each key in :mod:`scenegen.config.schema`,
checked by one generic walk (:func:`check_fields`), then the checks that relate keys to
each other (:func:`validate_config`).

Every message names the key and, where the valid values are a finite set, lists them,
with a suggestion when the value is close to one of them (``did you mean 'room'?``).
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import math
import typing
from dataclasses import fields, is_dataclass
from typing import Any, Iterable, List, Optional

from omegaconf import DictConfig, OmegaConf

from ..errors import ConfigError, choices
from ..fileio import read_yaml
from ..resources import conf_dir
from ..scene.factors import DIRECTIVE_FACTORS, FACTOR_NAMES, engine_levels, universe
from .mesh_frame import check_mesh_frame
from .schema import CONFIG_GROUPS, FORMATS, MAX_PART_VARIANTS, RENDER_ENGINES, REST_LEVELS, SceneGenConfig, shard_count

VOCABULARIES = {"factors": FACTOR_NAMES, "directive factors": DIRECTIVE_FACTORS}


# -- suggestions ------------------------------------------------------------------------


def did_you_mean(word: Any, candidates: Iterable[Any]) -> str:
    """``" did you mean 'x'?"`` for the candidate closest to ``word`` (difflib), or ""."""
    names = [str(c) for c in candidates]
    close = difflib.get_close_matches(str(word), names, n=1)
    return f" did you mean {close[0]!r}?" if close else ""


def unknown_name(what: str, name: Any, valid: Iterable[Any], where: str = "") -> str:
    """``unknown context 'rom' in contexts.rom.weight; did you mean 'room'? valid: ...``."""
    valid = list(valid)
    place = f" in {where}" if where else ""
    hint = did_you_mean(name, valid)
    return f"unknown {what} {name!r}{place};{hint} valid: {choices(valid)}" if valid else \
        f"unknown {what} {name!r}{place}; there are none"


def unknown_key(key: str, valid: Iterable[str], section: str = "") -> str:
    """The message for an unknown config key ``key`` (its full dotted path) of the section
    ``section`` whose keys are ``valid``."""
    valid = sorted(valid)
    prefix = f"{section}." if section else ""
    close = difflib.get_close_matches(key.rsplit(".", 1)[-1], valid, n=1)
    if close:
        return f"unknown config key {key!r}; did you mean {prefix + close[0]!r}?"
    if len(valid) > 16:
        return f"unknown config key {key!r}; 'scenegen generate --help' lists the keys"
    return f"unknown config key {key!r}; valid keys{f' of {section}' if section else ''}: {choices(valid)}"


# -- the rules declared in the schema ---------------------------------------------------


@functools.lru_cache(maxsize=None)
def schema_fields(cls: type) -> tuple:
    """``(name, type, metadata)`` of each field of the schema dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name], f.metadata) for f in fields(cls))


def check_fields(data: dict, cls: type = SceneGenConfig, key: str = "", rules: bool = True) -> None:
    """Check ``data`` (plain containers, as :func:`OmegaConf.to_container` gives) against
    the schema dataclass ``cls``: no unknown key, and (``rules``) every declared rule, at
    any depth.

    Raises:
        ConfigError: naming the key, the rule and (for choices) the valid values; for an
            unknown key, the closest known one.
    """
    known = schema_fields(cls)
    names = {name for name, _, _ in known}
    for name in data:
        if name not in names:
            raise ConfigError(unknown_key(_join(key, name), names, key))
    for name, hint, declared in known:
        if name in data:
            where = _join(key, name)
            if rules:
                _check_rules(data[name], where, declared)
            _descend(data[name], hint, where, rules)


def override_key_problem(data: dict, path: str, append: bool = False) -> Optional[str]:
    """Why the dotted ``path`` of an override names no key of the config ``data`` (the
    composed config as plain containers), or None when it does (as far as the schema
    says: below a free-form value anything goes).

    A named entry of a mapping (``contexts.<name>``) must exist in ``data`` unless the
    override appends (``+contexts.new.weight=1``); a field of a section must be declared.
    """
    hint, node, where, declared = SceneGenConfig, data, "", {}
    for part in path.split("."):
        hint = _unwrap(hint)
        origin = typing.get_origin(hint)
        if is_dataclass(hint):
            known = {name: (field_hint, rules) for name, field_hint, rules in schema_fields(hint)}
            if part not in known:
                valid = set(known) | (set(CONFIG_GROUPS) if not where else set())
                return unknown_key(_join(where, part), valid, where)
            hint, declared = known[part]
        elif origin is dict:
            entries = list(node) if isinstance(node, dict) else []
            if not append and entries and part not in entries:
                return unknown_name(declared.get("entry", "key"), part, entries, where=path)
            if not append and node == {}:  # an empty mapping: Hydra's "Key is not in struct"
                return unknown_name(declared.get("entry", "key"), part, [], where=path) + _adding(
                    path, where, typing.get_args(hint)[1])
            hint, declared = typing.get_args(hint)[1], {}
        else:  # a list, or a free-form value: Hydra and the rules judge it
            return None
        node = node.get(part) if isinstance(node, dict) else None
        where = _join(where, part)
    return None


def _adding(path: str, mapping: str, value_hint: Any) -> str:
    """How a new entry of the empty ``mapping`` (a config key) is made, for an override of
    ``path`` below it: a ``+`` before the override, where Hydra takes one; for entries
    that are schema sections (``camera.effects.<look>``), which Hydra cannot append from
    the command line, a preset or a config file, naming the presets that have some."""
    if not is_dataclass(_unwrap(value_hint)):
        return f" in this config: to add one, put a + before the override (+{path}=...)"
    presets = [name for name, data in preset_data().items() if _entries_at(data, mapping)]
    named = f" (presets with some: {choices(presets)})" if presets else ""
    return f" in this config: {mapping} gets its entries from a preset or a config file{named}"


def _entries_at(data: Any, key: str) -> bool:
    """Whether the dotted ``key`` of plain ``data`` is a mapping with entries."""
    for part in key.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return isinstance(data, dict) and bool(data)


@functools.lru_cache(maxsize=1)
def preset_data() -> dict:
    """Preset name -> the plain data of its file (``conf/preset/<name>.yaml``, global
    package), in name order."""
    folder = conf_dir() / "preset"
    return {path.stem: read_yaml(path) or {} for path in sorted(folder.glob("*.yaml"))}


def _unwrap(hint: Any) -> Any:
    """``X`` of ``Optional[X]``, else ``hint``."""
    if typing.get_origin(hint) is typing.Union:
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else str(name)


def _descend(value: Any, hint: Any, key: str, rules: bool = True) -> None:
    """Check the dataclasses nested in ``value``, typed ``hint``."""
    hint = _unwrap(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if is_dataclass(hint) and isinstance(value, dict):
        check_fields(value, hint, key, rules)
    elif origin is dict and isinstance(value, dict):
        for name, item in value.items():
            _descend(item, args[1], f"{key}.{name}", rules)
    elif origin is list and isinstance(value, list):
        for i, item in enumerate(value):
            _descend(item, args[0], f"{key}[{i}]", rules)


def _check_rules(value: Any, key: str, rules) -> None:
    if value is None or len(rules) <= 1:  # null passes; only "help"
        return
    try:
        _check_container(value, key, rules)
        if rules.get("each") and isinstance(value, dict):
            items = [(f"{key}.{name}", item) for name, item in value.items()]
        elif rules.get("each") and isinstance(value, list):
            items = [(f"{key}[{i}]", item) for i, item in enumerate(value)]
        else:
            items = [(key, value)]
        for item_key, item in items:
            _check_value(item, item_key, rules)
    except _Broken as broken:  # the key's own message, if it has one
        message = rules["message"].format(key=key, value=broken.value) if "message" in rules else str(broken)
        raise ConfigError(message) from None


class _Broken(ConfigError):
    """A broken rule, with the offending value (for a key's own message)."""

    def __init__(self, message: str, value: Any):
        super().__init__(message)
        self.value = value


def _fail(message: str, value: Any) -> None:
    raise _Broken(message, value)


def _check_container(value: Any, key: str, rules) -> None:
    if not isinstance(value, (list, dict)):
        return
    noun = rules.get("entry", "value")
    if rules.get("nonempty") and not value:
        _fail(f"{key} is empty; give at least one {noun}", value)
    if rules.get("max_items") is not None and len(value) > rules["max_items"]:
        _fail(f"{key} has {len(value)} entries; at most {rules['max_items']} are supported", len(value))
    if rules.get("distinct") and isinstance(value, list):
        twice = sorted({str(v) for v in value if value.count(v) > 1})
        if twice:
            _fail(f"{key} lists {choices(twice)} more than once: {value}", value)


def _check_value(value: Any, key: str, rules) -> None:
    """The rules of one value (an item, with ``each``)."""
    if "choices" in rules:
        _check_choices(value, key, rules["choices"])
    if rules.get("rgb"):
        values = _as_list(value)
        if len(values) != 3 or not all(_number(v) and 0.0 <= float(v) <= 1.0 for v in values):
            _fail(f"{key} must be 3 numbers in [0, 1], got {values}", values)
    bounds = {b: rules[b] for b in ("ge", "gt", "le", "lt") if rules.get(b) is not None}
    if rules.get("pair"):
        _check_pair(value, key, bounds, rules.get("unit", ""))
    elif bounds and _number(value) and not _within(value, bounds):
        unit = f" {rules['unit']}" if rules.get("unit") else ""
        _fail(f"{key} must be {_bounds_phrase(bounds, value)}{unit}, got {value}", value)


def _check_choices(value: Any, key: str, valid) -> None:
    valid = VOCABULARIES[valid] if isinstance(valid, str) else valid
    if isinstance(value, list):
        for item in value:
            if item not in valid:
                _fail(f"{key} has unknown value {item!r};{did_you_mean(item, valid)} valid: {choices(valid)}", item)
    elif value not in valid:
        _fail(f"{key} is {value!r};{did_you_mean(value, valid)} valid: {choices(valid)}", value)


def _as_list(value: Any) -> list:
    """``value`` as a list of its items (a lone value: one item), for rules on lists."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _check_pair(value: Any, key: str, bounds: dict, unit: str) -> None:
    values = _as_list(value)
    ok = len(values) == 2 and all(_number(v) for v in values) and values[0] <= values[1]
    if not ok or not all(_within(v, bounds) for v in values):
        each = f", each {_bounds_phrase(bounds, values[0])}" if bounds else ""
        unit = f" {unit}" if unit and bounds else ""
        _fail(f"{key} must be a [min, max] pair with min <= max{each}{unit}, got {values}", values)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _within(value: float, bounds: dict) -> bool:
    """``value`` meets the bounds (NaN meets none)."""
    tests = {"ge": lambda b: value >= b, "gt": lambda b: value > b, "le": lambda b: value <= b,
             "lt": lambda b: value < b}
    return all(tests[name](bound) for name, bound in bounds.items())


def _bounds_phrase(bounds: dict, example: Any) -> str:
    """``>= 0``, ``between 16 and 8192`` (integers), ``in [0, 1)``."""
    low = next(((name, bounds[name]) for name in ("ge", "gt") if name in bounds), None)
    high = next(((name, bounds[name]) for name in ("le", "lt") if name in bounds), None)
    if low and high:
        if low[0] == "ge" and high[0] == "le" and isinstance(example, int):
            return f"between {low[1]} and {high[1]}"
        return f"in {'[' if low[0] == 'ge' else '('}{low[1]}, {high[1]}{']' if high[0] == 'le' else ')'}"
    name, bound = low or high
    return f"{_OPERATORS[name]} {bound}"


_OPERATORS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


# -- checks across keys -----------------------------------------------------------------


def validate_config(cfg: DictConfig) -> None:
    """Check the rules each key declares in the schema, then the keys against each other
    (references between sections, orderings, counts).

    Raises:
        ConfigError: naming the key and the valid choices.
    """
    check_fields(OmegaConf.to_container(cfg, resolve=True))
    for check in (_check_shard, _check_dictionary, _check_contexts, _check_camera, _check_render, _check_look,
                  _check_rest, _check_factors, _check_design, _check_probe):
        check(cfg)


def _check_shard(cfg) -> None:
    if cfg.shard != -1 and not 0 <= cfg.shard < shard_count(cfg):
        raise ConfigError(f"shard must be between 0 and {shard_count(cfg) - 1} (num_shards is {shard_count(cfg)}), "
                          f"or -1 for all shards; got {cfg.shard}")


def _check_dictionary(cfg) -> None:
    """Each entry: a known category, one source of geometry, levels its palettes define."""
    for name, entry in cfg.objects.items():
        key = f"objects.{name}"
        if entry.category not in cfg.categories:
            raise ConfigError(f"{key}.category is {entry.category!r}, which is not a known category;"
                              f"{did_you_mean(entry.category, cfg.categories)} valid: {choices(cfg.categories)}")
        _check_source(entry, key)
        check_mesh_frame(entry, key)
        _check_part_rules(entry, key)
        _check_levels(entry.textures, cfg.textures, f"{key}.textures", "texture")
        _check_levels(entry.colors, cfg.colors, f"{key}.colors", "colour", empty_is_all=True)
        _check_levels(entry.materials, cfg.materials, f"{key}.materials", "material", empty_is_all=True)


def _check_source(entry, key: str) -> None:
    sources = [s for s in ("shape", "parts", "mesh") if entry[s]]
    if entry.part_rules and not sources:
        sources = ["parts"]  # an entry may be made of part rules alone
    if len(sources) != 1:
        raise ConfigError(f"{key} must have exactly one of 'shape', 'parts' (with or without "
                          f"'part_rules') or 'mesh'; it has {sources or 'none'}")
    if entry.part_rules and (entry.shape or entry.mesh):
        raise ConfigError(f"{key}.part_rules needs a part-composed entry (no 'shape' or 'mesh')")


def _check_part_rules(entry, key: str) -> None:
    """Part names are unique within an entry and its styles; the shapes stay countable."""
    fixed = set(_part_names(entry.parts, f"{key}.parts"))
    variants = 1
    for slot, styles in entry.part_rules.items():
        if not styles:
            raise ConfigError(f"{key}.part_rules.{slot} has no styles")
        for style, style_cfg in styles.items():
            style_key = f"{key}.part_rules.{slot}.{style}"
            if not style_cfg.weight > 0:
                raise ConfigError(f"{style_key}.weight must be > 0, got {style_cfg.weight}")
            if not style_cfg.parts:
                raise ConfigError(f"{style_key}.parts is empty")
            clash = fixed & set(_part_names(style_cfg.parts, f"{style_key}.parts"))
            if clash:
                raise ConfigError(f"{style_key}.parts reuses part names of {key}.parts: {sorted(clash)}")
        variants *= len(styles)
    if variants > MAX_PART_VARIANTS:
        raise ConfigError(f"{key}.part_rules make {variants} shapes; at most {MAX_PART_VARIANTS} are supported")


def _part_names(parts, key: str) -> List[str]:
    names = []
    for i, part in enumerate(parts):
        if part.name in names:
            raise ConfigError(f"{key} has two parts named {part.name!r}")
        names.append(part.name)
        if len(part.position) != 3 or len(part.rotation) != 3:
            raise ConfigError(f"{key}[{i}] position and rotation need 3 numbers each")
    return names


def _check_levels(levels, palette, key: str, what: str, empty_is_all: bool = False) -> None:
    """``levels`` is a list of names defined in ``palette``, non-empty unless
    ``empty_is_all`` (an empty list then stands for the whole palette)."""
    if not levels and not empty_is_all:
        raise ConfigError(f"{key} is empty; valid: {choices(palette.keys())}")
    for level in levels:
        if level not in palette:
            raise ConfigError(f"{key} has unknown {what} {level!r};{did_you_mean(level, palette.keys())} "
                              f"valid: {choices(palette.keys())}")


def _check_contexts(cfg) -> None:
    """Textures and categories a context names exist; some category can appear in it."""
    used = {entry.category for entry in cfg.objects.values()}
    for name, context in cfg.contexts.items():
        key = f"contexts.{name}"
        for texture_key in ("floor_texture", "wall_texture"):
            texture = context[texture_key]
            if texture not in cfg.textures:
                raise ConfigError(f"{key}.{texture_key} is {texture!r}, not a known texture;"
                                  f"{did_you_mean(texture, cfg.textures)} valid: {choices(cfg.textures.keys())}")
        for category in context.weights:
            if category not in cfg.categories:
                raise ConfigError(f"{key}.weights names unknown category {category!r};"
                                  f"{did_you_mean(category, cfg.categories)} valid: {choices(cfg.categories)}")
        if not any(float(context.weights.get(c, context.default_weight)) > 0 for c in used):
            raise ConfigError(f"{key} gives weight 0 to every category in the dictionary")
    if sum(c.weight for c in cfg.contexts.values()) <= 0:
        raise ConfigError("every context has weight 0")


def _check_camera(cfg) -> None:
    if not cfg.camera.znear < cfg.camera.zfar:
        raise ConfigError("camera.znear and camera.zfar must satisfy 0 < znear < zfar")
    side = min(int(cfg.width), int(cfg.height))
    pixels = cfg.camera.framing.min_pixels
    if pixels and not 1 <= pixels < side:
        raise ConfigError(f"camera.framing.min_pixels must be a number of pixels >= 1 and below the image size "
                          f"(min(width, height) = {side}), or 0 for off; got {pixels}")


def _check_look(cfg) -> None:
    """Camera-effects profiles with some weight; the factors of the look (environment,
    effects, background) used (tracked, designed, probed) only where scenes have them."""
    profiles = cfg.camera.effects
    if profiles and not any(profile.weight > 0 for profile in profiles.values()):
        raise ConfigError("camera.effects: every profile has weight 0; give one a positive weight")
    off = {"environment": cfg.lighting.environment == "none", "effects": not profiles,
           "background": not cfg.background.images, "rest": float(cfg.rest.chance) <= 0,
           "engine": not engine_levels(cfg)}
    how = {"environment": "set lighting.environment=random (or a map's name)",
           "effects": "give camera.effects profiles (or preset=realistic)",
           "background": "set background.images=DIR",
           "rest": "set rest.chance above 0 (e.g. rest.chance=0.5)",
           "engine": "mix engines (e.g. '++render.engine_mix={raster: 1, pathtraced: 1}') or set render.engine=pathtraced"}
    for key, factors in (("factors.tracked", cfg.factors.tracked), ("design_factors", cfg.design_factors),
                         ("probe.factors", cfg.probe.factors)):
        for factor in factors:
            if off.get(factor):
                raise ConfigError(f"{key} names {factor!r}, which scenes do not have: {how[factor]}, "
                                  f"or leave it out of {key}")


def _check_rest(cfg) -> None:
    """``rest.levels`` names entries or categories, and rest levels with weights >= 0."""
    names = [*cfg.objects.keys(), *cfg.categories]
    for name, levels in cfg.rest.levels.items():
        if name not in names:
            raise ConfigError(f"rest.levels names {name!r}, neither an entry nor a category;"
                              f"{did_you_mean(name, names)} valid: {choices(names)}")
        for level, weight in levels.items():
            if level not in REST_LEVELS:
                raise ConfigError(f"rest.levels.{name}: {level!r} is not a rest level;"
                                  f"{did_you_mean(level, REST_LEVELS)} valid: {choices(REST_LEVELS)}")
            _check_weight(weight, f"rest.levels.{name}.{level}")


def _check_weight(weight, key: str) -> None:
    """A weight of a free-form mapping (the schema types its keys, not its values): a
    number >= 0."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
        raise ConfigError(f"{key} must be a weight >= 0, got {weight!r}")


def _check_render(cfg) -> None:
    """``render.engine_mix`` names engines with weights >= 0, some positive; a path
    tracer in use needs Mitsuba installed."""
    mix = cfg.render.engine_mix
    for name, weight in mix.items():
        if name not in RENDER_ENGINES:
            raise ConfigError(f"render.engine_mix names {name!r}, which is no engine;"
                              f"{did_you_mean(name, RENDER_ENGINES)} valid: {choices(RENDER_ENGINES)}")
        _check_weight(weight, f"render.engine_mix.{name}")
    if mix and not any(float(w) > 0 for w in mix.values()):
        raise ConfigError("render.engine_mix: every engine has weight 0; give one a positive weight")
    if "pathtraced" in (engine_levels(cfg) or [cfg.render.engine]) and importlib.util.find_spec("mitsuba") is None:
        key = "render.engine_mix" if mix else "render.engine=pathtraced"
        raise ConfigError(f"{key}: the path tracer needs Mitsuba 3, which is not installed: "
                          f"pip install 'scenegen[pathtraced]'")


def _check_factors(cfg) -> None:
    """Occlusion thresholds in order, one level per bin, exclusions of known levels."""
    factors = cfg.factors
    if not 0.0 < factors.occlusion_partial_min < factors.occlusion_none_min <= 1.0:
        raise ConfigError("factors must satisfy 0 < occlusion_partial_min < occlusion_none_min <= 1")
    _bins(factors.elevation_edges, factors.elevation_levels, "factors.elevation", low=-90.0, high=90.0)
    _bins(factors.light_edges, factors.light_levels, "factors.light", low=0.0)
    tracked = list(factors.tracked)
    levels, _ = universe(cfg)
    for i, item in enumerate(factors.exclude):
        if not item:
            raise ConfigError(f"factors.exclude[{i}] is empty; give {{factor: level, ...}}")
        for factor, level in item.items():
            if factor not in tracked:
                raise ConfigError(f"factors.exclude[{i}] names factor {factor!r}, which is not tracked;"
                                  f"{did_you_mean(factor, tracked)} valid: {choices(tracked)}")
            if levels.get(factor) and level not in levels[factor]:  # a folder's maps: listed by the World
                raise ConfigError(f"factors.exclude[{i}]: {level!r} is not a level of {factor!r};"
                                  f"{did_you_mean(level, levels[factor])} valid: {choices(levels[factor])}")


def _bins(edges, names, key: str, low: float, high: float = math.inf) -> None:
    """Bin edges must ascend strictly inside [low, high] and name one level per bin."""
    edges, names = list(edges), list(names)
    if any(not low <= e <= high for e in edges) or any(a >= b for a, b in zip(edges, edges[1:])):
        raise ConfigError(f"{key}_edges must ascend strictly within [{low}, {high}], got {edges}")
    if len(names) != len(edges) + 1 or len(set(names)) != len(names):
        raise ConfigError(f"{key}_levels must name {len(edges) + 1} distinct levels (one per bin of "
                          f"{key}_edges {edges}), got {names}")


def _check_design(cfg) -> None:
    """The covering strength fits its factors; a split is held out one way."""
    if not 1 <= cfg.strength <= len(cfg.design_factors):
        raise ConfigError(f"strength must be between 1 and {len(cfg.design_factors)} (the number of "
                          f"design_factors), got {cfg.strength}")
    if cfg.split.held_out and cfg.split.fraction > 0:
        raise ConfigError("give split.held_out or split.fraction, not both")


def _check_probe(cfg) -> None:
    probe = cfg.probe
    if not 1 <= probe.strength <= len(probe.factors):
        raise ConfigError(f"probe.strength must be between 1 and {len(probe.factors)} (the number of "
                          f"probe.factors), got {probe.strength}")


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
