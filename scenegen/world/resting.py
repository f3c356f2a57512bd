"""The rest levels the sampler draws: per dictionary entry and shape, which levels of
:mod:`scenegen.world.rest` an object may lie in (``rest.levels``), with which weights
(``rest.weighting``), how often (``rest.chance``), and where each level puts the object.

A level's :class:`RestPose` turns the canonical shape onto the level's facet and moves it
so that the turned shape's axis-aligned box is centred in x and y with its base on z = 0,
like a canonical shape: placement then treats a lying object as an upright one with other
extents. ``upright`` is the canonical pose itself, exactly (no rotation), so upright
objects keep every value they had before rest states existed.

Objects that carry others (the grammar's ``on`` anchors) always stand upright; the
others draw, from the ``rest`` stream, ``u < rest.chance`` and then a level by weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Dict, Optional, Tuple

import numpy as np

from ..lazy import trimesh
from ..scene.factors import pose_bin, pose_levels
from ..scene.geometry import rotation_about_z
from ..streams import cumulative, draw_index
from .dictionary import ObjectEntry
from .rest import LEVELS, rest_states
from .settle import center_of_mass

UPRIGHT = "upright"
POSE_YAWS = 72  # turns about the vertical tried when a pose is asked of a lying object
POSE_ELEVATIONS = 7  # camera elevations (over camera.elevation) tried for which poses it can show


@dataclass(frozen=True, eq=False)
class RestPose:
    """One rest level of one shape, ready to place.

    Attributes:
        level: its name (:data:`scenegen.world.rest.LEVELS`).
        rotation: (3, 3) rotation of the canonical frame; None for ``upright`` (none).
        offset: (3,) canonical units: ``rotation @ v + offset`` rests the shape with its
            box centred in x and y and its base on z = 0.
        extents: (3,) canonical extents of that box.
        mesh: the canonical mesh so turned and moved (``upright``: the shape's own).
    """

    level: str
    rotation: Optional[np.ndarray]
    offset: Tuple[float, float, float]
    extents: Tuple[float, float, float]
    mesh: trimesh.Trimesh

    @property
    def tipped(self) -> bool:
        return self.rotation is not None

    def instance_fields(self) -> dict:
        """The :class:`scenegen.scene.scene.ObjectInstance` fields of this pose."""
        if self.rotation is None:
            return {"rest": self.level}
        return {"rest": self.level, "rest_rotation": tuple(float(v) for v in self.rotation.ravel()),
                "rest_offset": self.offset}

    @cached_property
    def down(self) -> np.ndarray:
        """(3,) unit canonical direction that points to the ground."""
        return np.array([0.0, 0.0, -1.0]) if self.rotation is None else -self.rotation[2]


def posed(variant, rotation: np.ndarray, level: str) -> RestPose:
    """The :class:`RestPose` of ``variant`` turned by ``rotation`` (3, 3)."""
    mesh = variant.mesh().copy(include_cache=False)
    turned = np.asarray(mesh.vertices, dtype=np.float64) @ rotation.T
    low, high = turned.min(axis=0), turned.max(axis=0)
    offset = np.array([-(low[0] + high[0]) / 2, -(low[1] + high[1]) / 2, -low[2]]) + 0.0
    transform = np.eye(4)
    transform[:3, :3] = rotation
    transform[:3, 3] = offset
    mesh.apply_transform(transform)
    return RestPose(level, rotation, tuple(float(v) for v in offset), tuple(float(v) for v in high - low), mesh)


class RestTable:
    """The rest levels of a config's dictionary (``cfg.rest``), worked out on demand and
    kept for the life of the table (the analysis itself is cached on disk, see
    :func:`scenegen.world.rest.rest_states`).

    Args:
        rest_cfg: ``cfg.rest`` (chance, weighting, levels).
        dictionary: the object dictionary.
    """

    def __init__(self, rest_cfg, dictionary):
        self.chance = float(rest_cfg.chance)
        self.weighting = str(rest_cfg.weighting)
        self._wanted = {str(k): {str(level): float(w) for level, w in v.items()} for k, v in rest_cfg.levels.items()}
        self.dictionary = dictionary
        self._poses: Dict[tuple, Dict[str, RestPose]] = {}
        self._weights: Dict[tuple, Tuple[list, np.ndarray]] = {}
        self._poses_shown: Dict[tuple, frozenset] = {}

    @property
    def on(self) -> bool:
        """Whether objects draw rest levels (``rest.chance`` > 0)."""
        return self.chance > 0

    def _listed(self, entry: ObjectEntry) -> Optional[Dict[str, float]]:
        """``rest.levels`` of the entry (by name, else by category), or None."""
        return self._wanted.get(entry.name, self._wanted.get(entry.category))

    @staticmethod
    def _states(entry: ObjectEntry, style: str) -> tuple:
        """The shape's rest states, its centre of mass that of its parts' solid hulls (an
        open chair's hull centroid, empty space counted as solid, sits 14 cm too low and
        too far forward: four of its states would tip over)."""
        variant = entry.variant(style)
        return rest_states(variant.mesh(), entry.symmetry,
                           center=center_of_mass([part.mesh.vertices for part in variant.parts]))

    def poses(self, entry: ObjectEntry, style: str) -> Dict[str, RestPose]:
        """Level -> pose of every level the shape may rest in, ``upright`` first: its
        analysed levels that ``rest.levels`` allows (weight > 0; upright always)."""
        key = (entry.name, style)
        found = self._poses.get(key)
        if found is None:
            variant = entry.variant(style)
            listed = self._listed(entry)
            found = {UPRIGHT: RestPose(UPRIGHT, None, (0.0, 0.0, 0.0), tuple(variant.extents), variant.mesh())}
            for state in self._states(entry, style):
                if state.level == UPRIGHT or (listed is not None and listed.get(state.level, 0.0) <= 0):
                    continue
                found[state.level] = posed(variant, np.array(state.rotation, dtype=float), state.level)
            self._poses[key] = found
        return found

    def weights(self, entry: ObjectEntry, style: str) -> Tuple[list, np.ndarray]:
        """(levels, weights) the shape draws from: ``rest.levels``' weights where the
        entry is listed, else its levels' landing probabilities (``weighting=
        probability``) or equal weights (``uniform``)."""
        key = (entry.name, style)
        found = self._weights.get(key)
        if found is None:
            levels = list(self.poses(entry, style))
            listed = self._listed(entry)
            if listed is not None:
                weights = [listed.get(level, 0.0) for level in levels]
                if not any(w > 0 for w in weights):  # only levels it cannot take: upright
                    weights = [1.0 if level == UPRIGHT else 0.0 for level in levels]
            elif self.weighting == "uniform":
                weights = [1.0] * len(levels)
            else:
                probability = {s.level: s.probability for s in self._states(entry, style)}
                weights = [max(probability.get(level, 0.0), 1e-6) for level in levels]
            found = self._weights[key] = (levels, np.asarray(weights, dtype=float))
        return found

    def levels_of(self, entry: ObjectEntry) -> Tuple[str, ...]:
        """Every level some shape of the entry may be drawn in (:data:`LEVELS` order)."""
        shown = set()
        for style in entry.styles:
            levels, weights = self.weights(entry, style)
            shown.update(level for level, w in zip(levels, weights) if w > 0 or level == UPRIGHT)
        return tuple(level for level in LEVELS if level in shown)

    def styles_with(self, entry: ObjectEntry, level: str) -> Tuple[str, ...]:
        """The entry's styles that may rest in ``level``."""
        return tuple(s for s in entry.styles if level in self.poses(entry, s))

    def draw(self, rng: np.random.Generator, entry: ObjectEntry, style: str) -> RestPose:
        """A pose of the shape: with chance ``rest.chance`` a level drawn by weight, else
        upright (one ``rng.random()``, then one ``rng.choice`` when drawing)."""
        if rng.random() >= self.chance:
            return self.poses(entry, style)[UPRIGHT]
        levels, weights = self.weights(entry, style)
        level = levels[draw_index(rng, cumulative(weights / weights.sum()))]
        return self.poses(entry, style)[level]

    def poses_shown(self, entry: ObjectEntry, style: str, level: str, elevations: Tuple[float, float]) -> frozenset:
        """The pose levels (camera azimuth bins in the object's frame) a camera at
        elevations within ``elevations`` (degrees) can see the shape at in ``level``,
        over every turn about the vertical (a grid of turns and elevations)."""
        key = (entry.name, style, level, elevations)
        found = self._poses_shown.get(key)
        if found is None:
            pose = self.poses(entry, style)[level]
            if not pose.tipped:
                found = frozenset(pose_levels(entry.symmetry))
            else:
                shown = set()
                for elevation in np.radians(np.linspace(*elevations, POSE_ELEVATIONS)):
                    for yaw in np.linspace(0.0, 2 * math.pi, POSE_YAWS, endpoint=False):
                        eye = np.array([math.cos(elevation), 0.0, math.sin(elevation)])
                        shown.add(pose_bin(object_azimuth(pose.rotation, yaw, eye), entry.symmetry))
                found = frozenset(shown)
            self._poses_shown[key] = found
        return found


def object_azimuth(rotation: np.ndarray, yaw: float, to_eye: np.ndarray) -> float:
    """Azimuth in [0, 2 pi) of the direction ``to_eye`` (3,) world, seen in the frame of
    an object turned by ``rotation`` (3, 3) and then by ``yaw`` about the vertical."""
    world = rotation_about_z(yaw) @ rotation
    local = world.T @ np.asarray(to_eye, dtype=float)
    return math.atan2(local[1], local[0]) % (2 * math.pi)
