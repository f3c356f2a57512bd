"""Small changes of a sampled scene, for the local search of the worst case inside a
tuple: the target's yaw, the light intensity, an occluder's position, the target's
texture and colour.

Each change returns a new :class:`~scenegen.scene.scene.Scene` (scenes are frozen) and a short
text saying what changed. Objects standing on the target turn with it. The scene's
factor levels are measured again after rendering, so a change may move the target to
another level (a yaw past a bin edge); the local search keeps only scenes still in its
tuple.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from ..scene.scene import Scene

YAW_STEP_DEG = 15.0  # standard deviation of a yaw change, degrees
LIGHT_STEP = 0.35  # standard deviation of the log intensity factor
SHIFT_STEP = 0.25  # standard deviation of an occluder shift, in target sizes


def _replace_object(scene: Scene, i: int, **changes) -> Scene:
    objects = list(scene.objects)
    objects[i] = replace(objects[i], **changes)
    return replace(scene, objects=tuple(objects))


def turn_target(scene: Scene, rng: np.random.Generator, **_) -> Tuple[Scene, str]:
    """Turn the target (and what stands on it) about its base centre."""
    delta = math.radians(float(rng.normal(0.0, YAW_STEP_DEG)))
    target = scene.objects[scene.target]
    c, s = math.cos(delta), math.sin(delta)
    ox, oy = target.position[0], target.position[1]
    objects = list(scene.objects)
    for i, obj in enumerate(objects):
        if i == scene.target or obj.support == scene.target:
            dx, dy = obj.position[0] - ox, obj.position[1] - oy
            position = (ox + c * dx - s * dy, oy + s * dx + c * dy, obj.position[2])
            objects[i] = replace(obj, yaw=obj.yaw + delta, position=position)
    return replace(scene, objects=tuple(objects)), f"yaw {math.degrees(delta):+.1f} deg"


def scale_lights(scene: Scene, rng: np.random.Generator, **_) -> Tuple[Scene, str]:
    """Multiply every light's intensity by one log-normal factor."""
    factor = float(np.exp(rng.normal(0.0, LIGHT_STEP)))
    lights = tuple(replace(light, intensity=light.intensity * factor) for light in scene.lights)
    return replace(scene, lights=lights), f"lights x{factor:.2f}"


def shift_occluder(scene: Scene, rng: np.random.Generator, occluders: List[int] = (), **_) -> Optional[Tuple[Scene, str]]:
    """Move the object hiding most of the target sideways (across the line of sight);
    None when nothing hides it."""
    if not occluders:
        return None
    i = occluders[0]
    obj, target = scene.objects[i], scene.objects[scene.target]
    eye = np.array(scene.camera.position)
    sight = np.array(target.position) - eye
    across = np.array([-sight[1], sight[0], 0.0])
    norm = np.linalg.norm(across)
    if norm == 0:
        return None
    step = float(rng.normal(0.0, SHIFT_STEP)) * target.scale
    moved = np.array(obj.position) + across / norm * step
    return _replace_object(scene, i, position=tuple(float(v) for v in moved)), f"occluder {step:+.2f} m sideways"


def change_texture(scene: Scene, rng: np.random.Generator, entry=None, **_) -> Optional[Tuple[Scene, str]]:
    """Give the target another texture its dictionary entry allows."""
    current = scene.objects[scene.target].texture
    others = [t for t in entry.textures if t != current]
    if not others:
        return None
    texture = others[int(rng.integers(len(others)))]
    return _replace_object(scene, scene.target, texture=texture), f"texture {current} -> {texture}"


def change_color(scene: Scene, rng: np.random.Generator, entry=None, colors: Dict[str, tuple] = None, **_):
    """Give the target another colour its dictionary entry allows."""
    current = scene.objects[scene.target].color
    others = [c for c in entry.colors if c != current]
    if not others:
        return None
    color = others[int(rng.integers(len(others)))]
    rgb = tuple(float(v) for v in colors[color])
    return _replace_object(scene, scene.target, color=color, rgb=rgb), f"color {current} -> {color}"


CHANGES: Tuple[Callable, ...] = (turn_target, scale_lights, shift_occluder, change_texture, change_color)


def perturb(scene: Scene, rng: np.random.Generator, dictionary, colors: Dict[str, tuple],
            occluders: List[int]) -> Tuple[Scene, str]:
    """One random change of :data:`CHANGES` that applies to this scene.

    Args:
        scene: a scene with a target (``scene.target >= 0``).
        rng: the source of randomness.
        dictionary: the ObjectDictionary (allowed textures and colours of the target).
        colors: colour name -> RGB, ``cfg.colors``.
        occluders: indices in ``scene.objects`` of the objects hiding the target, most
            hidden pixels first.
    """
    entry = dictionary[scene.objects[scene.target].entry]
    for i in rng.permutation(len(CHANGES)):
        changed = CHANGES[int(i)](scene, rng, entry=entry, colors=colors, occluders=occluders)
        if changed is not None:
            return changed
    return turn_target(scene, rng)
