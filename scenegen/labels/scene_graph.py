"""Scene graph: pairwise spatial relations between a scene's objects, as seen from its
camera (plain dicts, JSON-ready).

Each relation is ``{"subject": i, "relation": r, "object": j}`` with 0-based indices
into ``Scene.objects`` (instance ids are i + 1), read "objects[i] r objects[j]":

    left-of / right-of    by the camera-frame x (OpenCV: x right) of the two objects'
                          box centres: i is left-of j when x_i < x_j - RELATION_MARGIN
                          (the viewer's egocentric left/right, as in CLEVR; not the
                          image column, which also depends on depth)
    in-front-of / behind  by the camera-frame z (depth along the optical axis) of the
                          box centres: i is in-front-of j when z_i < z_j - RELATION_MARGIN
    on / supports         from ``ObjectInstance.support``: i on j when objects[i]
                          stands on objects[j], and then j supports i

Centres closer than RELATION_MARGIN (5 cm) along an axis give neither relation of that
axis, so near ties are not labelled by noise. Every relation comes with its converse
(i left-of j exactly when j right-of i, and so on). The list is sorted by
(subject, object, relation).
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np

from ..scene.geometry import rigid_inverse, transform_points
from ..scene.scene import Scene

RELATION_MARGIN = 0.05  # metres
RELATIONS = ("left-of", "right-of", "in-front-of", "behind", "on", "supports")


def scene_relations(
    scene: Scene, centres: Optional[np.ndarray] = None, margin: float = RELATION_MARGIN
) -> List[dict]:
    """The pairwise relations of ``scene``'s objects (see the module docstring).

    Args:
        scene: the scene.
        centres: (N, 3) world box centres of the objects (e.g. the mean of the
            labels' ``box3d_world``); None uses their base centres
            (``ObjectInstance.position``).
        margin: metres; centres nearer than this along an axis give no relation there.
    """
    count = len(scene.objects)
    if centres is None:
        centres = np.array([obj.position for obj in scene.objects], dtype=float).reshape(-1, 3)
    camera_points = transform_points(rigid_inverse(scene.camera.pose), np.asarray(centres, dtype=float).reshape(-1, 3))
    x, z = camera_points[:, 0], camera_points[:, 2]
    relations = []
    for i in range(count):
        for j in range(count):
            if i == j:
                continue
            found = []
            if x[i] < x[j] - margin:
                found.append("left-of")
            elif x[i] > x[j] + margin:
                found.append("right-of")
            if z[i] < z[j] - margin:
                found.append("in-front-of")
            elif z[i] > z[j] + margin:
                found.append("behind")
            if scene.objects[i].support == j:
                found.append("on")
            if scene.objects[j].support == i:
                found.append("supports")
            relations.extend({"subject": i, "relation": r, "object": j} for r in sorted(found))
    return relations
