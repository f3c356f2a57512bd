"""``scenegen verify DIR``: is a dataset complete, and is every file the one its manifest
names?

Checks, in order: the manifest exists (else the dataset is incomplete, and the shards'
completion records say how far it got); every file the manifest lists exists and has
its sha256; every scene 0..n-1 has its record, except the scenes the manifest lists as
skipped (unplaceable), which have none; no scene record lies beyond n. Reading
is streamed (files are hashed in chunks), so memory stays flat on large datasets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional

from .fileio import read_json, sha256_file
from .formats._dataset import MANIFEST
from .formats.files import record_indices, record_path
from .shards import RUN_RECORD, completed


def verify_dataset(root: str | Path, on_file: Optional[Callable[[str], None]] = None) -> List[str]:
    """The problems of the dataset in ``root``, one line each; empty when it is
    complete and every hash matches. ``on_file`` is called with each file checked."""
    root = Path(root)
    if not root.is_dir():
        return [f"{str(root)!r} is not a folder"]
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        return [_incomplete(root)]
    try:
        manifest = read_json(manifest_path)
        n, files = int(manifest["n"]), dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{MANIFEST} is not a scenegen manifest: {exc}"]
    problems = []
    for name, digest in sorted(files.items()):
        path = root / name
        if not path.is_file():
            problems.append(f"missing: {name}")
        elif sha256_file(path) != digest:
            problems.append(f"changed: {name} (sha256 differs from the manifest)")
        if on_file is not None:
            on_file(name)
    skipped = {int(skip["index"]) for skip in manifest.get("skipped", ())}
    missing = [i for i in range(n) if i not in skipped and not record_path(root, i).is_file()]
    if missing:
        problems.append(f"{len(missing)} of {n - len(skipped)} scene records are missing (first: scene {missing[0]})")
    unexpected = sorted(i for i in skipped if record_path(root, i).is_file())
    if unexpected:
        problems.append(f"{len(unexpected)} scenes the manifest lists as skipped have a record (first: scene {unexpected[0]})")
    extra = [i for i in record_indices(root) if i >= n]
    if extra:
        problems.append(f"{len(extra)} scene records beyond the manifest's n={n} (first: scene {extra[0]})")
    return problems


def _incomplete(root: Path) -> str:
    if not (root / RUN_RECORD).is_file():
        return f"{str(root)!r} is not a scenegen dataset: it has no {MANIFEST}"
    config = read_json(root / RUN_RECORD)["config"]
    done = sorted(completed(root), key=lambda r: r.start)
    scenes = sum(len(r) for r in done)
    return (f"incomplete: no {MANIFEST} yet; {len(done)} shard(s) complete ({scenes} of the n={config.get('n')} "
            f"scenes asked for); run the same 'scenegen generate' command again to resume, or 'scenegen finish' once the shards of a job array are all written")


def file_count(root: str | Path) -> int:
    """How many files the manifest of ``root`` lists (0 without a manifest)."""
    path = Path(root) / MANIFEST
    return len(read_json(path)["files"]) if path.is_file() else 0
