"""Piles: the grammar's ``arrange: pile`` (objects dropped in a heap) and the physics
that settles them.

Placement drops a pile's objects, each turned by a uniformly random rotation, in layers
over a disc around the pile's centre: within a layer their bounding circles do not
overlap, each layer starts 5 mm above the top of the one below, so nothing
interpenetrates at release. After the whole layout is placed, :func:`settle_piles`
simulates the fall with PyBullet (:mod:`scenegen.world.settle`): the pile objects move,
every other object is a fixed body (a pile dropped on a table may spill onto the
floor, and objects come to lean against furniture). The settled poses go back into the
layout; a pile object that left the floor or did not come to rest rejects the layout,
which the sampler then draws again within its bounded attempts (counted in its stats as
``pile did not settle``).

Pile objects are simulated as the convex hull of their whole shape (a mug's hull fills
its handle's gap: they may rest a few millimetres apart, never inside one another);
fixed objects as the hulls of their parts (what falls under a table's top reaches the
floor between its legs).
"""

from __future__ import annotations

import math
from typing import List, Optional

import numpy as np

from ..scene.geometry import rotation_about_z
from .rest import level_of
from .resting import RestPose, posed
from .settle import SettleBody, settle

PILE = "pile"  # the relation of a pile's objects
LAYER_GAP = 0.005  # metres between a layer's release height and the top of the one below
DROP_TRIES = 30  # spots tried for an object in the current layer before a new layer starts
# The drop disc's radius over that of the objects' summed areas. Measured on heaps of 10
# (benchmarks/bench_rest.py, 12 scenes): at 1.0 the heaps are 3-4 layers high, the top
# ones push the bottom ones into the floor, and 9 of 21 settles did not come to rest
# (116 ms of settling per scene); at 1.5, 2 layers, 1 of 13 (48 ms); at 2.0 a scatter.
PILE_SPREAD = 1.5


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """(3, 3) uniformly random proper rotation, from a unit quaternion of four normal
    draws."""
    x, y, z, w = rng.normal(size=4)
    n = math.sqrt(x * x + y * y + z * z + w * w)
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def pile_radius(radii) -> float:
    """Metres: the radius of the disc a pile is dropped over, for objects whose bounding
    circles have ``radii``: ``PILE_SPREAD`` times the radius of the disc of their summed
    areas, at least the largest circle."""
    radii = np.asarray(radii, dtype=float)
    return float(max(radii.max(), PILE_SPREAD * math.sqrt(float((radii**2).sum()))))


def drop_spots(rng: np.random.Generator, radii, heights, centre, radius: float, floor_z: float) -> List[np.ndarray]:
    """(3,) base centres (metres) where a pile's objects are released: layer by layer over
    the disc of ``radius`` about ``centre`` (2,), bounding circles of ``radii`` apart
    within a layer, the first layer ``LAYER_GAP`` above ``floor_z``; ``heights`` (metres)
    are the objects' box heights as they are turned."""
    spots, layer = [], []
    base = top = floor_z + LAYER_GAP
    for r, height in zip(radii, heights):
        for _ in range(DROP_TRIES):
            angle, reach = rng.uniform(0.0, 2 * math.pi), math.sqrt(rng.random()) * max(radius - r, 0.0)
            xy = np.asarray(centre, dtype=float) + reach * np.array([math.cos(angle), math.sin(angle)])
            if all(np.hypot(*(xy - other)) >= r + r_other for other, r_other in layer):
                break
        else:
            base, layer = top + LAYER_GAP, []
        layer.append((xy, r))
        top = max(top, base + height)
        spots.append(np.array([xy[0], xy[1], base]))
    return spots


def settle_piles(placed: list, physics, floor_half: float) -> bool:
    """Settle the pile objects of ``placed`` (the layout's
    :class:`scenegen.world.placement.Placed`, relation ``pile``) among the others (fixed),
    and put their settled poses back (yaw 0, the whole turn in their rest pose, level
    measured from it). ``physics``: ``cfg.physics``. False (``placed`` unchanged) when a
    pile object left the floor (``floor_half`` metres about the centre) or did not come
    to rest within ``physics.seconds``."""
    bodies = [_body(p) for p in placed]
    result = settle(bodies, area_half=floor_half, seconds=float(physics.seconds),
                    time_step=float(physics.time_step), friction=float(physics.friction))
    moving = [i for i, p in enumerate(placed) if p.relation == PILE]
    if not all(result.at_rest[i] and not result.left_area[i] for i in moving):
        return False
    for i in moving:
        p = placed[i]
        rotation = np.asarray(result.rotations[i])
        pose: RestPose = posed(p.entry.variant(p.style), rotation,
                               level_of(-rotation[2], p.entry.symmetry))
        origin = np.asarray(result.positions[i])
        p.rest, p.yaw = pose, 0.0
        p.position = origin - np.asarray(pose.offset) * p.scale  # the base centre of its box as it lies
    return True


def _body(p) -> SettleBody:
    """The settle body of a placed object: a pile object moves (its whole hull), any
    other is fixed (its parts' hulls), each at its canonical origin's pose."""
    variant = p.entry.variant(p.style)
    rotation: Optional[np.ndarray] = p.rest.rotation if p.rest is not None else None
    yaw = rotation_about_z(p.yaw)
    world = yaw if rotation is None else yaw @ rotation
    offset = np.zeros(3) if p.rest is None else np.asarray(p.rest.offset)
    origin = np.asarray(p.position, dtype=float) + yaw @ (offset * p.scale)
    if p.relation == PILE:
        pieces = (np.asarray(variant.mesh().vertices),)
    else:
        pieces = tuple(np.asarray(part.mesh.vertices) for part in variant.parts)
    return SettleBody(pieces, p.scale, tuple(map(tuple, world)), tuple(float(v) for v in origin),
                      fixed=p.relation != PILE)
