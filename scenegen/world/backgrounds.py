"""Background photographs: a folder of images, one drawn per scene and seen behind it.

``background.images=DIR``: every ``.jpg``, ``.jpeg``, ``.png`` and ``.webp`` directly in
``DIR`` is a photograph named by its file name without the extension, with the factor
level and weight its ``meta.yaml`` gives it (:mod:`scenegen.world.folders`). The
renderer draws it where no surface is (no floor, wall or object), scaled to cover the
image and centred; no label layer changes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ConfigError, choices
from .folders import LevelledFolder, LevelledSet

PHOTO_SUFFIXES = (".jpeg", ".jpg", ".png", ".webp")
MAX_SIDE = 2048  # pixels: larger photographs are scaled down to this longer side


def read_photo(path: Path, max_side: int = MAX_SIDE) -> np.ndarray:
    """(H, W, 3) uint8 sRGB pixels of the image ``path`` (its alpha dropped), scaled
    down (Lanczos) so its longer side is at most ``max_side``.

    Raises:
        ConfigError: the file is not an image Pillow reads, naming it.
    """
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not a readable image ({exc}); valid: {choices(PHOTO_SUFFIXES)} files") from None
    longer = max(image.size)
    if longer > max_side:
        scale = max_side / longer
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


class BackgroundSet(LevelledSet):
    """The photographs of one folder, their ``background`` factor levels and weights;
    pixels read on demand.

    Attributes:
        source: the folder, as configured.
        names: the photographs' names (sorted file stems).
    """

    what = "background photo"

    def __init__(self, source: str, found: LevelledFolder):
        super().__init__(source, found.levels, found.weights)
        self._files = found.files

    @classmethod
    def load(cls, source: str) -> BackgroundSet:
        """The photographs of folder ``source`` (names only).

        Raises:
            ConfigError: a missing folder, one without photographs, two of one name, a
                broken ``meta.yaml``, a name or level that is not a valid factor level.
        """
        return cls(source, LevelledFolder.load(Path(source), PHOTO_SUFFIXES, "background photo"))

    def photo(self, name: str) -> np.ndarray:
        """(H, W, 3) uint8 pixels of photograph ``name`` (:func:`read_photo`)."""
        return read_photo(self._files[self._known(name)])
