"""``generate`` and ``finish``: a dataset from a config, resumable, in shards.

:func:`generate` checks everything that can refuse the run, prepares the folder, writes
the scenes of its shards (:mod:`scenegen.dataset.pipeline`), completes a held-out split
(:mod:`scenegen.dataset.splitting`) and finishes the dataset; ``strategy=fill`` goes to
:mod:`scenegen.dataset.fill` instead. :func:`finish_dataset` is the finishing step of
a dataset whose shards were written by separate jobs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Optional

from ..config.load import config_with
from ..design.plan import covering_plan
from ..design.splits import held_out_tuples, split_enabled
from ..errors import ConfigError, ScenegenError
from ..progress import wanted
from ..world.compile import World
from .fill import fill
from .layout import MANIFEST, RUN_RECORD
from .manifest import Manifest
from .pipeline import (
    finish,
    load_summaries,
    open_folder,
    output_folder,
    write_errors,
    write_shards,
)
from .shards import (
    check_run,
    claim_folder,
    completed,
    record_run,
    remove_temporary_files,
    selected_shards,
    shard_ranges,
)
from .splitting import complete_split


def generate(cfg, progress: Optional[bool] = None, on_scene: Optional[Callable[[int], None]] = None,
             stats: Optional[dict] = None) -> Optional[Manifest]:
    """Generate the dataset described by ``cfg`` into ``cfg.out``, or resume it.

    Scenes already written by an earlier run of the same config are kept (a killed run
    resumes where it stopped, with the same bytes as an uninterrupted one); a folder
    holding scenes of another config is refused. With ``cfg.shard`` set, only that shard
    is written (a job of a cluster job array) and nothing is finished: run
    :func:`finish_dataset` (``scenegen finish``) once every shard is done.

    Args:
        cfg: config from :func:`scenegen.config.load.load_config`.
        progress: show a progress bar on stderr; default: ``cfg.progress`` and stderr is
            a terminal.
        on_scene: called with each finished scene index (in completion order).
        stats: when given, filled with ``{"workers": {pid: {"rss_mib", "peak_mib"}}}``,
            the resident and peak resident memory of each worker process after its last
            chunk, and ``"rejections"``: reason -> layouts drawn again over the scenes
            written (the sampler's bounded retries: ``layout did not fit``, ``pile did
            not settle``, ...).

    Returns:
        The :class:`~scenegen.dataset.manifest.Manifest` (also written to
        ``cfg.out/manifest.json``); ``None`` for a single shard.
    """
    if cfg.strategy == "fill":
        return fill(cfg, progress, on_scene)
    cfg, plan = _with_plan(cfg)
    progress = wanted(cfg, progress)
    out = _open_run(cfg)
    with write_errors(out):
        write_shards(cfg, selected_shards(cfg), plan, progress, on_scene, stats)
        if int(cfg.shard) >= 0:
            return None
        return _complete(cfg, plan, progress, on_scene)


def finish_dataset(cfg, progress: Optional[bool] = None) -> Manifest:
    """The finishing step of a dataset whose shards were written separately (a job
    array): check that every shard is complete, complete the held-out split if one is
    asked for, and build coco.json, coverage.json and manifest.json. Returns the
    :class:`~scenegen.dataset.manifest.Manifest`.

    Raises:
        ConfigError: ``cfg`` differs from the config the folder's scenes were made with.
        ScenegenError: some shards are not complete (naming them).
    """
    cfg, plan = _with_plan(cfg)
    out = output_folder(cfg)
    if not (out / RUN_RECORD).is_file():
        raise ConfigError(f"{str(out)!r} holds no scenes of a scenegen run; run 'scenegen generate' first")
    progress = wanted(cfg, progress)
    done = completed(out)
    missing = [f"{i} (scenes {r.start}-{r.stop - 1})" for i, r in enumerate(shard_ranges(cfg)) if r and r not in done]
    if missing:
        raise ScenegenError(f"{len(missing)} of {len(shard_ranges(cfg))} shards are not complete: "
                            f"{', '.join(missing[:10])}; run 'scenegen generate shard=I' for each")
    _open_run(cfg)
    with write_errors(out, "the shards are kept"):
        return _complete(cfg, plan, progress, None)


def _with_plan(cfg):
    """``cfg`` with ``n`` set by its plan, and the plan: the directive of each scene
    (``strategy=covering``), or none."""
    if cfg.strategy != "covering":
        return cfg, {}
    plan = dict(enumerate(covering_plan(World.of(cfg))))
    return config_with(cfg, n=len(plan)), plan


def _open_run(cfg) -> Path:
    """Check that ``cfg.out`` may take the scenes of ``cfg``, then prepare it; returns
    the folder.

    Every check comes before any change: the config's directive and held-out tuples,
    the folder (new, empty, or a scenegen dataset of the same config or of a smaller
    ``n``; anything else is refused, so scenegen never deletes or overwrites files it did
    not write). Then the run record is written (or rewritten, for a larger ``n``), the
    manifest removed (it marks a complete dataset) and the temporary files of an
    interrupted write deleted (scenegen's own, in its own folders).

    Raises:
        ConfigError: an infeasible directive or held-out tuple; a folder that is not
            scenegen's, or holds scenes of another config.
        ScenegenError: the folder cannot be created or written.
    """
    out = output_folder(cfg)
    world = World.of(cfg)  # refuses an infeasible directive
    if cfg.split.held_out:
        held_out_tuples(world)  # refuses an infeasible declared tuple
    claim_folder(out)
    changed = check_run(out, cfg)  # before the manifest goes: a refused run leaves a dataset whole
    open_folder(out)
    with write_errors(out, "nothing was changed"):
        if changed:
            record_run(out, cfg)
        (out / MANIFEST).unlink(missing_ok=True)
        remove_temporary_files(out)
    return out


def _complete(cfg, plan: Mapping[int, dict], progress: bool, on_scene) -> Manifest:
    """After scenes 0..n-1: the held-out split's extra scenes, then :func:`finish`."""
    held = None
    if split_enabled(cfg):
        world = World.of(cfg)
        held = held_out_tuples(world, load_summaries(cfg.out, int(cfg.n)))
        n = complete_split(cfg, int(cfg.n), world, held, progress, on_scene)
        cfg = config_with(cfg, n=n)
    return finish(cfg, list(plan.values()), held_out=held)
