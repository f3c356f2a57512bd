"""Renderer-free visibility estimates by ray casting (trimesh; Embree when installed).

Used by the sampler to realize occlusion directives before anything is rendered: the
visible fraction of an object is estimated on a grid of pixel rays over its projected
bounding box, as (rays whose first hit is the object) / (rays that hit the object at
all), the same ratio the labels measure on the rendered masks.
"""

from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np
import trimesh

from ..scene.geometry import project
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


Geometry = Tuple[np.ndarray, np.ndarray]  # (V, 3) float world vertices (metres), (F, 3) int faces


def visible_fraction(geometry: Sequence[Geometry], camera: Camera, index: int, grid: int = GRID) -> float:
    """Estimated visible fraction in [0, 1] of object ``index`` among all objects of
    ``geometry`` (one (vertices, faces) pair per object, world frame); 0 when the object
    covers no ray of the grid."""
    vertices, faces = geometry[index]
    uv = project(vertices, camera.K, camera.pose)
    low = np.clip(np.floor(uv.min(axis=0)), 0, [camera.width - 1, camera.height - 1])
    high = np.clip(np.ceil(uv.max(axis=0)), 0, [camera.width - 1, camera.height - 1])
    us = np.unique(np.round(np.linspace(low[0], high[0], grid)))
    vs = np.unique(np.round(np.linspace(low[1], high[1], grid)))
    u, v = (a.ravel() for a in np.meshgrid(us, vs))
    origins, directions = pixel_rays(camera, u, v)
    target = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    on_target = target.ray.intersects_any(origins, directions)
    if not on_target.any():
        return 0.0
    offsets = np.cumsum([0] + [len(v) for v, _ in geometry[:-1]])
    scene = trimesh.Trimesh(
        vertices=np.vstack([v for v, _ in geometry]),
        faces=np.vstack([f + offset for (_, f), offset in zip(geometry, offsets)]),
        process=False,
    )
    owner = np.repeat(np.arange(len(geometry)), [len(f) for _, f in geometry])
    first = scene.ray.intersects_first(origins[on_target], directions[on_target])
    visible = (first >= 0) & (owner[np.maximum(first, 0)] == index)
    return float(visible.sum() / on_target.sum())
