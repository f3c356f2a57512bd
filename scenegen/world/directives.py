"""Directives: requested factor levels for a target object and its scene.

A directive is a mapping such as ``{category: chair, pose: back-left, context: room,
occlusion: heavy, material: metal}``; every key is optional. The sampler realizes it
(see :mod:`scenegen.world.sampler`); :func:`check_directive` refuses, with a clear error, a
directive that the grammar or the dictionary can never satisfy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Mapping, Optional, Tuple

from ..config.schema import REST_LEVELS
from ..errors import ConfigError, choices
from ..scene.factors import DIRECTIVE_FACTORS, OCCLUSION_LEVELS, SCENE_FACTORS, engine_levels, pose_levels
from .grammar import Grammar, ObjectItem, RelationItem, RepeatItem, RuleRef


@dataclass(frozen=True)
class Directive:
    """Wanted levels; ``None`` leaves a factor free."""

    category: Optional[str] = None
    pose: Optional[str] = None
    context: Optional[str] = None
    occlusion: Optional[str] = None
    material: Optional[str] = None
    color: Optional[str] = None
    texture: Optional[str] = None
    environment: Optional[str] = None
    effects: Optional[str] = None
    background: Optional[str] = None
    rest: Optional[str] = None
    engine: Optional[str] = None

    @classmethod
    def from_mapping(cls, mapping: Optional[Mapping]) -> Optional["Directive"]:
        """A directive from a mapping (``None`` or empty: no directive).

        Raises:
            ConfigError: an unknown factor name.
        """
        if not mapping:
            return None
        values = {}
        for key, value in mapping.items():
            if key not in DIRECTIVE_FACTORS:
                raise ConfigError(f"directive has unknown factor {key!r}; valid: {choices(DIRECTIVE_FACTORS)}")
            values[str(key)] = str(value)
        return cls(**values)

    def items(self) -> Tuple[Tuple[str, str], ...]:
        """The requested (factor, level) pairs, sorted by factor."""
        return tuple(sorted((f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None))

    @property
    def needs_object(self) -> bool:
        return any(getattr(self, k) is not None for k in DIRECTIVE_FACTORS if k not in SCENE_FACTORS)


def matching_entries(directive: Directive, dictionary, category: str, rest=None, elevations=(0.0, 90.0)):
    """Entries of ``category`` that can show every requested object level; ``rest``: the
    :class:`scenegen.world.resting.RestTable` a requested rest level is looked up in
    (with a pose too: some shape lying so can show it to a camera at ``elevations``,
    degrees)."""
    found = []
    for entry in dictionary.entries_of(category):
        if directive.pose is not None and directive.pose not in pose_levels(entry.symmetry):
            continue
        if directive.rest is not None and not _can_rest(entry, directive, rest, elevations):
            continue
        if directive.material is not None and directive.material not in entry.materials:
            continue
        if directive.color is not None and directive.color not in entry.colors:
            continue
        if directive.texture is not None and directive.texture not in entry.textures:
            continue
        found.append(entry)
    return found


def _can_rest(entry, directive: Directive, rest, elevations) -> bool:
    """Whether some shape of ``entry`` rests in the requested level (showing the
    requested pose, if any)."""
    if rest is None or directive.rest not in rest.levels_of(entry):
        return False
    if directive.pose is None:
        return True
    return any(directive.pose in rest.poses_shown(entry, style, directive.rest, elevations)
               for style in rest.styles_with(entry, directive.rest))


def _check_scene_levels(directive: Directive, cfg, environment_levels, background_levels) -> None:
    """A requested environment, effects or background level must be one the config can
    draw."""
    if directive.environment is not None:
        if cfg.lighting.environment != "random":
            raise ConfigError(f"directive environment {directive.environment!r} needs lighting.environment=random "
                              f"(it is {cfg.lighting.environment!r})")
        if directive.environment not in environment_levels:
            raise ConfigError(f"directive environment {directive.environment!r} is unknown; "
                              f"valid: {choices(environment_levels)}")
    if directive.background is not None and directive.background not in background_levels:
        valid = choices(background_levels) if background_levels else "(none: background.images is empty)"
        raise ConfigError(f"directive background {directive.background!r} is unknown; valid: {valid}")
    if directive.engine is not None and directive.engine not in engine_levels(cfg):
        valid = choices(engine_levels(cfg)) if engine_levels(cfg) else "(none: set render.engine_mix)"
        raise ConfigError(f"directive engine {directive.engine!r} is not an engine scenes are drawn with; valid: {valid}")
    if directive.effects is not None and directive.effects not in cfg.camera.effects:
        valid = choices(cfg.camera.effects.keys()) if cfg.camera.effects else "(none: camera.effects is empty)"
        raise ConfigError(f"directive effects {directive.effects!r} is unknown; valid: {valid}")


def _object_items(grammar: Grammar):
    """Every object item of the grammar, and those heading a camera-front anchor."""
    objects, occluded = [], []

    def heads(item, seen):
        if isinstance(item, ObjectItem):
            return [item]
        if isinstance(item, RuleRef):
            if item.name in seen:
                return []
            return [h for a in grammar.rules[item.name] for h in heads(a.item, seen | {item.name})]
        if isinstance(item, RelationItem):
            return heads(item.anchor, seen)
        return heads(item.item, seen)

    def walk(item):
        if isinstance(item, ObjectItem):
            objects.append(item)
        elif isinstance(item, RelationItem):
            if "camera-front" in item.relations:
                occluded.extend(heads(item.anchor, frozenset()))
            walk(item.anchor)
            walk(item.other)
        elif isinstance(item, RepeatItem):
            walk(item.item)

    for alternatives in grammar.rules.values():
        for alt in alternatives:
            walk(alt.item)
    return objects, occluded


def feasible_contexts(directive: Directive, grammar: Grammar) -> Tuple[str, ...]:
    """Contexts (with weight > 0, or the requested one) where the category may appear."""
    contexts = [directive.context] if directive.context else [c for c in grammar.contexts if grammar.context_probability[c] > 0]
    if directive.category is None:
        return tuple(contexts)
    objects, _ = _object_items(grammar)
    found = []
    for context in contexts:
        if any(directive.category in sum(grammar.category_options(o.categories, context)[::2], []) for o in objects):
            found.append(context)
    return tuple(found)


def check_directive(directive: Directive, grammar: Grammar, cfg, environment_levels=(), background_levels=(),
                    rest=None) -> None:
    """Refuse a directive that contradicts the grammar, the dictionary, the contexts,
    the environment maps (their levels: ``environment_levels``), the camera-effects
    profiles, the background photographs (``background_levels``) or the rest levels
    (``rest``: the world's :class:`scenegen.world.resting.RestTable`, None when off).

    Raises:
        ConfigError: naming the factor, the level and what would be valid.
    """
    _check_scene_levels(directive, cfg, environment_levels, background_levels)
    if directive.rest is not None:
        if rest is None:
            raise ConfigError(f"directive rest {directive.rest!r} needs rest states: set rest.chance above 0 "
                              f"(e.g. rest.chance=0.5)")
        if directive.rest not in REST_LEVELS:
            raise ConfigError(f"directive rest {directive.rest!r} is unknown; valid: {choices(REST_LEVELS)}")
    elevations = tuple(float(e) for e in cfg.camera.elevation)
    dictionary = grammar.dictionary
    if directive.context is not None and directive.context not in grammar.contexts:
        raise ConfigError(f"directive context {directive.context!r} is unknown; valid: {choices(grammar.contexts)}")
    if directive.occlusion is not None and directive.occlusion not in OCCLUSION_LEVELS:
        raise ConfigError(f"directive occlusion {directive.occlusion!r} is unknown; valid: {choices(OCCLUSION_LEVELS)}")
    for factor, known in (("material", cfg.materials), ("color", cfg.colors), ("texture", cfg.textures)):
        level = getattr(directive, factor)
        if level is not None and level not in known:
            raise ConfigError(f"directive {factor} {level!r} is unknown; valid: {choices(known.keys())}")
    objects, occluded = _object_items(grammar)
    categories = sorted({c for o in objects for c in o.categories}, key=grammar.categories.index)
    if directive.category is not None:
        if directive.category not in grammar.categories:
            raise ConfigError(f"directive category {directive.category!r} is unknown; valid: {choices(grammar.categories)}")
        if directive.category not in categories:
            raise ConfigError(
                f"directive category {directive.category!r} never appears in the grammar's "
                f"selectors; valid: {choices(categories)}"
            )
        if not feasible_contexts(directive, grammar):
            where = f"context {directive.context!r}" if directive.context else "any context"
            raise ConfigError(
                f"directive category {directive.category!r} never appears in {where}: its "
                f"weight there is 0 (contexts.<name>.weights) and grammar.out_of_context is 0"
            )
        candidates = [directive.category]
    else:
        candidates = categories
    if not any(matching_entries(directive, dictionary, c, rest, elevations) for c in candidates):
        levels = {
            "pose": sorted({p for c in candidates for e in dictionary.entries_of(c) for p in pose_levels(e.symmetry)}),
            "material": sorted({m for c in candidates for e in dictionary.entries_of(c) for m in e.materials}),
            "color": sorted({m for c in candidates for e in dictionary.entries_of(c) for m in e.colors}),
            "texture": sorted({m for c in candidates for e in dictionary.entries_of(c) for m in e.textures}),
            "rest": sorted({m for c in candidates for e in dictionary.entries_of(c) for m in rest.levels_of(e)})
            if rest is not None else [],
        }
        if directive.rest is not None and directive.pose is not None:
            levels["pose"] = sorted({p for c in candidates for e in dictionary.entries_of(c)
                                     for s in rest.styles_with(e, directive.rest)
                                     for p in rest.poses_shown(e, s, directive.rest, elevations)})
        what = directive.category or "any category"
        asked = ", ".join(f"{k}={getattr(directive, k)}" for k in levels if getattr(directive, k) is not None)
        valid = "; ".join(f"{k}: {choices(v)}" for k, v in levels.items() if getattr(directive, k) is not None)
        raise ConfigError(f"directive {asked} is impossible for {what}: no dictionary entry has it; valid {valid}")
    if directive.occlusion in ("partial", "heavy"):
        heads = {c for o in occluded for c in o.categories}
        wanted = directive.category
        if not heads or (wanted is not None and wanted not in heads):
            raise ConfigError(
                f"directive occlusion {directive.occlusion!r} needs an occlusion pair (a "
                f"'camera-front' relation) whose anchor can be {wanted or 'the target'!r}; "
                f"the grammar's occlusion pairs can hide: {choices(sorted(heads)) if heads else '(none)'}"
            )
    lo, hi = grammar.count_range
    if directive.occlusion in ("partial", "heavy") and hi < 2:
        raise ConfigError("directive occlusion needs at least 2 objects (placement.objects)")
