"""The discrete factors of an object in a scene, and the universe of their levels.

Factors and their levels (short strings):
    category   the configured category names
    pose       azimuth of the camera seen from the object, in 8 bins of 45 degrees
               centred on the object's front (+x): front, front-left, left, back-left,
               back, back-right, right, front-right. An object with rotational symmetry
               of order m has the first 8/m levels; a continuous one has the single
               level "any".
    elevation  camera elevation seen from the object, binned by ``factors.elevation_edges``
               (degrees) into ``factors.elevation_levels`` (default low, mid, high)
    context    the configured context names
    occlusion  from the measured visible fraction: none, partial, heavy
    light      total intensity of the scene's directional lights, binned by
               ``factors.light_edges`` (W/m^2) into ``factors.light_levels`` (dim,
               medium, bright)
    color, material, texture   the configured names (textures: those objects may wear)
    rest       how the object lies (rest.chance > 0): upright, upside-down, on-front,
               on-back, on-side, tilted (:mod:`scenegen.world.rest`), measured from its
               pose; for an object not upright, pose and elevation are the camera's
               azimuth and elevation in the object's own frame
    environment, effects, background   the look's levels, where scenes have them
    engine     the engine that drew the colour image (render.engine_mix, or
               render.engine=pathtraced): raster, pathtraced
"""

from __future__ import annotations

import math
from typing import Dict, List, Tuple

AZIMUTH_BINS = (
    "front",
    "front-left",
    "left",
    "back-left",
    "back",
    "back-right",
    "right",
    "front-right",
)
ANY_POSE = "any"
OCCLUSION_LEVELS = ("none", "partial", "heavy")
FACTOR_NAMES = ("category", "pose", "elevation", "context", "occlusion", "light", "color", "material", "texture",
                "environment", "effects", "background", "rest", "engine")
COVERAGE_COMBINATION = ("category", "pose", "context")
# the factors a directive can request (the others, elevation and light, are only measured)
DIRECTIVE_FACTORS = ("category", "pose", "context", "occlusion", "material", "color", "texture", "environment",
                     "effects", "background", "rest", "engine")
# directive factors of the whole scene, not its target
SCENE_FACTORS = ("context", "environment", "effects", "background", "engine")
NO_BACKGROUND = "none"  # the background level of a scene without a photograph
# the environment maps scenegen makes itself (scenegen.world.skies), in order: the
# levels of factor environment under lighting.environments=builtin
BUILTIN_ENVIRONMENTS = ("clear-noon", "clear-morning", "clear-sunset", "overcast", "studio", "interior")

_BIN_WIDTH = 2 * math.pi / len(AZIMUTH_BINS)


def pose_levels(symmetry: int) -> Tuple[str, ...]:
    """Pose levels an object with this rotational symmetry order can show (0 = continuous)."""
    if symmetry == 0:
        return (ANY_POSE,)
    return AZIMUTH_BINS[: len(AZIMUTH_BINS) // symmetry]


def relative_azimuth(object_position, object_yaw: float, camera_position) -> float:
    """Azimuth in [0, 2 pi) of the camera seen from the object, in the object's frame
    (0: the camera is in front of the object, on its +x side; pi/2: on its left, +y)."""
    dx = camera_position[0] - object_position[0]
    dy = camera_position[1] - object_position[1]
    return (math.atan2(dy, dx) - object_yaw) % (2 * math.pi)


def relative_elevation(object_center, camera_position) -> float:
    """Elevation in radians of the camera above the horizontal plane through the object's
    centre (3,)."""
    dx, dy, dz = (camera_position[i] - object_center[i] for i in range(3))
    return math.atan2(dz, math.hypot(dx, dy))


def pose_bin(azimuth: float, symmetry: int) -> str:
    """The pose level of relative azimuth ``azimuth`` (radians) for an object with this
    symmetry order: bins are 45 degrees wide and centred on 0, 45, 90, ... degrees."""
    if symmetry == 0:
        return ANY_POSE
    n_levels = len(AZIMUTH_BINS) // symmetry
    period = 2 * math.pi / symmetry
    folded = azimuth % period
    return AZIMUTH_BINS[int(math.floor(folded / _BIN_WIDTH + 0.5)) % n_levels]


def bin_level(value: float, edges, names) -> str:
    """The level of a continuous ``value``: ``names[i]`` for the first upper edge
    ``edges[i]`` above it, the last name at or above every edge."""
    for edge, name in zip(edges, names):
        if value < edge:
            return str(name)
    return str(names[len(edges)])


def elevation_bin(elevation: float, factors_cfg) -> str:
    """The elevation level of an elevation in radians (``factors_cfg``: ``cfg.factors``)."""
    return bin_level(math.degrees(elevation), factors_cfg.elevation_edges, factors_cfg.elevation_levels)


def light_bin(intensities, factors_cfg) -> str:
    """The light level of a scene whose directional lights have these intensities (W/m^2)."""
    return bin_level(float(sum(intensities)), factors_cfg.light_edges, factors_cfg.light_levels)


def occlusion_level(visible_fraction: float, none_min: float, partial_min: float) -> str:
    """none / partial / heavy from a visible fraction in [0, 1]."""
    if visible_fraction >= none_min:
        return "none"
    if visible_fraction >= partial_min:
        return "partial"
    return "heavy"


def category_pose_levels(cfg) -> Dict[str, Tuple[str, ...]]:
    """Category -> pose levels any of its dictionary entries can show (universe order)."""
    per_category: Dict[str, set] = {c: set() for c in cfg.categories}
    for entry in cfg.objects.values():
        per_category[entry.category].update(pose_levels(entry.symmetry))
    order = AZIMUTH_BINS + (ANY_POSE,)
    return {c: tuple(p for p in order if p in levels) for c, levels in per_category.items()}


def context_allows(context_cfg, category: str, out_of_context: float = 0.0) -> bool:
    """Whether a context can contain a category: its weight there is positive, or the
    grammar draws objects out of context."""
    return out_of_context > 0 or float(context_cfg.weights.get(category, context_cfg.default_weight)) > 0


def environment_levels(cfg) -> List[str]:
    """The ``environment`` levels the config alone tells: the built-in maps' names (or
    the one named); none for a folder's maps (its files', read by
    :class:`scenegen.world.compile.World`) or without an environment."""
    lighting = cfg.lighting
    if lighting.environment == "none" or lighting.environments != "builtin":
        return []
    return list(BUILTIN_ENVIRONMENTS) if lighting.environment == "random" else [str(lighting.environment)]


def engine_levels(cfg) -> List[str]:
    """The ``engine`` levels scenes of ``cfg`` show: those of ``render.engine_mix`` with
    some weight, else ``render.engine`` when it is not the default raster; [] (no
    factor) for raster alone."""
    mix = cfg.render.engine_mix
    if mix:
        return [str(name) for name, weight in mix.items() if float(weight) > 0]
    return [] if cfg.render.engine == "raster" else [str(cfg.render.engine)]


def universe(cfg) -> Tuple[Dict[str, List[str]], List[Tuple[str, str, str]]]:
    """The levels of every factor and the feasible (category, pose, context) tuples.

    Returns:
        levels: factor name -> list of its levels, in a fixed order.
        feasible: sorted list of (category, pose, context) tuples that the config can
            produce: the category has an entry showing that pose, the context has
            positive weight and gives the category positive weight.
    """
    cat_poses = category_pose_levels(cfg)
    used_poses = {p for poses in cat_poses.values() for p in poses}
    entry_textures = [tuple(e.textures) for e in cfg.objects.values()]  # read once: a config node is slow to read
    levels = {
        "category": list(cfg.categories),
        "pose": [p for p in AZIMUTH_BINS + (ANY_POSE,) if p in used_poses],
        "elevation": [str(level) for level in cfg.factors.elevation_levels],
        "context": list(cfg.contexts.keys()),
        "occlusion": list(OCCLUSION_LEVELS),
        "light": [str(level) for level in cfg.factors.light_levels],
        "color": list(cfg.colors.keys()),
        "material": list(cfg.materials.keys()),
        "texture": [t for t in cfg.textures.keys() if any(t in textures for textures in entry_textures)],
    }
    # factors of the look, only where scenes have them (a folder's maps: levels unknown
    # here, filled by the World)
    if cfg.lighting.environment != "none":
        levels["environment"] = environment_levels(cfg)
    if cfg.camera.effects:
        levels["effects"] = list(cfg.camera.effects.keys())
    if engine_levels(cfg):
        levels["engine"] = engine_levels(cfg)
    if float(cfg.rest.chance) > 0:  # the levels the dictionary's shapes rest in: the World's
        levels["rest"] = []
    if cfg.background.images:  # the folder's levels (the World's), and none when not every scene has one
        levels["background"] = [] if cfg.background.weight >= 1 else [NO_BACKGROUND]
    out_of_context = cfg.grammar.out_of_context
    allowed = {  # (context, category) -> whether the context holds it (each read once)
        (context, category): context_cfg.weight > 0 and context_allows(context_cfg, category, out_of_context)
        for context, context_cfg in cfg.contexts.items()
        for category in cat_poses
    }
    feasible = sorted(
        (category, pose, context)
        for category, poses in cat_poses.items()
        for pose in poses
        for context in cfg.contexts.keys()
        if allowed[context, category]
    )
    return levels, feasible
