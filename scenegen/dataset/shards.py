"""Work units: shards of scene indices, their completion records, and the run record.

The scenes ``0..n-1`` of a dataset are grouped in contiguous shards
(:func:`shard_ranges`). A scene is written atomically, its record last, so a scene
whose record exists is complete. A shard is complete when its *completion record*
``.scenegen/shards/SSSSSS-EEEEEE.json`` exists (scenes ``SSSSSS`` to ``EEEEEE - 1``): written
last, after every scene of the shard, with the sha256 of each of the shard's files and
the coverage counts of its objects, so finishing a dataset merges the shards instead of
reading and hashing every file again.

A scene that cannot be placed (a :class:`scenegen.errors.PlacementError` after the
sampler's bounded retries) is *skipped*: its skip record
``.scenegen/skipped/NNNNNN.json`` (the directive, the context, the rejections and the
message) takes the place of its files, so a resumed run does not try it again, the
shard's completion record lists it, and the manifest reports it.

``.scenegen/run.json`` holds the data config the folder's scenes are made with, written
before the first scene. A later run into the same folder (a resume, another shard of a
job array, the finishing step) must have the same data config, or it is refused with the
keys that differ: scenes of two configs never mix.

The ``.scenegen/`` folder is the record of the work, not part of the dataset: the
manifest does not list it, so the dataset is the same however it was split into shards.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from omegaconf import OmegaConf

from ..config.schema import SceneGenConfig, shard_count
from ..design.coverage import CoverageTracker
from ..errors import ConfigError, DamagedFileError, PlacementError, ScenegenError
from ..fileio import read_json, sha256_file, write_json
from ..world.compile import plain_config
from .files import read_record, record_path
from .layout import (
    DATASET_FOLDERS,
    DEEP_FOLDERS,
    RECORD_GLOB,
    RUN_RECORD,
    SHARD_RECORD_FOLDER,
    SHARD_RECORD_GLOB,
    SKIP_RECORD_FOLDER,
    TEMPORARY_GLOB,
    TEMPORARY_NAME,
    WORK_FOLDER,
    record_file,
    shard_record_file,
    shard_record_scenes,
    skip_record_file,
)

# keys that do not change the data (meshes: a budget that accepts or refuses a file, never changes a
# scene, unless meshes.simplify decimates files to it: then it is the data's and recorded)
RUN_KEYS = ("out", "workers", "progress", "shard", "num_shards", "executor", "dask", "probe", "meshes")


# sections and keys added after datasets were made, left out of the record while at their default
# (off), so that such datasets keep every byte of their manifest and still resume
OFF_SECTIONS = (("camera", "framing"), ("camera", "effects"))
# top-level sections added the same way (the realistic look's, rest states, physics), left out while at
# their default
OFF_TOP_SECTIONS = ("lighting", "surfaces", "background", "rest", "physics", "render")
# top-level keys added later, left out of the record while empty (no asset library)
OFF_KEYS = ("libraries",)
# keys of an object entry added the same way, left out of the record while unset (null)
UNSET_ENTRY_KEYS = ("appearance", "up", "front", "transform", "rotation", "translation", "units")
# keys of a part (of ``parts`` and of each style of ``part_rules``) added the same way
UNSET_PART_KEYS = ("color", "material")


def data_config(cfg) -> dict:
    """``cfg`` without the keys of the run (``RUN_KEYS``), the sections of
    ``OFF_SECTIONS`` and ``OFF_TOP_SECTIONS`` at their default and the ``UNSET_ENTRY_KEYS`` of object entries and
    ``UNSET_PART_KEYS`` of their parts left null: what the scenes depend on."""
    data = copy.deepcopy(plain_config(cfg))  # changed below
    decimating = bool((data.get("meshes") or {}).get("simplify"))
    for key in RUN_KEYS:
        if not (key == "meshes" and decimating):
            data.pop(key, None)
    for key in OFF_KEYS:
        if not data.get(key):
            data.pop(key, None)
    for parent, name in OFF_SECTIONS:
        section = data.get(parent)
        if isinstance(section, dict) and section.get(name) == _section_default(parent, name):
            del section[name]
    for name in OFF_TOP_SECTIONS:
        if data.get(name) == _section_default(name):
            del data[name]
    for entry in data.get("objects", {}).values():
        for key in UNSET_ENTRY_KEYS:
            if entry.get(key, 0) is None:
                del entry[key]
        styles = [style for slot in (entry.get("part_rules") or {}).values() for style in slot.values()]
        for part in [*(entry.get("parts") or []), *(p for style in styles for p in style.get("parts") or [])]:
            for key in UNSET_PART_KEYS:
                if part.get(key, 0) is None:
                    del part[key]
    return data


def _section_default(parent: str, name: str | None = None) -> Any:
    """The default of section ``parent.name`` (or top-level ``parent``) of the schema, as
    plain containers (a copy: callers may change it)."""
    value = _schema_defaults()[parent]
    return copy.deepcopy(value if name is None else value[name])


@functools.lru_cache(maxsize=1)
def _schema_defaults() -> dict:
    """The whole schema's defaults as plain containers, made once per process (building
    the structured config takes about 50 ms)."""
    return OmegaConf.to_container(OmegaConf.structured(SceneGenConfig), resolve=True)


class ShardRanges(Sequence):
    """The shards of scenes ``0..n-1``: ``count`` contiguous ranges whose sizes differ by
    at most one (empty when n < count), computed on demand, so that a dataset of 10^8
    scenes costs no memory per shard."""

    def __init__(self, n: int, count: int):
        self.n, self.count = int(n), int(count)

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.count))]
        if not -self.count <= i < self.count:
            raise IndexError(f"shard {i} of {self.count}")
        i %= self.count
        return range(self.n * i // self.count, self.n * (i + 1) // self.count)

    def of(self, index: int) -> int:
        """The shard holding scene ``index`` (0 <= index < n)."""
        return ((index + 1) * self.count - 1) // self.n


def shard_ranges(cfg) -> ShardRanges:
    """The shards of scenes ``0..cfg.n-1``: :func:`scenegen.config.schema.shard_count`
    contiguous ranges whose sizes differ by at most one (empty when n < num_shards)."""
    return ShardRanges(int(cfg.n), shard_count(cfg))


def selected_shards(cfg) -> Sequence[range]:
    """The shards this run writes: all of them, or shard ``cfg.shard`` alone (its range
    is validated with the config)."""
    shards = shard_ranges(cfg)
    return shards if int(cfg.shard) < 0 else [shards[int(cfg.shard)]]


def marker_path(root: str | Path, scenes: range) -> Path:
    """The path of the completion record of ``scenes`` in the dataset folder ``root``."""
    return Path(root) / shard_record_file(scenes)


def scene_files(record: Mapping[str, Any]) -> List[str]:
    """The files of one scene, relative to the dataset folder: its layers and record."""
    return sorted(record["files"].values()) + [record_file(record["index"])]


def write_marker(root: str | Path, scenes: range, tracker: CoverageTracker) -> dict:
    """Record that ``scenes`` are complete: the sha256 of their files, ``tracker`` fed
    with their records (an empty tracker of the dataset's universe) and the skip
    records of the scenes that could not be placed. Written last and atomically.
    Returns the completion record."""
    files: Dict[str, str] = {}
    skips = read_skips(root, scenes)
    for index in scenes:
        if index in skips:
            continue
        record = read_scene_record(root, index)
        tracker.add_record(record)
        for name in scene_files(record):
            files[name] = sha256_file(Path(root) / name)
    marker = {"scenes": [scenes.start, scenes.stop], "files": files, "coverage": tracker.to_dict(),
              "skipped": [skips[index] for index in sorted(skips)]}
    write_json(marker_path(root, scenes), marker)
    return marker


RECORD_KEYS = ("index", "files", "objects", "scene")  # what every scene record holds


def read_scene_record(root: str | Path, index: int) -> dict:
    """The record of scene ``index`` of a dataset being written.

    Raises:
        DamagedFileError: the record is not a JSON object with :data:`RECORD_KEYS` and
            its own index, saying how to have it written again.
    """
    path = record_path(root, index)
    try:
        record = read_record(root, index)
        problem = "" if isinstance(record, dict) else f"it holds a JSON {type(record).__name__}, not an object"
        missing = [key for key in RECORD_KEYS if not problem and key not in record]
        problem = problem or (f"it lacks {', '.join(missing)}" if missing else "")
        if not problem and record["index"] != index:
            problem = f"its index is {record['index']!r}, not {index}"
    except DamagedFileError as exc:
        problem, record = f"it is not valid JSON ({exc.__cause__})", None
    if not problem:
        return record
    stale = [str(marker_path(root, scenes)) for scenes in completed(root) if index in scenes]
    raise DamagedFileError(f"{path} is damaged: {problem}; delete it{''.join(f' and {m}' for m in stale)} and run "
                           f"the same command again: the scene is written again, the same bytes as before")


def skip_path(root: str | Path, index: int) -> Path:
    """The path of the skip record of scene ``index`` in the dataset folder ``root``."""
    return Path(root) / skip_record_file(index)


def write_skip(root: str | Path, index: int, error: PlacementError) -> dict:
    """Record that scene ``index`` could not be placed (``error``); returns the skip
    record ``{"index", "directive", "context", "rejections", "reason"}``."""
    skip = {"index": int(index), "directive": dict(error.directive), "context": error.context,
            "rejections": dict(error.rejections), "reason": str(error)}
    write_json(skip_path(root, index), skip)
    return skip


def read_skips(root: str | Path, scenes: Optional[range] = None) -> Dict[int, dict]:
    """The skip records in ``root`` (of the scenes in ``scenes``, default all), by index."""
    folder = Path(root) / SKIP_RECORD_FOLDER
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.glob(RECORD_GLOB)):
        if path.stem.isdigit() and (scenes is None or int(path.stem) in scenes):
            skip = _work_record(path, ("index", "directive", "reason"))
            if skip is not None:
                found[int(path.stem)] = skip
    return found


def _marker_files(root: str | Path) -> Dict[range, Path]:
    """The completion records in ``root`` by scene range (from their names)."""
    folder = Path(root) / SHARD_RECORD_FOLDER
    if not folder.is_dir():
        return {}
    return {shard_record_scenes(path.stem): path for path in sorted(folder.glob(SHARD_RECORD_GLOB))}


def read_markers(root: str | Path) -> Dict[range, dict]:
    """The completion records in ``root``, by scene range; a damaged one is dropped (see
    :func:`_work_record`): its shard's scenes are then looked at again."""
    found = {scenes: _work_record(path, ("files", "coverage")) for scenes, path in _marker_files(root).items()}
    return {scenes: marker for scenes, marker in found.items() if marker is not None}


def _work_record(path: Path, keys: tuple) -> Optional[dict]:
    """The work record (a completion or skip record) in ``path``, or None when it is
    damaged (not a JSON object with ``keys``): then it is deleted, which costs only the
    work of making it again (the same bytes), as after a kill before it was written."""
    try:
        record = read_json(path)
    except DamagedFileError:
        record = None
    if isinstance(record, dict) and all(key in record for key in keys):
        return record
    path.unlink(missing_ok=True)
    return None


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


def check_run(root: str | Path, cfg) -> bool:
    """Refuse ``cfg`` if the folder's scenes were made with another data config. Changes
    nothing; returns whether the run record must be written: the folder has none yet,
    or ``cfg`` only grows ``n`` (scene i depends only on the seed and i, so the scenes
    already written stay).

    Raises:
        ConfigError: the data configs differ, naming the keys; or ``n`` shrinks, or grows
            where the scenes after the old ``n`` are not random ones.
    """
    path = Path(root) / RUN_RECORD
    if not path.is_file():
        return True
    mine = data_config(cfg)
    try:
        theirs = read_json(path)["config"]
    except (DamagedFileError, KeyError, TypeError) as exc:
        raise ScenegenError(
            f"{path} is damaged ({exc}), so the config of the scenes in {str(root)!r} cannot be checked; generate "
            f"into another out= (scene i depends only on the config, the seed and i: the same command there gives "
            f"the same scenes)") from exc
    differ = _differences(theirs, mine)
    if differ and not _differences({**theirs, "n": None}, {**mine, "n": None}):
        _check_growth(root, theirs, mine)
    elif differ:
        shown = "; ".join(differ[:6]) + (f"; and {len(differ) - 6} more" if len(differ) > 6 else "")
        raise ConfigError(
            f"{str(root)!r} holds scenes made with another config ({shown}); run with the folder's config "
            f"to resume or complete it, or choose another out= (or delete the folder) for a new dataset"
        )
    return bool(differ)


def claim_folder(root: str | Path) -> None:
    """Refuse to write a dataset into a folder that holds anything but a scenegen
    dataset: scenegen deletes and overwrites only files it wrote, and a folder without
    its run record could hold anyone's. Changes nothing.

    Raises:
        ConfigError: ``root`` is a folder that is not empty and has no run record.
    """
    root = Path(root)
    if not root.is_dir() or (root / RUN_RECORD).is_file():
        return
    with os.scandir(root) as entries:  # scenegen's work folder alone: a run killed before its run record
        found = sorted(entry.name for entry in entries if entry.name != WORK_FOLDER)
    if found:
        shown = ", ".join(found[:3]) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
        raise ConfigError(
            f"{str(root)!r} is not empty ({shown}) and holds no scenegen dataset ({RUN_RECORD} is missing): "
            f"scenegen writes a dataset only into a new or empty folder, or into its own dataset of the same "
            f"config, so that it never deletes or overwrites files it did not write; choose another out= "
            f"(for example out={str(root / 'scenegen_out')!r})"
        )


def _check_growth(root: str | Path, theirs: dict, mine: dict) -> None:
    """Allow ``mine`` to change the folder's ``n`` only upwards, for random scenes.

    Raises:
        ConfigError: ``n`` shrinks (saying how to keep fewer scenes), or the dataset's
            scenes after its ``n`` are directed ones (a covering plan, a fill, the extra
            scenes of a held-out split), which scenes of a larger ``n`` would collide with.
    """
    old, new = int(theirs["n"]), int(mine["n"])
    if new < old:
        raise ConfigError(
            f"{str(root)!r} holds a dataset of n={old} scenes, and n={new} would shrink it; a dataset does not shrink in "
            f"place. Scene i depends only on the seed and i, so 'scenegen generate out=NEW_FOLDER n={new}' with the "
            f"same other overrides writes exactly scenes 0..{new - 1} of this one (the same bytes); or keep this "
            f"folder with n={old}"
        )
    split = mine.get("split") or {}
    if mine.get("strategy") != "random" or split.get("held_out") or float(split.get("fraction") or 0) > 0:
        raise ConfigError(
            f"n can grow (here from {old} to {new}) only for strategy=random without a held-out split: "
            f"{str(root)!r} holds strategy={mine.get('strategy')} scenes"
            f"{' with a held-out split' if split.get('held_out') or float(split.get('fraction') or 0) > 0 else ''}, "
            f"whose directed scenes follow scene {old - 1}; run with n={old}, or generate into another out="
        )


def record_run(root: str | Path, cfg) -> None:
    """Record ``cfg``'s data config as the one the folder's scenes are made with."""
    write_json(Path(root) / RUN_RECORD, {"config": data_config(cfg)})


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
    """Delete the temporary files an interrupted atomic write left in a dataset folder
    (``.NAME.XXXXXXXX.tmp``, see :func:`scenegen.fileio.atomic_writer`): only in the
    folder itself and in the folders scenegen writes (its layers, records, exports and
    work records), never in a folder of someone else's. Returns how many."""
    root = Path(root)
    folders = [root, *(root / name for name in DATASET_FOLDERS)]
    folders += [path for name in DEEP_FOLDERS if (root / name).is_dir() for path in (root / name).rglob("*")
                if path.is_dir() and not path.is_symlink()]
    removed = 0
    for folder in folders:
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in folder.glob(TEMPORARY_GLOB):
            if TEMPORARY_NAME.fullmatch(path.name) and path.is_file() and not path.is_symlink():
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def missing_scenes(root: str | Path, scenes: range) -> List[int]:
    """The scenes of ``scenes`` with neither a record nor a skip record yet."""
    skipped = read_skips(root, scenes)
    return [i for i in scenes if i not in skipped and not record_path(root, i).is_file()]


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
