"""The load report of a library: how many entries it gave, which files were skipped and
why, which source categories were not mapped."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class LibraryReport:
    """What loading one library found.

    Attributes:
        name, layout: the library's config name and layout.
        root: its resolved folder; ``index``: its index file in the cache.
        entries: how many dictionary entries it gave.
        skipped: relative path -> reason, for every file not used.
        unmapped: source category -> number of files not mapped to a scenegen category.
        non_commercial: entries under a non-commercial licence.
        read: files read (and hashed) this time; the others came from the index.
    """

    name: str
    layout: str
    root: Path
    index: Path
    entries: int = 0
    skipped: dict = field(default_factory=dict)
    unmapped: dict = field(default_factory=dict)
    non_commercial: int = 0
    read: int = 0

    def summary(self) -> str:
        """One line: ``library gso: 812 entries, 3 skipped, 40 unmapped (see INDEX)``."""
        unmapped = sum(self.unmapped.values())
        return (f"library {self.name}: {self.entries} entries, {len(self.skipped)} skipped, {unmapped} unmapped"
                f"{f', {self.non_commercial} non-commercial' if self.non_commercial else ''} (see {self.index})")

    def to_dict(self) -> dict:
        return {"name": self.name, "layout": self.layout, "root": str(self.root), "index": str(self.index),
                "entries": self.entries, "skipped": dict(sorted(self.skipped.items())),
                "unmapped": dict(sorted(self.unmapped.items())), "non_commercial": self.non_commercial,
                "read": self.read}
