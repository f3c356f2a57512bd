"""Frame: the renderer's output contract, a rendered scene as named image layers.

Every render backend returns one; labels, the dataset writer, the stream and the probe
read it, so none of them needs the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np


@dataclass(frozen=True, eq=False)
class Frame:
    """Named image layers of one rendered scene (H, W = camera height, width).

    Attributes:
        rgb: (H, W, 3) uint8 lit colour image.
        depth: (H, W) float32 depth along the optical axis (z), metres; 0 = no surface.
        instances: (H, W) uint16 instance ids: 0 background, i + 1 for scene.objects[i].
        semantic: (H, W) uint8 category ids: 0 background.
        parts: (H, W) uint8 part index within the pixel's object (1-based, the
            ``Part.index`` of its variant); 0 background, floor and walls.
        amodal: (N, H, W) bool silhouette of each object with nothing in front of it.
        normals: (H, W, 3) float32 unit surface normals in the camera frame (OpenCV
            axes), facing the camera; 0 where there is no surface (depth 0). None
            for a Frame built without them (``Renderer(..., normals=False)``).
    """

    rgb: np.ndarray
    depth: np.ndarray
    instances: np.ndarray
    semantic: np.ndarray
    parts: np.ndarray
    amodal: np.ndarray
    normals: Optional[np.ndarray] = None

    def layers(self) -> Dict[str, np.ndarray]:
        """The layers as a dict of named arrays (``normals`` only when present)."""
        layers = {
            "rgb": self.rgb,
            "depth": self.depth,
            "instances": self.instances,
            "semantic": self.semantic,
            "parts": self.parts,
            "amodal": self.amodal,
        }
        if self.normals is not None:
            layers["normals"] = self.normals
        return layers
