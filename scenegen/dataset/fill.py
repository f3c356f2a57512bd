"""``strategy=fill``: top up an existing dataset with scenes for the t-tuples it misses.

The dataset in ``cfg.out`` is measured from its labels (t-way coverage of
``cfg.design_factors``, t = ``cfg.strength``). Each round plans few directives that
together cover every missing feasible tuple (:func:`scenegen.design.covering.top_up_rows`),
renders them as scenes ``n, n + 1, ...`` after the existing ones, and measures again,
since a directive can land a different level than asked (an occluder that hides less
than planned). Rounds stop when nothing is missing, when ``cfg.budget`` scenes were
added, or when a round covers nothing new. Existing scenes are never touched; the
manifest (removed while scenes are written) is rewritten at the end with
``design.strategy = "fill"`` and the coverage before and after.

The data keys of ``cfg`` must equal those the dataset was made with (the manifest's
config), except the keys of the fill itself (``FILL_KEYS``): scenes made with another
image size or dictionary would not belong to the same dataset.

A fill that is killed resumes when run again: it keeps the manifest it tops up
(``FILL_BASE``) until the new one is written, and its rounds are deterministic, so the
scenes it already wrote are kept and the result is the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from omegaconf import OmegaConf

from ..config.load import config_from_dict, config_to_dict, config_with
from ..design.covering import feasible_tuples, top_up_rows
from ..design.plan import design_space
from ..design.splits import held_out_tuples, split_enabled
from ..design.universe import coverage_tracker
from ..errors import ConfigError
from ..fileio import read_json, write_json
from ..progress import wanted
from ..streams import Stream, generator
from ..world.compile import World
from .damage import read_dataset_json
from .layout import FILL_BASE, MANIFEST, RUN_RECORD
from .manifest import Manifest
from .pipeline import (
    discard_records,
    finish,
    load_summaries,
    output_folder,
    write_errors,
    write_scenes,
)
from .shards import (
    RUN_KEYS,
    claim_folder,
    data_config,
    record_run,
    remove_temporary_files,
)
from .splitting import complete_split

FILL_KEYS = ("n", "strategy", "strength", "design_factors", "budget")


def _base_manifest(cfg, out: Path) -> Manifest:
    """The manifest of the dataset being topped up: ``manifest.json``, or, when a fill of
    ``cfg`` was interrupted (its run record is ``cfg``'s), the copy it kept
    (``FILL_BASE``). ConfigError when there is none or when ``cfg`` changes its data
    keys; DamagedFileError when the manifest is damaged."""
    if (out / MANIFEST).is_file():
        manifest = Manifest.read(out)
    elif (out / FILL_BASE).is_file() and _resuming(cfg, out):
        manifest = Manifest.from_dict(read_dataset_json(out / FILL_BASE), out / FILL_BASE)
    else:
        raise ConfigError(f"strategy=fill tops up a finished dataset, but {str(out)!r} has no {MANIFEST}; "
                          f"generate it first (strategy=random or covering)")
    made = config_to_dict(config_from_dict(OmegaConf.to_container(OmegaConf.create(manifest.config))))
    given = config_to_dict(cfg)
    differ = sorted(k for k in set(made) | set(given)
                    if k not in FILL_KEYS + RUN_KEYS and made.get(k) != given.get(k))
    if differ:
        shown = ", ".join(f"{k} (dataset: {made.get(k)!r})" for k in differ[:5])
        raise ConfigError(f"strategy=fill must use the dataset's config, but these keys differ: {shown}; "
                          f"give the values the dataset was made with")
    return manifest


def _resuming(cfg, out: Path) -> bool:
    """Whether the folder's run record is this fill's (an interrupted fill of ``cfg``)."""
    return (out / RUN_RECORD).is_file() and read_json(out / RUN_RECORD)["config"] == data_config(cfg)


def fill(cfg, progress: Optional[bool] = None, on_scene: Optional[Callable[[int], None]] = None) -> Manifest:
    """Add directed scenes to the dataset in ``cfg.out`` until its labels cover every
    feasible t-tuple of ``cfg.design_factors`` or ``cfg.budget`` scenes were added.

    Returns:
        The new manifest; its ``design`` holds ``{"strategy": "fill", "strength",
        "factors", "scenes_before", "scenes_added", "rounds", "rows", "before":
        {"covered", "tuples"}, "after": {...}, "missing": [...]}``.
    """
    out = output_folder(cfg)
    claim_folder(out)
    base = _base_manifest(cfg, out)
    n_before, held = base.n, (base.split or {}).get("held_out")
    world = World.of(cfg)
    tracker = coverage_tracker(world, load_summaries(out, n_before))
    factors, strength = list(cfg.design_factors), int(cfg.strength)
    levels, forbidden = design_space(world, factors)
    progress = wanted(cfg, progress)

    def measure() -> dict:
        return tracker.tway(strength, factors)

    before = measure()
    report, n, rows, rounds = before, n_before, [], 0
    with write_errors(out):  # every check has passed: the folder changes from here
        if (out / MANIFEST).is_file():
            write_json(out / FILL_BASE, base.to_dict())  # the way back if this fill is interrupted
        if not _resuming(cfg, out):
            discard_records(out, n_before)  # scenes of an interrupted fill with other fill keys
            record_run(out, cfg)
        (out / MANIFEST).unlink(missing_ok=True)  # the manifest goes until the dataset is whole again
        remove_temporary_files(out)
        while report["missing"] and n - n_before < int(cfg.budget):
            missing = {tuple(t.items()) for t in report["missing"]}
            covered = [t for t in feasible_tuples(levels, strength, forbidden) if tuple(t.items()) not in missing]
            rng = generator(int(cfg.seed), Stream.FILL_ROUND, rounds)
            planned = top_up_rows(levels, strength, rng, covered, forbidden=forbidden)
            planned = planned[: int(cfg.budget) - (n - n_before)]
            indices = range(n, n + len(planned))
            round_cfg = config_with(cfg, n=indices.stop)
            write_scenes(round_cfg, indices, dict(zip(indices, planned)), progress, on_scene)
            for record in load_summaries(out, indices.stop, indices.start):  # skipped scenes have none
                tracker.add_record(record)
            n, rows, rounds = indices.stop, rows + planned, rounds + 1
            previous, report = report, measure()
            if report["covered"] == previous["covered"]:
                break  # the last round landed nothing new: more of the same would not either
        if split_enabled(cfg):  # the dataset's own held-out tuples (its config is cfg's)
            if held is None:
                held = held_out_tuples(world, load_summaries(out, n_before))
            n = complete_split(config_with(cfg, budget=int(cfg.budget) - (n - n_before)),
                               n, world, held, progress, on_scene)
        final = config_with(cfg, n=n)
        design = {
            "strategy": "fill",
            "strength": strength,
            "factors": factors,
            "scenes_before": n_before,
            "scenes_added": n - n_before,
            "rounds": rounds,
            "rows": rows,
            "before": {"covered": before["covered"], "tuples": before["tuples"]},
            "after": {"covered": report["covered"], "tuples": report["tuples"]},
            "tuples": report["tuples"],
            "covered": report["covered"],
            "missing": report["missing"],
        }
        manifest = finish(final, design=design, held_out=held)
        (out / FILL_BASE).unlink(missing_ok=True)
        return manifest

