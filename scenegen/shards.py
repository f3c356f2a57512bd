"""Work units: shards of scene indices, their completion records, and the run record.

The scenes ``0..n-1`` of a dataset are grouped in contiguous shards
(:func:`shard_ranges`). A scene is written atomically, its record last, so a scene
whose record exists is complete. A shard is complete when its *completion record*
``.scenegen/shards/SSSSSS-EEEEEE.json`` exists (scenes ``SSSSSS`` to ``EEEEEE - 1``): written
last, after every scene of the shard, with the sha256 of each of the shard's files and
the coverage counts of its objects, so finishing a dataset merges the shards instead of
reading and hashing every file again.

``.scenegen/run.json`` holds the data config the folder's scenes are made with, written
before the first scene. A later run into the same folder (a resume, another shard of a
job array, the finishing step) must have the same data config, or it is refused with the
keys that differ: scenes of two configs never mix.

The ``.scenegen/`` folder is the record of the work, not part of the dataset: the
manifest does not list it, so the dataset is the same however it was split into shards.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

from omegaconf import OmegaConf

from .config import shard_count
from .coverage import CoverageTracker
from .errors import ConfigError
from .fileio import read_json, sha256_file, write_json
from .formats.files import RECORD_FOLDER, read_record, record_path, scene_stem

WORK_FOLDER = ".scenegen"  # the record of the work, beside the data (like .git)
SHARD_FOLDER = f"{WORK_FOLDER}/shards"
RUN_RECORD = f"{WORK_FOLDER}/run.json"
RUN_KEYS = ("out", "workers", "progress", "shard", "num_shards", "executor", "dask", "probe")  # keys that do not change the data


def data_config(cfg) -> dict:
    """``cfg`` without the keys of the run (``RUN_KEYS``): what the scenes depend on."""
    data = OmegaConf.to_container(cfg, resolve=True)
    for key in RUN_KEYS:
        data.pop(key, None)
    return data


def shard_ranges(cfg) -> List[range]:
    """The shards of scenes ``0..cfg.n-1``: :func:`scenegen.config.shard_count`
    contiguous ranges whose sizes differ by at most one (empty when n < num_shards)."""
    n, k = int(cfg.n), shard_count(cfg)
    bounds = [n * i // k for i in range(k + 1)]
    return [range(a, b) for a, b in zip(bounds, bounds[1:])]


def selected_shards(cfg) -> List[range]:
    """The shards this run writes: all of them, or shard ``cfg.shard`` alone (its range
    is validated with the config)."""
    shards = shard_ranges(cfg)
    return shards if int(cfg.shard) < 0 else [shards[int(cfg.shard)]]


def marker_path(root: str | Path, scenes: range) -> Path:
    return Path(root) / SHARD_FOLDER / f"{scenes.start:06d}-{scenes.stop:06d}.json"


def scene_files(record: Mapping[str, Any]) -> List[str]:
    """The files of one scene, relative to the dataset folder: its layers and record."""
    return sorted(record["files"].values()) + [f"{RECORD_FOLDER}/{scene_stem(record['index'])}.json"]


def write_marker(root: str | Path, scenes: range, tracker: CoverageTracker) -> dict:
    """Record that ``scenes`` are complete: the sha256 of their files and ``tracker``
    fed with their records (an empty tracker of the dataset's universe). Written last
    and atomically. Returns the completion record."""
    files: Dict[str, str] = {}
    for index in scenes:
        record = read_record(root, index)
        tracker.add_record(record)
        for name in scene_files(record):
            files[name] = sha256_file(Path(root) / name)
    marker = {"scenes": [scenes.start, scenes.stop], "files": files, "coverage": tracker.to_dict()}
    write_json(marker_path(root, scenes), marker)
    return marker


def _marker_files(root: str | Path) -> Dict[range, Path]:
    """The completion records in ``root`` by scene range (from their names)."""
    folder = Path(root) / SHARD_FOLDER
    if not folder.is_dir():
        return {}
    return {range(*(int(part) for part in path.stem.split("-"))): path
            for path in sorted(folder.glob("[0-9]*-[0-9]*.json"))}


def read_markers(root: str | Path) -> Dict[range, dict]:
    """The completion records in ``root``, by scene range."""
    return {scenes: read_json(path) for scenes, path in _marker_files(root).items()}


def completed(root: str | Path) -> set:
    """The scene ranges whose completion record exists."""
    return set(_marker_files(root))


def cover(root: str | Path, n: int) -> tuple[List[dict], List[range]]:
    """Completion records covering scenes ``0..n-1`` once each, in scene order, and the
    ranges of scenes no record covers (written without one: a folder from before
    completion records existed)."""
    markers = read_markers(root)
    starts: Dict[int, range] = {}
    for scenes in markers:
        if len(scenes) and scenes.stop <= n and scenes.stop > starts.get(scenes.start, range(0)).stop:
            starts[scenes.start] = scenes
    chosen, gaps, at = [], [], 0
    while at < n:
        if at in starts:
            chosen.append(markers[starts[at]])
            at = starts[at].stop
            continue
        stop = min([s for s in starts if s > at], default=n)
        gaps.append(range(at, stop))
        at = stop
    return chosen, gaps


def check_run(root: str | Path, cfg) -> None:
    """Refuse ``cfg`` if the folder's scenes were made with another data config;
    record ``cfg``'s when the folder has none yet.

    Raises:
        ConfigError: the data configs differ, naming the keys.
    """
    path = Path(root) / RUN_RECORD
    mine = data_config(cfg)
    if path.is_file():
        theirs = read_json(path)["config"]
        differ = _differences(theirs, mine)
        if differ:
            shown = "; ".join(differ[:6]) + (f"; and {len(differ) - 6} more" if len(differ) > 6 else "")
            raise ConfigError(
                f"{str(root)!r} holds scenes made with another config ({shown}); run with the folder's config "
                f"to resume or complete it, or choose another out= (or delete the folder) for a new dataset"
            )
        return
    record_run(root, cfg)


def record_run(root: str | Path, cfg) -> None:
    """Record ``cfg``'s data config as the one the folder's scenes are made with."""
    write_json(Path(root) / RUN_RECORD, {"config": data_config(cfg)})


def forget_run(root: str | Path) -> None:
    """Drop the run record and the completion records (the folder's scenes are about to be
    written again)."""
    (Path(root) / RUN_RECORD).unlink(missing_ok=True)
    folder = Path(root) / SHARD_FOLDER
    for path in folder.glob("*.json") if folder.is_dir() else ():
        path.unlink()


def _differences(old: Any, new: Any, prefix: str = "") -> List[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in old:
                out.append(f"{name} is new")
            elif key not in new:
                out.append(f"{name} is missing")
            else:
                out += _differences(old[key], new[key], name)
        return out
    return [] if old == new else [f"{prefix}: folder {old!r}, now {new!r}"]


def remove_temporary_files(root: str | Path) -> int:
    """Delete the temporary files an interrupted atomic write left anywhere under
    ``root`` (``.NAME.XXXX.tmp``, see :func:`scenegen.fileio.atomic_writer`). Returns
    how many."""
    removed = 0
    for path in Path(root).rglob(".*.tmp"):
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def missing_scenes(root: str | Path, scenes: range) -> List[int]:
    """The scenes of ``scenes`` whose record does not exist yet."""
    return [i for i in scenes if not record_path(root, i).is_file()]


def peak_memory_mib(pid: Optional[int] = None) -> tuple[float, float]:
    """(resident, peak resident) memory of a process in MiB, from /proc (0 where
    /proc is not available)."""
    try:
        text = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    except OSError:
        return 0.0, 0.0
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)
