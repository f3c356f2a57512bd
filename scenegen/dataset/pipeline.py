"""generate(): shards of scene indices -> sample, render, label, write; then finish.

Parallelism wraps the loop without changing it: each worker (a local process or a Dask
worker, :mod:`scenegen.dataset.executors`) owns one Sampler and one Renderer and writes whole
scenes; scene ``i`` depends only on (config, seed, i), so the dataset is the same
whatever the executor and the number of workers. Scenes are grouped in shards
(:mod:`scenegen.dataset.shards`): each shard records its completion last, a rerun of the same
config skips what is complete, and one shard can run alone (a cluster job array).

:func:`finish` then writes ``coverage.json`` from the completed shards, ``coco.json`` and
the other formats streamed from the pieces the workers made of each scene
(:mod:`scenegen.dataset.exports`), and ``manifest.json`` last, with the sha256 of every
file; a manifest therefore exists only for a complete dataset.
"""

from __future__ import annotations

import bisect
import itertools
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Mapping, Optional, Sequence

import omegaconf
import yaml
from omegaconf._utils import get_omega_conf_dumper  # the dumper OmegaConf.to_yaml uses

from .. import cache
from .._version import __version__
from ..design.coverage import CoverageTracker
from ..design.splits import SPLIT_NAMES
from ..design.universe import coverage_tracker
from ..errors import ConfigError, PlacementError, ScenegenError
from ..fileio import sha256_file, write_json
from ..progress import progress_bar
from ..world.compile import World
from ..world.libraries import assets_used
from .executors import run_chunks
from .exports import piece_indices, record_summary, remove_pieces, write_exports
from .files import record_indices, record_path
from .layout import COVERAGE, SPLITS, export_blob_file, export_piece_file
from .manifest import Manifest
from .shards import (
    completed,
    cover,
    data_config,
    marker_path,
    missing_scenes,
    read_scene_record,
    read_skips,
    skip_path,
    write_marker,
)


def output_folder(cfg) -> Path:
    """``cfg.out`` as a path.

    Raises:
        ConfigError: ``out`` is empty (which would write into the working directory) or
            names an existing file.
    """
    if not str(cfg.out).strip():
        raise ConfigError("out is empty: give the dataset folder, e.g. out=scenegen_out (a folder that does not "
                          "exist yet is created)")
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"out={str(out)!r} is a file, not a folder: give the dataset folder's path (a folder that "
                          f"does not exist yet is created)")
    return out


def open_folder(out: Path) -> None:
    """Create ``out`` if it is missing.

    Raises:
        ScenegenError: it cannot be created.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenegenError(f"output folder {str(out)!r} (key 'out') is not writable: {exc.strerror or exc}") from exc


@contextmanager
def write_errors(out: Path, before: str = "the scenes already written are kept"):
    """Turn an OSError of the block (a full disk, a folder made read-only meanwhile) into
    a ScenegenError that names the file and says that the same command resumes."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None:  # not the file system's (a TimeoutError of an executor): as it is
            raise
        raise ScenegenError(f"could not write into {str(out)!r}: {exc.strerror or exc}"
                            f"{f' ({exc.filename})' if exc.filename else ''}; {before}: free space or fix the "
                            f"folder, then run the same command again to resume") from exc


CONFIG_YAML_CACHE = "config-yaml"  # the cache folder (scenegen.cache.kind_dir) of configs' YAML texts


def config_yaml(data: dict) -> str:
    """YAML text of plain config ``data`` exactly as ``OmegaConf.to_yaml(OmegaConf.create(data))``
    writes it (OmegaConf's dumper and settings), without building the DictConfig (about
    0.3 s for the whole config). PyYAML's emitter still takes about 60 ms for the whole
    config, so the text is kept in the cache folder (``CONFIG_YAML_CACHE``) under the
    data, in its key order (which the text keeps), and the versions of the dumper."""
    try:
        key = cache.content_key(CONFIG_YAML_CACHE, json.dumps(data), yaml.__version__, omegaconf.__version__)
    except (TypeError, ValueError):  # a value JSON cannot name exactly: not kept
        key = None
    kept = cache.load_text(CONFIG_YAML_CACHE, key) if key else None
    if kept is not None:
        return kept
    text = yaml.dump(data, default_flow_style=False, allow_unicode=True, sort_keys=False,
                     Dumper=get_omega_conf_dumper())
    if key:
        cache.store_text(CONFIG_YAML_CACHE, key, text)
    return text


def write_scenes(cfg, indices: range, plan: Mapping[int, dict], progress: bool,
                 on_scene: Optional[Callable[[int], None]] = None) -> None:
    """Write the scenes of ``indices`` (one shard) into ``cfg.out``; scene ``i`` follows
    the directive ``plan[i]`` when there is one."""
    write_shards(cfg, [indices], plan, progress, on_scene)


def write_shards(cfg, shards: Sequence[range], plan: Mapping[int, dict], progress: bool,
                 on_scene: Optional[Callable[[int], None]] = None, stats: Optional[dict] = None) -> None:
    """Write the scenes of ``shards`` that are not written yet, on ``cfg``'s executor,
    with a progress bar; record each shard's completion (last) once all its scenes
    are written.

    Shards are looked at one by one as the executor asks for work, so the first scene
    starts after work proportional to one shard, not to ``n``, and memory stays flat.
    """
    out = Path(cfg.out)
    done = completed(out)
    total = sum(len(shard) for shard in shards if shard not in done)  # those already there count as found
    workers = max(1, int(cfg.workers))
    inline = workers == 1 and cfg.executor == "local"
    # a chunk ends with a flush (every scene on disk) that stalls the worker's overlap of
    # rendering and writing: one process needs no spreading, so its chunks are longer
    size = INLINE_CHUNK_SCENES if inline else max(1, min(CHUNK_SCENES, -(-total // (4 * workers))))
    world = World.of(cfg)
    left: dict = {}  # shard -> its scenes not written yet, once the shard is looked at
    looked: list = []  # the shards looked at, ascending

    def complete(shard: range) -> None:
        write_marker(out, shard, coverage_tracker(world))

    def chunks(bar) -> Iterator[list]:
        for shard in shards:
            if shard in done or not len(shard):
                continue
            missing = missing_scenes(out, shard)
            bar.update(len(shard) - len(missing))
            looked.append(shard)
            left[shard] = len(missing)
            if not missing:
                complete(shard)
            for at in range(0, len(missing), size):
                yield [(index, plan.get(index)) for index in missing[at:at + size]]

    starts = _Starts(looked)
    with progress_bar(total, progress) as bar:
        for result in run_chunks(cfg, chunks(bar), -(-total // size)) if total else ():
            bar.update(len(result.indices))
            if stats is not None:
                stats.setdefault("workers", {})[result.pid] = {"rss_mib": result.rss_mib, "peak_mib": result.peak_mib}
                redrawn = stats.setdefault("rejections", {})
                for reason, count in result.rejections:
                    redrawn[reason] = redrawn.get(reason, 0) + count
            for index in result.indices:
                if on_scene is not None:
                    on_scene(index)
                shard = looked[bisect.bisect_right(starts, index) - 1]
                left[shard] -= 1
                if left[shard] == 0:
                    complete(shard)


class _Starts(Sequence):
    """The start indices of a growing list of ranges, as a sequence for ``bisect``."""

    def __init__(self, ranges: list):
        self.ranges = ranges

    def __len__(self) -> int:
        return len(self.ranges)

    def __getitem__(self, i: int) -> int:
        return self.ranges[i].start


CHUNK_SCENES = 8  # most scenes per task: small enough to spread over workers
INLINE_CHUNK_SCENES = 32  # scenes between flushes (and progress updates) with one worker


def discard_records(out: Path, start: int = 0) -> None:
    """Remove the scene records, skip records and export pieces from index ``start`` on
    (their scenes are then written again), and the completion records of shards reaching
    past ``start``."""
    for index in record_indices(out):
        if index >= start:
            record_path(out, index).unlink()
    for index in read_skips(out, range(start, 1 << 62)):
        skip_path(out, index).unlink()
    for index in piece_indices(out):
        if index >= start:
            (out / export_piece_file(index)).unlink(missing_ok=True)
            (out / export_blob_file(index)).unlink(missing_ok=True)
    for scenes in completed(out):
        if scenes.stop > start:
            marker_path(out, scenes).unlink()


def load_records(root: str | Path, n: int, start: int = 0) -> list[dict]:
    """The records of scenes ``start..n-1`` of a dataset folder being written, in index
    order, leaving out the scenes skipped as unplaceable (their skip records).

    Raises:
        ScenegenError: a record is missing (the dataset is incomplete).
    """
    return [read_scene_record(root, i) for i in scene_indices(root, n, start)]


def load_summaries(root: str | Path, n: int, start: int = 0) -> list[dict]:
    """:func:`load_records`, each record read alone and kept as its
    :func:`scenegen.dataset.exports.record_summary` (index, objects' instance ids, entries
    and factor levels, target): what coverage, splits and fills count, without holding
    every record's labels at once."""
    return [record_summary(read_scene_record(root, i)) for i in scene_indices(root, n, start)]


def design_summary(cfg, plan: Sequence[dict], records: Iterable[dict]) -> dict:
    """The plan and the t-way coverage its target objects reached, measured from their
    labels (the scene records, or their :func:`scenegen.dataset.exports.record_summary`):
    ``{"strategy", "strength", "factors", "rows", "tuples", "covered", "missing"}``
    (t-tuples of design-factor levels the plan asks for)."""
    return _design_summary(cfg, plan, [target_factors(record) for record in records])


def target_factors(record: Mapping) -> Optional[dict]:
    """The factor levels of a scene's target object (its directive's), or None."""
    target = record["scene"]["target"]
    return record["objects"][target]["factors"] if target >= 0 else None


def _design_summary(cfg, plan: Sequence[dict], targets: Iterable[Optional[dict]]) -> dict:
    factors, strength = list(cfg.design_factors), int(cfg.strength)
    wanted = _tuples(plan, factors, strength)
    seen = _tuples([target for target in targets if target is not None], factors, strength)
    missing = sorted(wanted - seen)
    return {
        "strategy": str(cfg.strategy),
        "strength": strength,
        "factors": factors,
        "rows": [dict(row) for row in plan],
        "tuples": len(wanted),
        "covered": len(wanted) - len(missing),
        "missing": [dict(pairs) for pairs in missing],
    }


def _tuples(rows: Iterable[dict], factors: Sequence[str], strength: int) -> set:
    """Every t-tuple (as sorted (factor, level) pairs) that ``rows`` show."""
    return {
        tuple((f, str(row[f])) for f in combo)
        for row in rows
        for combo in itertools.combinations(factors, strength)
    }


def finish(cfg, plan: Sequence[dict] = (), design: Optional[dict] = None,
           held_out: Optional[Sequence[dict]] = None) -> Manifest:
    """Write coco.json, coverage.json and the other formats of ``cfg.format`` for the
    scenes of ``cfg.out``, then manifest.json (last) with the sha256 of every file of the
    dataset. The exports are streamed from the scenes' pieces, one scene at a time
    (:mod:`scenegen.dataset.exports`); the hashes of the scenes' files come from the
    shards' completion records. The manifest's ``design`` is ``design`` when given, else
    the summary of ``plan`` (the directives of scenes 0, 1, ...) if there is one. With
    ``held_out`` tuples, the scenes are split (splits.json, coco_train.json, coco_test.json;
    the other formats per split) and the manifest's ``split`` records the tuples and
    the guarantees (:mod:`scenegen.design.splits`). The pieces are removed at the end."""
    out = Path(cfg.out)
    world = World.of(cfg)
    markers, gaps = cover(out, int(cfg.n))
    markers += [write_marker(out, scenes, coverage_tracker(world)) for scenes in gaps]
    skipped = sorted((skip for marker in markers for skip in marker.get("skipped", ())), key=lambda s: s["index"])
    indices = scene_indices(out, int(cfg.n))
    if skipped and not indices:
        raise PlacementError(f"none of the {cfg.n} scenes could be placed; the first: {skipped[0]['reason']}")
    tracker = coverage_tracker(world)
    for marker in markers:  # exact: the same counts as one tracker over every record
        tracker = tracker.merge(CoverageTracker.from_dict(marker["coverage"]))
    write_json(out / COVERAGE, tracker.to_dict())
    hashes = {name: digest for marker in markers for name, digest in marker["files"].items()}

    entries: set = set()
    targets: list = []

    def each(summary: dict) -> None:
        entries.update(obj["entry"] for obj in summary["objects"])
        if design is None and plan:
            targets.append(target_factors(summary))

    exported, split = write_exports(
        out, world, indices, hashes,
        coco_info={"description": "scenegen synthetic dataset", "version": __version__, "seed": int(cfg.seed)},
        held=held_out, each=each,
    )
    files = {**hashes, **exported, COVERAGE: sha256_file(out / COVERAGE)}
    if split is not None:
        write_json(out / SPLITS, {name: split.pop(name) for name in SPLIT_NAMES})
        files[SPLITS] = sha256_file(out / SPLITS)
    if design is None and plan:
        design = _design_summary(cfg, plan, targets)
    manifest = Manifest(
        scenegen_version=__version__,
        seed=int(cfg.seed),
        n=int(cfg.n),
        # YAML text rather than a JSON object: it keeps the key order (which names part
        # styles); load it with scenegen.dataset.read.manifest_config. Keys of the
        # run, not of the data (the folder, workers, the progress bar), are left out, so
        # the manifest is the same wherever and however the dataset was made.
        config=config_yaml(data_config(cfg)),
        files={name: files[name] for name in sorted(files)},
        # scenes that could not be placed within the sampler's bounds: no files, one
        # entry each ({"index", "directive", "context", "rejections", "reason"})
        skipped=skipped,
        split=split,
        design=design,
        # the files of asset libraries the scenes used, with their licences (none: no key)
        assets=assets_used(world.dictionary, entries) or None,
    )
    manifest.write(out)  # last: the dataset is complete
    remove_pieces(out)
    return manifest


def scene_indices(root: str | Path, n: int, start: int = 0) -> List[int]:
    """The indices of the scenes ``start..n-1`` of a dataset folder being written, without
    the scenes skipped as unplaceable (their skip records).

    Raises:
        ScenegenError: a record is missing (the dataset is incomplete).
    """
    skipped = read_skips(root, range(start, n))
    indices = [i for i in range(start, n) if i not in skipped]
    missing = [i for i in indices if not record_path(root, i).is_file()]
    if missing:
        raise ScenegenError(
            f"dataset {str(root)!r} is incomplete: {len(missing)} of {n} scene records are missing "
            f"(first: {record_path(root, missing[0])})"
        )
    return indices
