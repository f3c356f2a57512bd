"""Sampler: (config, dictionary, seed, index) -> Scene, in independent stages.

Scene ``index`` of root seed ``seed`` draws from ``SeedSequence(seed, spawn_key=(index,))``,
so it is the same in any process and any order and can be regenerated alone. Each stage
(context, layout, appearance, lights, camera) has its own child stream, so an extra draw
in one stage never moves the values of another. The sampler never imports the renderer.

Placement grammar (first version): every object stands upright (rotated only about the
up axis) on the ground, inside a square of half side ``placement.area``, or on the flat
top of an object whose entry has ``support: true``. Footprints are the rotated
bounding rectangles of the objects; two objects whose height intervals overlap keep
their footprints at least ``placement.gap`` apart, so no two objects interpenetrate.
Retries are bounded by ``placement.attempts_per_object`` and
``placement.attempts_per_scene``; beyond them a :class:`PlacementError` is raised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence

import numpy as np

from .dictionary import ObjectDictionary, ObjectEntry
from .errors import PlacementError
from .factors import context_allows
from .geometry import (
    box_corners,
    direction,
    footprint,
    intrinsics_from_fov,
    look_at_opencv,
    rectangle_contains,
    rectangles_overlap,
)
from .scene import Camera, Context, Light, ObjectInstance, Scene

STAGES = ("context", "layout", "appearance", "lights", "camera")


def stage_rngs(seed: int, index: int) -> dict[str, np.random.Generator]:
    """One independent generator per sampling stage for scene ``index`` of root ``seed``."""
    root = np.random.SeedSequence(seed, spawn_key=(index,))
    return {name: np.random.default_rng(child) for name, child in zip(STAGES, root.spawn(len(STAGES)))}


@dataclass(frozen=True)
class _Placed:
    """An object being placed: its entry, geometry in world, and support."""

    entry: ObjectEntry
    position: np.ndarray  # (3,) base centre, metres
    yaw: float
    scale: float
    support: int

    style: str = ""

    @property
    def extents(self) -> np.ndarray:
        return np.asarray(self.entry.variant(self.style).extents)

    @property
    def half_extents(self) -> np.ndarray:
        return self.extents[:2] * self.scale / 2

    @property
    def height(self) -> float:
        return self.extents[2] * self.scale

    @property
    def z_range(self) -> tuple[float, float]:
        return self.position[2], self.position[2] + self.height

    def corners(self) -> np.ndarray:
        return footprint(self.position[:2], self.half_extents, self.yaw)


class Sampler:
    """Draws scenes from a validated config.

    Args:
        cfg: config from :func:`scenegen.config.load_config`.
        dictionary: the object dictionary; built from ``cfg`` when omitted.
    """

    def __init__(self, cfg, dictionary: Optional[ObjectDictionary] = None):
        self.cfg = cfg
        self.dictionary = dictionary if dictionary is not None else ObjectDictionary.from_config(cfg)
        self._context_names = list(cfg.contexts.keys())
        self._context_weights = np.array([cfg.contexts[c].weight for c in self._context_names], float)

    def sample(self, index: int) -> Scene:
        """Scene ``index`` of the config's root seed.

        Raises:
            PlacementError: the layout could not be placed within the bounded retries.
        """
        if index < 0:
            raise ValueError(f"scene index must be >= 0, got {index}")
        rngs = stage_rngs(self.cfg.seed, index)
        context_name = self._sample_context(rngs["context"])
        placed = self._sample_layout(rngs["layout"], context_name)
        objects = self._sample_appearance(rngs["appearance"], placed)
        lights = self._sample_lights(rngs["lights"])
        camera = self._sample_camera(rngs["camera"], placed)
        return Scene(
            index=index,
            seed=int(self.cfg.seed),
            context=self._context(context_name),
            objects=objects,
            lights=lights,
            camera=camera,
        )

    # -- stages ---------------------------------------------------------------------

    def _sample_context(self, rng: np.random.Generator) -> str:
        probabilities = self._context_weights / self._context_weights.sum()
        return self._context_names[int(rng.choice(len(self._context_names), p=probabilities))]

    def _context(self, name: str) -> Context:
        c = self.cfg.contexts[name]
        return Context(
            name=name,
            background=tuple(float(v) for v in c.background),
            floor_color=tuple(float(v) for v in c.floor_color),
            floor_size=float(c.floor_size),
            walls=bool(c.walls),
            wall_color=tuple(float(v) for v in c.wall_color),
            wall_height=float(c.wall_height),
            ambient=float(c.ambient),
            floor_texture=str(c.floor_texture),
            wall_texture=str(c.wall_texture),
        )

    def _entry_weights(self, context_name: str) -> tuple[list[ObjectEntry], np.ndarray]:
        """Entries and their probabilities in a context: a category's weight is split
        evenly among its entries."""
        context = self.cfg.contexts[context_name]
        entries, weights = [], []
        for category in self.dictionary.categories:
            members = self.dictionary.entries_of(category)
            if not members or not context_allows(context, category):
                continue
            weight = float(context.weights.get(category, context.default_weight))
            for entry in members:
                entries.append(entry)
                weights.append(weight / len(members))
        weights = np.asarray(weights)
        return entries, weights / weights.sum()

    def _sample_layout(self, rng: np.random.Generator, context_name: str) -> List[_Placed]:
        placement = self.cfg.placement
        lo, hi = placement.objects
        count = int(rng.integers(lo, hi + 1))
        entries, probabilities = self._entry_weights(context_name)
        for _ in range(placement.attempts_per_scene):
            placed: List[_Placed] = []
            for _ in range(count):
                entry = entries[int(rng.choice(len(entries), p=probabilities))]
                scale = float(rng.uniform(*entry.size))
                candidate = self._place_one(rng, entry, scale, placed)
                if candidate is None:
                    break
                placed.append(candidate)
            else:
                return placed
        raise PlacementError(
            f"could not place {count} objects in context {context_name!r} within "
            f"placement.attempts_per_scene={placement.attempts_per_scene} layouts of "
            f"placement.attempts_per_object={placement.attempts_per_object} tries each; "
            f"enlarge placement.area (now {placement.area} m), lower placement.objects "
            f"(now {list(placement.objects)}) or the entries' sizes"
        )

    def _place_one(
        self, rng: np.random.Generator, entry: ObjectEntry, scale: float, placed: Sequence[_Placed]
    ) -> Optional[_Placed]:
        placement = self.cfg.placement
        supports = [i for i, p in enumerate(placed) if p.entry.support]
        for _ in range(placement.attempts_per_object):
            yaw = float(rng.uniform(0.0, 2 * math.pi))
            if supports and rng.random() < 0.3:
                support = supports[int(rng.integers(len(supports)))]
                base = placed[support]
                local = rng.uniform(-base.half_extents, base.half_extents)
                c, s = math.cos(base.yaw), math.sin(base.yaw)
                xy = base.position[:2] + np.array([c * local[0] - s * local[1], s * local[0] + c * local[1]])
                position = np.array([xy[0], xy[1], base.z_range[1]])
            else:
                support = -1
                position = np.array([*rng.uniform(-placement.area, placement.area, size=2), 0.0])
            candidate = _Placed(entry, position, yaw, scale, support, entry.sample_style(rng))
            if self._fits(candidate, placed):
                return candidate
        return None

    def _fits(self, candidate: _Placed, placed: Sequence[_Placed]) -> bool:
        corners = candidate.corners()
        if candidate.support >= 0 and not rectangle_contains(placed[candidate.support].corners(), corners):
            return False
        z0, z1 = candidate.z_range
        for other in placed:
            o0, o1 = other.z_range
            if z0 < o1 - 1e-9 and o0 < z1 - 1e-9 and rectangles_overlap(
                corners, other.corners(), self.cfg.placement.gap
            ):
                return False
        return True

    def _sample_appearance(self, rng: np.random.Generator, placed: Sequence[_Placed]) -> tuple:
        objects = []
        for p in placed:
            color = p.entry.colors[int(rng.integers(len(p.entry.colors)))]
            material = p.entry.materials[int(rng.integers(len(p.entry.materials)))]
            material_cfg = self.cfg.materials[material]
            texture = p.entry.textures[int(rng.integers(len(p.entry.textures)))]
            objects.append(
                ObjectInstance(
                    entry=p.entry.name,
                    category=p.entry.category,
                    position=tuple(float(v) for v in p.position),
                    yaw=p.yaw,
                    scale=p.scale,
                    color=color,
                    rgb=tuple(float(v) for v in self.cfg.colors[color]),
                    material=material,
                    metallic=float(material_cfg.metallic),
                    roughness=float(material_cfg.roughness),
                    support=p.support,
                    style=p.style,
                    texture=texture,
                    relation="on" if p.support >= 0 else "ground",
                    anchor=p.support,
                )
            )
        return tuple(objects)

    def _sample_lights(self, rng: np.random.Generator) -> tuple:
        lights_cfg = self.cfg.lights
        lo, hi = lights_cfg.count
        lights = []
        for _ in range(int(rng.integers(lo, hi + 1))):
            azimuth = math.radians(rng.uniform(*lights_cfg.azimuth))
            elevation = math.radians(rng.uniform(*lights_cfg.elevation))
            tint = lights_cfg.tints[int(rng.integers(len(lights_cfg.tints)))]
            lights.append(
                Light(
                    direction=tuple(float(v) for v in direction(azimuth, elevation)),
                    color=tuple(float(v) for v in tint),
                    intensity=float(rng.uniform(*lights_cfg.intensity)),
                )
            )
        return tuple(lights)

    def _sample_camera(self, rng: np.random.Generator, placed: Sequence[_Placed]) -> Camera:
        """Aim at the centre of the objects' bounding box, far enough that their bounding
        sphere fits the narrower field of view, so every object is inside the frame."""
        camera_cfg = self.cfg.camera
        width, height = int(self.cfg.width), int(self.cfg.height)
        corners = np.vstack([box_corners(p.position, p.yaw, p.extents * p.scale) for p in placed])
        target = (corners.min(axis=0) + corners.max(axis=0)) / 2
        radius = float(np.linalg.norm(corners - target, axis=1).max())
        fov_y = math.radians(rng.uniform(*camera_cfg.fov))
        fov_x = 2 * math.atan(math.tan(fov_y / 2) * width / height)
        fit_distance = radius / math.sin(min(fov_x, fov_y) / 2)
        distance = fit_distance * float(rng.uniform(*camera_cfg.distance))
        azimuth = math.radians(rng.uniform(*camera_cfg.azimuth)) % (2 * math.pi)
        elevation = math.radians(rng.uniform(*camera_cfg.elevation))
        eye = target + distance * direction(azimuth, elevation)
        pose = look_at_opencv(eye, target)
        fx, fy, cx, cy = intrinsics_from_fov(fov_y, width, height)
        return Camera(
            width=width,
            height=height,
            fx=fx,
            fy=fy,
            cx=cx,
            cy=cy,
            world_from_camera=tuple(tuple(float(v) for v in row) for row in pose),
            target=tuple(float(v) for v in target),
            distance=float(distance),
            azimuth=float(azimuth),
            elevation=float(elevation),
            znear=float(camera_cfg.znear),
            zfar=float(camera_cfg.zfar),
        )


def sample_scene(cfg, index: int, dictionary: Optional[ObjectDictionary] = None) -> Scene:
    """Scene ``index`` of ``cfg.seed`` (convenience wrapper around :class:`Sampler`)."""
    return Sampler(cfg, dictionary).sample(index)
