"""generate(): a loop over scene indices -> sample, render, label, write; then finish.

Parallelism wraps the loop without changing it: each worker process owns one Sampler
and one Renderer and writes whole scenes; scene ``i`` depends only on (config, seed, i),
so the dataset is the same whatever the number of workers.

:func:`finish` then builds ``coco.json`` and ``coverage.json`` from the scene records
and writes ``manifest.json`` last, with the sha256 of every file; a manifest therefore
exists only for a complete dataset.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence

from omegaconf import OmegaConf

from ._version import __version__
from .config import category_ids, config_from_dict, config_to_dict, output_formats
from .coverage import CoverageTracker
from .dictionary import ObjectDictionary
from .errors import ScenegenError
from .factors import COVERAGE_COMBINATION
from .fileio import sha256_file, write_json
from .formats.coco import build_coco
from .formats.files import RECORD_FOLDER, read_record, record_path, scene_stem
from .labels import KEYPOINT_NAMES, KEYPOINT_SKELETON
from .plan import coverage_universe
from .splits import SPLIT_NAMES, complete_split, held_out_tuples, split_enabled, split_summary
from .sampler import Sampler
from .worker import SceneWorker

MANIFEST = "manifest.json"
COCO = "coco.json"
COVERAGE = "coverage.json"
SPLITS = "splits.json"


_WORKER: Optional[SceneWorker] = None


def _init_worker(cfg_dict: dict) -> None:
    global _WORKER
    _WORKER = SceneWorker(config_from_dict(cfg_dict))


def _write_in_worker(index: int, directive: Optional[dict] = None) -> int:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.write(index, directive)


def prepare_output(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".scenegen-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ScenegenError(f"output folder {str(out)!r} (key 'out') is not writable: {exc.strerror or exc}") from exc
    # a manifest marks a complete dataset: it must not survive a rewrite in progress
    (out / MANIFEST).unlink(missing_ok=True)


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="scene", file=sys.stderr, disable=not enabled, dynamic_ncols=True)


def generate(cfg, progress: Optional[bool] = None, on_scene: Optional[Callable[[int], None]] = None) -> dict:
    """Generate the dataset described by ``cfg`` into ``cfg.out``.

    Args:
        cfg: config from :func:`scenegen.config.load_config`.
        progress: show a progress bar on stderr; default: ``cfg.progress`` and stderr is
            a terminal.
        on_scene: called with each finished scene index (in completion order).

    Returns:
        The manifest (also written to ``cfg.out/manifest.json``).
    """
    if cfg.strategy == "fill":
        from .fill import fill  # noqa: PLC0415 (fill builds on this module)

        return fill(cfg, progress, on_scene)
    plan: dict = {}
    if cfg.strategy == "covering":
        from .plan import covering_plan  # noqa: PLC0415

        plan = dict(enumerate(covering_plan(cfg, Sampler(cfg))))
        cfg = config_from_dict({**config_to_dict(cfg), "n": len(plan)})
    out = Path(cfg.out)
    prepare_output(out)
    if progress is None:
        progress = bool(cfg.progress) and sys.stderr.isatty()
    write_scenes(cfg, range(int(cfg.n)), plan, progress, on_scene)
    held = None
    if split_enabled(cfg):
        sampler = Sampler(cfg)
        held = held_out_tuples(cfg, sampler, load_records(out, int(cfg.n)))
        n = complete_split(cfg, int(cfg.n), sampler, held, progress, on_scene)
        cfg = config_from_dict({**config_to_dict(cfg), "n": n})
    return finish(cfg, list(plan.values()), held_out=held)


def write_scenes(cfg, indices: range, plan: Mapping[int, dict], progress: bool,
                 on_scene: Optional[Callable[[int], None]] = None) -> None:
    """Write the scenes of ``indices`` into ``cfg.out`` with a progress bar; scene ``i``
    follows the directive ``plan[i]`` when there is one."""
    with _progress_bar(len(indices), progress) as bar:
        for index in _run(cfg, indices, plan):
            bar.update(1)
            if on_scene is not None:
                on_scene(index)


def _run(cfg, indices: range, plan: Mapping[int, dict]) -> Iterable[int]:
    """Write the scenes of ``indices``; scene ``i`` follows ``plan[i]`` when there is one."""
    workers = min(int(cfg.workers), max(len(indices), 1))
    if workers <= 1:
        worker = SceneWorker(cfg)
        try:
            for index in indices:
                yield worker.write(index, plan.get(index))
        finally:
            worker.close()
        return
    # spawn, not fork: a forked child must not inherit a parent's GL or thread state
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(config_to_dict(cfg),)
    ) as pool:
        futures = [pool.submit(_write_in_worker, index, plan.get(index)) for index in indices]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def load_records(root: str | Path, n: int) -> list[dict]:
    """The records of scenes 0..n-1 of a dataset folder.

    Raises:
        ScenegenError: a record is missing (the dataset is incomplete).
    """
    missing = [i for i in range(n) if not record_path(root, i).is_file()]
    if missing:
        raise ScenegenError(
            f"dataset {str(root)!r} is incomplete: {len(missing)} of {n} scene records are missing "
            f"(first: {record_path(root, missing[0])})"
        )
    return [read_record(root, i) for i in range(n)]


def coverage_tracker(cfg, records: Iterable[dict] = (), sampler=None) -> CoverageTracker:
    """A tracker over the config's coverage universe (``cfg.factors``), fed with
    ``records``."""
    levels, forbidden = coverage_universe(cfg, sampler or Sampler(cfg))
    combination = [f for f in COVERAGE_COMBINATION if f in levels] or list(levels)[:3]
    tracker = CoverageTracker(levels, combination=combination, forbidden=forbidden)
    for record in records:
        tracker.add_record(record)
    return tracker


def export_formats(cfg, out: Path) -> list[str]:
    """Write the formats of ``cfg.format`` other than COCO, read back from the finished
    per-scene files (so they are the same whatever the number of workers). Returns the
    written paths relative to ``out``."""
    written = []
    for name in output_formats(cfg):
        if name == "webdataset":
            from .formats.webdataset import export_webdataset  # noqa: PLC0415 (optional format)

            written += export_webdataset(out, shard_size=int(cfg.output.shard_size), n=int(cfg.n))
        elif name == "hf":
            from .formats.hf import export_hf  # noqa: PLC0415

            written += export_hf(out, n=int(cfg.n))
        elif name == "bop":
            from .formats.bop import export_bop  # noqa: PLC0415

            written += export_bop(out, ObjectDictionary.from_config(cfg), n=int(cfg.n))
    return sorted(str(Path(p).resolve().relative_to(out.resolve())) for p in written)


def design_summary(cfg, plan: Sequence[dict], records: Sequence[dict]) -> dict:
    """The plan and the t-way coverage its target objects reached, measured from their
    labels: ``{"strategy", "strength", "factors", "rows", "tuples", "covered",
    "missing"}`` (t-tuples of design-factor levels the plan asks for)."""
    factors, strength = list(cfg.design_factors), int(cfg.strength)
    wanted = _tuples(plan, factors, strength)
    seen = _tuples(
        [record["objects"][record["scene"]["target"]]["factors"] for record in records if record["scene"]["target"] >= 0],
        factors,
        strength,
    )
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


RUN_KEYS = ("out", "workers", "progress")  # config keys that do not change the data


def _data_config(cfg):
    data = config_to_dict(cfg)
    for key in RUN_KEYS:
        data.pop(key, None)
    return OmegaConf.create(data)


def finish(cfg, plan: Sequence[dict] = (), design: Optional[dict] = None,
           held_out: Optional[Sequence[dict]] = None) -> dict:
    """Build coco.json and coverage.json from the scene records of ``cfg.out``, export the
    other formats of ``cfg.format``, then write manifest.json (last) with the sha256 of
    every file of the dataset. The manifest's ``design`` is ``design`` when given, else
    the summary of ``plan`` (the directives of scenes 0, 1, ...) if there is one. With
    ``held_out`` tuples, the scenes are split (splits.json) and the manifest's ``split``
    records the tuples and the guarantees (:mod:`scenegen.splits`)."""
    out = Path(cfg.out)
    records = load_records(out, int(cfg.n))
    categories = sorted(category_ids(cfg), key=category_ids(cfg).get)
    coco = build_coco(
        records,
        categories,
        info={"description": "scenegen synthetic dataset", "version": __version__, "seed": int(cfg.seed)},
        keypoint_names=KEYPOINT_NAMES,
        skeleton=KEYPOINT_SKELETON,
    )
    write_json(out / COCO, coco)
    write_json(out / COVERAGE, coverage_tracker(cfg, records).to_dict())

    files = [COCO, COVERAGE]
    split = None
    if held_out is not None:
        split = split_summary(cfg, records, held_out, Sampler(cfg))
        write_json(out / SPLITS, {name: split.pop(name) for name in SPLIT_NAMES})
        files.append(SPLITS)
    for record in records:
        files.append(f"{RECORD_FOLDER}/{scene_stem(record['index'])}.json")
        files.extend(record["files"].values())
    files.extend(export_formats(cfg, out))
    manifest = {
        "scenegen_version": __version__,
        "seed": int(cfg.seed),
        "n": int(cfg.n),
        # YAML text rather than a JSON object: it keeps the key order (which names part
        # styles); load it with scenegen.formats._dataset.manifest_config. Keys of the
        # run, not of the data (the folder, workers, the progress bar), are left out, so
        # the manifest is the same wherever and however the dataset was made.
        "config": OmegaConf.to_yaml(_data_config(cfg)),
        "files": {name: sha256_file(out / name) for name in sorted(files)},
    }
    if split is not None:
        manifest["split"] = split
    if design is not None:
        manifest["design"] = design
    elif plan:
        manifest["design"] = design_summary(cfg, plan, records)
    write_json(out / MANIFEST, manifest)
    return manifest
