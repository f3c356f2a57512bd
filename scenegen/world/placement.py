"""Placement: a grammar derivation -> objects in the world, without interpenetration.

Every object rests on a surface, the ground or the flat top of the head of an ``on``
anchor, turned about the up axis: upright, or in a rest pose (:mod:`scenegen.world.resting`:
lying on a side, upside down, ...) whose box then stands for its shape's. Footprints are the rotated bounding
rectangles of the objects' shapes; two objects whose height intervals overlap keep
their footprints ``placement.gap`` apart, so no two objects interpenetrate. An object
whose yaw is still to be chosen (a directive's target, turned towards its pose level
once the camera is known) takes the square around its bounding circle instead, and the
objects on it stay inside its top's inscribed circle, so turning it later is safe.

Relations place an object's position from its anchor's: ``left-of``/``right-of``/
``in-front-of``/``behind`` along the scene's +y/-y/+x/-x, ``near`` in a random
direction, ``camera-front``/``camera-behind`` towards/away from the camera (whose
direction is drawn before the layout), each at the anchors' footprints' distance plus
``placement.gap`` plus up to ``grammar.near``. Retries are bounded by
``placement.attempts_per_object``; a failure raises :class:`LayoutFailed`.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np

from ..scene.geometry import (
    box_corners,
    convex_polygon_contains,
    footprint,
    rectangle_axes,
    rectangles_overlap,
    yaw_rotation,
)
from .dictionary import ObjectEntry
from .grammar import SCENE_RELATIONS, ObjectNode, RelationNode, RuleNode
from .piles import PILE, drop_spots, pile_radius, random_rotation
from .resting import RestPose, posed

FLOOR_MARGIN = 0.05  # metres kept free along the floor's edge (walls stand there)


class LayoutFailed(Exception):
    """An object found no free spot within its bounded attempts."""


@dataclass
class Placed:
    """An object being placed. ``position`` (3,) is its base centre in metres."""

    entry: ObjectEntry
    style: str
    node: ObjectNode
    position: np.ndarray
    yaw: float
    scale: float
    support: int = -1
    relation: str = "ground"
    anchor: int = -1
    free_yaw: bool = False
    rest: Optional[RestPose] = None  # None: upright (rest states off)
    # (what the footprint is made of..., its corners): corners() asked again of an object
    # that has not moved (the other objects of every fits test) is not worked out again
    _corners_memo: Optional[tuple] = field(default=None, init=False, repr=False, compare=False)

    @property
    def unit_extents(self) -> tuple:
        """(3,) canonical extents of its box as it lies (its rest pose's, else its shape's)."""
        return self.rest.extents if self.rest is not None else self.entry.shape_extents(self.style)

    @property
    def extents(self) -> np.ndarray:
        """(3,) metres."""
        return np.asarray(self.unit_extents) * self.scale

    @property
    def tipped(self) -> bool:
        """Lying in a rest level other than upright (its top is no support)."""
        return self.rest is not None and self.rest.tipped

    @property
    def radius(self) -> float:
        """Radius of the footprint's bounding circle, metres."""
        unit = self.unit_extents  # the floats of extents, without the array
        return float(np.hypot(unit[0] * self.scale, unit[1] * self.scale) / 2)

    @property
    def z_range(self) -> tuple[float, float]:
        return float(self.position[2]), float(self.position[2] + self.unit_extents[2] * self.scale)

    def _footprint(self) -> tuple[tuple[float, float], float]:
        """((half width, half depth) metres, yaw) of the footprint: the bounding circle's
        square while the yaw is still free (the target of a directive is turned later)."""
        if self.free_yaw:
            return (self.radius, self.radius), 0.0
        unit = self.unit_extents
        return (unit[0] * self.scale / 2, unit[1] * self.scale / 2), self.yaw

    def corners(self) -> np.ndarray:
        """(4, 2) footprint corners (read-only)."""
        x, y, memo = self.position[0], self.position[1], self._corners_memo
        if (memo is not None and memo[0] == x and memo[1] == y and memo[2] == self.yaw and memo[3] == self.scale
                and memo[4] is self.rest and memo[5] is self.entry and memo[6] == self.style
                and memo[7] == self.free_yaw):
            return memo[8]
        half, yaw = self._footprint()
        corners = footprint(self.position[:2], half, yaw)
        corners.flags.writeable = False
        self._corners_memo = (x, y, self.yaw, self.scale, self.rest, self.entry, self.style, self.free_yaw, corners)
        return corners

    def box(self) -> np.ndarray:
        """(8, 3) world corners of the object's box over its footprint."""
        half, yaw = self._footprint()
        return box_corners(self.position, yaw, (2 * half[0], 2 * half[1], self.unit_extents[2] * self.scale))

    @property
    def top_inradius(self) -> float:
        """Radius (metres) of the largest circle about the centre inside the top face:
        what stays on the top whatever the yaw."""
        outline = self.entry.top_outline(self.style)
        edges = np.roll(outline, -1, axis=0) - outline
        # distance from the canonical centre (0, 0) to each edge's line
        distances = np.abs(edges[:, 0] * outline[:, 1] - edges[:, 1] * outline[:, 0]) / np.linalg.norm(edges, axis=1)
        return float(distances.min()) * self.scale

    def top_outline(self) -> np.ndarray:
        """(K, 2) world outline of the top face, counter-clockwise (for supports)."""
        local = self.entry.top_outline(self.style) * self.scale
        return local @ yaw_rotation(self.yaw).T + self.position[:2]

    def reach(self, direction: np.ndarray) -> float:
        """How far the footprint extends from the centre along a unit xy ``direction``."""
        return float(((self.corners() - self.position[:2]) @ direction).max())


@dataclass(frozen=True)
class Surface:
    """Where objects stand: the ground (``support`` -1) or a support's top."""

    z: float = 0.0
    support: int = -1


@dataclass
class Layout:
    """The result of placing a derivation: objects in placement order, and for each
    derivation node the range of object indices it produced."""

    placed: List[Placed] = field(default_factory=list)
    spans: Dict[int, tuple[int, int]] = field(default_factory=dict)  # id(node) -> [start, stop)


class Placer:
    """Places one derivation. ``camera_azimuth`` (radians) orients the camera relations;
    ``target`` is the directive's target node (placed with a free yaw)."""

    def __init__(self, cfg, rng: np.random.Generator, camera_azimuth: float, floor_half: float, target=None,
                 rest_of: Optional[Callable[[ObjectNode, ObjectEntry, str], Optional[RestPose]]] = None):
        # plain floats: these are read for every candidate and every pair of objects
        self.gap = float(cfg.placement.gap)
        self.area = float(cfg.placement.area)
        self.attempts_per_object = int(cfg.placement.attempts_per_object)
        self.near = float(cfg.grammar.near)
        self.rng = rng
        self.to_camera = np.array([math.cos(camera_azimuth), math.sin(camera_azimuth)])
        self.floor_half = floor_half - FLOOR_MARGIN
        self.target = target
        self.rest_of = rest_of
        self.layout = Layout()
        self.entries: Dict[int, tuple[ObjectEntry, str]] = {}

    @property
    def placed(self) -> List[Placed]:
        return self.layout.placed

    def place(self, node, surface: Surface = Surface(), where=None) -> int:
        """Place ``node``'s objects on ``surface``; ``where`` = (relation, anchor index,
        direction or None) positions its head. Returns the head's index."""
        start = len(self.placed)
        if isinstance(node, ObjectNode):
            head = self._place_object(node, surface, where)
        elif isinstance(node, RuleNode):
            head = self.place(node.child, surface, where)
        elif isinstance(node, RelationNode):
            head = self.place(node.anchor, surface, where)
            if node.relation == "on":
                self.place(node.other, Surface(self.placed[head].z_range[1], head), None)
            else:
                self.place(node.other, Surface(self.placed[head].position[2], self.placed[head].support), (node.relation, head, None))
        elif node.arrange == PILE:
            head = self._place_pile(node, surface, where)
        else:
            head = -1
            row = None
            if node.arrange == "row":
                name = list(SCENE_RELATIONS)[int(self.rng.integers(len(SCENE_RELATIONS)))]
                row = (name, np.asarray(SCENE_RELATIONS[name]))
            previous = None
            for j, child in enumerate(node.children):
                if j == 0:
                    child_where = where
                elif node.arrange == "row":
                    child_where = (row[0], previous, row[1])
                elif node.arrange == "cluster":
                    child_where = ("near", head, None)
                else:
                    child_where = None
                # every child stands on the group's surface; the first child's head is the group's
                child_head = self.place(child, surface, child_where)
                if j == 0:
                    head = child_head
                previous = child_head
        self.layout.spans[id(node)] = (start, len(self.placed))
        return head

    # -- one object ---------------------------------------------------------------------

    def _place_object(self, node: ObjectNode, surface: Surface, where) -> int:
        entry, style = self.entries[id(node)]
        free_yaw = node is self.target
        rest = self.rest_of(node, entry, style) if self.rest_of is not None else None
        scales = self._scale_range(entry, style, surface, rest)
        for _ in range(self.attempts_per_object):
            candidate = Placed(
                entry=entry,
                style=style,
                node=node,
                position=np.zeros(3),
                yaw=float(self.rng.uniform(0.0, 2 * math.pi)),
                scale=float(self.rng.uniform(*scales)),
                support=surface.support,
                relation="on" if surface.support >= 0 else "ground",
                anchor=surface.support,
                free_yaw=free_yaw,
                rest=rest,
            )
            xy = self._position(candidate, surface, where)
            candidate.position = np.array([xy[0], xy[1], surface.z])
            if where is not None:
                candidate.relation, candidate.anchor = where[0], where[1]
            if self.fits(candidate, self.placed, surface):
                self.placed.append(candidate)
                return len(self.placed) - 1
        raise LayoutFailed(f"no free spot for a {entry.category!r} ({node.selector})")

    def _place_pile(self, node, surface: Surface, where) -> int:
        """Release a pile's objects (the children of ``node``, object nodes) over a disc on
        ``surface`` (see :mod:`scenegen.world.piles`); the disc's centre is placed as a
        free object would be, clear of every object placed before. Returns the first
        object's index (the pile's head)."""
        shapes = []
        for child in node.children:
            entry, style = self.entries[id(child)]
            rotation = random_rotation(self.rng)
            pose = posed(entry.variant(style), rotation, PILE)
            shapes.append((child, entry, style, float(self.rng.uniform(*self._scale_range(entry, style, surface, pose))),
                           pose))
        radii = [float(np.hypot(*np.asarray(pose.extents[:2]))) * scale / 2 for _, _, _, scale, pose in shapes]
        radius = pile_radius(radii)
        for _ in range(self.attempts_per_object):
            disc = Placed(entry=shapes[0][1], style=shapes[0][2], node=shapes[0][0], position=np.zeros(3), yaw=0.0,
                          scale=radius * 2 / float(np.hypot(*shapes[0][1].shape_extents(shapes[0][2])[:2])),
                          support=surface.support, free_yaw=True)
            xy = self._position(disc, surface, where)
            disc.position = np.array([xy[0], xy[1], surface.z])
            if self.fits(disc, self.placed, surface):
                break
        else:
            raise LayoutFailed(f"no free spot for a pile of {len(shapes)} ({node.signature()})")
        spots = drop_spots(self.rng, radii, [pose.extents[2] * scale for _, _, _, scale, pose in shapes],
                           xy, radius, surface.z)
        head = len(self.placed)
        for (child, entry, style, scale, pose), spot in zip(shapes, spots):
            self.placed.append(Placed(entry=entry, style=style, node=child, position=spot, yaw=0.0, scale=scale,
                                      support=surface.support, relation=PILE, anchor=head, rest=pose))
        return head

    def _scale_range(self, entry: ObjectEntry, style: str, surface: Surface, rest: Optional[RestPose] = None
                     ) -> tuple[float, float]:
        """The entry's size range, its top capped on a support so that the footprint's
        bounding circle (as it lies) fits the circle inscribed in the top (any yaw then
        stays on it); never below the entry's smallest size."""
        low, high = (float(v) for v in entry.size)
        if surface.support < 0:
            return low, high
        unit = np.asarray(rest.extents if rest is not None else entry.shape_extents(style))
        fit = 2 * self.placed[surface.support].top_inradius / float(np.hypot(*unit[:2]))
        return low, max(low, min(high, fit))

    def _position(self, candidate: Placed, surface: Surface, where) -> np.ndarray:
        rng = self.rng
        if where is None:
            if surface.support < 0:
                return rng.uniform(-self.area, self.area, size=2)
            base = self.placed[surface.support]
            if base.free_yaw:  # inside the top's inscribed circle, which any yaw keeps
                room = base.top_inradius - candidate.radius
                angle, r = rng.uniform(0, 2 * math.pi), math.sqrt(rng.random()) * max(room, 0.0)
                return base.position[:2] + r * np.array([math.cos(angle), math.sin(angle)])
            room = self._room_on(base, candidate)
            if (room < 0).any() and not candidate.free_yaw:
                # too big for this yaw: square it with the top (crates stack aligned)
                candidate.yaw = base.yaw + int(rng.integers(4)) * math.pi / 2
                room = self._room_on(base, candidate)
            local = rng.uniform(-1.0, 1.0, size=2) * np.maximum(room, 0.0)
            c, s = math.cos(base.yaw), math.sin(base.yaw)
            return base.position[:2] + np.array([c * local[0] - s * local[1], s * local[0] + c * local[1]])
        relation, anchor_index, direction = where
        anchor = self.placed[anchor_index]
        lateral = 0.0
        if direction is None:
            if relation in SCENE_RELATIONS:
                direction = np.asarray(SCENE_RELATIONS[relation])
            elif relation == "near":
                angle = rng.uniform(0, 2 * math.pi)
                direction = np.array([math.cos(angle), math.sin(angle)])
            elif relation == "camera-front":
                direction = self.to_camera
            else:  # camera-behind
                direction = -self.to_camera
        direction = np.asarray(direction, dtype=float)
        if relation in ("camera-front", "camera-behind"):
            lateral = rng.uniform(-1.0, 1.0) * 0.6 * (anchor.radius + candidate.radius)
        elif relation != "near":
            lateral = rng.uniform(-0.3, 0.3) * anchor.radius
        distance = anchor.reach(direction) + candidate.reach(-direction) + self.gap
        distance += rng.uniform(0.0, self.near)
        side = np.array([-direction[1], direction[0]])
        return anchor.position[:2] + distance * direction + lateral * side

    @staticmethod
    def _room_on(base: Placed, candidate: Placed) -> np.ndarray:
        """(2,) metres the candidate's centre may move from the top's centre along the
        top's axes with its footprint still on the top (negative: it cannot fit)."""
        if candidate.free_yaw:
            half = np.full(2, candidate.radius)
        else:
            c, s = abs(math.cos(candidate.yaw - base.yaw)), abs(math.sin(candidate.yaw - base.yaw))
            ex, ey = candidate.extents[:2] / 2
            half = np.array([c * ex + s * ey, s * ex + c * ey])
        return base.extents[:2] / 2 - half

    def fits(self, candidate: Placed, placed, surface: Surface, ignore=()) -> bool:
        """Whether ``candidate`` stands on its surface and clears every other object."""
        corners = candidate.corners()
        if surface.support >= 0:
            base = placed[surface.support]
            if base.free_yaw:
                room = base.top_inradius
                if np.hypot(*(candidate.position[:2] - base.position[:2])) + candidate.radius > room + 1e-9:
                    return False
            elif not convex_polygon_contains(base.top_outline(), corners):
                return False
        elif np.abs(corners).max() > self.floor_half:
            return False
        z0, z1 = candidate.z_range
        x, y = float(candidate.position[0]), float(candidate.position[1])
        reach = _corner_reach(candidate)
        axes = None  # the candidate's rectangle axes, once a neighbour needs them
        for i, other in enumerate(placed):
            if i in ignore or other is candidate:
                continue
            o0, o1 = other.z_range
            if z0 < o1 - 1e-9 and o0 < z1 - 1e-9:
                # centres this far apart: one of the candidate's own axes separates the two
                # rectangles by more than the gap, which rectangles_overlap would find
                apart = math.hypot(float(other.position[0]) - x, float(other.position[1]) - y)
                if apart > SQRT2 * (reach + _corner_reach(other) + self.gap) + 1e-9:
                    continue
                if axes is None:
                    axes = rectangle_axes(corners)
                if rectangles_overlap(corners, other.corners(), self.gap, axes):
                    return False
        return True


SQRT2 = math.sqrt(2.0)


def _corner_reach(p: Placed) -> float:
    """Distance (metres) from ``p``'s footprint centre to its corners (to rounding: the
    caller keeps a margin)."""
    width, depth = p.unit_extents[0] * p.scale, p.unit_extents[1] * p.scale
    reach = math.hypot(width, depth) / 2
    return reach * SQRT2 if p.free_yaw else reach  # free: the bounding circle's square


def dependents(placed: List[Placed], index: int) -> List[int]:
    """Indices of the objects standing on ``index``, directly or through others."""
    found, frontier = [], [index]
    while frontier:
        current = frontier.pop()
        for i, p in enumerate(placed):
            if p.support == current:
                found.append(i)
                frontier.append(i)
    return sorted(found)


def turn(placed: List[Placed], index: int, yaw: float) -> None:
    """Set object ``index``'s yaw, turning the objects on it with it about its centre."""
    delta = yaw - placed[index].yaw
    c, s = math.cos(delta), math.sin(delta)
    centre = placed[index].position[:2]
    placed[index].yaw = yaw
    for i in dependents(placed, index):
        rel = placed[i].position[:2] - centre
        placed[i].position = np.array([centre[0] + c * rel[0] - s * rel[1], centre[1] + s * rel[0] + c * rel[1], placed[i].position[2]])
        placed[i].yaw = placed[i].yaw + delta


def translate(placed: List[Placed], indices, offset_xy) -> None:
    """Move objects ``indices`` by ``offset_xy`` metres (in place)."""
    for i in indices:
        placed[i].position = placed[i].position + np.array([offset_xy[0], offset_xy[1], 0.0])


def copy_layout(placed: List[Placed]) -> List[Placed]:
    """Copies of ``placed``, each with its own position array (the rest shared)."""
    return [moved_copy(p) for p in placed]


def moved_copy(p: Placed) -> Placed:
    """A copy of ``p`` with its own position array, free to move: ``replace(p,
    position=p.position.copy())`` without its ``__init__`` (the occluder search's trials make
    thousands), its corners remembered while it stays where it was."""
    copied = copy.copy(p)
    copied.position = p.position.copy()
    return copied
