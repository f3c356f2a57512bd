"""One library file as a dictionary entry's geometry: :func:`load_body` (the same steps as
a ``mesh`` entry of the dictionary: read and check the file, turn its axes into the
object frame, split creases keeping its look) and :class:`LibraryAsset`, which loads its
file on first use and then shares it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ...config.mesh_frame import file_to_object
from ...errors import MeshError
from ..appearance import read_appearance, split_creases_keeping
from ..shapes import load_mesh_file, split_creases


def load_body(path: Path, up: str, front: str, max_faces: int, key: str, search: tuple = (), simplify: bool = False):
    """The mesh of a library file in the object frame's axes (file units) and its look
    (a FileAppearance, or None when the file carries none). ``search``: folders where
    the files it refers to (textures) may also lie.

    Raises:
        MeshError: see :func:`scenegen.world.shapes.load_mesh_file`.
        ConfigError: a bad ``up``/``front`` (naming ``key``).
    """
    matrix, _ = file_to_object({"mesh": str(path), "up": up, "front": front}, key)
    body = load_mesh_file(path, max_faces, search, simplify)
    if not np.array_equal(matrix, np.eye(4)):
        body.apply_transform(matrix)
    look = read_appearance(body)
    if look is None:
        return split_creases(body), None
    return split_creases_keeping(body, look)


class LibraryAsset:
    """A library file that a dictionary entry is made of; loaded on first use.

    Attributes:
        name: the entry's name, ``<library>:<relative path>``.
        category: its scenegen category.
        size: (min, max) metres of its largest extent.
        symmetry: its order of rotational symmetry about up.
        has_look: whether the file carries its own appearance (known from the index).
        extents: (3,) extents of its shape normalised to a largest extent of 1 (from the
            index), known without reading the file.
        source: ``{"library", "layout", "path", "category", "name", "license",
            "attribution", "non_commercial", "sha256"}``: what the manifest lists.
    """

    def __init__(self, name: str, category: str, size: tuple, symmetry: int, has_look: bool, source: dict,
                 root: Path, up: str, front: str, max_faces: int, extents: tuple, search: tuple = (),
                 simplify: bool = False):
        self.name, self.category, self.size, self.symmetry = name, category, size, symmetry
        self.extents = extents
        self._search = search
        self.has_look, self.source = has_look, source
        self._root, self._up, self._front, self._max_faces, self._simplify = root, up, front, max_faces, simplify
        self._loaded: Optional[tuple] = None

    @property
    def path(self) -> Path:
        return self._root / self.source["path"]

    def load(self) -> tuple:
        """(mesh, look), read once per process.

        Raises:
            MeshError: the file went outside the library or is broken since it was indexed.
        """
        if self._loaded is None:
            if not self.path.resolve().is_relative_to(self._root):
                raise MeshError(f"library file {str(self.path)!r} now leads outside its library's folder")
            self._loaded = load_body(self.path, self._up, self._front, self._max_faces, f"libraries.{self.name}",
                                     self._search, self._simplify)
        return self._loaded

    def build(self, style: str) -> list:
        """The entry's parts before normalising (the ``_build`` of an ObjectEntry): its one
        body, with no look of its own."""
        return [("body", "body", self.load()[0], None)]

    def appearance(self):
        """A stand-in for the file's look that reads the file when first used, or None."""
        return LazyAppearance(self) if self.has_look else None


class LazyAppearance:
    """The FileAppearance of a library asset, read on first attribute access."""

    def __init__(self, asset: LibraryAsset):
        self._asset = asset

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._asset.load()[1], name)
