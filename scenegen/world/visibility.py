"""Renderer-free visibility estimates by ray casting (trimesh; Embree when installed).

Used by the sampler to realize occlusion directives before anything is rendered: the
visible fraction of an object is estimated on a grid of pixel rays over its projected
bounding box, as (rays whose first hit is the object) / (rays that hit the object at
all), the same ratio the labels measure on the rendered masks.

Each object is a :class:`Body`: its canonical mesh, whose ray intersector (an Embree BVH)
is built once and cached on the mesh, placed by a yaw, a scale and a position. Rays are
moved into the body's frame instead of moving the mesh into the world, so trying an
occluder at many spots builds no new acceleration structure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import trimesh

from ..scene.geometry import project, rotation_about_z
from ..scene.scene import Camera

GRID = 40  # rays per side of the object's image box at most


def pixel_rays(camera: Camera, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) origins and unit directions (world) of the rays through pixels (u, v)
    (OpenCV convention: pixel centres at integers)."""
    pose = camera.pose
    local = np.column_stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones(len(u))])
    directions = local @ pose[:3, :3].T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    return np.repeat(pose[:3, 3][None], len(u), axis=0), directions


def box_rays(vertices: np.ndarray, camera: Camera, grid: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) origins and unit directions (world) of a grid of at most ``grid`` x ``grid``
    pixel rays over the image box of ``vertices`` (V, 3) world metres, clipped to the
    image (N <= grid**2: rounded pixels are taken once)."""
    uv = project(vertices, camera.K, camera.pose)
    low = np.clip(np.floor(uv.min(axis=0)), 0, [camera.width - 1, camera.height - 1])
    high = np.clip(np.ceil(uv.max(axis=0)), 0, [camera.width - 1, camera.height - 1])
    us = np.unique(np.round(np.linspace(low[0], high[0], grid)))
    vs = np.unique(np.round(np.linspace(low[1], high[1], grid)))
    u, v = (a.ravel() for a in np.meshgrid(us, vs))
    return pixel_rays(camera, u, v)


@dataclass(frozen=True)
class Body:
    """A mesh placed in the world: ``world = scale * R(yaw) @ canonical + position``.

    Attributes:
        mesh: the canonical mesh (its intersector is cached on it, so share it).
        yaw: rotation about +z, radians.
        scale: uniform scale (unitless; canonical units to metres).
        position: (3,) world translation, metres.
    """

    mesh: trimesh.Trimesh
    yaw: float = 0.0
    scale: float = 1.0
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def rotation(self) -> np.ndarray:
        """(3, 3) world-from-body rotation."""
        return rotation_about_z(self.yaw)

    def world_vertices(self) -> np.ndarray:
        """(V, 3) vertices in the world frame, metres."""
        return np.asarray(self.mesh.vertices) * self.scale @ self.rotation.T + np.asarray(self.position)

    def hit_distances(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """(N,) world distance (metres) along each unit ray (N, 3) to its first hit on this
        body; ``inf`` where the ray misses it."""
        rotation = self.rotation
        # row vectors: body = R^T (world - position) / scale; unit directions stay unit
        local_origins = (origins - np.asarray(self.position)) @ rotation / self.scale
        local_directions = directions @ rotation
        distances = np.full(len(origins), np.inf)
        if len(origins) == 0:
            return distances
        locations, rays, _ = self.mesh.ray.intersects_location(local_origins, local_directions, multiple_hits=False)
        if len(rays):
            along = np.linalg.norm(locations - local_origins[rays], axis=1) * self.scale
            np.minimum.at(distances, rays, along)
        return distances


def box_body(extents: Sequence[float], centre: Sequence[float]) -> Body:
    """An axis-aligned box of ``extents`` (3,) metres centred at ``centre`` (3,)."""
    return Body(trimesh.creation.box(extents=extents), position=tuple(float(c) for c in centre))


def visible_fraction(bodies: Sequence[Body], camera: Camera, index: int, grid: int = GRID) -> float:
    """Estimated visible fraction in [0, 1] of body ``index`` among ``bodies``; 0 when
    the body covers no ray of the grid. A ray counts as visible where the body's first
    hit is not farther than any other body's (touching surfaces count as visible)."""
    target = bodies[index]
    origins, directions = box_rays(target.world_vertices(), camera, grid)
    own = target.hit_distances(origins, directions)
    on_target = np.isfinite(own)
    if not on_target.any():
        return 0.0
    origins, directions, own = origins[on_target], directions[on_target], own[on_target]
    visible = np.ones(len(own), dtype=bool)
    for i, body in enumerate(bodies):
        rays = np.flatnonzero(visible)  # only rays no other body has hidden yet
        if i == index or len(rays) == 0:
            continue
        visible[rays] = own[rays] <= body.hit_distances(origins[rays], directions[rays])
    return float(visible.sum() / len(own))
